"""Reading what the run left: the hub's database (Django ORM, in the runner's process), the Odoo
sandbox over JSON-RPC (as any client would; retried through faults) and the Shopify stand-in.

Independent of the code under test: Odoo is read with plain JSON-RPC, not the hub's gateway.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from bench.sandbox_proc import http, jsonrpc_body

from .accounting import HubOrder, SaleOrder

T = TypeVar("T")


class OdooRpc:
    """execute_kw as admin over /jsonrpc; connection failures, 5xx and serialization failures
    are retried until ``patience`` seconds have passed (the faults are expected)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def execute(self, model: str, method: str, *args: Any, patience: float = 120, **kw: Any) -> Any:
        body = jsonrpc_body(model, method, list(args), kw)
        deadline = time.monotonic() + patience
        while True:
            try:
                answer = http("POST", f"{self.url}/jsonrpc", body)
                error = answer.get("error")
                if error is None:
                    return answer.get("result")
                name = str(error.get("data", {}).get("name", ""))
                if "SerializationFailure" not in name:
                    raise RuntimeError(f"{model}.{method}: {error.get('data', error)}")
            except (OSError, urllib.error.URLError, json.JSONDecodeError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{model}.{method}: no answer within {patience:.0f} s")
            time.sleep(1.0)

    def faults(self, **values: Any) -> None:
        http("POST", f"{self.url}/__sandbox__/faults", values)


def product_ids(odoo: OdooRpc, skus: Iterable[str]) -> dict[str, int]:
    rows = odoo.execute(
        "product.product",
        "search_read",
        [["default_code", "in", list(skus)]],
        fields=["default_code"],
    )
    return {r["default_code"]: r["id"] for r in rows}


def sale_orders(odoo: OdooRpc, channel: str, ignore: set[int]) -> list[SaleOrder]:
    """Every sale order of the channel with its goods lines (``ignore``: the shipping product)."""
    rows = odoo.execute(
        "sale.order",
        "search_read",
        [["origin", "=like", f"{channel}:%"]],
        fields=["name", "state", "origin", "order_line"],
    )
    line_ids = [i for r in rows for i in r["order_line"]]
    lines: dict[int, dict[str, Any]] = {}
    for k in range(0, len(line_ids), 5000):
        for ln in odoo.execute(
            "sale.order.line",
            "read",
            line_ids[k : k + 5000],
            ["product_id", "product_uom_qty"],
        ):
            lines[ln["id"]] = ln
    out = []
    for r in rows:
        qty: Counter[int] = Counter()
        for i in r["order_line"]:
            ln = lines[i]
            pid = ln["product_id"][0] if ln["product_id"] else 0
            if pid not in ignore:
                qty[pid] += float(ln["product_uom_qty"])
        out.append(SaleOrder(r["origin"], r["name"], r["state"], dict(qty)))
    return out


def partner_duplicates(odoo: OdooRpc, channel: str) -> list[str]:
    """Customer partners created twice under the hub's deterministic ref."""
    rows = odoo.execute(
        "res.partner", "search_read", [["ref", "=like", f"{channel}:customer:%"]], fields=["ref"]
    )
    refs = Counter(r["ref"] for r in rows)
    return sorted(ref for ref, n in refs.items() if n > 1)


FULFILMENTS = "query($id: ID!) { order(id: $id) { fulfillments(first: 20) { id } } }"


def fulfilments(shop_url: str, token: str, order_ids: dict[int, int]) -> dict[int, int]:
    """Fulfilments the stand-in holds, per order index (``order_ids``: index -> channel id)."""
    out = {}
    for n, oid in order_ids.items():
        answer = http_graphql(shop_url, token, FULFILMENTS, {"id": f"gid://shopify/Order/{oid}"})
        order = (answer.get("data") or {}).get("order") or {}
        out[n] = len(order.get("fulfillments") or [])
    return out


def http_graphql(shop_url: str, token: str, query: str, variables: dict[str, Any]) -> Any:
    import urllib.request

    req = urllib.request.Request(
        f"{shop_url}/admin/api/2025-01/graphql.json",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-Shopify-Access-Token": token},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


# --- the hub's database --------------------------------------------------------------------------


def db_retry(fn: Callable[[], T], patience: float = 120) -> T:
    """Run an ORM read, reconnecting through a database restart."""
    from django.db import OperationalError, close_old_connections, connection

    deadline = time.monotonic() + patience
    while True:
        try:
            return fn()
        except OperationalError:
            connection.close()
            close_old_connections()
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)


def hub_orders(channel: str) -> dict[str, HubOrder]:
    from apps.orders.models import ChannelOrder

    def read() -> dict[str, HubOrder]:
        rows = ChannelOrder.objects.filter(channel__code=channel).values_list(
            "external_id", "state", "edit_payload"
        )
        return {ext: HubOrder(state, edit is not None) for ext, state, edit in rows}

    return db_retry(read)


def hub_backlog(channel: str) -> dict[str, int]:
    """Work not finished yet: inbound events and shipment syncs pending or running."""
    from apps.fulfillment.models import ShipmentSync
    from apps.ledger.models import InboundEvent

    def read() -> dict[str, int]:
        busy = ("pending", "running")
        return {
            "events": InboundEvent.objects.filter(channel_code=channel, state__in=busy).count(),
            "shipment_syncs": ShipmentSync.objects.filter(state__in=busy).count(),
        }

    return db_retry(read)


def event_states(channel: str) -> dict[str, int]:
    from django.db.models import Count

    from apps.ledger.models import InboundEvent

    def read() -> dict[str, int]:
        rows = (
            InboundEvent.objects.filter(channel_code=channel)
            .values("state")
            .annotate(n=Count("id"))
        )
        return {r["state"]: r["n"] for r in rows}

    return db_retry(read)


def ack_states(channel: str) -> dict[str, int]:
    """How the status went back to the channel, for orders in Odoo ('' = not yet)."""
    from django.db.models import Count

    from apps.orders.models import ChannelOrder

    def read() -> dict[str, int]:
        rows = (
            ChannelOrder.objects.filter(channel__code=channel, odoo_id__isnull=False)
            .exclude(state="cancelled")
            .values("ack_state")
            .annotate(n=Count("id"))
        )
        return {r["ack_state"] or "(none)": r["n"] for r in rows}

    return db_retry(read)


@dataclass(frozen=True)
class InboxItem:
    key: str
    category: str
    title: str
    status: str
    occurrences: int
    rows: int
    open_rows: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    error: str


def inbox_items() -> list[InboxItem]:
    """Inbox issues that are not resolved (open, snoozed or ignored)."""
    from django.db.models import Count, Q

    from apps.inbox.models import Issue

    def read() -> list[InboxItem]:
        rows = (
            Issue.objects.exclude(status="resolved")
            .annotate(n=Count("rows"), n_open=Count("rows", filter=Q(rows__succeeded=False)))
            .order_by("first_seen")
        )
        return [
            InboxItem(
                i.key,
                i.category,
                i.title,
                i.status,
                i.occurrences,
                i.n,
                i.n_open,
                i.first_seen,
                i.last_seen,
                str((i.last_error or {}).get("message") or i.last_error)[:200],
            )
            for i in rows
        ]

    return db_retry(read)
