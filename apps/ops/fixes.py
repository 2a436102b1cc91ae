"""Fix in place: what an inbox item is missing, the Odoo candidates for it, and the one audited
action that maps it and retries every affected row.

- an unmapped SKU (``sku:<SKU>@<channel>``): a product binding, candidates from ONE product
  search in Odoo (code, barcode, name), the best pre-selected by SKU, barcode and name;
- a shipping method, tax or payment gateway with no (or a dead) value map: a carrier, tax or
  journal value map, candidates from Odoo's list of them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.core.audit import audit_record, snapshot
from apps.inbox.models import Issue
from apps.inbox.services import issue_retry_all
from apps.mappings.models import Binding, ValueMap
from apps.orders.models import OrderLine
from apps.sales_channels.models import Channel


@dataclass
class Need:
    """What the item lacks: a product binding or a value map of `kind` for `value`."""

    kind: str  # product, carrier, tax, payment_method
    channel: str
    value: str
    odoo_model: str
    hint: str = ""  # a line name, for name similarity
    candidates: list[dict[str, Any]] = field(default_factory=list)
    best: int | None = None
    error: str = ""


def need_for(issue: Issue) -> Need | None:
    ctx = (issue.last_error or {}).get("context") or {}
    channel = str(ctx.get("channel") or issue.channel_code or "")
    if not channel:
        return None
    if issue.key.startswith("sku:") and issue.sku:
        line = OrderLine.objects.filter(sku=issue.sku).exclude(name="").order_by("-id").first()
        return Need("product", channel, issue.sku, "product.product", line.name if line else "")
    missing = ctx.get("missing")
    if missing in ("shipping_product", "carrier") and ctx.get("shipping_method"):
        return Need("carrier", channel, str(ctx["shipping_method"]), "delivery.carrier")
    if ctx.get("tax"):
        return Need("tax", channel, str(ctx["tax"]), "account.tax")
    if ctx.get("mapping_kind") == "payment_method" and ctx.get("gateway") is not None:
        return Need("payment_method", channel, str(ctx["gateway"]), "account.journal")
    return None


def _similar(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio()


def rank_products(sku: str, hint: str, products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Score each product: the SKU as its code (1.0) or barcode (0.95), else the best of code,
    barcode and name similarity to the SKU and the line's name."""
    for p in products:
        if p["default_code"] and p["default_code"].lower() == sku.lower():
            score = 1.0
        elif p["barcode"] and p["barcode"] == sku:
            score = 0.95
        else:
            score = 0.9 * max(
                _similar(sku, p["default_code"]),
                _similar(sku, p["barcode"]),
                _similar(hint or sku, p["name"]),
            )
        p["score"] = round(score, 3)
    return sorted(products, key=lambda p: (-p["score"], p["id"]))


def _terms(sku: str, hint: str) -> list[str]:
    """Search terms: the SKU, its parts (ABC-1 -> ABC), and the line name's longest words."""
    terms = [sku]
    parts = [p for p in sku.replace("_", "-").split("-") if len(p) >= 3]
    terms += parts[:2]
    words = sorted({w for w in hint.split() if len(w) >= 4}, key=len, reverse=True)
    terms += words[:2]
    return list(dict.fromkeys(terms))


def candidates(need: Need, gateway: Any) -> Need:
    """Fill the Odoo candidates (one gateway call) and the pre-selected best one."""
    try:
        if need.kind == "product":
            found = gateway.products_search(terms=_terms(need.value, need.hint), limit=25)
            need.candidates = rank_products(need.value, need.hint, found)
            top = need.candidates[0] if need.candidates else None
            need.best = top["id"] if top and top["score"] >= 0.5 else None
        elif need.kind == "carrier":
            need.candidates = gateway.carriers_list()
            scored = sorted(need.candidates, key=lambda c: -_similar(need.value, c["name"]))
            need.best = scored[0]["id"] if scored else None
        elif need.kind == "tax":
            need.candidates = gateway.taxes_list()
            scored = sorted(need.candidates, key=lambda c: -_similar(need.value, c["name"]))
            need.best = scored[0]["id"] if scored else None
        elif need.kind == "payment_method":
            need.candidates = gateway.payment_journals_list()
            need.best = need.candidates[0]["id"] if need.candidates else None
    except Exception as exc:  # Odoo down: the page still offers the manual id
        need.error = f"Odoo could not be searched: {exc}"
    return need


PERMISSION = {
    "product": "mappings.add_binding",
    "carrier": "mappings.add_valuemap",
    "tax": "mappings.add_valuemap",
    "payment_method": "mappings.add_valuemap",
}


def can_fix(user: Any, need: Need) -> bool:
    perm = PERMISSION[need.kind]
    return bool(user.has_perm(perm) and user.has_perm("inbox.change_issue"))


def fix_and_retry(*, issue: Issue, odoo_id: int, user: Any) -> tuple[Any, int]:
    """Map what the item lacks to Odoo record `odoo_id` and retry every affected row, in one
    audited action. Returns (the binding or value map, rows retried)."""
    need = need_for(issue)
    if need is None:
        raise ValidationError("This item has nothing to map.")
    if not can_fix(user, need):
        raise PermissionDenied(f"{PERMISSION[need.kind]} is required")
    if odoo_id <= 0:
        raise ValidationError("Pick an Odoo record.")
    channel = Channel.objects.get(code=need.channel)
    with transaction.atomic():
        if need.kind == "product":
            obj: Any = Binding.objects.filter(
                channel=channel, kind=Binding.Kind.PRODUCT, external_id=need.value
            ).first()
            before = snapshot(obj) if obj else {}
            obj, _ = Binding.objects.update_or_create(
                channel=channel,
                kind=Binding.Kind.PRODUCT,
                external_id=need.value,
                defaults={
                    "external_code": need.value,
                    "odoo_model": need.odoo_model,
                    "odoo_id": odoo_id,
                },
            )
        else:
            obj = ValueMap.objects.filter(
                channel=channel, kind=need.kind, channel_value=need.value
            ).first()
            before = snapshot(obj) if obj else {}
            obj, _ = ValueMap.objects.update_or_create(
                channel=channel,
                kind=need.kind,
                channel_value=need.value,
                defaults={"odoo_model": need.odoo_model, "odoo_value": str(odoo_id)},
            )
        retried = issue_retry_all(issue=issue, user=user)
        audit_record(
            user=user,
            action="ops.fix_and_retry",
            obj=obj,
            before=before,
            after={**snapshot(obj), "issue": issue.pk, "rows_retried": retried},
            reason=f"inbox issue {issue.pk}: {need.kind} {need.value}",
        )
    return obj, retried
