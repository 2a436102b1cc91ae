"""Adopting the legacy connector's open sale orders, against the sandbox."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from apps.fulfillment.models import Shipment
from apps.fulfillment.record import pickings_record
from apps.migration.models import Adoption
from apps.migration.services import channel_cutover, orders_adopt
from apps.odoo.gateway import get_gateway
from apps.orders.models import OrderState
from apps.orders.services import order_cancel, order_push_due
from apps.sales_channels.models import Channel

from .conftest import T0, Ingest, Legacy

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def adopt(*args: str) -> dict[str, list[dict[str, str]]]:
    out = io.StringIO()
    call_command("orders", "adopt", "--channel", "legacy", *args, "--json", stdout=out)
    result: dict[str, list[dict[str, str]]] = json.loads(out.getvalue())
    return result


def test_adopting_twice_binds_each_order_once(
    shop: Channel, ingest: Ingest, legacy: Legacy
) -> None:
    # given two orders from before the cutover, made in Odoo by the legacy connector
    one = ingest(8001, at=T0 - 2 * HOUR)
    two = ingest(8002, at=T0 - HOUR)
    so1, so2 = legacy.order("#8001"), legacy.order("#8002")
    legacy.order("#8999")  # one the hub never received
    legacy.order("#8003", confirm=False)  # a quotation
    ingest(8003, at=T0 - HOUR)
    ingest(8004, at=T0 - HOUR)  # the legacy connector never made this one
    channel_cutover(channel=shop, at=T0)
    # when they are adopted (a dry run first changes nothing)
    dry = adopt("--since", "2026-11-01", "--dry-run")
    assert len(dry["adopted"]) == 2 and not Adoption.objects.exists()
    first = adopt("--since", "2026-11-01")
    # then each is bound to its Odoo order, with nothing written to Odoo
    assert sorted(r["odoo_id"] for r in first["adopted"]) == [so1, so2]
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.odoo_id, two.odoo_id) == (so1, so2)
    assert one.state == OrderState.IN_ODOO and one.odoo_name.startswith("S")
    assert one.pushed_at is None  # the hub did not create it
    assert "adopted Odoo" in one.transitions.last().reason
    # and what could not be matched is said, both ways
    why = {r["match"]: r["why"] for r in first["unmatched"]}
    assert why["#8999"].startswith("no hub order")
    assert why["#8003"].startswith("a quotation")
    assert [r["order"] for r in first["hub_only"]] == ["#8004"]
    # when adopted again: nothing new
    second = adopt("--since", "2026-11-01")
    assert second["adopted"] == [] and len(second["already"]) == 2
    assert Adoption.objects.count() == 2
    assert legacy.sb.execute("sale.order", "search_count", [["origin", "=like", "legacy:%"]]) == 0


def test_an_adopted_order_is_the_hubs_for_shipments_and_cancellations(
    shop: Channel, ingest: Ingest, legacy: Legacy
) -> None:
    shipped = ingest(8101, at=T0 - HOUR)
    cancelled = ingest(8102, at=T0 - HOUR)
    so1, so2 = legacy.order("#8101"), legacy.order("#8102")
    channel_cutover(channel=shop, at=T0)
    orders_adopt(channel=shop, since=T0 - dt.timedelta(days=30))
    gateway = get_gateway()
    # when the warehouse ships the first in Odoo
    picking = gateway.sale_orders_read(order_ids=[so1])[so1]["picking_ids"][0]
    assert gateway.picking_validate(picking_id=picking, backorder=False).state == "done"
    counts = pickings_record(gateway.pickings_read(picking_ids=[picking]), source="poll")
    # then the delivery is recognised as the hub order's shipment
    assert counts.get("new") == 1 and not counts.get("not_hub")
    shipment = Shipment.objects.get(odoo_picking_id=picking)
    assert shipment.order_id == shipped.pk
    assert sorted(ln.sku for ln in shipment.lines.all()) == ["MUG-WHT-11OZ", "TSHIRT-BLU-M"]
    shipped.refresh_from_db()
    assert shipped.state == OrderState.SHIPPED
    # when the second is cancelled on the channel, the hub cancels it in Odoo
    from tests.orders.conftest import shopify_payload

    payload = shopify_payload(
        8102,
        name="#8102",
        order_number=8102,
        created_at=(T0 - HOUR).isoformat(),
        updated_at=T0.isoformat(),
        cancelled_at=T0.isoformat(),
    )
    from apps.orders.services import order_ingest
    from apps.sales_channels.translators import order_from_shopify

    order_ingest(order=order_from_shopify(payload, channel="legacy"))
    cancelled.refresh_from_db()
    assert cancelled.state == OrderState.CANCEL_REQUESTED
    assert order_cancel(order_id=cancelled.pk) == OrderState.CANCELLED
    assert gateway.sale_orders_read(order_ids=[so2])[so2]["state"] == "cancel"
    order_push_due()
    assert legacy.sb.execute("sale.order", "search_count", [["origin", "=like", "legacy:%"]]) == 0


def test_adopting_a_ready_order_takes_it_out_of_the_push(
    shop: Channel, ingest: Ingest, legacy: Legacy
) -> None:
    # given an active channel whose order after T the hub has not pushed yet, and a legacy
    # order for it
    channel_cutover(channel=shop, at=T0)
    row = ingest(8201, at=T0 + HOUR, push=False)
    assert row.state == OrderState.READY
    so = legacy.order("#8201")
    # when it is adopted, then pushed: the hub never makes a second sale order
    report = orders_adopt(channel=shop, since=T0 - dt.timedelta(days=1))
    assert [r["odoo_id"] for r in report.adopted] == [so]
    order_push_due()
    row.refresh_from_db()
    assert row.state == OrderState.IN_ODOO and row.odoo_id == so
    assert legacy.sb.execute("sale.order", "search_count", [["origin", "=", "legacy:8201"]]) == 0
