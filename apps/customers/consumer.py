"""Consumer accounts: the channel owns them; a change updates the bound Odoo partner.

Topics (registered in CustomersConfig.ready): Shopify ``customers/create|update`` (the REST
Customer resource), WooCommerce ``customer.created|updated`` (the wc/v3 customer), BigCommerce
``store/customer/created|updated`` (a thin body: the customer is read with
``GET /v3/customers?id:in=<id>&include=addresses``).

Matching, in order: the channel's customer ``Binding`` (the one orders create), else Odoo by
e-mail. An e-mail found on partners of two different customers (two commercial partners) is a
``DataConflict`` in the inbox, never a merge; one that belongs to a company or its contacts
(a B2B account, which Odoo owns) is left alone; none at all is fine (the first order creates the
partner). Only fields that differ are written; empty values never erase Odoo's. A delivery older
than the last one applied (``CustomerAccount.source_version``) changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from apps.core.errors import DataConflict, PermanentError
from apps.mappings.models import Binding
from apps.sales_channels.models import Channel

from .models import CustomerAccount

logger = logging.getLogger(__name__)

SHOPIFY_TOPICS = ("customers/create", "customers/update")
WOO_TOPICS = ("customer.created", "customer.updated")
BIGCOMMERCE_TOPICS = ("store/customer/created", "store/customer/updated")


@dataclass(frozen=True)
class Contact:
    external_id: str
    email: str = ""
    name: str = ""
    phone: str = ""
    street: str = ""
    street2: str = ""
    city: str = ""
    zip: str = ""
    country_code: str = ""
    version: dt.datetime | None = None

    def values(self) -> dict[str, str]:
        return {
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "street": self.street,
            "street2": self.street2,
            "city": self.city,
            "zip": self.zip,
            "country_code": self.country_code,
        }


def _s(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value).strip()


def _when(value: Any) -> dt.datetime | None:
    text = _s(value)
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            from email.utils import parsedate_to_datetime

            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _name(first: Any, last: Any) -> str:
    return " ".join(p for p in (_s(first), _s(last)) if p)


def contact_from_shopify(body: dict[str, Any]) -> Contact:
    addr = body.get("default_address") if isinstance(body.get("default_address"), dict) else {}
    assert isinstance(addr, dict)
    return Contact(
        external_id=_s(body.get("id")),
        email=_s(body.get("email")).lower(),
        name=_name(body.get("first_name"), body.get("last_name")),
        phone=_s(body.get("phone")) or _s(addr.get("phone")),
        street=_s(addr.get("address1")),
        street2=_s(addr.get("address2")),
        city=_s(addr.get("city")),
        zip=_s(addr.get("zip")),
        country_code=_s(addr.get("country_code")).upper(),
        version=_when(body.get("updated_at")),
    )


def contact_from_woocommerce(body: dict[str, Any]) -> Contact:
    bill = body.get("billing") if isinstance(body.get("billing"), dict) else {}
    assert isinstance(bill, dict)
    return Contact(
        external_id=_s(body.get("id")),
        email=(_s(body.get("email")) or _s(bill.get("email"))).lower(),
        name=_name(body.get("first_name"), body.get("last_name"))
        or _name(bill.get("first_name"), bill.get("last_name")),
        phone=_s(bill.get("phone")),
        street=_s(bill.get("address_1")),
        street2=_s(bill.get("address_2")),
        city=_s(bill.get("city")),
        zip=_s(bill.get("postcode")),
        country_code=_s(bill.get("country")).upper(),
        version=_when(
            (_s(body.get("date_modified_gmt")) + "+00:00")
            if body.get("date_modified_gmt")
            else None
        ),
    )


def contact_from_bigcommerce(row: dict[str, Any]) -> Contact:
    addresses = row.get("addresses") if isinstance(row.get("addresses"), list) else []
    assert isinstance(addresses, list)
    addr = addresses[0] if addresses and isinstance(addresses[0], dict) else {}
    return Contact(
        external_id=_s(row.get("id")),
        email=_s(row.get("email")).lower(),
        name=_name(row.get("first_name"), row.get("last_name")),
        phone=_s(row.get("phone")) or _s(addr.get("phone")),
        street=_s(addr.get("address1")),
        street2=_s(addr.get("address2")),
        city=_s(addr.get("city")),
        zip=_s(addr.get("postal_code")),
        country_code=_s(addr.get("country_code")).upper(),
        version=_when(row.get("date_modified")),
    )


def _body(event: Any) -> dict[str, Any]:
    try:
        data = json.loads(bytes(event.body))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PermanentError(f"customer webhook body is not JSON: {exc}", field="body") from exc
    if not isinstance(data, dict):
        raise PermanentError("customer webhook body is not a JSON object", field="body")
    return data


def contact_for_event(channel: Channel, event: Any) -> Contact | None:
    body = _body(event)
    if channel.kind == Channel.Kind.SHOPIFY:
        return contact_from_shopify(body)
    if channel.kind == Channel.Kind.WOOCOMMERCE:
        return contact_from_woocommerce(body)
    if channel.kind == Channel.Kind.BIGCOMMERCE:
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        assert isinstance(data, dict)
        from .channel_io import bigcommerce_customer_read

        row = bigcommerce_customer_read(channel, _s(data.get("id")))
        return contact_from_bigcommerce(row) if row else None
    return None


def customer_event_handle(event: Any) -> dict[str, Any]:
    """Ledger handler for the consumer account topics."""
    channel = Channel.objects.filter(code=event.channel_code).first()
    if channel is None:
        return {"skipped": "unknown channel"}
    if not channel.customers_enabled:
        return {"skipped": "customer sync is off for this channel"}
    contact = contact_for_event(channel, event)
    if contact is None or not contact.external_id:
        return {"skipped": "no customer in the delivery"}
    return contact_apply(channel, contact)


def contact_apply(channel: Channel, contact: Contact) -> dict[str, Any]:
    """Apply one consumer account to Odoo (see the module docstring); what was done."""
    from apps.odoo.gateway import get_gateway

    account = CustomerAccount.objects.filter(
        channel=channel, external_id=contact.external_id
    ).first()
    if (
        account is not None
        and account.source_version is not None
        and contact.version is not None
        and contact.version <= account.source_version
    ):
        return {"skipped": "an equal or newer version was applied", "customer": contact.external_id}
    gateway = get_gateway()
    binding = Binding.objects.filter(
        channel=channel, kind=Binding.Kind.CUSTOMER, external_id=contact.external_id
    ).first()
    partner_id = binding.odoo_id if binding else None
    outcome = ""
    if partner_id is None and contact.email:
        matches = gateway.partners_by_email(emails=[contact.email]).get(contact.email, [])
        owners = sorted({int(m["commercial_partner_id"] or m["id"]) for m in matches})
        if len(owners) > 1:
            raise DataConflict(
                f"Customer {contact.external_id} of {channel.code}: its e-mail is on "
                f"{len(owners)} different Odoo partners ({', '.join(map(str, owners))}); "
                "merge or correct them in Odoo, then Retry",
                key=f"customer-email:{contact.external_id}@{channel.code}",
                customer=contact.email,
                odoo_partner_ids=owners,
            )
        if owners:
            match = next(
                m for m in matches if int(m["commercial_partner_id"] or m["id"]) == owners[0]
            )
            if match.get("is_company") or match.get("parent_id"):
                outcome = "a B2B account in Odoo (Odoo owns it): not updated"
            else:
                partner_id = int(match["id"])
                Binding.objects.get_or_create(
                    channel=channel,
                    kind=Binding.Kind.CUSTOMER,
                    external_id=contact.external_id,
                    defaults={
                        "external_code": contact.email,
                        "odoo_model": "res.partner",
                        "odoo_id": partner_id,
                    },
                )
        elif not outcome:
            outcome = "no Odoo partner yet (the first order creates it)"
    written: list[str] = []
    if partner_id is not None:
        info = gateway.partners_contact_read(partner_ids=[partner_id]).get(partner_id)
        if info is None:
            outcome = f"bound Odoo partner {partner_id} no longer exists"
        elif info.get("is_company") or (
            info.get("commercial_partner_id") and info["commercial_partner_id"] != partner_id
        ):
            outcome = "a B2B account in Odoo (Odoo owns it): not updated"
        else:
            written = gateway.partner_contact_update(
                partner_id=partner_id, contact=contact.values()
            )
            outcome = f"updated {', '.join(written)}" if written else "already up to date"
    CustomerAccount.objects.update_or_create(
        channel=channel,
        external_id=contact.external_id,
        defaults={
            "odoo_partner_id": partner_id,
            "source_version": contact.version
            or (account.source_version if account is not None else None),
            "outcome": outcome[:255],
        },
    )
    return {
        "customer": contact.external_id,
        "partner": partner_id,
        "written": written,
        "outcome": outcome,
    }
