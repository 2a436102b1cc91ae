"""Fixtures for the returns flow without Odoo or a channel: a fake gateway with the agreed
returns/accounting calls (in memory, counting calls), a fake refund adapter that can lose its
answer after "committing", and order + shipment rows (tests.fulfillment.conftest helpers).

The adapter tests (`test_adapters_*.py`) are the adapter engineer's and bring their own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pytest

from apps.core.errors import TransientError
from apps.orders.models import ChannelOrder
from apps.returns import odoo, sync
from apps.returns.adapters import RefundAdapter, RefundData, RefundResult, RefundToSend
from apps.sales_channels.models import Channel
from apps.sales_channels.services import channel_create
from tests.fulfillment.conftest import make_order, make_shipment

__all__ = ["make_order", "make_shipment"]


class FakeGateway:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.returns: dict[str, dict[str, Any]] = {}
        self.invoices: dict[int, list[dict[str, Any]]] = {}
        self.notes: dict[str, dict[str, Any]] = {}
        self.reduced: list[tuple[int, dict[int, float]]] = []
        self.total_skew = Decimal("0")
        self.receipts: list[dict[str, Any]] = []
        self._id = 9000

    def _next(self) -> int:
        self._id += 1
        return self._id

    def return_ensure(
        self, *, picking_id: int, origin: str, quantities: Mapping[int, float] | None = None
    ) -> tuple[dict[str, Any], bool]:
        self.calls.append("return_ensure")
        if origin in self.returns:
            return self.returns[origin], False
        pid = self._next()
        self.returns[origin] = {
            "id": pid,
            "name": f"WH/RET/{pid}",
            "state": "assigned",
            "origin": origin,
            "return_of": picking_id,
            "quantities": dict(quantities or {}),
        }
        return self.returns[origin], True

    def invoices_of_orders(self, *, order_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        self.calls.append("invoices_of_orders")
        return {i: list(self.invoices.get(i, [])) for i in order_ids}

    def credit_notes_find(self, *, refs: Sequence[str]) -> dict[str, dict[str, Any]]:
        self.calls.append("credit_notes_find")
        return {r: dict(self.notes[r]) for r in refs if r in self.notes}

    def _note(self, ref: str, invoice_id: int, total: Decimal, post: bool, kind: str) -> Any:
        if ref in self.notes:
            return dict(self.notes[ref]), False
        nid = self._next()
        self.notes[ref] = {
            "id": nid,
            "name": f"RINV/{nid}",
            "state": "posted" if post else "draft",
            "ref": ref,
            "move_type": "out_refund",
            "reversed_entry_id": invoice_id,
            "amount_total": total + self.total_skew,
            "kind": kind,
        }
        return dict(self.notes[ref]), True

    def credit_note_full(self, *, invoice_id: int, ref: str, post: bool = True) -> Any:
        self.calls.append("credit_note_full")
        inv = next(i for v in self.invoices.values() for i in v if i["id"] == invoice_id)
        return self._note(ref, invoice_id, Decimal(inv["amount_total"]), post, "full")

    def credit_note_partial(
        self,
        *,
        invoice_id: int,
        ref: str,
        lines: Sequence[Mapping[str, Any]],
        extra_lines: Sequence[Mapping[str, Any]] = (),
        post: bool = True,
    ) -> Any:
        self.calls.append("credit_note_partial")
        total = sum(
            (Decimal(str(ln["price_unit"])) * Decimal(str(ln["quantity"])) for ln in lines),
            Decimal("0"),
        )
        total += sum((Decimal(str(x["price_unit"])) for x in extra_lines), Decimal("0"))
        return self._note(ref, invoice_id, total.quantize(Decimal("0.01")), post, "partial")

    def moves_post(self, *, move_ids: Sequence[int]) -> list[int]:
        self.calls.append("moves_post")
        out = []
        for note in self.notes.values():
            if note["id"] in move_ids and note["state"] == "draft":
                note["state"] = "posted"
                out.append(note["id"])
        return out

    def sale_order_lines_reduce(self, *, order_id: int, quantities: Mapping[int, float]) -> Any:
        self.calls.append("sale_order_lines_reduce")
        self.reduced.append((order_id, dict(quantities)))
        return {}

    def return_receipts_done_since(self, *, cursor: str | None, limit: int = 200) -> Any:
        self.calls.append("return_receipts_done_since")
        page = type("Page", (), {})()
        page.pickings = list(self.receipts) if cursor and not cursor.endswith("|999") else []
        page.next_cursor = "2030-01-01 00:00:00|999"
        return page


class FakeRefunds(RefundAdapter):
    """The channel's refunds in memory; `lose_answers` drops that many answers AFTER the refund
    is made (the platform committed, the hub never heard)."""

    store: dict[str, list[RefundData]] = {}
    lose_answers = 0
    money_calls = 0

    def refunds_read(self, order_external_id: str) -> list[RefundData]:
        return list(self.store.get(order_external_id, []))

    def refund(self, req: RefundToSend) -> RefundResult:
        for r in self.refunds_read(req.order_external_id):
            if r.hub_key == req.idempotency_key:
                return RefundResult(refund=r, found_existing=True, calls=1)
        type(self).money_calls += 1
        made = RefundData(
            external_id=f"R{type(self).money_calls}",
            currency=req.currency,
            amount=req.amount,
            refunded_at=dt.datetime.now(dt.UTC),
            lines=req.lines,
            hub_key=req.idempotency_key,
        )
        self.store.setdefault(req.order_external_id, []).append(made)
        if type(self).lose_answers > 0:
            type(self).lose_answers -= 1
            raise TransientError("connection reset after the refund was made")
        return RefundResult(refund=made, calls=2)


@pytest.fixture
def gw() -> Any:
    fake = FakeGateway()
    odoo.set_gateway(fake)
    yield fake
    odoo.set_gateway(None)


@pytest.fixture
def rings(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    rung: list[tuple[int, str]] = []

    def ring(pk: int, *, action: str = "", countdown: float | None = None) -> None:
        rung.append((pk, action))

    monkeypatch.setattr(sync, "sync_ring", ring)
    from apps.ledger import services as ledger

    monkeypatch.setattr(ledger, "work_ring", lambda **kw: True)
    return rung


@pytest.fixture
def refunds(monkeypatch: pytest.MonkeyPatch) -> type[FakeRefunds]:
    FakeRefunds.store = {}
    FakeRefunds.lose_answers = 0
    FakeRefunds.money_calls = 0
    from apps.returns import handlers

    monkeypatch.setattr(sync, "refund_adapter_for", lambda ch: FakeRefunds(ch))
    monkeypatch.setattr(handlers, "refund_adapter_for", lambda ch: FakeRefunds(ch))
    return FakeRefunds


def channel(code: str, kind: str, **flags: Any) -> Channel:
    ch, _ = channel_create(code=code, kind=kind)
    for k, v in flags.items():
        setattr(ch, k, v)
    ch.save()
    return ch


def shipped_order(ch: Channel, external_id: str = "1001") -> ChannelOrder:
    order = make_order(ch, external_id)
    make_shipment(order, picking_id=int(external_id) + 500, name=f"WH/OUT/{external_id}")
    return order


def invoice(gw: FakeGateway, order: ChannelOrder, total: str = "30.00") -> dict[str, Any]:
    assert order.odoo_id
    inv = {
        "id": order.odoo_id + 70000,
        "name": f"INV/{order.odoo_id}",
        "state": "posted",
        "move_type": "out_invoice",
        "amount_total": Decimal(total),
    }
    gw.invoices[order.odoo_id] = [inv]
    return inv


@dataclasses.dataclass
class Event:
    channel_code: str
    topic: str
    body: bytes


def event(ch: Channel, topic: str, body: dict[str, Any]) -> Event:
    return Event(channel_code=ch.code, topic=topic, body=json.dumps(body).encode())


def run_all(limit: int = 50) -> list[str]:
    """Run every due row in order, in process (what a worker would do after the rings)."""
    from apps.core.workrow import WorkState
    from apps.returns.models import ReturnSync

    out = []
    for _ in range(limit):
        pk = (
            ReturnSync.objects.filter(state=WorkState.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if pk is None:
            break
        ReturnSync.objects.filter(pk=pk).update(next_attempt_at=None)
        out.append(sync.return_sync_run(sync_id=pk))
    return out


# --- the sandbox Odoo and the stand-ins (test_flows_sandbox.py, test_e2e.py) -----------------

from tests.orders import conftest as _orders  # noqa: E402

sandbox_settings = _orders.sandbox_settings
gateway = _orders.gateway
bind_all = _orders.bind_all

# Every channel in these tests maps its 8 % tax to one Odoo tax, as a live setup does: the
# Odoo order, its invoice and the credit notes then carry 8 %, never the products' 15 %.
TAX_KEYS = {"shopify": "0.08", "woocommerce": "0.08", "b2b_api": "0.08"}


def odoo_tax8(sb: Any) -> int:
    found = sb.execute("account.tax", "search", [["name", "=", "Sales 8%"]])
    if found:
        return int(found[0])
    return int(sb.execute("account.tax", "create", {"name": "Sales 8%", "amount": 8.0}))


def map_tax8(ch: Channel, sb: Any) -> int:
    from apps.mappings.models import ValueMap

    tax = odoo_tax8(sb)
    ValueMap.objects.create(
        channel=ch,
        kind=ValueMap.Kind.TAX,
        channel_value=TAX_KEYS[ch.kind],
        odoo_model="account.tax",
        odoo_value=str(tax),
    )
    return tax


def ship_in_odoo(gateway: Any, order: ChannelOrder) -> dict[str, Any]:
    """Validate the order's delivery in the sandbox and let the hub record the shipment."""
    from apps.fulfillment.detection import shipments_poll
    from tests.fulfillment.conftest import ship

    done = ship(gateway, order)
    shipments_poll()
    return done


def invoice_in_odoo(gateway: Any, order: ChannelOrder) -> dict[str, Any]:
    """Invoice the delivered order in the sandbox (the gateway's wizard) and post it."""
    assert order.odoo_id
    made = gateway.invoices_create(order_ids=[order.odoo_id])[order.odoo_id]
    assert made, "nothing to invoice"
    gateway.invoices_post(invoice_ids=made)
    [inv] = gateway.invoices_of_orders(order_ids=[order.odoo_id])[order.odoo_id]
    assert inv["state"] == "posted"
    return dict(inv)


MOVE_READ = ["name", "state", "move_type", "ref", "reversed_entry_id", "amount_total"]


def credit_notes(sb: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sb.execute(
        "account.move", "search_read", [["move_type", "=", "out_refund"]], fields=MOVE_READ
    )
    return rows


def return_pickings(sb: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sb.execute(
        "stock.picking",
        "search_read",
        [["return_id", "!=", False]],
        fields=["name", "state", "origin", "return_id", "picking_type_code", "sale_id"],
    )
    return rows


def m2o(value: Any) -> Any:
    return value[0] if isinstance(value, list | tuple) and value else value
