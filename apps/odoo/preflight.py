"""Preflight: is this Odoo set up for the hub? (``manage.py odoo check`` and ``/readyz``)

A new user runs it before the first order. Each item is one line, OK, MISSING (the hub will
fail on it) or WARN (an optional feature is off), and every MISSING or WARN line says how to
fix it:

- **connection**: the server answers and the integration user logs in;
- **modules**: sale_management, sale_stock, stock, account, stock_delivery (``delivery`` on 16:
  carriers and tracking numbers); base_automation (the webhook hints; optional, the polls run
  without it);
- **access**: per model the hub touches, the integration user's rights, asked with
  ``check_access_rights(operation, raise_exception=False)`` (any user may call it;
  ``ir.model.access`` is readable by Administration / Access Rights only, checked on a real 17);
- per channel (what each channel needs comes from the order flow, a higher layer, through
  ``register_needs_provider``: this module imports no domain app):
  - **warehouse**: at least one, and each exists (active) in Odoo;
  - **shipping**: each shipping method mapped to a ``delivery.carrier`` names one that exists,
    each mapped to a product names one that exists, and methods without a mapping (or a channel
    without any) have the fallback product (``HUB_ORDER_SHIPPING_SKU``, "SHIP");
  - **taxes**: every tax rate seen in the channel's orders is mapped, and every mapped tax exists.

The whole check costs about 20 RPCs whatever the number of channels (one per access check, one
per kind of record read).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings

from apps.core.errors import HubError

from .errors import OdooAuthError, OdooConfigurationError
from .gateway import OdooGateway

logger = logging.getLogger(__name__)

OK = "ok"
MISSING = "missing"
WARN = "warn"
_TAGS = {OK: "OK", MISSING: "MISSING", WARN: "WARN"}

SALES_USER = "Sales / User: All Documents"
STOCK_USER = "Inventory / User"
BILLING = "Invoicing / Billing"
INTERNAL = "User types / Internal User"


@dataclass(frozen=True)
class Module:
    name: str
    why: str
    required: bool = True


@dataclass(frozen=True)
class Access:
    model: str
    operations: tuple[str, ...]
    why: str
    group: str
    module: str = ""  # the module that brings the model (checked first)
    required: bool = True
    fix: str = ""  # instead of "give the user <group>"


def modules_needed(tracking_module: str) -> list[Module]:
    return [
        Module("sale_management", "sale orders"),
        Module("sale_stock", "deliveries of sale orders"),
        Module("stock", "stock levels and deliveries"),
        Module("account", "taxes and invoices"),
        Module(tracking_module, "carriers on orders and tracking numbers on deliveries"),
        Module(
            "base_automation",
            "the webhook hints that bring stock changes and shipments at once; without it the "
            "polls still find them, later",
            required=False,
        ),
    ]


def access_needed(tracking_module: str) -> list[Access]:
    """What the hub calls, model by model (docs/odoo.md, "Integration user")."""
    return [
        Access("res.partner", ("read", "create"), "customers and their addresses", SALES_USER),
        Access("res.country", ("read",), "addresses", INTERNAL),
        Access("product.product", ("read",), "products by SKU", STOCK_USER),
        Access("stock.warehouse", ("read",), "warehouses", STOCK_USER),
        Access("stock.quant", ("read",), "stock levels", STOCK_USER),
        Access("stock.move", ("read",), "stock changes, shipped quantities", STOCK_USER),
        Access("stock.picking", ("read", "write"), "shipments, return pickings", STOCK_USER),
        Access("stock.return.picking", ("create",), "returns of a delivery", STOCK_USER),
        Access("sale.order", ("read", "create", "write"), "orders", SALES_USER),
        Access(
            "sale.order.line", ("read", "write"), "order lines, refunds before shipping", SALES_USER
        ),
        Access("account.tax", ("read",), "mapped taxes", BILLING),
        Access("account.move", ("read", "create", "write"), "invoices and credit notes", BILLING),
        Access("account.move.reversal", ("create",), "full credit notes", BILLING),
        Access(
            "delivery.carrier", ("read",), "carriers on orders", INTERNAL, module=tracking_module
        ),
        Access(
            "base.automation",
            ("create",),
            "installing the webhook hints with manage.py odoo install-stock-webhook and "
            "install-shipment-webhook",
            "Administration / Settings",
            module="base_automation",
            required=False,
            fix="run the two installers once with an administrator's ODOO_USER and "
            "ODOO_PASSWORD (the integration user itself needs no Settings rights)",
        ),
    ]


# --- what the channels need (given by a higher layer) -----------------------------------------


@dataclass(frozen=True)
class ShippingNeed:
    """A channel shipping method (as the channel names it) and what it maps to.

    ``carrier_id``: a ``delivery.carrier`` value map; ``product``: an older product map (a
    product id or code); neither: the fallback product. ``mapped_to``: the map's raw value
    when it is not usable (e.g. a carrier map whose value is not an id).
    """

    method: str
    carrier_id: int | None = None
    product: str | None = None
    mapped_to: str = ""


@dataclass(frozen=True)
class ChannelNeeds:
    code: str
    warehouse_ids: tuple[int, ...] = ()
    shipping: tuple[ShippingNeed, ...] = ()
    tax_ids: tuple[int, ...] = ()  # Odoo taxes the channel's tax value maps name
    taxes_unmapped: tuple[str, ...] = ()  # tax rates / titles seen in its orders, not mapped


NeedsProvider = Callable[[], Sequence[ChannelNeeds]]
_PROVIDERS: list[NeedsProvider] = []


def register_needs_provider(provider: NeedsProvider) -> None:
    """The order flow registers what its channels need from Odoo (idempotent)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def collect_needs() -> list[ChannelNeeds]:
    out: list[ChannelNeeds] = []
    for provider in _PROVIDERS:
        out += provider()
    return out


# --- the report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    status: str  # ok | missing | warn
    area: str  # connection | module | access | warehouse | shipping | tax
    subject: str
    message: str
    fix: str = ""

    def line(self) -> str:
        text = f"{_TAGS[self.status]:<8} {self.area:<10} {self.subject}: {self.message}"
        return f"{text}. Fix: {self.fix}" if self.fix else text


@dataclass
class PreflightReport:
    findings: list[Finding] = field(default_factory=list)

    def add(self, status: str, area: str, subject: str, message: str, fix: str = "") -> None:
        self.findings.append(Finding(status, area, subject, message, fix))

    @property
    def missing(self) -> list[Finding]:
        return [f for f in self.findings if f.status == MISSING]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.status == WARN]

    def summary(self) -> dict[str, Any]:
        return {
            "missing": len(self.missing),
            "warnings": len(self.warnings),
            "checked": len(self.findings),
            "missing_items": [f"{f.area} {f.subject}" for f in self.missing][:20],
        }

    def as_dicts(self) -> list[dict[str, str]]:
        return [asdict(f) for f in self.findings]


def run_preflight(
    gateway: OdooGateway,
    *,
    needs: Sequence[ChannelNeeds] | None = None,
    shipping_sku: str | None = None,
) -> PreflightReport:
    """Every check, in order; a failure to reach or log in to Odoo stops after that line."""
    report = PreflightReport()
    client = gateway.client
    cfg = client.config
    try:
        version = client.probe()
        uid = client.uid()
    except HubError as exc:
        report.add(
            MISSING,
            "connection",
            f"{cfg.url} db {cfg.db}",
            f"{type(exc).__name__}: {exc}",
            "check ODOO_URL, ODOO_DB, ODOO_USER and ODOO_PASSWORD (an API key of the "
            "integration user)",
        )
        return report
    report.add(
        OK,
        "connection",
        f"{cfg.url} db {cfg.db}",
        f"Odoo {version.get('server_version')}, user {cfg.user} (uid {uid})",
    )
    tracking_module = client.adapter.tracking_module
    installed = _modules(gateway, report, modules_needed(tracking_module))
    _access(gateway, report, access_needed(tracking_module), installed)
    sku = shipping_sku or str(getattr(settings, "HUB_ORDER_SHIPPING_SKU", "SHIP") or "SHIP")
    channels = list(collect_needs() if needs is None else needs)
    if not channels:
        report.add(WARN, "channels", "none", "no channel is set up yet, nothing to check")
        return report
    _warehouses(gateway, report, channels)
    carriers = installed is None or tracking_module in installed
    _shipping(gateway, report, channels, sku, carriers_available=carriers)
    _taxes(gateway, report, channels)
    return report


# --- the checks -------------------------------------------------------------------------------


def _could_not(report: PreflightReport, area: str, exc: HubError) -> None:
    text = " ".join(str(exc).split())
    report.add(
        MISSING,
        area,
        "check",
        f"could not be checked: {type(exc).__name__}: {text[:300]}",
        "give the integration user the rights in the access lines",
    )


def _modules(
    gateway: OdooGateway, report: PreflightReport, wanted: list[Module]
) -> set[str] | None:
    """The installed modules among ``wanted`` (None when the list cannot be read)."""
    try:
        rows = gateway.client.call(
            "ir.module.module",
            "search_read",
            [[["name", "in", [m.name for m in wanted]]]],
            {"fields": ["name", "state", "shortdesc"]},
        )
    except HubError as exc:
        _could_not(report, "module", exc)
        return None
    state = {r["name"]: r for r in rows}
    installed: set[str] = set()
    for m in wanted:
        row = state.get(m.name)
        if row and row.get("state") in ("installed", "to upgrade"):
            installed.add(m.name)
            report.add(OK, "module", m.name, f"installed ({m.why})")
            continue
        title = (row or {}).get("shortdesc") or m.name
        report.add(
            MISSING if m.required else WARN,
            "module",
            m.name,
            f"not installed (needed for {m.why})",
            f"install '{title}' ({m.name}) in Odoo: Apps, remove the 'Apps' filter, search "
            f"{m.name}, Activate",
        )
    return installed


def _access(
    gateway: OdooGateway, report: PreflightReport, wanted: list[Access], installed: set[str] | None
) -> None:
    user = gateway.client.config.user
    for a in wanted:
        if a.module and installed is not None and a.module not in installed:
            report.add(
                MISSING if a.required else WARN,
                "access",
                a.model,
                f"not checked: the module {a.module} is not installed",
                f"install {a.module} first",
            )
            continue
        denied: list[str] = []
        try:
            for op in a.operations:
                ok = gateway.client.call(
                    a.model, "check_access_rights", [op], {"raise_exception": False}
                )
                if not ok:
                    denied.append(op)
        except OdooConfigurationError as exc:
            if isinstance(exc, OdooAuthError) or "doesn't exist" not in str(exc):
                _could_not(report, "access", exc)
                return
            report.add(
                MISSING if a.required else WARN,
                "access",
                a.model,
                f"Odoo has no such model ({exc})",
                "install the module that brings it (see the module lines)",
            )
            continue
        except HubError as exc:
            _could_not(report, "access", exc)
            return
        if not denied:
            report.add(OK, "access", a.model, f"{', '.join(a.operations)} ({a.why})")
            continue
        report.add(
            MISSING if a.required else WARN,
            "access",
            a.model,
            f"user {user} may not {', '.join(denied)} (needed for {a.why})",
            a.fix or f"give the user {a.group} (Settings, Users & Companies, Users)",
        )


def _warehouses(
    gateway: OdooGateway, report: PreflightReport, channels: list[ChannelNeeds]
) -> None:
    ids = sorted({w for c in channels for w in c.warehouse_ids})
    found: dict[int, dict[str, Any]] = {}
    if ids:
        try:
            rows = gateway.client.call(
                "stock.warehouse",
                "search_read",
                [[["id", "in", ids]]],
                {"fields": ["name", "code", "active"], "context": {"active_test": False}},
            )
        except HubError as exc:
            _could_not(report, "warehouse", exc)
            return
        found = {int(r["id"]): r for r in rows}
    for c in channels:
        if not c.warehouse_ids:
            report.add(
                MISSING,
                "warehouse",
                f"channel {c.code}",
                "no Odoo warehouse is set (orders would go to Odoo's default one, and stock "
                "would be counted over every warehouse)",
                f"add a warehouse to channel {c.code} (admin: Channels, {c.code}, Warehouses) "
                "with the id of an Odoo warehouse (Inventory, Configuration, Warehouses)",
            )
            continue
        for wid in c.warehouse_ids:
            row = found.get(wid)
            if row is None:
                report.add(
                    MISSING,
                    "warehouse",
                    f"channel {c.code}",
                    f"Odoo has no warehouse with id {wid}",
                    f"fix the warehouse of channel {c.code} (admin: Channels, {c.code}, "
                    "Warehouses) or create the warehouse in Odoo",
                )
            elif not row.get("active"):
                report.add(
                    MISSING,
                    "warehouse",
                    f"channel {c.code}",
                    f"warehouse {row['code']} '{row['name']}' (id {wid}) is archived in Odoo",
                    "unarchive it in Odoo, or set another warehouse on the channel",
                )
            else:
                report.add(
                    OK,
                    "warehouse",
                    f"channel {c.code}",
                    f"{row['code']} '{row['name']}' (id {wid})",
                )


def shipping_fix(channel: str, method: str, sku: str) -> str:
    """How to make a shipping method of a channel work (shared with the inbox suggestion)."""
    what = (
        f"the shipping method '{method}' of channel {channel}"
        if method
        else (f"the shipping methods of channel {channel}")
    )
    return (
        f"map {what} to a delivery.carrier (Mappings, value maps, kind carrier, Odoo model "
        f"delivery.carrier, Odoo value = the carrier id) or create a product with code {sku} "
        "(HUB_ORDER_SHIPPING_SKU)"
    )


def _shipping(
    gateway: OdooGateway,
    report: PreflightReport,
    channels: list[ChannelNeeds],
    sku: str,
    *,
    carriers_available: bool,
) -> None:
    carrier_ids = sorted({s.carrier_id for c in channels for s in c.shipping if s.carrier_id})
    product_ids = sorted(
        {int(s.product) for c in channels for s in c.shipping if s.product and s.product.isdigit()}
    )
    codes = sorted(
        {s.product for c in channels for s in c.shipping if s.product and not s.product.isdigit()}
        | {sku}
    )
    carriers: dict[int, dict[str, Any]] = {}
    try:
        if carrier_ids and carriers_available:
            carriers = gateway.carriers_read(carrier_ids=carrier_ids)
        domain: list[Any] = [["default_code", "in", codes]]
        if product_ids:
            domain = ["|", ["id", "in", product_ids], *domain]
        rows = gateway.client.call(
            "product.product", "search_read", [domain], {"fields": ["default_code"]}
        )
    except HubError as exc:
        _could_not(report, "shipping", exc)
        return
    by_id = {int(r["id"]) for r in rows}
    by_code = {r["default_code"] for r in rows if r.get("default_code")}
    fallback = sku in by_code
    for c in channels:
        needs_fallback: list[str] = []
        for s in c.shipping:
            subject = f"channel {c.code} '{s.method}'"
            if s.carrier_id:
                carrier = carriers.get(s.carrier_id)
                if not carriers_available:
                    report.add(
                        MISSING,
                        "shipping",
                        subject,
                        f"mapped to delivery.carrier {s.carrier_id}, but Odoo has no carriers",
                        "install stock_delivery, or map the method to a product instead",
                    )
                elif carrier is None or not carrier["active"]:
                    state = "is archived" if carrier else "does not exist"
                    report.add(
                        MISSING,
                        "shipping",
                        subject,
                        f"mapped to delivery.carrier {s.carrier_id}, which {state} in Odoo",
                        "fix the value map (Mappings, value maps, kind carrier) or restore the "
                        "carrier in Odoo (Inventory, Configuration, Shipping Methods)",
                    )
                else:
                    report.add(
                        OK,
                        "shipping",
                        subject,
                        f"carrier '{carrier['name']}' (id {s.carrier_id}), its product on the "
                        "shipping line",
                    )
            elif s.product:
                present = (int(s.product) in by_id) if s.product.isdigit() else s.product in by_code
                if present:
                    report.add(OK, "shipping", subject, f"product {s.product} (no carrier)")
                else:
                    report.add(
                        MISSING,
                        "shipping",
                        subject,
                        f"mapped to product {s.product}, which Odoo does not have",
                        shipping_fix(c.code, s.method, sku),
                    )
            elif s.mapped_to:
                report.add(
                    MISSING,
                    "shipping",
                    subject,
                    f"mapped to {s.mapped_to!r}, which is not a delivery.carrier id",
                    "set the map's Odoo value to the carrier id (Inventory, Configuration, "
                    "Shipping Methods)",
                )
            else:
                needs_fallback.append(s.method)
        if needs_fallback or not c.shipping:
            seen = ", ".join(f"'{m}'" for m in needs_fallback) or "none mapped yet"
            if fallback:
                report.add(
                    OK,
                    "shipping",
                    f"channel {c.code}",
                    f"fallback product {sku} for unmapped shipping methods ({seen})",
                )
            else:
                method = needs_fallback[0] if len(needs_fallback) == 1 else ""
                report.add(
                    MISSING,
                    "shipping",
                    f"channel {c.code}",
                    f"Odoo has no product with code {sku} for unmapped shipping methods ({seen})",
                    shipping_fix(c.code, method, sku),
                )


def _taxes(gateway: OdooGateway, report: PreflightReport, channels: list[ChannelNeeds]) -> None:
    ids = sorted({t for c in channels for t in c.tax_ids})
    found: dict[int, dict[str, Any]] = {}
    if ids:
        try:
            rows = gateway.client.call(
                "account.tax", "read", [ids, ["name", "active", "type_tax_use"]]
            )
        except HubError as exc:
            _could_not(report, "tax", exc)
            return
        found = {int(r["id"]): r for r in rows}
    for c in channels:
        for tid in c.tax_ids:
            row = found.get(tid)
            if row is None or not row.get("active"):
                report.add(
                    MISSING,
                    "tax",
                    f"channel {c.code}",
                    f"a tax value map names account.tax {tid}, which "
                    + ("is archived" if row else "does not exist")
                    + " in Odoo",
                    "fix the value map (Mappings, value maps, kind tax, Odoo value = the tax id)",
                )
        unmapped = ", ".join(c.taxes_unmapped)
        fix = (
            f"map each to an Odoo tax (Mappings, value maps, kind tax, channel {c.code}, channel "
            "value = the rate such as 0.2 or the tax title, Odoo model account.tax, Odoo value "
            "= the tax id)"
        )
        if c.taxes_unmapped and c.tax_ids:
            report.add(
                MISSING,
                "tax",
                f"channel {c.code}",
                f"taxes seen in its orders are not mapped: {unmapped} (those orders fail)",
                fix,
            )
        elif c.taxes_unmapped:
            report.add(
                WARN,
                "tax",
                f"channel {c.code}",
                f"no tax is mapped: Odoo applies each product's own taxes; seen in its orders: "
                f"{unmapped}",
                fix,
            )
        elif c.tax_ids:
            report.add(OK, "tax", f"channel {c.code}", "every tax seen in its orders is mapped")
        else:
            report.add(OK, "tax", f"channel {c.code}", "no taxes seen in its orders")
