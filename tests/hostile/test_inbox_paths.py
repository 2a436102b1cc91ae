"""Broken partner answers reach the inbox with their business context, once per cause.

The reported case first: a Shopify store answering ``{"data": {}}`` made ``inventory.publish``
raise a bare ``KeyError('locations')`` on every sweep. Through the real task, it is now one
inbox item (channel, operation, SKUs, an excerpt of the body) whose occurrences grow with the
sweeps, the SKUs stay dirty, and the next good answer publishes them.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from apps.core.shapes import BadPartnerAnswer, UnreadableAnswer
from apps.inbox.models import Issue
from apps.inventory.models import SkuStock
from apps.inventory.services import mark_dirty, publish_task_run
from apps.inventory.tasks import publish as publish_task
from apps.orders.acknowledge import AckState, order_acknowledge
from apps.orders.models import OrderState
from tests.inventory.core_helpers import pending_order
from tests.inventory.publish_helpers import bound_channel
from tests.orders import conftest as orders_fixtures

sandbox_settings = orders_fixtures.sandbox_settings  # the sandbox-pointed settings fixture

pytestmark = [pytest.mark.django_db]

EMPTY_LOCATIONS = {
    "path_contains": "graphql.json",
    "body_contains": "HubLocations",
    "hostile": "empty_data",
}


def dirty(channel: Any) -> set[str]:
    return set(SkuStock.objects.filter(channel=channel, dirty=True).values_list("sku", flat=True))


def test_shopify_empty_data_on_inventory_publish_is_one_inbox_item_not_a_key_error(
    sandbox_settings: Any, shopify_standin: Any
) -> None:
    # given a Shopify channel with two dirty SKUs, whose store answers {"data": {}} twice
    cache.clear()
    channel = bound_channel(shopify_standin, sandbox_settings, "shop-h")
    mark_dirty([channel.pk], ["RED", "TEE"], "test")
    shopify_standin.set_config(fail_next=[EMPTY_LOCATIONS, EMPTY_LOCATIONS])
    # when the publish task runs on two sweeps
    for _ in range(2):
        # (the task itself, through HubTask: a bare KeyError would propagate from here)
        summary = publish_task(channel.pk)
        # then it ends normally (no "raised unexpected"), nothing published
        assert summary["published"] == 0 and summary["failed"] == 0
    assert shopify_standin.set_config()["fail_next"] == []
    # and one inbox item with the channel, the operation, the SKUs and the body it got
    [issue] = Issue.objects.filter(key=f"inventory:publish:{channel.code}")
    assert issue.occurrences == 2 and issue.channel_code == channel.code
    assert issue.error_class == "apps.core.shapes.BadPartnerAnswer"
    assert (
        issue.title
        == "shop-h: inventory.locations got an unexpected shape (data.locations: missing)"
    )
    ctx = issue.last_error["context"]
    assert ctx["channel"] == channel.code and ctx["operation"] == "inventory.locations"
    assert ctx["shape_problem"] == "data.locations: missing"
    assert ctx["excerpt"] == '{"data": {}}'
    assert ctx["endpoint"].startswith("POST ") and ctx["endpoint"].endswith("/graphql.json")
    assert set(ctx["skus"]) == {"RED", "TEE"} and ctx["sku_count"] == 2
    assert dirty(channel) == {"RED", "TEE"}
    # when the store answers properly again, the next sweep publishes both
    assert publish_task_run(channel_id=channel.pk)["published"] == 2
    assert dirty(channel) == set()
    assert set(shopify_standin.levels()) >= {"RED", "TEE"}


@pytest.mark.parametrize(
    ("kind", "fault", "operation"),
    [
        ("woocommerce", {"path_contains": "/batch", "hostile": "error_body"}, "inventory.publish"),
        (
            "bigcommerce",
            {"path_contains": "inventory/items", "hostile": "empty_object"},
            "inventory.read_items",
        ),
        (
            "bigcommerce",
            {"path_contains": "adjustments/absolute", "hostile": "error_body"},
            "inventory.publish",
        ),
    ],
)
def test_a_broken_answer_to_a_stock_write_is_never_recorded_as_published(
    kind: str,
    fault: dict[str, Any],
    operation: str,
    sandbox_settings: Any,
    request: pytest.FixtureRequest,
) -> None:
    cache.clear()
    standin = request.getfixturevalue({"woocommerce": "woo_standin"}.get(kind, f"{kind}_standin"))
    channel = bound_channel(standin, sandbox_settings, f"{kind[:4]}-h")
    mark_dirty([channel.pk], ["RED", "TEE"], "test")
    standin.set_config(fail_next=[fault])
    assert publish_task_run(channel_id=channel.pk)["published"] == 0
    [issue] = Issue.objects.filter(key=f"inventory:publish:{channel.code}")
    ctx = issue.last_error["context"]
    assert issue.error_class == "apps.core.shapes.BadPartnerAnswer"
    assert ctx["operation"] == operation and ctx["channel"] == channel.code
    assert set(ctx["skus"]) == {"RED", "TEE"}
    assert not SkuStock.objects.filter(channel=channel, published_at__isnull=False).exists()
    assert dirty(channel) == {"RED", "TEE"}


def test_a_proxy_page_that_stays_is_transient_twice_then_an_inbox_item(
    sandbox_settings: Any, shopify_standin: Any, settings: Any
) -> None:
    settings.HUB_UNREADABLE_ANSWER_LIMIT = 3
    cache.clear()
    channel = bound_channel(shopify_standin, sandbox_settings, "shop-p")
    mark_dirty([channel.pk], ["RED"], "test")
    page = {**EMPTY_LOCATIONS, "hostile": "html_page"}
    shopify_standin.set_config(fail_next=[page, page, page])
    # the first two are retried by the task (TransientError), without an inbox item
    for _ in range(2):
        with pytest.raises(UnreadableAnswer) as caught:
            publish_task_run(channel_id=channel.pk)
        assert caught.value.context["excerpt"].startswith("<!DOCTYPE html>")
        assert not Issue.objects.exists()
    # the third in the window is permanent: the inbox says what the store keeps answering
    assert publish_task_run(channel_id=channel.pk)["published"] == 0
    [issue] = Issue.objects.all()
    assert (
        issue.title == "shop-p: inventory.locations got an HTML page again (3 times within 600 s)"
    )
    assert issue.last_error["context"]["content_type"].startswith("text/html")
    assert dirty(channel) == {"RED"}


def test_a_broken_answer_to_the_order_acknowledgement_names_the_order(
    make_channel: Any, woo_standin: Any
) -> None:
    cache.clear()
    from tests.inventory.publish_helpers import channel_for

    channel = channel_for(make_channel, woo_standin, "woo-ack")
    order = woo_standin.seed_order(status="pending")
    row = pending_order(channel, str(order["id"]), {"RED": 1}, OrderState.IN_ODOO)
    woo_standin.set_config(
        fail_next=[{"path_contains": "/notes", "method": "GET", "hostile": "wrong_type"}]
    )
    assert order_acknowledge(order_id=row.pk) == AckState.FAILED
    [issue] = Issue.objects.filter(key=f"order_ack:{row.odoo_ref}")
    assert issue.order_number == row.number and issue.channel_code == channel.code
    ctx = issue.last_error["context"]
    assert ctx["operation"] == "orders.acknowledge" and ctx["order_number"] == row.number
    assert ctx["shape_problem"] == "the answer: expected a list, got a string"
    assert BadPartnerAnswer.__name__ in issue.error_class
    # the same order acknowledges once the store answers properly
    assert order_acknowledge(order_id=row.pk) == AckState.DONE
