"""Magento refunds (credit memos) against the Magento stand-in over HTTP: one credit memo to the
cent, never two (the hub's key read back first, also after a lost answer), no shipping and no
restock, Magento's own arithmetic checked before any call; and, through a real worker, a return
received in Odoo refunded on Magento once although the first answer is lost."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.core.errors import PermanentError, TransientError
from apps.mappings.models import ValueMap
from apps.returns.adapters import refund_adapter_for
from apps.returns.adapters.magento import MagentoRefunds
from apps.returns.models import ChannelRefund, ChannelReturn, RefundRequest, ReturnSync
from apps.returns.receipts import receipts_poll
from tests.fixtures.channel_standins import ChannelStandin
from tests.returns.adapter_helpers import drop_answer_of, fresh_cache, refund_request, writes
from tests.sales_channels.magento_outbound_helpers import (
    magento_adapter,
    magento_channel,
    search,
    tshirts_and_mug_ingested,
)

from .conftest import credit_notes, invoice_in_odoo, odoo_tax8, ship_in_odoo
from .test_e2e import (
    QUEUES,
    _pushed,
    hub_is_quiet,
    odoo_return_received,
    settle,
    synced,
    worker_env,
)

__all__ = ["fresh_cache"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


@pytest.fixture
def adapter(magento_standin: ChannelStandin) -> MagentoRefunds:
    return magento_adapter(magento_standin, refund_adapter_for, MagentoRefunds)


@pytest.fixture
def order(magento_standin: ChannelStandin) -> int:
    """3 x SKU-001 at 10.00 (tax 2.40), 1 x SKU-002 at 20.00 less 2.00 (tax 1.44), 3 x SKU-003
    at 10.00 with 2.00 tax, shipping 5.00; paid."""
    seeded = magento_standin.seed_order(
        lines=[
            {"sku": "SKU-001", "qty": 3, "price": "10.00", "tax_percent": "8"},
            {"sku": "SKU-002", "qty": 1, "price": "20.00", "discount": "2.00", "tax_percent": "8"},
            {"sku": "SKU-003", "qty": 3, "price": "10.00", "tax_amount": "2.00"},
        ],
        shipping_amount="5.00",
    )
    return int(seeded["entity_id"])


def memos(standin: ChannelStandin, order_id: int) -> list[dict[str, Any]]:
    return search(standin, "creditmemos", order_id=order_id)


def test_one_credit_memo_to_the_cent_without_shipping_or_restock(
    adapter: MagentoRefunds, magento_standin: ChannelStandin, order: int
) -> None:
    stock = magento_standin.levels()["SKU-001"]
    result = adapter.refund(refund_request(order, [("SKU-001", 1, "10.00", "0.80")], "10.80"))
    # the hub's record: Decimal to the cent, with its key
    made = result.refund
    assert not result.found_existing and result.calls == 4
    assert made.amount == Decimal("10.80") and made.hub_key == "hub-key-0001"
    assert made.shipping_amount == Decimal("0.00") and made.currency == "USD"
    assert [(ln.sku, ln.quantity, ln.amount, ln.tax) for ln in made.lines] == [
        ("SKU-001", 1, Decimal("10.00"), Decimal("0.80"))
    ]
    # Magento's: one credit memo of 10.80, shipping 0, no adjustment, the key in its comment
    [memo] = memos(magento_standin, order)
    assert memo["grand_total"] == 10.8 and memo["shipping_amount"] == 0
    assert memo["adjustment"] == 0 and made.external_id == str(memo["entity_id"])
    assert memo["comments"][0]["comment"] == "RMA 2025-0042 [hub:hub-key-0001]"
    assert memo["comments"][0]["is_visible_on_front"] == 0
    [sent] = writes(magento_standin, "/refund", method="POST")
    assert sent["body"]["arguments"]["extension_attributes"] == {"return_to_stock_items": []}
    assert magento_standin.levels()["SKU-001"] == stock  # Odoo owns stock
    # a second refund of the same request finds it: one read, nothing paid
    again = adapter.refund(refund_request(order, [("SKU-001", 1, "10.00", "0.80")], "10.80"))
    assert again.found_existing and again.calls == 1
    assert again.refund.external_id == made.external_id and len(memos(magento_standin, order)) == 1


def test_a_lost_answer_is_found_on_the_retry(
    adapter: MagentoRefunds, magento_standin: ChannelStandin, order: int
) -> None:
    req = refund_request(order, [("SKU-002", 1, "18.00", "1.44")], "19.44", key="k-lost")
    drop_answer_of(magento_standin, path=f"/V1/order/{order}/refund", method="POST")
    with pytest.raises(TransientError):
        adapter.refund(req)
    retry = adapter.refund(req)
    assert retry.found_existing and retry.refund.amount == Decimal("19.44")
    assert [(ln.sku, ln.amount, ln.tax) for ln in retry.refund.lines] == [
        ("SKU-002", Decimal("18.00"), Decimal("1.44"))
    ]
    assert len(memos(magento_standin, order)) == 1
    assert len(writes(magento_standin, "/refund", method="POST")) == 1


def test_comments_are_read_where_the_list_has_none(
    adapter: MagentoRefunds, magento_standin: ChannelStandin, order: int
) -> None:
    magento_standin.set_config(list_comments=False)
    req = refund_request(order, [("SKU-001", 2, "20.00", "1.60")], "21.60", key="k-nolist")
    adapter.refund(req)
    again = adapter.refund(req)
    assert again.found_existing and again.refund.hub_key == "k-nolist"
    assert len(memos(magento_standin, order)) == 1
    # another request of the same order is another credit memo
    adapter.refund(refund_request(order, [("SKU-001", 1, "10.00", "0.80")], "10.80", key="k-2"))
    assert len(memos(magento_standin, order)) == 2


def test_a_cent_of_rounding_goes_into_the_adjustment(
    adapter: MagentoRefunds, magento_standin: ChannelStandin, order: int
) -> None:
    # Magento prorates 2.00 of tax over 3 units as 0.67 for one; the hub asks 0.66
    made = adapter.refund(refund_request(order, [("SKU-003", 1, "10.00", "0.66")], "10.66"))
    [memo] = memos(magento_standin, order)
    assert memo["adjustment_negative"] == 0.01 and memo["grand_total"] == 10.66
    assert made.refund.amount == Decimal("10.66")


def test_a_different_amount_is_refused_before_any_write(
    adapter: MagentoRefunds, magento_standin: ChannelStandin, order: int
) -> None:
    with pytest.raises(PermanentError) as caught:
        adapter.refund(refund_request(order, [("SKU-001", 1, "14.20", "0.80")], "15.00"))
    assert caught.value.context["reason"] == "amount_mismatch"
    assert caught.value.context["expected"] == "10.80"
    assert caught.value.context["requested"] == "15.00"
    assert caught.value.context["order_number"] == f"#{order}"
    assert not writes(magento_standin, "/refund") and not memos(magento_standin, order)
    with pytest.raises(PermanentError, match="no SKU NOPE"):
        adapter.refund(refund_request(order, [("NOPE", 1, "1.00", "0")], "1.00"))


def test_refunds_read_keeps_the_parent_row_of_a_configurable(
    adapter: MagentoRefunds, magento_standin: ChannelStandin
) -> None:
    magento_standin.add_products([{"sku": "TEE-M", "stock": 5, "group": "Tee"}])
    oid = int(
        magento_standin.seed_order(
            lines=[{"sku": "TEE-M", "qty": 2, "price": "30.00", "discount": "6.00"}]
        )["entity_id"]
    )
    parent = oid * 100 + 1
    answer = magento_standin.api(
        "POST", f"order/{oid}/refund", {"items": [{"order_item_id": parent, "qty": 1}]}
    )
    assert answer.status == 200
    [memo] = memos(magento_standin, oid)
    assert len(memo["items"]) == 2  # the parent row and the child row at 0
    [read] = adapter.refunds_read(str(oid))
    assert [(ln.sku, ln.quantity, ln.amount, ln.external_line_id) for ln in read.lines] == [
        ("TEE-M", 1, Decimal("27.00"), str(parent))
    ]
    assert read.hub_key == "" and read.amount == Decimal("27.00")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_return_received_in_odoo_is_refunded_on_magento_once(
    celery_worker_factory: Any,
    sandbox_settings: Any,
    gateway: Any,
    magento_standin: ChannelStandin,
    bind_all: Any,
) -> None:
    sb = sandbox_settings
    # given a Magento order (2 x TSHIRT-BLU-M at 25.00, 1 x MUG-WHT-11OZ at 12.50, 8 % tax) in
    # the hub and in Odoo, shipped and invoiced there
    channel = magento_channel(magento_standin, refund_on_receipt=True)
    bind_all(channel)
    ValueMap.objects.create(
        channel=channel,
        kind=ValueMap.Kind.TAX,
        channel_value="0.08",
        odoo_model="account.tax",
        odoo_value=str(odoo_tax8(sb)),
    )
    oid, ingested = tshirts_and_mug_ingested(magento_standin, channel, tax_percent="8")
    order = _pushed(ingested)
    ship_in_odoo(gateway, order)
    invoice_in_odoo(gateway, order)
    # and Magento makes the credit memo but its answer never arrives
    drop_answer_of(magento_standin, path=f"/V1/order/{oid}/refund", method="POST")
    worker = celery_worker_factory(queues=QUEUES, concurrency=2, **worker_env(sb))
    # when one T-shirt comes back and is received in Odoo, and the hub polls
    odoo_return_received(gateway, sb, order, "SKU-001", 1)
    assert receipts_poll().get("new") == 1
    req = RefundRequest.objects.get()
    assert req.amount == Decimal("27.00")  # 25.00 + 2.00 tax
    # then the retry reads first and finds the credit memo: exactly one, of 27.00
    settle(lambda: synced("channel_refund"), worker, timeout=40)
    row = ReturnSync.objects.get(action="channel_refund")
    assert row.attempts == 1 and row.result["found_existing"] is True
    [memo] = memos(magento_standin, oid)
    assert memo["grand_total"] == 27 and memo["shipping_amount"] == 0
    assert len(writes(magento_standin, "/refund", method="POST")) == 1
    req.refresh_from_db()
    assert req.state == "sent" and req.channel_refund_id.endswith(str(memo["entity_id"]))
    assert ChannelReturn.objects.get().state == "refunded"
    # and Odoo records the money once: one credit note, to the cent
    settle(hub_is_quiet, worker)
    refund = ChannelRefund.objects.get()
    assert refund.by_hub and refund.amount == Decimal("27.00")
    [note] = credit_notes(sb)
    assert Decimal(str(note["amount_total"])).quantize(Decimal("0.01")) == Decimal("27.00")
