"""What every area of the gateway shares: constants, small helpers, result types, GatewayBase.

No Odoo calls here; ``GatewayBase`` only holds the client (and the per-gateway caches) that the
area mixins (partners.py, catalog.py, sales.py, pickings.py, returns.py, accounting.py) use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from ..client import OdooClient, get_client

T = TypeVar("T")

CHUNK = 1000
# Wide OR-chains of =ilike leaves make deep domain trees; keep them modest.
EMAIL_CHUNK = 200
# Odoo enforces no uniqueness on it, but nothing in Odoo writes it either: the hub owns it.
# client_order_ref stays free for what it means to people (the customer's PO / order number,
# which Odoo copies to the invoice's ``ref``).
SALE_ORDER_REF_FIELD = "origin"

PARTNER_FIELDS = [
    "name",
    "ref",
    "email",
    "is_company",
    "type",
    "parent_id",
    "commercial_partner_id",
]
ADDRESS_KEYS = ("street", "street2", "city", "zip", "phone", "email", "country_id", "state_id")


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[list[T]]:
    """Consecutive slices of at most ``size`` items (nothing for an empty sequence)."""
    if size <= 0:
        raise ValueError("size must be positive")
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def m2o_id(value: Any) -> int | None:
    """Odoo many2one ``[id, "name"]`` or ``false`` -> id or None."""
    if isinstance(value, list) and value:
        return int(value[0])
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def falsy_none(value: Any) -> Any:
    """Odoo sends ``false`` for an empty char/date/many2one; the hub uses None."""
    return None if value is False else value


def _num(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _unique(values: Iterable[T]) -> list[T]:
    return list(dict.fromkeys(values))


def _action_dict(result: Any) -> dict[str, Any] | None:
    """A button's answer is True/False/None, or an action dict that needs handling."""
    return result if isinstance(result, dict) and result.get("type") else None


def _second(value: Any) -> str:
    """An Odoo datetime as the hub sees it: "YYYY-MM-DD HH:MM:SS" (no fraction)."""
    return str(value)[:19]


def _next_second(second: str) -> str:
    stamp = dt.datetime.strptime(second, "%Y-%m-%d %H:%M:%S") + dt.timedelta(seconds=1)
    return stamp.strftime("%Y-%m-%d %H:%M:%S")


def _after_cursor(cursor: str) -> list[Any]:
    """Domain leaves for "after ``<second>|<id>``" on write_date (microseconds in Odoo)."""
    wd, _, last_id = cursor.partition("|")
    second = _second(wd)
    return [
        "|",
        ["write_date", ">=", _next_second(second)],
        "&",
        ["write_date", ">=", second],
        ["id", ">", int(last_id or 0)],
    ]


# --- results -------------------------------------------------------------------------------------


@dataclass
class PartnerLookup:
    by_ref: dict[str, int] = field(default_factory=dict)
    by_email: dict[str, int] = field(default_factory=dict)  # keys lower-cased
    records: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class PartnerIds:
    id: int
    delivery_id: int
    invoice_id: int


@dataclass
class ProductLookup:
    ids: dict[str, int]
    unknown: list[str]


@dataclass(frozen=True)
class StockLevel:
    qty_available: float
    free_qty: float
    virtual_available: float


@dataclass(frozen=True)
class StockChanges:
    product_ids: list[int]
    watermark: str  # newest write_date second seen (or the one asked for)
    more: bool  # a page was full: call again from the watermark


@dataclass(frozen=True)
class PickingPage:
    pickings: list[dict[str, Any]]
    next_cursor: str | None


@dataclass(frozen=True)
class ValidateResult:
    picking_id: int
    state: str
    backorder_ids: list[int]


class GatewayBase:
    """The client every area mixin calls through, and the state they share."""

    def __init__(self, client: OdooClient | None = None) -> None:
        self.client = client or get_client()
        self._countries: dict[str, int] = {}
