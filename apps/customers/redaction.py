"""Erasing one person's data from everything the hub stores, and finding it for an export.

Two passes, both in the caller's transaction:

1. **Structured**: JSON documents that are about the person (the orders matched by the request,
   their ledger events, every row that points at those orders — returns, refunds, shipments,
   invoices, payments — and the business events of those orders) lose every value under a
   personal key (``PERSONAL_KEYS``) and every string inside a personal container
   (``PERSONAL_CONTAINERS``: customer, addresses), except codes that say nothing about a person
   (country, currency, ids, flags). Amounts, SKUs, quantities, line names, ids and dates stay.
2. **Sweep**: every text, JSON and binary column of every table of the hub (``swept_fields``:
   all installed models except Django's own auth, sessions and content types, and encrypted
   secrets) is searched for the person's identifiers (``Subject.terms``: e-mails, phones, full
   names) with one case-insensitive query per table; each occurrence is replaced by
   ``REDACTED``. Rows of another channel are left alone when the request names a channel.

Costs: one query per table and column group for the sweep (a sequential scan of the text
columns: fine for a request the law gives 30 days for, measured in docs/customers.md), plus
one read and one UPDATE per changed row.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast

REDACTED = "[redacted]"

# Keys whose value is personal wherever they appear (Shopify, WooCommerce, BigCommerce, the
# hub's canonical order and the business events).
PERSONAL_KEYS = frozenset(
    {
        "email",
        "customer_email",
        "contact_email",
        "billing_email",
        "phone",
        "mobile",
        "first_name",
        "last_name",
        "firstname",
        "lastname",
        "firstName",
        "lastName",
        "full_name",
        "address1",
        "address2",
        "address_1",
        "address_2",
        "line1",
        "line2",
        "street",
        "street2",
        "street_1",
        "street_2",
        "zip",
        "postcode",
        "postal_code",
        "customer_ip_address",
        "customer_user_agent",
        "browser_ip",
        "user_agent",
        "note",
        "customer_note",
        "customer_message",
        "username",
        "vat",
    }
)
# Containers whose strings are all personal but for KEEP_IN_CONTAINER.
PERSONAL_CONTAINERS = frozenset(
    {
        "customer",
        "billing_address",
        "shipping_address",
        "billing",
        "shipping",
        "default_address",
        "addresses",
        "billing_addresses",
        "shipping_addresses",
        "client_details",
        "destination",
        "contact",
    }
)
# Containers that hold a list of people or addresses; the others only when they are an object
# (the hub's canonical order has a "shipping" list of shipping lines, which is not personal).
LIST_CONTAINERS = frozenset({"addresses", "billing_addresses", "shipping_addresses"})
KEEP_IN_CONTAINER = frozenset(
    {
        "id",
        "admin_graphql_api_id",
        "country",
        "country_code",
        "country_iso2",
        "province_code",
        "currency",
        "state",
        "created_at",
        "updated_at",
        "date_created",
        "date_modified",
        "type",
        "is_guest",
        "tax_exempt",
        "verified_email",
        "customer_group_id",
        "external_id",
    }
)
STRUCTURED_FIELDS = frozenset({"payload", "shadow_payload", "edit_payload", "body", "raw"})
SKIPPED_APPS = frozenset({"auth", "sessions", "contenttypes", "django_celery_beat"})


@dataclass
class Subject:
    """Who a request is about: the channel's ids and the identifiers to search for."""

    channel_code: str | None
    customer_ids: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    order_ids: set[str] = field(default_factory=set)

    def terms(self) -> list[str]:
        """The strings the sweep replaces: e-mails, phones of six digits or more, full names
        of two words or more (longest first, so a longer term is never cut by a shorter)."""
        out = {e.strip().lower() for e in self.emails if e and "@" in e}
        out |= {p.strip() for p in self.phones if len(re.sub(r"\D", "", p or "")) >= 6}
        out |= {n.strip() for n in self.names if len((n or "").split()) >= 2}
        return sorted((t for t in out if len(t) >= 5), key=lambda t: (-len(t), t))

    def add_person(self, data: Any) -> None:
        """Collect identifiers from a customer or address dict (any platform's spelling)."""
        if not isinstance(data, dict):
            return
        for key in ("email", "billing_email", "customer_email"):
            if isinstance(data.get(key), str) and data[key].strip():
                self.emails.add(data[key].strip().lower())
        for key in ("phone", "mobile"):
            if isinstance(data.get(key), str) and data[key].strip():
                self.phones.add(data[key].strip())
        first = data.get("first_name") or data.get("firstName") or ""
        last = data.get("last_name") or data.get("lastName") or ""
        if isinstance(first, str) and isinstance(last, str) and first.strip() and last.strip():
            self.names.add(f"{first.strip()} {last.strip()}")


def digest(value: str) -> str:
    """A keyed hash of an identifier: tells requests about one person apart, keeps no address."""
    from django.conf import settings

    key = str(settings.SECRET_KEY).encode()
    return hashlib.blake2b(value.strip().lower().encode(), key=key[:64], digest_size=16).hexdigest()


# --- values ------------------------------------------------------------------------------------


def term_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    items = [re.escape(t) for t in terms if t]
    return re.compile("|".join(items), re.IGNORECASE) if items else None


def _replace(text: str, pattern: re.Pattern[str] | None) -> str:
    return pattern.sub(REDACTED, text) if pattern is not None else text


def scrub(value: Any, pattern: re.Pattern[str] | None, *, structured: bool) -> Any:
    """A copy of ``value`` with the person's data replaced (see the module docstring)."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            new_key = _replace(key, pattern) if isinstance(key, str) else key
            if (
                structured
                and key in PERSONAL_CONTAINERS
                and (isinstance(item, dict) or (isinstance(item, list) and key in LIST_CONTAINERS))
            ):
                out[new_key] = _container(item, pattern)
            elif structured and key in PERSONAL_KEYS and isinstance(item, str) and item:
                out[new_key] = REDACTED
            else:
                out[new_key] = scrub(item, pattern, structured=structured)
        return out
    if isinstance(value, list):
        return [scrub(v, pattern, structured=structured) for v in value]
    if isinstance(value, str):
        return _replace(value, pattern)
    return value


_AMOUNT = re.compile(r"^-?\d+(\.\d+)?$")


def _container(value: Any, pattern: re.Pattern[str] | None, key: str = "") -> Any:
    """Inside a customer or an address: every string goes, but for codes, flags, ids and
    amounts (a customer's ``total_spent``); personal keys go whatever they hold."""
    if isinstance(value, dict):
        return {k: _container(v, pattern, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_container(v, pattern, key) for v in value]
    if isinstance(value, str) and value:
        if key in PERSONAL_KEYS:
            return REDACTED
        if key in KEEP_IN_CONTAINER or _AMOUNT.match(value):
            return _replace(value, pattern)
        return REDACTED
    return value


def scrub_bytes(raw: bytes, pattern: re.Pattern[str] | None, *, structured: bool) -> bytes:
    """A stored body: JSON is scrubbed as a document and written back compactly; anything else
    has the terms replaced in its text."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        text = raw.decode("utf-8", errors="replace")
        return _replace(text, pattern).encode()
    clean = scrub(data, pattern, structured=structured)
    if clean == data:
        return raw
    return json.dumps(clean, separators=(",", ":"), ensure_ascii=False).encode()


def scrub_field(
    value: Any, field_obj: models.Field[Any, Any], pattern: re.Pattern[str] | None
) -> Any:
    structured = field_obj.name in STRUCTURED_FIELDS
    if isinstance(field_obj, models.BinaryField):
        return None if value is None else scrub_bytes(bytes(value), pattern, structured=structured)
    if isinstance(field_obj, models.JSONField):
        return scrub(value, pattern, structured=structured)
    return _replace(value, pattern) if isinstance(value, str) else value


# --- tables ------------------------------------------------------------------------------------


def _encrypted(f: models.Field[Any, Any]) -> bool:
    return any(cls.__name__.startswith("Encrypted") for cls in type(f).__mro__)


def swept_fields() -> list[tuple[type[models.Model], list[Any]]]:
    """(model, its text/JSON/binary columns) for every hub table the sweep searches."""
    out = []
    for model in apps.get_models():
        meta = model._meta
        if meta.app_label in SKIPPED_APPS or meta.proxy or not meta.managed:
            continue
        cols = [
            f
            for f in meta.concrete_fields
            if isinstance(
                f, (models.CharField, models.TextField, models.JSONField, models.BinaryField)
            )
        ]
        cols = [f for f in cols if not _encrypted(f) and not f.primary_key]
        if cols:
            out.append((model, cols))
    return out


class BytesText(models.Func):
    """A binary column as text, for a LIKE search (the bodies the hub stores are UTF-8)."""

    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="convert_from(%(expressions)s, 'UTF8')", **extra
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="CAST(%(expressions)s AS TEXT)", **extra)


def _channel_path(model: type[models.Model]) -> str | None:
    """The lookup from ``model`` to a channel code (direct, or through one foreign key)."""
    from apps.sales_channels.models import Channel

    names = {f.name: f for f in model._meta.concrete_fields}
    if "channel_code" in names:
        return "channel_code"
    for f in model._meta.concrete_fields:
        if isinstance(f, models.ForeignKey) and f.related_model is Channel:
            return f"{f.name}__code"
    for f in model._meta.concrete_fields:
        if isinstance(f, models.ForeignKey) and f.related_model is not None:
            inner: Any = f.related_model
            for g in inner._meta.concrete_fields:
                if isinstance(g, models.ForeignKey) and g.related_model is Channel:
                    return f"{f.name}__{g.name}__code"
    return None


def _matching(
    model: type[models.Model],
    cols: list[Any],
    terms: list[str],
    channel_code: str | None,
) -> models.QuerySet[Any]:
    qs: models.QuerySet[Any] = model._default_manager.all()
    q = Q()
    annotations: dict[str, Any] = {}
    for f in cols:
        name = f.attname
        if isinstance(f, models.BinaryField):
            annotations[f"_hubtxt_{name}"] = BytesText(name)
            target = f"_hubtxt_{name}"
        elif isinstance(f, models.JSONField):
            annotations[f"_hubtxt_{name}"] = Cast(name, TextField())
            target = f"_hubtxt_{name}"
        else:
            target = name
        for term in terms:
            q |= Q(**{f"{target}__icontains": term})
    if annotations:
        qs = qs.annotate(**annotations)
    qs = qs.filter(q)
    if channel_code:
        path = _channel_path(model)
        if path:
            qs = qs.filter(**{path: channel_code})
    return qs


def _save(model: type[models.Model], pk: Any, changes: dict[str, Any]) -> None:
    try:
        with transaction.atomic():
            model._default_manager.filter(pk=pk).update(**changes)
    except IntegrityError:
        # A unique column (a dedupe key, a binding) would collide with another row redacted the
        # same way: make this one's replacement unique.
        unique = {
            k: v.replace(REDACTED, f"[redacted:{pk}]") if isinstance(v, str) else v
            for k, v in changes.items()
        }
        model._default_manager.filter(pk=pk).update(**unique)


def rewrite_rows(
    model: type[models.Model],
    cols: list[Any],
    pks: Iterable[Any],
    pattern: re.Pattern[str] | None,
    *,
    structured: bool = False,
) -> int:
    """Scrub the given rows' columns; the number of rows changed."""
    changed = 0
    names = [f.attname for f in cols]
    pk_list = list(pks)
    for start in range(0, len(pk_list), 500):
        part = pk_list[start : start + 500]
        rows = model._default_manager.filter(pk__in=part).values("pk", *names)
        for row in rows:
            changes = {}
            for f in cols:
                old = row[f.attname]
                if structured and isinstance(f, (models.JSONField, models.BinaryField)):
                    new = _structured(old, f, pattern)
                else:
                    new = scrub_field(old, f, pattern)
                if isinstance(old, memoryview):
                    old = bytes(old)
                if new != old:
                    changes[f.attname] = new
            if changes:
                _save(model, row["pk"], changes)
                changed += 1
    return changed


def _structured(value: Any, f: models.Field[Any, Any], pattern: re.Pattern[str] | None) -> Any:
    if isinstance(f, models.BinaryField):
        return None if value is None else scrub_bytes(bytes(value), pattern, structured=True)
    return scrub(value, pattern, structured=True)


def sweep(subject: Subject) -> dict[str, int]:
    """Replace the subject's identifiers in every searched column: rows changed per table."""
    terms = subject.terms()
    pattern = term_pattern(terms)
    counts: dict[str, int] = {}
    if not terms:
        return counts
    for model, cols in swept_fields():
        pks = list(_matching(model, cols, terms, subject.channel_code).values_list("pk", flat=True))
        if pks:
            n = rewrite_rows(model, cols, pks, pattern)
            if n:
                counts[model._meta.label] = counts.get(model._meta.label, 0) + n
    return counts


def find(subject: Subject) -> dict[str, list[Any]]:
    """Table label -> primary keys of rows that hold one of the subject's identifiers."""
    terms = subject.terms()
    out: dict[str, list[Any]] = {}
    if not terms:
        return out
    for model, cols in swept_fields():
        pks = list(_matching(model, cols, terms, subject.channel_code).values_list("pk", flat=True))
        if pks:
            out[model._meta.label] = pks
    return out
