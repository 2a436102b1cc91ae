"""Status back to the channel: the Odoo reference reaches the Shopify / WooCommerce stand-ins
over HTTP once the order is in Odoo; failures go to the inbox without touching the order."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apps.orders.acknowledge import order_acknowledge
from apps.orders.models import ChannelOrder, OrderState
from apps.orders.services import order_ingest, order_push_due
from apps.sales_channels.models import Channel
from apps.sales_channels.translators import order_from_shopify, order_from_woocommerce

from .conftest import load, shopify_payload

pytestmark = pytest.mark.django_db

ORDER_QUERY = "query($id: ID!) { order(id: $id) { tags } }"


def _shopify_tags(standin: Any, order_id: int) -> list[str]:
    answer = standin.graphql(ORDER_QUERY, {"id": f"gid://shopify/Order/{order_id}"})
    tags: list[str] = answer.body["data"]["order"]["tags"]
    return tags


def _pushed_shopify(standin: Any, make_channel: Any, bind_all: Any, **options: Any) -> Any:
    channel = make_channel(api_base_url=standin.url, access_token=standin.access_token, **options)
    bind_all(channel)
    seeded = standin.seed_order(line_items=[{"sku": "TSHIRT-BLU-M", "quantity": 2}])
    row = order_ingest(order=order_from_shopify(shopify_payload(seeded["id"]), channel="shop"))
    assert order_push_due() == 1
    row.refresh_from_db()
    assert row.state == OrderState.IN_ODOO
    return row


def test_shopify_gets_the_odoo_reference_as_a_tag_once(
    shopify_standin: Any, sandbox_settings: Any, make_channel: Any, bind_all: Any
) -> None:
    row = _pushed_shopify(shopify_standin, make_channel, bind_all)
    # when the order is acknowledged (twice: a redelivered task)
    assert order_acknowledge(order_id=row.pk) == "done"
    assert order_acknowledge(order_id=row.pk) == "done"
    # then the channel order carries the Odoo name, written once, recorded with history
    assert _shopify_tags(shopify_standin, int(row.external_id)) == [f"odoo:{row.odoo_name}"]
    writes = [r for r in shopify_standin.received() if "tagsAdd" in str(r)]
    assert len(writes) == 1
    row.refresh_from_db()
    assert row.ack_state == "done" and row.ack_at is not None
    assert row.state == OrderState.IN_ODOO
    assert row.transitions.filter(reason__startswith="acknowledged on shop").count() == 1


def test_failed_acknowledgement_goes_to_the_inbox_and_leaves_the_order(
    shopify_standin: Any, sandbox_settings: Any, make_channel: Any, bind_all: Any
) -> None:
    from apps.inbox.models import Issue

    row = _pushed_shopify(shopify_standin, make_channel, bind_all)
    # the order is gone on the channel: Shopify answers a user error
    ChannelOrder.objects.filter(pk=row.pk).update(external_id="999999")
    assert order_acknowledge(order_id=row.pk) == "failed"
    row.refresh_from_db()
    assert row.state == OrderState.IN_ODOO and row.odoo_id
    issue = Issue.objects.get(key=f"order_ack:{row.odoo_ref}")
    assert issue.channel_code == "shop" and issue.order_number == row.number


def test_unreachable_channel_is_retried_then_reported(
    sandbox_settings: Any, shopify_standin: Any, make_channel: Any, bind_all: Any
) -> None:
    from apps.core.errors import TransientError
    from apps.inbox.models import Issue

    row = _pushed_shopify(shopify_standin, make_channel, bind_all)
    Channel.objects.filter(pk=row.channel_id).update(api_base_url="http://127.0.0.1:9")
    # a retry is coming: the transient error propagates (the task retries), nothing recorded
    with pytest.raises(TransientError):
        order_acknowledge(order_id=row.pk, final=False)
    assert not Issue.objects.filter(key=f"order_ack:{row.odoo_ref}").exists()
    # the last attempt: inbox item, order untouched
    assert order_acknowledge(order_id=row.pk, final=True) == "failed"
    assert Issue.objects.filter(key=f"order_ack:{row.odoo_ref}").exists()


def test_woocommerce_processing_and_one_note(
    woo_standin: Any, sandbox_settings: Any, make_channel: Any, bind_all: Any
) -> None:
    channel = make_channel(
        code="woo",
        kind="woocommerce",
        api_base_url=woo_standin.url,
        consumer_key=woo_standin.consumer_key,
        consumer_secret=woo_standin.consumer_secret,
    )
    bind_all(channel)
    seeded = woo_standin.seed_order(
        status="on-hold", line_items=[{"sku": "TSHIRT-BLU-M", "quantity": 2}]
    )
    payload = copy.deepcopy(load("woocommerce_order.json"))
    payload["id"] = payload["number"] = seeded["id"]
    row = order_ingest(order=order_from_woocommerce(payload, channel="woo"))
    assert order_push_due() == 1
    row.refresh_from_db()
    assert order_acknowledge(order_id=row.pk) == "done"
    # a crash after sending but before recording: the next run must not add a second note
    ChannelOrder.objects.filter(pk=row.pk).update(ack_state="")
    assert order_acknowledge(order_id=row.pk) == "done"
    order = woo_standin.api("GET", f"orders/{seeded['id']}").body
    assert order["status"] == "processing"
    notes = woo_standin.api("GET", f"orders/{seeded['id']}/notes").body
    assert [n["note"] for n in notes if row.odoo_name in n["note"]] == [
        f"Odoo sale order {row.odoo_name} (hub reference {row.odoo_ref})"
    ]
    row.refresh_from_db()
    assert row.ack_sent == []  # the second run found everything in place


def test_shadow_channel_records_the_acknowledgement_and_sends_nothing(
    shopify_standin: Any, sandbox_settings: Any, make_channel: Any, bind_all: Any
) -> None:
    row = _pushed_shopify(shopify_standin, make_channel, bind_all, state="shadow")
    assert row.odoo_id is None
    assert order_acknowledge(order_id=row.pk) == "shadow"
    row.refresh_from_db()
    assert row.ack_sent[0]["body"]["variables"]["tags"] == [f"odoo:{row.odoo_ref}"]
    assert not [r for r in shopify_standin.received() if "tagsAdd" in str(r)]
    assert _shopify_tags(shopify_standin, int(row.external_id)) == []


def test_bigcommerce_staff_notes_carry_the_odoo_reference_once(
    bigcommerce_standin: Any, sandbox_settings: Any, make_channel: Any, bind_all: Any
) -> None:
    from apps.orders.bigcommerce import bigcommerce_order_fetch
    from apps.sales_channels.translators import order_from_bigcommerce

    bc = bigcommerce_standin
    channel = make_channel(
        code="bc", kind="bigcommerce", api_base_url=bc.base_url, access_token=bc.auth_token
    )
    bind_all(channel)
    seeded = bc.seed_order(
        staff_notes="gift wrap",
        billing_address={"first_name": "Ada", "email": "ada@example.com", "country_iso2": "US"},
        line_items=[{"sku": "MUG-WHT-11OZ", "quantity": 1, "price": 12.5}],
    )
    got = bigcommerce_order_fetch(channel=channel, order_id=seeded["id"])
    row = order_ingest(
        order=order_from_bigcommerce(
            got["order"],
            products=got["products"],
            shipping_addresses=got["shipping_addresses"],
            channel="bc",
        )
    )
    assert order_push_due() == 1
    row.refresh_from_db()
    assert order_acknowledge(order_id=row.pk) == "done"
    ChannelOrder.objects.filter(pk=row.pk).update(ack_state="")
    assert order_acknowledge(order_id=row.pk) == "done"
    notes = bc.api("GET", f"v2/orders/{seeded['id']}").body["staff_notes"]
    assert notes == f"gift wrap\nOdoo sale order {row.odoo_name} (hub reference bc:{seeded['id']})"


def test_push_records_rpcs_per_order(
    shopify_standin: Any, sandbox_settings: Any, make_channel: Any, bind_all: Any
) -> None:
    from prometheus_client import REGISTRY

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (
        sample("hub_order_push_rpcs_total", channel="shop"),
        sample("hub_order_push_orders_total", channel="shop"),
        sample("hub_order_push_rpcs_per_order_count"),
    )
    channel = make_channel()
    bind_all(channel)
    for n in range(3):
        order_ingest(order=order_from_shopify(shopify_payload(5100 + n), channel="shop"))
    sandbox_settings.reset_stats()
    assert order_push_due() == 3
    calls = sandbox_settings.stats()["calls"]
    rpcs = sum(n for key, n in calls.items() if not key.startswith(("common.", "web.", "db.")))
    after = (
        sample("hub_order_push_rpcs_total", channel="shop"),
        sample("hub_order_push_orders_total", channel="shop"),
        sample("hub_order_push_rpcs_per_order_count"),
    )
    assert after[1] - before[1] == 3
    assert after[2] - before[2] == 1
    # the counter pair adds up to the RPCs the sandbox saw for the batch
    assert after[0] - before[0] == pytest.approx(rpcs, abs=0.01)
