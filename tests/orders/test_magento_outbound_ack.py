"""Status back to Magento: once the order is in Odoo, one order comment carrying the Odoo
reference (``POST /V1/orders/{id}/comments``), never two, also when an answer is lost and the
task runs again in a real worker; shadow channels send nothing."""

from __future__ import annotations

from typing import Any

import pytest

from apps.orders.acknowledge import order_acknowledge
from apps.orders.models import ChannelOrder, OrderState
from apps.orders.services import order_ingest, order_push_due
from apps.sales_channels.models import Channel
from apps.sales_channels.translators.magento import order_from_magento
from tests.fixtures.channel_standins import ChannelStandin
from tests.fixtures.worker import wait_for
from tests.fulfillment.adapter_helpers import drop_answer_of, writes
from tests.sales_channels.magento_outbound_helpers import magento_channel

from .test_worker_e2e import worker_env

pytestmark = pytest.mark.django_db


def pushed(standin: ChannelStandin, bind_all: Any, **options: Any) -> tuple[ChannelOrder, int]:
    """A Magento order (2 x TSHIRT-BLU-M) in the stand-in, in the hub and in the sandbox Odoo."""
    channel = magento_channel(standin, **options)
    bind_all(channel)
    standin.add_products([{"sku": "TSHIRT-BLU-M", "stock": 9}])
    oid = int(
        standin.seed_order(lines=[{"sku": "TSHIRT-BLU-M", "qty": 2, "price": "25.00"}])["entity_id"]
    )
    payload = standin.api("GET", f"orders/{oid}").body
    row = order_ingest(order=order_from_magento(payload, channel=channel.code))
    assert order_push_due() == 1
    row.refresh_from_db()
    assert row.state == OrderState.IN_ODOO
    return row, oid


def hub_comments(standin: ChannelStandin, oid: int, ref: str) -> list[dict[str, Any]]:
    histories = standin.api("GET", f"orders/{oid}").body["status_histories"]
    return [h for h in histories if ref in h["comment"]]


def test_one_comment_with_the_odoo_reference(
    magento_standin: ChannelStandin, sandbox_settings: Any, bind_all: Any
) -> None:
    row, oid = pushed(magento_standin, bind_all)
    assert order_acknowledge(order_id=row.pk) == "done"
    # a crash after sending but before recording: the next run must not add a second comment
    ChannelOrder.objects.filter(pk=row.pk).update(ack_state="")
    assert order_acknowledge(order_id=row.pk) == "done"
    [comment] = hub_comments(magento_standin, oid, row.odoo_ref)
    assert comment["comment"] == f"Odoo sale order {row.odoo_name} (hub reference {row.odoo_ref})"
    assert comment["is_visible_on_front"] == 0 and comment["is_customer_notified"] == 0
    # the order keeps its status (sent with the comment)
    order = magento_standin.api("GET", f"orders/{oid}").body
    assert order["status"] == "processing"
    [sent] = writes(magento_standin, "/comments", method="POST")
    assert sent["body"]["statusHistory"]["status"] == "processing"
    assert sent["body"]["statusHistory"]["parent_id"] == oid
    row.refresh_from_db()
    assert row.ack_sent == []  # the second run found the comment in place


def test_a_shadow_channel_records_the_comment_and_sends_nothing(
    magento_standin: ChannelStandin, sandbox_settings: Any, bind_all: Any
) -> None:
    row, oid = pushed(magento_standin, bind_all, state=Channel.State.SHADOW)
    assert order_acknowledge(order_id=row.pk) == "shadow"
    row.refresh_from_db()
    assert row.ack_sent[0]["path"] == f"orders/{oid}/comments"
    assert row.odoo_ref in row.ack_sent[0]["body"]["statusHistory"]["comment"]
    assert not writes(magento_standin, "/comments")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_lost_answer_leaves_one_comment_through_the_worker(
    celery_worker_factory: Any,
    sandbox_settings: Any,
    magento_standin: ChannelStandin,
    bind_all: Any,
) -> None:
    # given Magento stores the comment but its answer never arrives
    drop_answer_of(magento_standin, path="/comments", method="POST")
    celery_worker_factory(queues="channel_io", **worker_env(sandbox_settings))
    # when the order reaches Odoo (the push rings the acknowledgement)
    row, oid = pushed(magento_standin, bind_all)
    # then the retry reads the comments first: one comment, the order acknowledged
    wait_for(lambda: ChannelOrder.objects.filter(pk=row.pk, ack_state="done").exists(), timeout=30)
    assert len(hub_comments(magento_standin, oid, row.odoo_ref)) == 1
    assert len(writes(magento_standin, "/comments", method="POST")) == 1
