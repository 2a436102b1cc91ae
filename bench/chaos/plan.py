"""The chaos run's plan: orders, their edits, cancellations and shipments, every webhook delivery
and the final state each order must reach. Pure and seeded: the same arguments give the same run.

Each order is a Shopify order. Its events are the create (version 0), maybe an edit
(``orders/updated`` with other lines, version 1) and maybe a cancellation (``orders/cancelled``,
version 2), at increasing whole-second ``updated_at`` (the hub keeps the newest version whatever
the arrival order). Every event is delivered three times at random moments within
``JITTER_SECONDS`` of the event, so the deliveries of one order overlap and arrive out of order:
copies 0 and 1 share an ``X-Shopify-Webhook-Id`` (a platform retry), copy 2 has its own id and
the same ``X-Shopify-Event-Id`` (a second subscription fed by the same change).

What the order must end as (``expected``): cancelled when it was cancelled (no open sale order);
otherwise one confirmed sale order holding the lines of its newest version, and, for the orders
shipped during the run (never edited or cancelled), ``shipped`` with one channel fulfilment per
validated picking.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# Channel prices of the SKUs the orders use (the sandbox's demo products; untaxed for the run).
PRICES = {
    "SKU-001": Decimal("149.00"),
    "SKU-003": Decimal("39.90"),
    "SKU-004": Decimal("89.00"),
    "SKU-006": Decimal("29.90"),
    "SKU-007": Decimal("49.00"),
    "SKU-008": Decimal("12.50"),
}
SHIPPING = Decimal("5.00")
CUSTOMERS = 200
ORDER_ID_BASE = 6_100_000_000
CUSTOMER_ID_BASE = 7_100_000
JITTER_SECONDS = 3.0
TOPICS = ("orders/create", "orders/updated", "orders/cancelled")


@dataclass(frozen=True)
class Line:
    sku: str
    qty: int

    @property
    def price(self) -> Decimal:
        return PRICES[self.sku]


@dataclass
class PlannedOrder:
    n: int
    customer: int
    at: float  # seconds after the start when the order is placed
    lines: tuple[Line, ...]
    edit_at: float | None = None
    edit_lines: tuple[Line, ...] = ()
    cancel_at: float | None = None
    ship_at: float | None = None
    ship_parts: int = 0  # 1: one delivery; 2: the first line, then the rest (a backorder)

    @property
    def order_id(self) -> int:
        return ORDER_ID_BASE + self.n

    @property
    def ref(self) -> str:
        """The hub's deterministic Odoo reference, without the channel code."""
        return str(self.order_id)

    def event_times(self) -> dict[int, float]:
        """Version -> when it happens (seconds after the start)."""
        times = {0: self.at}
        if self.edit_at is not None:
            times[1] = self.edit_at
        if self.cancel_at is not None:
            times[2] = self.cancel_at
        return times

    def lines_at(self, version: int) -> tuple[Line, ...]:
        """The lines the channel shows at that version (a cancellation keeps the edit's)."""
        return self.edit_lines if version >= 1 and self.edit_at is not None else self.lines


@dataclass(frozen=True)
class Expected:
    state: str  # the hub's final ChannelOrder state
    cancelled: bool
    lines: dict[str, int]  # SKU -> quantity of the one open sale order (empty when cancelled)
    fulfilments: int


def expected(order: PlannedOrder, versions: set[int], shipped: int = 0) -> Expected | None:
    """The final state given the versions the hub accepted (None: nothing was accepted) and the
    number of the order's pickings validated in Odoo during the run."""
    if not versions:
        return None
    newest = max(versions)
    if newest == 2:
        return Expected("cancelled", True, {}, 0)
    lines: dict[str, int] = {}
    for line in order.lines_at(newest):
        lines[line.sku] = lines.get(line.sku, 0) + line.qty
    if not shipped:
        return Expected("in_odoo", False, lines, 0)
    state = "shipped" if shipped >= order.ship_parts else "partially_shipped"
    return Expected(state, False, lines, shipped)


@dataclass(frozen=True)
class Delivery:
    due: float  # seconds after the start
    order: int
    version: int
    copy: int

    @property
    def topic(self) -> str:
        return TOPICS[self.version]

    def webhook_id(self, run: str) -> str:
        base = f"{run}-{self.order}-{self.version}"
        return f"{base}-a" if self.copy < 2 else f"{base}-b"

    def event_id(self, run: str) -> str:
        return f"{run}-event-{self.order}-{self.version}"


@dataclass
class Plan:
    orders: list[PlannedOrder]
    deliveries: list[Delivery] = field(default_factory=list)
    seed: int = 0

    @property
    def send_seconds(self) -> float:
        return max((d.due for d in self.deliveries), default=0.0)

    def counts(self) -> dict[str, int]:
        return {
            "orders": len(self.orders),
            "edited": sum(o.edit_at is not None for o in self.orders),
            "cancelled": sum(o.cancel_at is not None for o in self.orders),
            "shipped": sum(bool(o.ship_parts) for o in self.orders),
            "deliveries": len(self.deliveries),
        }


def _delay(rng: random.Random, longest: float) -> float:
    """How long after the previous event an edit or cancellation comes: 40 % within seconds
    (before or during the push), the rest later (the order is in Odoo by then), up to a minute
    (less in a short run, so that its tail stays short)."""
    return rng.uniform(1.5, 4.0) if rng.random() < 0.4 else rng.uniform(12.0, longest)


def make_plan(
    orders: int,
    rate: float,
    *,
    seed: int = 17,
    edit_share: float = 0.15,
    cancel_share: float = 0.08,
    ship_share: float = 0.03,
) -> Plan:
    rng = random.Random(seed)
    skus = sorted(PRICES)
    longest = min(60.0, max(20.0, orders / rate / 2))
    planned: list[PlannedOrder] = []
    for n in range(orders):
        picked = rng.sample(skus, rng.randint(1, 3))
        order = PlannedOrder(
            n=n,
            customer=rng.randrange(CUSTOMERS),
            at=n / rate,
            lines=tuple(Line(s, rng.randint(1, 3)) for s in picked),
        )
        roll = rng.random()
        if roll < edit_share:
            order.edit_at = order.at + _delay(rng, longest)
            edited = [Line(order.lines[0].sku, order.lines[0].qty + rng.randint(1, 2))]
            edited += order.lines[1:]
            spare = [s for s in skus if s not in picked]
            if rng.random() < 0.5:
                edited.append(Line(rng.choice(spare), 1))
            order.edit_lines = tuple(edited)
        if roll < cancel_share / 2 or edit_share <= roll < edit_share + cancel_share / 2:
            order.cancel_at = max(order.at, order.edit_at or 0.0) + _delay(rng, longest)
        elif roll >= 1.0 - ship_share:
            order.ship_at = order.at + rng.uniform(longest / 2, longest)
            order.ship_parts = 2 if len(order.lines) > 1 and rng.random() < 0.34 else 1
        planned.append(order)
    plan = Plan(planned, seed=seed)
    for order in planned:
        for version, at in order.event_times().items():
            for copy in range(3):
                due = at + rng.uniform(0.0, JITTER_SECONDS)
                plan.deliveries.append(Delivery(due, order.n, version, copy))
    plan.deliveries.sort(key=lambda d: d.due)
    return plan


# --- payloads --------------------------------------------------------------------------------


def iso(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat()


def version_ts(order: PlannedOrder, version: int, t0: int) -> int:
    """Whole-second ``updated_at`` of a version; strictly increasing with the version."""
    times = order.event_times()
    ts, previous = int(t0 + times[0]), None
    for v in sorted(times):
        ts = max(int(t0 + times[v]), (previous + 1) if previous is not None else 0)
        if v == version:
            return ts
        previous = ts
    raise KeyError(version)


def payload(order: PlannedOrder, version: int, t0: int) -> dict[str, Any]:
    """The Shopify REST order (what ``orders/*`` webhooks carry) at that version."""
    lines = order.lines_at(version)
    subtotal = sum((ln.price * ln.qty for ln in lines), Decimal("0"))
    email = f"chaos.customer{order.customer}@example.com"
    address = {
        "first_name": "Chaos",
        "last_name": f"Customer {order.customer}",
        "address1": f"{order.customer} Fault Street",
        "city": "Springfield",
        "zip": "10001",
        "province_code": "NY",
        "country_code": "US",
    }
    return {
        "id": order.order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order.order_id}",
        "name": f"#C{order.n}",
        "order_number": order.n,
        "email": email,
        "created_at": iso(version_ts(order, 0, t0)),
        "updated_at": iso(version_ts(order, version, t0)),
        "cancelled_at": iso(version_ts(order, 2, t0)) if version == 2 else None,
        "cancel_reason": "customer" if version == 2 else None,
        "currency": "USD",
        "presentment_currency": "USD",
        "taxes_included": False,
        "financial_status": "paid",
        "subtotal_price": str(subtotal),
        "total_discounts": "0.00",
        "total_tax": "0.00",
        "total_price": str(subtotal + SHIPPING),
        "line_items": [
            {
                "id": order.order_id * 100 + i,
                "sku": ln.sku,
                "title": ln.sku,
                "name": ln.sku,
                "quantity": ln.qty,
                "price": str(ln.price),
                "tax_lines": [],
                "discount_allocations": [],
            }
            for i, ln in enumerate(lines, start=1)
        ],
        "shipping_lines": [
            {
                "id": order.order_id * 10 + 1,
                "title": "Standard",
                "code": "Standard",
                "price": str(SHIPPING),
                "tax_lines": [],
            }
        ],
        "customer": {
            "id": CUSTOMER_ID_BASE + order.customer,
            "email": email,
            "first_name": "Chaos",
            "last_name": f"Customer {order.customer}",
        },
        "shipping_address": address,
        "billing_address": address,
    }
