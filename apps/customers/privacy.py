"""Privacy requests: redact a customer, redact a shop, export what the hub holds on a customer.

Shopify's mandatory compliance webhooks (``customers/redact``, ``shop/redact``,
``customers/data_request``) arrive through the Shopify receiver like any other topic (HMAC
verified, shop domain checked, recorded in the ledger) and are handled here; WooCommerce and
BigCommerce send none, so ``manage.py customers redact|export`` starts the same work by hand.

A redact, in order (each step safe to run again; the ledger retries a transient failure):

1. the subject: the channel's customer id, the e-mail and phone given, the orders named, plus
   every order of that customer id or e-mail, whose customer and addresses add identifiers;
2. the Odoo partners concerned (customer bindings, the orders' partners) are kept on the
   request row, then the hub's copies are erased (``redaction.py``: structured pass on the
   orders' rows and events, then the sweep of every table), the customer's bindings and sync
   rows deleted and earlier export files removed, in one transaction;
3. Odoo, per the channel's ``privacy_odoo_action``: ``anonymise`` through the gateway (only a
   person the hub created for this channel's customers and no other channel is bound to), else
   — or when that check fails — one inbox item per partner for a person to decide;
4. an audit entry (``privacy_redact``) with the counts, never the identifiers.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.audit import audit_record, snapshot
from apps.core.errors import DataConflict
from apps.ledger.models import InboundEvent
from apps.mappings.models import Binding
from apps.orders.models import ChannelOrder
from apps.sales_channels.models import Channel

from . import redaction
from .models import CustomerAccount, PrivacyRequest
from .redaction import Subject

logger = logging.getLogger(__name__)

ORDER_JSON = ("payload", "shadow_payload", "edit_payload", "ack_sent")


def _str_ids(values: Any) -> set[str]:
    return {str(v).strip() for v in (values or []) if str(v).strip()}


def subject_from_shopify(channel_code: str, body: dict[str, Any]) -> Subject:
    """The subject of a Shopify ``customers/redact`` or ``customers/data_request`` body."""
    customer = body.get("customer") if isinstance(body.get("customer"), dict) else {}
    assert isinstance(customer, dict)
    subject = Subject(channel_code=channel_code)
    if customer.get("id"):
        subject.customer_ids.add(str(customer["id"]))
    subject.add_person(customer)
    subject.order_ids |= _str_ids(body.get("orders_to_redact"))
    subject.order_ids |= _str_ids(body.get("orders_requested"))
    return subject


def subject_orders(subject: Subject) -> list[ChannelOrder]:
    """The subject's orders (named, or by customer id or e-mail), widening the subject with the
    identifiers their customer and addresses carry."""
    q = Q(external_id__in=subject.order_ids) | Q(customer_external_id__in=subject.customer_ids)
    for email in subject.emails:
        q |= Q(customer_email__iexact=email)
    qs = ChannelOrder.objects.filter(q)
    if subject.channel_code:
        qs = qs.filter(channel__code=subject.channel_code)
    orders = list(qs.select_related("channel"))
    for order in orders:
        data = order.payload or {}
        if order.customer_email:
            subject.emails.add(order.customer_email.strip().lower())
        for key in ("customer", "billing_address", "shipping_address"):
            subject.add_person(data.get(key))
        if order.customer_external_id:
            subject.customer_ids.add(order.customer_external_id)
    return orders


def _customer_binding_q(subject: Subject) -> Q:
    keys = set(subject.customer_ids) | {f"email:{e}" for e in subject.emails}
    q = Q(kind=Binding.Kind.CUSTOMER) & (
        Q(external_id__in=keys) | Q(external_code__in=sorted(subject.emails))
    )
    if subject.channel_code:
        q &= Q(channel__code=subject.channel_code)
    return q


def _events_q(subject: Subject, orders: list[ChannelOrder]) -> Q:
    refs = {o.external_id for o in orders} | subject.order_ids
    entities = {f"order:{r}" for r in refs} | {f"customer:{c}" for c in subject.customer_ids}
    q = Q(external_ref__in=refs) | Q(entity_key__in=entities)
    if subject.channel_code:
        q &= Q(channel_code=subject.channel_code)
    return q


def _order_related() -> list[tuple[type[models.Model], str, list[Any]]]:
    """(model, lookup to ChannelOrder ids, JSON/binary columns) for rows hanging off orders."""
    out = []
    for model, cols in redaction.swept_fields():
        docs = [f for f in cols if isinstance(f, (models.JSONField, models.BinaryField))]
        if not docs or model is ChannelOrder:
            continue
        for f in model._meta.concrete_fields:
            if isinstance(f, models.ForeignKey) and f.related_model is ChannelOrder:
                out.append((model, f"{f.name}_id__in", docs))
                break
    return out


def _structured_pass(subject: Subject, orders: list[ChannelOrder]) -> dict[str, int]:
    from apps.events.models import BusinessEvent

    pattern = redaction.term_pattern(subject.terms())
    counts: dict[str, int] = {}
    order_ids = [o.pk for o in orders]
    cols = [ChannelOrder._meta.get_field(n) for n in ORDER_JSON]
    counts["orders.ChannelOrder"] = redaction.rewrite_rows(
        ChannelOrder, cols, order_ids, pattern, structured=True
    )
    ChannelOrder.objects.filter(pk__in=order_ids).update(customer_email="")
    ev_cols = [InboundEvent._meta.get_field(n) for n in ("body", "headers")]
    ev_ids = InboundEvent.objects.filter(_events_q(subject, orders)).values_list("pk", flat=True)
    counts["ledger.InboundEvent"] = redaction.rewrite_rows(
        InboundEvent, ev_cols, list(ev_ids), pattern, structured=True
    )
    for model, lookup, docs in _order_related():
        pks = list(
            model._default_manager.filter(**{lookup: order_ids}).values_list("pk", flat=True)
        )
        n = redaction.rewrite_rows(model, docs, pks, pattern, structured=True)
        if n:
            counts[model._meta.label] = n
    entity_keys = [o.entity_key for o in orders] + [f"order:{o.external_id}" for o in orders]
    be_pks = list(
        BusinessEvent.objects.filter(entity_key__in=entity_keys).values_list("pk", flat=True)
    )
    counts["events.BusinessEvent"] = redaction.rewrite_rows(
        BusinessEvent, [BusinessEvent._meta.get_field("payload")], be_pks, pattern, structured=True
    )
    return {k: v for k, v in counts.items() if v}


def _exports_remove(channel_code: str, digests: set[str], customer_ids: set[str]) -> int:
    removed = 0
    rows = PrivacyRequest.objects.filter(
        channel_code=channel_code, kind=PrivacyRequest.Kind.DATA_REQUEST
    ).exclude(export_file="")
    rows = rows.filter(Q(subject_digest__in=digests) | Q(customer_external_id__in=customer_ids))
    for row in rows:
        path = export_dir() / row.export_file
        if path.exists():
            path.unlink()
            removed += 1
        PrivacyRequest.objects.filter(pk=row.pk).update(export_file="")
    return removed


def _partners_of(subject: Subject, orders: list[ChannelOrder]) -> list[int]:
    ids = {o.odoo_partner_id for o in orders if o.odoo_partner_id}
    ids |= set(
        Binding.objects.filter(_customer_binding_q(subject)).values_list("odoo_id", flat=True)
    )
    return sorted(int(i) for i in ids)


def redact(
    *, channel: Channel, subject: Subject, request: PrivacyRequest, actor: Any = None
) -> PrivacyRequest:
    """Erase the subject from the hub (once per request row), then settle Odoo."""
    if not request.counts.get("hub_done"):
        with transaction.atomic():
            orders = subject_orders(subject)
            partners = _partners_of(subject, orders)
            counts = _structured_pass(subject, orders)
            bindings, _ = Binding.objects.filter(_customer_binding_q(subject)).delete()
            accounts, _ = CustomerAccount.objects.filter(
                channel=channel, external_id__in=subject.customer_ids
            ).delete()
            digests = {redaction.digest(e) for e in subject.emails}
            exports = _exports_remove(channel.code, digests, subject.customer_ids)
            swept = redaction.sweep(subject)
            request.counts = {
                "hub_done": True,
                "orders": len(orders),
                "structured": counts,
                "swept": swept,
                "bindings_deleted": bindings,
                "accounts_deleted": accounts,
                "exports_removed": exports,
                "odoo_partners": partners,
                "odoo_done": [],
            }
            request.subject_digest = next(iter(sorted(digests)), "")
            request.save()
            audit_record(
                user=actor,
                action="privacy_redact",
                obj=request,
                after={k: v for k, v in request.counts.items() if k != "odoo_done"},
                reason=f"{request.kind} for channel {channel.code}",
            )
    _odoo_settle(channel=channel, request=request)
    return request


def _odoo_settle(*, channel: Channel, request: PrivacyRequest) -> None:
    from apps.odoo.gateway import get_gateway

    todo = [
        p for p in request.counts.get("odoo_partners", []) if p not in request.counts["odoo_done"]
    ]
    if not todo:
        _finish(request, pending=False)
        return
    pending = False
    gateway = get_gateway() if channel.privacy_odoo_action == "anonymise" else None
    for pid in todo:
        reason = _anonymise_refusal(channel, pid, gateway)
        if reason is None and gateway is not None:
            gateway.partner_anonymise(partner_id=pid, label=f"Redacted customer {pid}")
            audit_record(
                user=None,
                action="privacy_odoo_anonymise",
                obj=request,
                after={"odoo_partner_id": pid},
                reason=f"{request.kind} for channel {channel.code}",
            )
        else:
            pending = True
            _inbox_item(channel, request, pid, reason or "the channel asks a person to do it")
        request.counts["odoo_done"].append(pid)
        PrivacyRequest.objects.filter(pk=request.pk).update(counts=request.counts)
    _finish(request, pending=pending)


def _anonymise_refusal(channel: Channel, partner_id: int, gateway: Any) -> str | None:
    """Why the hub must not anonymise this partner itself (None: it may)."""
    if gateway is None:
        return "the channel's privacy setting is an inbox item"
    others = (
        Binding.objects.filter(kind=Binding.Kind.CUSTOMER, odoo_id=partner_id)
        .exclude(channel=channel)
        .values_list("channel__code", flat=True)
    )
    if others:
        return f"channels {', '.join(sorted(set(others)))} are still bound to it"
    info = gateway.partners_contact_read(partner_ids=[partner_id]).get(partner_id)
    if info is None:
        return None  # gone from Odoo: anonymise raises a clear error if it really is
    if info.get("is_company") or (
        info.get("commercial_partner_id") and info["commercial_partner_id"] != partner_id
    ):
        return "it is a company or one of its contacts (a B2B account Odoo owns)"
    ref = str(info.get("ref") or "")
    if not ref.startswith(f"{channel.code}:customer:"):
        return "the hub did not create it for this channel's customers"
    return None


def _inbox_item(channel: Channel, request: PrivacyRequest, partner_id: int, reason: str) -> None:
    from apps.inbox.services import issue_report

    error = DataConflict(
        f"Privacy request: anonymise Odoo partner {partner_id} by hand ({reason})",
        odoo_partner_id=partner_id,
        privacy_request=request.pk,
    )
    issue_report(
        error=error,
        key=f"privacy:{channel.code}:partner:{partner_id}",
        row=request,
        channel_code=channel.code,
        customer=f"Odoo partner {partner_id}",
    )


def _finish(request: PrivacyRequest, *, pending: bool) -> None:
    state = PrivacyRequest.State.ODOO_PENDING if pending else PrivacyRequest.State.DONE
    PrivacyRequest.objects.filter(pk=request.pk).update(state=state, completed_at=timezone.now())
    request.state, request.completed_at = state, timezone.now()


def shop_redact(*, channel: Channel, request: PrivacyRequest, actor: Any = None) -> PrivacyRequest:
    """Every customer's data of the channel: the structured pass over all its orders and events,
    its customer bindings and sync rows deleted, the customer fields of its inbox items cleared.
    Odoo's partners are the merchant's own records and stay."""
    from apps.inbox.models import Issue

    if request.counts.get("hub_done"):
        return request
    with transaction.atomic():
        subject = Subject(channel_code=channel.code)
        orders = list(ChannelOrder.objects.filter(channel=channel))
        subject.order_ids = {o.external_id for o in orders}
        counts = _structured_pass(subject, orders)
        ev_cols = [InboundEvent._meta.get_field(n) for n in ("body", "headers")]
        ev = list(
            InboundEvent.objects.filter(channel_code=channel.code).values_list("pk", flat=True)
        )
        counts["ledger.InboundEvent"] = redaction.rewrite_rows(
            InboundEvent, ev_cols, ev, None, structured=True
        )
        bindings, _ = Binding.objects.filter(channel=channel, kind=Binding.Kind.CUSTOMER).delete()
        accounts, _ = CustomerAccount.objects.filter(channel=channel).delete()
        Issue.objects.filter(channel_code=channel.code).exclude(customer="").update(customer="")
        request.counts = {
            "hub_done": True,
            "orders": len(orders),
            "structured": counts,
            "bindings_deleted": bindings,
            "accounts_deleted": accounts,
        }
        request.state = PrivacyRequest.State.DONE
        request.completed_at = timezone.now()
        request.save()
        audit_record(
            user=actor,
            action="privacy_shop_redact",
            obj=request,
            after=request.counts,
            reason=f"shop/redact for channel {channel.code}",
        )
    return request


# --- data requests -----------------------------------------------------------------------------


def export_dir() -> Path:
    path = Path(settings.VAR_DIR) / "privacy"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _event_doc(event: InboundEvent) -> dict[str, Any]:
    try:
        body: Any = json.loads(bytes(event.body))
    except (ValueError, UnicodeDecodeError):
        body = event.body_text()
    return {
        "id": event.pk,
        "channel": event.channel_code,
        "topic": event.topic,
        "received_at": event.received_at,
        "state": event.state,
        "body": body,
    }


def data_export(*, channel: Channel, subject: Subject, request: PrivacyRequest) -> Path:
    """Write what the hub holds about the subject to a JSON file under the var directory
    (``privacy/<channel>/<request id>.json``, mode 0600) and name it on the request row."""
    orders = subject_orders(subject)
    order_ids = [o.pk for o in orders]
    related: dict[str, list[dict[str, Any]]] = {}
    for model, lookup, _docs in _order_related():
        rows = list(model._default_manager.filter(**{lookup: order_ids}))
        if rows:
            related[model._meta.label] = [snapshot(r) for r in rows]
    events = [
        _event_doc(e)
        for e in InboundEvent.objects.filter(_events_q(subject, orders)).order_by("pk")
    ]
    found = redaction.find(subject)
    doc = {
        "request": {
            "id": request.pk,
            "kind": request.kind,
            "channel": channel.code,
            "customer_external_ids": sorted(subject.customer_ids),
            "created_at": request.created_at,
        },
        "identifiers": {"emails": sorted(subject.emails), "phones": sorted(subject.phones)},
        "orders": [
            {
                **snapshot(o),
                "lines": [
                    {
                        "sku": ln.sku,
                        "name": ln.name,
                        "quantity": ln.quantity,
                        "unit_price": ln.unit_price,
                    }
                    for ln in o.lines.all()
                ],
            }
            for o in orders
        ],
        "related": related,
        "events": events,
        "bindings": [snapshot(b) for b in Binding.objects.filter(_customer_binding_q(subject))],
        "accounts": [
            snapshot(a)
            for a in CustomerAccount.objects.filter(
                channel=channel, external_id__in=subject.customer_ids
            )
        ],
        "other_rows_naming_the_customer": found,
    }
    folder = export_dir() / channel.code
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{request.pk}.json"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, cls=DjangoJSONEncoder, indent=1, ensure_ascii=False, default=str)
    os.replace(tmp, path)
    request.export_file = str(path.relative_to(export_dir()))
    request.subject_digest = next(iter(sorted(redaction.digest(e) for e in subject.emails)), "")
    request.counts = {
        "orders": len(orders),
        "events": len(events),
        "related": {k: len(v) for k, v in related.items()},
        "tables": {k: len(v) for k, v in found.items()},
    }
    request.state = PrivacyRequest.State.DONE
    request.completed_at = timezone.now()
    request.save()
    audit_record(
        user=None,
        action="privacy_export",
        obj=request,
        after={"export_file": request.export_file, **request.counts},
        reason=f"customers/data_request for channel {channel.code}",
    )
    return path
