"""B2B accounts: Odoo companies published to a channel, and the bindings orders resolve by.

Odoo owns the company, its contacts (children of type ``contact`` with an e-mail), credit
limit, payment terms and pricelist. ``accounts_publish`` reads every account of a channel in
two Odoo reads, fingerprints what it would publish, and calls the platform only for accounts
whose fingerprint changed (a repeat run sends nothing):

- **Shopify**: a company (``externalId`` ``odoo-<id>``) with one location (the company's
  address as shipping and billing, checkout on the NET payment terms matching the Odoo term's
  days when Shopify has such a template) and one company contact per Odoo contact. The credit
  limit, payment terms and pricelist names go in the company note (Shopify has no credit limit;
  the hub's credit hold enforces Odoo's on every order). Prices come from the pricelist through
  the catalogs and price lists the price publication maintains for the location.
- **BigCommerce**: one customer group per account (``B2B <ref or id>: <name>``: the group a
  price list is assigned to) and one customer per contact (``company`` = the company's name,
  ``customer_group_id``), matched by ``email:in`` then created or updated, 10 per call.

Every contact's channel customer id is bound (``Binding`` kind customer) to the **company**
partner, so ``apps.orders.customers.resolve_partners`` puts their orders on the company, whose
credit limit the order push checks.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from apps.core.errors import HubError, PermanentError
from apps.mappings.models import Binding
from apps.sales_channels.models import Channel

from .channel_io import BigCommerceCustomers, ShopifyCompanies, numeric_id
from .models import B2BAccount

logger = logging.getLogger(__name__)

SUPPORTED = (Channel.Kind.SHOPIFY, Channel.Kind.BIGCOMMERCE)


@dataclass
class PublishReport:
    channel: str
    accounts: int = 0
    published: int = 0
    unchanged: int = 0
    failed: int = 0
    calls: int = 0
    errors: dict[int, str] = field(default_factory=dict)


def fingerprint(account: dict[str, Any]) -> str:
    data = {k: v for k, v in account.items() if k != "write_date"}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _split_name(name: str) -> tuple[str, str]:
    parts = name.strip().split()
    if len(parts) < 2:
        return (parts[0] if parts else "-"), "-"
    return " ".join(parts[:-1]), parts[-1]


def _note(acc: dict[str, Any]) -> str:
    bits = [f"Odoo company {acc['id']}" + (f" ({acc['ref']})" if acc["ref"] else "")]
    if acc["credit_limit"]:
        bits.append(f"credit limit {acc['credit_limit']}")
    if acc["payment_term"]:
        bits.append(f"payment terms {acc['payment_term']['name']}")
    if acc["pricelist"]:
        bits.append(f"pricelist {acc['pricelist']['name']}")
    return "; ".join(bits)


def _days(term: dict[str, Any] | None) -> int | None:
    m = re.search(r"(\d+)\s*day", str((term or {}).get("name") or ""), re.IGNORECASE)
    return int(m.group(1)) if m else None


def _bind(channel: Channel, customer_id: str, email: str, company_id: int) -> None:
    Binding.objects.update_or_create(
        channel=channel,
        kind=Binding.Kind.CUSTOMER,
        external_id=customer_id,
        defaults={"external_code": email, "odoo_model": "res.partner", "odoo_id": company_id},
    )


# --- Shopify ---------------------------------------------------------------------------------


def _shopify_address(acc: dict[str, Any]) -> dict[str, Any]:
    return {
        "address1": acc["street"] or acc["name"],
        "address2": acc["street2"],
        "city": acc["city"],
        "zip": acc["zip"],
        "countryCode": acc["country_code"] or None,
        "recipient": acc["name"],
    }


def _shopify_publish(
    api: ShopifyCompanies, row: B2BAccount, acc: dict[str, Any], terms: dict[int, str] | None
) -> None:
    external = f"odoo-{acc['id']}"
    contacts = dict(row.contacts or {})
    if not row.external_company_id:
        found = api.company_find(external)
        if found is None:
            first = acc["contacts"][0] if acc["contacts"] else None
            location: dict[str, Any] = {
                "name": acc["name"],
                "externalId": external,
                "shippingAddress": _shopify_address(acc),
                "billingSameAsShipping": True,
            }
            days = _days(acc["payment_term"])
            if terms is not None and days in terms:
                location["buyerExperienceConfiguration"] = {
                    "paymentTermsTemplateId": terms[days],
                    "checkoutToDraft": False,
                }
            payload: dict[str, Any] = {
                "company": {"name": acc["name"], "externalId": external, "note": _note(acc)},
                "companyLocation": location,
            }
            if first:
                fn, ln = _split_name(first["name"])
                payload["companyContact"] = {
                    "email": first["email"],
                    "firstName": fn,
                    "lastName": ln,
                }
            found = api.company_create(payload)
        row.external_company_id = str(found["id"])
        locations = (found.get("locations") or {}).get("nodes") or []
        row.external_location_id = str(locations[0]["id"]) if locations else ""
        for node in (found.get("contacts") or {}).get("nodes") or []:
            customer = node.get("customer") or {}
            email = str(customer.get("email") or "").lower()
            match = next((c for c in acc["contacts"] if c["email"] == email), None)
            if match:
                contacts[str(match["id"])] = numeric_id(customer.get("id"))
        row.save(update_fields=["external_company_id", "external_location_id", "updated_at"])
    else:
        api.company_update(
            row.external_company_id,
            {"name": acc["name"], "note": _note(acc), "externalId": external},
        )
        if row.external_location_id:
            api.location_address(row.external_location_id, _shopify_address(acc))
    for contact in acc["contacts"]:
        if str(contact["id"]) in contacts:
            continue
        fn, ln = _split_name(contact["name"])
        node = api.contact_add(
            row.external_company_id,
            {"email": contact["email"], "firstName": fn, "lastName": ln},
        )
        contacts[str(contact["id"])] = numeric_id((node.get("customer") or {}).get("id"))
    row.contacts = contacts
    for contact in acc["contacts"]:
        cid = contacts.get(str(contact["id"]))
        if cid:
            _bind(row.channel, cid, contact["email"], acc["id"])


# --- BigCommerce -------------------------------------------------------------------------------


def _group_name(acc: dict[str, Any]) -> str:
    return f"B2B {acc['ref'] or acc['id']}: {acc['name']}"[:255]


def _bigcommerce_publish(api: BigCommerceCustomers, row: B2BAccount, acc: dict[str, Any]) -> None:
    row.customer_group_id = api.group_ensure(row.customer_group_id, _group_name(acc))
    row.save(update_fields=["customer_group_id", "updated_at"])
    group = int(row.customer_group_id)
    emails = [c["email"] for c in acc["contacts"]]
    existing = api.customers_by_email(emails) if emails else {}
    creates, updates = [], []
    for contact in acc["contacts"]:
        fn, ln = _split_name(contact["name"])
        want = {
            "first_name": fn,
            "last_name": ln,
            "company": acc["name"],
            "phone": contact["phone"],
            "customer_group_id": group,
            "notes": _note(acc),
        }
        have = existing.get(contact["email"])
        if have is None:
            creates.append({"email": contact["email"], **want})
        elif any(have.get(k) != v for k, v in want.items()):
            updates.append({"id": have["id"], **want})
    done = {str(r.get("email") or "").lower(): r for r in existing.values()}
    for r in api.customers_create(creates) + api.customers_update(updates):
        done[str(r.get("email") or "").lower()] = r
    contacts = dict(row.contacts or {})
    for contact in acc["contacts"]:
        found = done.get(contact["email"])
        if found and found.get("id"):
            contacts[str(contact["id"])] = str(found["id"])
            _bind(row.channel, str(found["id"]), contact["email"], acc["id"])
    row.contacts = contacts


# --- the run ---------------------------------------------------------------------------------


def accounts_publish(
    channel: Channel, *, force: bool = False, gateway: Any = None
) -> PublishReport:
    """Publish the channel's B2B accounts whose Odoo data changed (all with ``force``)."""
    from apps.odoo.gateway import get_gateway

    report = PublishReport(channel=channel.code)
    if channel.kind not in SUPPORTED:
        raise PermanentError(
            f"{channel.code}: B2B accounts are published to Shopify and BigCommerce only",
            channel=channel.code,
        )
    rows = list(B2BAccount.objects.filter(channel=channel).select_related("channel"))
    report.accounts = len(rows)
    if not rows:
        return report
    gw = gateway or get_gateway()
    accounts = gw.b2b_accounts_read(company_ids=[r.odoo_partner_id for r in rows])
    shopify = ShopifyCompanies(channel) if channel.kind == Channel.Kind.SHOPIFY else None
    bigcommerce = (
        BigCommerceCustomers(channel) if channel.kind == Channel.Kind.BIGCOMMERCE else None
    )
    terms: dict[int, str] | None = None
    for row in rows:
        acc = accounts.get(row.odoo_partner_id)
        if acc is None:
            row.state, row.last_error = B2BAccount.State.FAILED, "not found in Odoo"
            row.save(update_fields=["state", "last_error", "updated_at"])
            report.failed += 1
            continue
        digest = fingerprint(acc)
        if not force and digest == row.published_hash and row.state == B2BAccount.State.PUBLISHED:
            report.unchanged += 1
            continue
        try:
            if shopify is not None:
                if terms is None and acc["payment_term"]:
                    terms = shopify.net_terms()
                _shopify_publish(shopify, row, acc, terms)
            elif bigcommerce is not None:
                _bigcommerce_publish(bigcommerce, row, acc)
        except HubError as exc:
            if exc.retryable:
                raise
            row.state, row.last_error = B2BAccount.State.FAILED, exc.message[:2000]
            row.save(update_fields=["state", "last_error", "contacts", "updated_at"])
            report.failed += 1
            report.errors[row.odoo_partner_id] = exc.message
            continue
        row.name = acc["name"][:255]
        row.pricelist_id = (acc["pricelist"] or {}).get("id")
        row.published_hash = digest
        row.published_at = timezone.now()
        row.state, row.last_error = B2BAccount.State.PUBLISHED, ""
        row.save()
        report.published += 1
    report.calls = (shopify.calls if shopify else 0) + (bigcommerce.calls if bigcommerce else 0)
    return report
