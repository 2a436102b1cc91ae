"""Customers: the Odoo partner of an order (binding, search, create) and the B2B ship-to."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from apps.core.errors import LockContention
from apps.mappings.models import Binding
from apps.sales_channels.models import Channel

from .batch import BatchContext
from .models import ChannelOrder


@dataclass(frozen=True)
class OrderPartner:
    id: int
    delivery_id: int | None = None
    invoice_id: int | None = None


def customer_key(row: ChannelOrder) -> str:
    """The customer binding's external id: the channel's customer id, else the e-mail."""
    if row.customer_external_id:
        return row.customer_external_id
    return (
        f"email:{row.customer_email.strip().lower()}"
        if row.customer_email
        else (f"guest:{row.external_id}")
    )


def _partner_ref(row: ChannelOrder) -> str:
    return f"{row.channel.code}:customer:{customer_key(row)}"


def address_dict(addr: dict[str, Any] | None) -> dict[str, Any] | None:
    if not addr:
        return None
    name = " ".join(p for p in (addr.get("first_name"), addr.get("last_name")) if p)
    return {
        "name": name or addr.get("company") or "",
        "street": addr.get("line1") or "",
        "street2": addr.get("line2") or "",
        "city": addr.get("city") or "",
        "zip": addr.get("postal_code") or "",
        "phone": addr.get("phone") or "",
        "email": addr.get("email") or "",
        "country_code": addr.get("country_code") or "",
    }


def partner_vals(row: ChannelOrder) -> dict[str, Any]:
    data = row.payload
    cust = data.get("customer") or {}
    bill = data.get("billing_address") or {}
    ship = data.get("shipping_address") or {}
    main = address_dict(bill or ship or None) or {}
    person = " ".join(p for p in (cust.get("first_name"), cust.get("last_name")) if p)
    company = cust.get("company") or ""
    name = person or company or main.get("name") or row.customer_email or row.odoo_ref
    vals: dict[str, Any] = {
        "name": name,
        "ref": _partner_ref(row),
        "email": row.customer_email,
        "phone": cust.get("phone") or "",
        "is_company": bool(company and not person),
    }
    vals.update({k: v for k, v in main.items() if k not in ("name", "email") and v})
    delivery, invoice = address_dict(ship or None), address_dict(bill or None)
    # A B2B account's ship-to addresses are children with their own refs (b2b_ship_to).
    if delivery and row.channel.kind != Channel.Kind.B2B_API:
        vals["delivery"] = delivery
    if invoice:
        vals["invoice"] = invoice
    return vals


CREATE_LOCK_SECONDS = 120


@contextmanager
def _creating(refs: set[str]) -> Iterator[None]:
    """Hold the creation of these customers' partners for one push batch. Two batches pushed at
    once (two Odoo worker processes) with the same new customer would each find nothing in Odoo
    and each create it; the batch that finds a customer held retries soon (LockContention, no
    attempt spent), and by then the partner is in Odoo under its ref. A lock outlives a dead
    worker only by CREATE_LOCK_SECONDS."""
    token, held = uuid.uuid4().hex, []
    try:
        for ref in sorted(refs):
            key = f"orders:partner-create:{ref}"
            if not cache.add(key, token, timeout=CREATE_LOCK_SECONDS):
                raise LockContention(
                    f"customer {ref} is being created by another push", retry_after=1
                )
            held.append(key)
        yield
    finally:
        for key in held:
            if cache.get(key) == token:
                cache.delete(key)


def resolve_partners(ctx: BatchContext, rows: list[ChannelOrder]) -> dict[int, OrderPartner]:
    """Order id -> partner: binding, else Odoo by ref/e-mail (ONE search), else create.

    A created partner carries a deterministic ref, so a create whose response was lost is found
    by the next attempt's search instead of being created again; a customer new to two batches
    at once is created by one of them (_creating).
    """
    out: dict[int, OrderPartner] = {}
    pending: list[ChannelOrder] = []
    for row in rows:
        if row.odoo_partner_id:
            out[row.pk] = OrderPartner(row.odoo_partner_id)
        else:
            pending.append(row)
    if not pending:
        return out
    keys = {(r.channel_id, customer_key(r)) for r in pending}
    bindings = {
        (b.channel_id, b.external_id): b.odoo_id
        for b in Binding.objects.filter(
            kind=Binding.Kind.CUSTOMER,
            channel_id__in={k[0] for k in keys},
            external_id__in={k[1] for k in keys},
        )
    }
    unbound = [r for r in pending if (r.channel_id, customer_key(r)) not in bindings]
    with _creating({_partner_ref(r) for r in unbound}):
        _resolve(ctx, pending, unbound, bindings, out)
    return out


def _resolve(
    ctx: BatchContext,
    pending: list[ChannelOrder],
    unbound: list[ChannelOrder],
    bindings: dict[tuple[int, str], int],
    out: dict[int, OrderPartner],
) -> None:
    lookup = None
    if unbound:
        # B2B customers are Odoo companies known by their ref (e.g. "ACME").
        refs = [_partner_ref(r) for r in unbound] + [
            r.customer_external_id for r in unbound if r.customer_external_id
        ]
        emails = [r.customer_email for r in unbound if r.customer_email]
        lookup = ctx.gateway.partners_find(refs=refs, emails=emails)
    created: dict[str, OrderPartner] = {}
    for row in pending:
        key = (row.channel_id, customer_key(row))
        if key in bindings:
            out[row.pk] = OrderPartner(bindings[key])
            continue
        assert lookup is not None
        pid = (
            lookup.by_ref.get(_partner_ref(row))
            or lookup.by_ref.get(row.customer_external_id)
            or lookup.by_email.get(row.customer_email.strip().lower())
        )
        if pid:
            out[row.pk] = OrderPartner(pid)
        else:
            ref = _partner_ref(row)
            if ref not in created:
                ids = ctx.gateway.partner_create(partner=partner_vals(row))
                created[ref] = OrderPartner(ids.id, ids.delivery_id, ids.invoice_id)
            out[row.pk] = created[ref]
        if not row.payload.get("customer", {}) or row.payload["customer"].get("is_guest"):
            continue
        Binding.objects.get_or_create(
            channel_id=row.channel_id,
            kind=Binding.Kind.CUSTOMER,
            external_id=key[1],
            defaults={
                "external_code": row.customer_email,
                "odoo_model": "res.partner",
                "odoo_id": out[row.pk].id,
            },
        )
        bindings[key] = out[row.pk].id


def b2b_ship_to(
    ctx: BatchContext, rows: list[ChannelOrder], partners: dict[int, OrderPartner]
) -> None:
    """A B2B order stays on the account's company partner; its ship-to becomes a delivery child.

    The child carries a deterministic ref (channel, company, address), found by ONE search for
    the batch before anything is created: the same store shipped to twice reuses its address,
    and a create whose response was lost is found on the retry. Credit and invoicing stay with
    the company; the PO number travels as the client reference.
    """
    wanted: dict[int, tuple[str, dict[str, Any], int]] = {}
    for row in rows:
        ids = partners.get(row.pk)
        if row.channel.kind != Channel.Kind.B2B_API or ids is None:
            continue
        if ids.delivery_id and ids.delivery_id != ids.id:
            continue  # a delivery address is already chosen (a binding's or a new partner's)
        address = address_dict(row.payload.get("shipping_address") or None)
        if not address or not (address["street"] or address["city"]):
            continue
        key = json.dumps([ids.id, sorted(address.items())], sort_keys=True)
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        wanted[row.pk] = (f"{row.channel.code}:ship-to:{digest}", address, ids.id)
    if not wanted:
        return
    found = dict(ctx.gateway.partners_find(refs=sorted({w[0] for w in wanted.values()})).by_ref)
    for pk, (ref, address, parent) in wanted.items():
        if ref not in found:
            found[ref] = ctx.gateway.partner_address_create(
                parent_id=parent, address=address, kind="delivery", ref=ref
            )
        partners[pk] = OrderPartner(parent, found[ref], partners[pk].invoice_id)
