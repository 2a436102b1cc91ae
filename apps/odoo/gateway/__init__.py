"""Batched Odoo operations on plain data and Odoo ids: the only API the rest of the hub uses.

Rules every method keeps (they are what makes Odoo survive a busy day):

- every read names its fields; ids and lookup values go in chunks of at most ``CHUNK`` per call;
- many records are created with ONE ``create`` of a list of dicts, and confirmed with ONE
  ``action_confirm`` on the id list;
- creates are check-before-create on a deterministic reference (``SALE_ORDER_REF_FIELD``), so a
  crash or a lost response between Odoo's commit and our bookkeeping never makes a second record;
- version differences come from ``client.adapter`` (versions.py), never from ``if major == ...``
  scattered here.

Errors are the classified ones from apps.odoo.errors. Reads are retried inside the client;
writes are not (see client.IDEMPOTENT_METHODS) and reach the task layer as TransientError.

The methods live in one mixin per business area, each module naming the Odoo models and methods
it calls: partners.py, catalog.py (products and stock), sales.py (and carriers), pickings.py,
returns.py, accounting.py (invoices and payments), settlement.py and invoicing.py (the finance
flow: invoices under the hub's ref, payments, payout settlement), automation.py (the webhook
rules behind the hints). base.py holds the shared helpers, constants and result types, and
``GatewayBase`` (the client). ``OdooGateway`` puts the areas together; import everything from
this package, never from its modules. ``get_accounting_gateway`` is the one for the bank side
of the finance flow (a user in the accounting group).
"""

from __future__ import annotations

import dataclasses

from django.conf import settings

from ..client import OdooConfig, get_client
from .accounting import MOVE_FIELDS, AccountingGateway, money
from .automation import AutomationGateway
from .base import (
    ADDRESS_KEYS,
    CHUNK,
    EMAIL_CHUNK,
    PARTNER_FIELDS,
    SALE_ORDER_REF_FIELD,
    GatewayBase,
    PartnerIds,
    PartnerLookup,
    PickingPage,
    ProductLookup,
    StockChanges,
    StockLevel,
    ValidateResult,
    chunked,
    falsy_none,
    m2o_id,
)
from .catalog import CatalogGateway
from .customers import CustomersGateway
from .lookup import LookupGateway
from .migration import MigrationGateway
from .partners import PartnersGateway
from .pickings import (
    SHIPMENT_WEBHOOK_DOMAIN,
    SHIPMENT_WEBHOOK_FIELDS,
    SHIPMENT_WEBHOOK_TRIGGERS,
    SHIPPING_TYPE_CODES,
    PickingsGateway,
)
from .pricing import PricingGateway
from .publishing import PublishingGateway
from .returns import ReturnsGateway
from .sales import SalesGateway
from .settlement import SettlementGateway

__all__ = [
    "ADDRESS_KEYS",
    "CHUNK",
    "EMAIL_CHUNK",
    "MOVE_FIELDS",
    "PARTNER_FIELDS",
    "SALE_ORDER_REF_FIELD",
    "SHIPMENT_WEBHOOK_DOMAIN",
    "SHIPMENT_WEBHOOK_FIELDS",
    "SHIPMENT_WEBHOOK_TRIGGERS",
    "SHIPPING_TYPE_CODES",
    "AccountingGateway",
    "AutomationGateway",
    "CatalogGateway",
    "CustomersGateway",
    "GatewayBase",
    "LookupGateway",
    "MigrationGateway",
    "OdooGateway",
    "PartnerIds",
    "PartnerLookup",
    "PartnersGateway",
    "PickingPage",
    "PickingsGateway",
    "PricingGateway",
    "ProductLookup",
    "PublishingGateway",
    "ReturnsGateway",
    "SalesGateway",
    "SettlementGateway",
    "StockChanges",
    "StockLevel",
    "ValidateResult",
    "chunked",
    "falsy_none",
    "get_accounting_gateway",
    "get_gateway",
    "m2o_id",
    "money",
]


class OdooGateway(
    PartnersGateway,
    CatalogGateway,
    SalesGateway,
    ReturnsGateway,
    PickingsGateway,
    AccountingGateway,
    SettlementGateway,
    MigrationGateway,
    PublishingGateway,
    CustomersGateway,
    PricingGateway,
    LookupGateway,
    GatewayBase,
):
    """Keyword-only, batched operations against one Odoo database."""


def get_gateway() -> OdooGateway:
    """A gateway on the process-wide client configured by settings."""
    return OdooGateway(get_client())


def get_accounting_gateway() -> OdooGateway:
    """A gateway for the finance flow's bank side (statement lines, matching them): on
    ODOO_ACCOUNTING_USER / ODOO_ACCOUNTING_PASSWORD (/ ODOO_ACCOUNTING_API_KEY) when set, a user in
    ``account.group_account_user`` that the integration user should not be; else the main one."""
    user = getattr(settings, "ODOO_ACCOUNTING_USER", "")
    if not user:
        return get_gateway()
    base = OdooConfig.from_settings()
    key = str(getattr(settings, "ODOO_ACCOUNTING_API_KEY", "") or "")
    config = dataclasses.replace(
        base,
        user=user,
        password=getattr(settings, "ODOO_ACCOUNTING_PASSWORD", ""),
        # Its own API key (JSON-2 on 19+, or the password over JSON-RPC); the main user's key
        # is never used for another login. Without one it speaks JSON-RPC with its password,
        # even where ODOO_TRANSPORT forces JSON-2 for the integration user.
        api_key=key,
        api_key_user=user,
        transport=base.transport if key or base.transport != "json2" else "jsonrpc",
    )
    return OdooGateway(get_client(config))
