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
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from .client import OdooClient, get_client
from .errors import OdooConfigurationError, OdooPermanentError

logger = logging.getLogger(__name__)

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


class OdooGateway:
    """Keyword-only, batched operations against one Odoo database."""

    def __init__(self, client: OdooClient | None = None) -> None:
        self.client = client or get_client()
        self._countries: dict[str, int] = {}

    # --- partners ------------------------------------------------------------------------------
    def partners_find(
        self, *, refs: Sequence[str] = (), emails: Sequence[str] = ()
    ) -> PartnerLookup:
        """Partners matching any ref or email, in one call for ordinary batch sizes.

        Several partners may share an email (a company and its contacts): the top-level
        (commercial) partner wins, then the lowest id, so the answer is stable.
        """
        refs_u = _unique(r for r in refs if r)
        emails_u = _unique(e.strip().lower() for e in emails if e and e.strip())
        lookup = PartnerLookup()
        ref_chunks = list(chunked(refs_u)) or [[]]
        email_chunks = list(chunked(emails_u, EMAIL_CHUNK)) or [[]]
        for i in range(max(len(ref_chunks), len(email_chunks))):
            leaves: list[list[Any]] = []
            if i < len(ref_chunks) and ref_chunks[i]:
                leaves.append(["ref", "in", ref_chunks[i]])
            if i < len(email_chunks):
                leaves += [["email", "=ilike", e] for e in email_chunks[i]]
            if not leaves:
                continue
            domain: list[Any] = ["|"] * (len(leaves) - 1) + leaves
            lookup.records += self.client.call(
                "res.partner", "search_read", [domain], {"fields": PARTNER_FIELDS, "order": "id"}
            )
        ref_set, email_set = set(refs_u), set(emails_u)
        # Sorted so that parents (no parent_id) come first, then by id: the first match wins.
        for rec in sorted(lookup.records, key=lambda r: (bool(r.get("parent_id")), r["id"])):
            ref = falsy_none(rec.get("ref"))
            if ref in ref_set:
                lookup.by_ref.setdefault(ref, rec["id"])
            email = (falsy_none(rec.get("email")) or "").strip().lower()
            if email in email_set:
                lookup.by_email.setdefault(email, rec["id"])
        return lookup

    def _country_ids(self, codes: Iterable[str]) -> dict[str, int]:
        missing = sorted({c.upper() for c in codes if c} - set(self._countries))
        if missing:
            rows = self.client.call(
                "res.country", "search_read", [[["code", "in", missing]]], {"fields": ["code"]}
            )
            self._countries.update({r["code"].upper(): r["id"] for r in rows})
        return self._countries

    def _address_vals(
        self, data: Mapping[str, Any], countries: Mapping[str, int]
    ) -> dict[str, Any]:
        vals = {k: data[k] for k in ADDRESS_KEYS if data.get(k) not in (None, "")}
        code = data.get("country_code")
        if code and "country_id" not in vals:
            if code.upper() not in countries:
                raise OdooPermanentError(f"Unknown country code {code!r}", country_code=code)
            vals["country_id"] = countries[code.upper()]
        return vals

    def partner_create(self, *, partner: Mapping[str, Any]) -> PartnerIds:
        """Create a company or person with its delivery and invoice addresses in ONE create.

        ``partner``: name, is_company, ref, email, phone, street..., country_code, and optional
        ``delivery`` / ``invoice`` address dicts (same keys, plus ``name``). Without one, the
        partner itself is that address (as Odoo's address_get would answer).
        """
        if not partner.get("name"):
            raise OdooPermanentError("A partner needs a name", ref=partner.get("ref"))
        codes = [partner.get("country_code")] + [
            (partner.get(kind) or {}).get("country_code") for kind in ("delivery", "invoice")
        ]
        countries = self._country_ids(c for c in codes if c)
        vals: dict[str, Any] = {
            "name": partner["name"],
            "is_company": bool(partner.get("is_company")),
            **self._address_vals(partner, countries),
        }
        if partner.get("ref"):
            vals["ref"] = partner["ref"]
        children = []
        for kind in ("delivery", "invoice"):
            child = partner.get(kind)
            if child:
                children.append(
                    [
                        0,
                        0,
                        {
                            "type": kind,
                            "name": child.get("name") or partner["name"],
                            **self._address_vals(child, countries),
                        },
                    ]
                )
        if children:
            vals["child_ids"] = children
        partner_id = int(self.client.call("res.partner", "create", [vals]))
        ids = {"delivery": partner_id, "invoice": partner_id}
        if children:
            rows = self.client.call(
                "res.partner",
                "search_read",
                [[["parent_id", "=", partner_id], ["type", "in", ["delivery", "invoice"]]]],
                {"fields": ["type"], "order": "id"},
            )
            for row in rows:  # the first child of each type, as address_get would pick
                if ids[row["type"]] == partner_id:
                    ids[row["type"]] = row["id"]
        return PartnerIds(id=partner_id, delivery_id=ids["delivery"], invoice_id=ids["invoice"])

    def partner_ensure(self, *, partner: Mapping[str, Any]) -> PartnerIds:
        """Find by ``ref`` (deterministic, set by the hub) or create; safe to run twice."""
        ref = partner.get("ref")
        if not ref:
            raise OdooPermanentError("partner_ensure needs a ref", name=partner.get("name"))
        found = self.partners_find(refs=[ref])
        if ref in found.by_ref:
            pid = found.by_ref[ref]
            addr = self.client.call("res.partner", "address_get", [[pid], ["delivery", "invoice"]])
            return PartnerIds(id=pid, delivery_id=addr["delivery"], invoice_id=addr["invoice"])
        return self.partner_create(partner=partner)

    # --- products ------------------------------------------------------------------------------
    def products_ids(self, *, skus: Sequence[str], by: str = "default_code") -> ProductLookup:
        """sku -> product.product id for many SKUs; one call per 1,000 SKUs.

        ``by``: "default_code", "barcode" or "either" (default_code wins over barcode).
        """
        if by not in ("default_code", "barcode", "either"):
            raise ValueError(f"unknown lookup field {by!r}")
        wanted = _unique(s for s in skus if s)
        ids: dict[str, int] = {}
        for part in chunked(wanted):
            if by == "either":
                domain: list[Any] = ["|", ["default_code", "in", part], ["barcode", "in", part]]
            else:
                domain = [[by, "in", part]]
            rows = self.client.call(
                "product.product",
                "search_read",
                [domain],
                {"fields": ["default_code", "barcode"], "order": "id"},
            )
            by_barcode: dict[str, int] = {}
            for row in rows:
                code, barcode = falsy_none(row.get("default_code")), falsy_none(row.get("barcode"))
                if by in ("default_code", "either") and code in part:
                    ids.setdefault(code, row["id"])
                if by in ("barcode", "either") and barcode in part:
                    by_barcode.setdefault(barcode, row["id"])
            for sku, pid in by_barcode.items():
                ids.setdefault(sku, pid)
        return ProductLookup(ids=ids, unknown=[s for s in wanted if s not in ids])

    def products_create(self, *, products: Sequence[Mapping[str, Any]]) -> list[int]:
        """Create products in one call per chunk. Keys: sku, name, list_price, standard_price,
        barcode, invoice_policy, storable (default True)."""
        ids: list[int] = []
        for part in chunked(list(products)):
            vals_list = []
            for p in part:
                vals: dict[str, Any] = {"name": p["name"], "default_code": p["sku"]}
                if p.get("storable", True):
                    vals.update(self.client.adapter.product_storable_vals())
                for key in ("list_price", "standard_price", "barcode", "invoice_policy"):
                    if p.get(key) is not None:
                        vals[key] = _num(p[key])
                vals_list.append(vals)
            ids += [int(i) for i in self.client.call("product.product", "create", [vals_list])]
        return ids

    def products_ensure(self, *, products: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        """sku -> id, creating only the SKUs Odoo does not have (check-before-create)."""
        found = self.products_ids(skus=[p["sku"] for p in products])
        missing = [p for p in products if p["sku"] in set(found.unknown)]
        missing = list({p["sku"]: p for p in missing}.values())
        if missing:
            created = self.products_create(products=missing)
            found.ids.update(zip((p["sku"] for p in missing), created, strict=True))
        return found.ids

    # --- stock ---------------------------------------------------------------------------------
    def stock_levels(
        self, *, product_ids: Sequence[int], warehouse_ids: Sequence[int]
    ) -> dict[int, dict[int, StockLevel]]:
        """warehouse id -> product id -> quantities; one read per warehouse per 1,000 products.

        The quantity fields are computed per the ``warehouse`` context (transcript 03).
        """
        out: dict[int, dict[int, StockLevel]] = {}
        pids = _unique(product_ids)
        for wh in _unique(warehouse_ids):
            levels = out.setdefault(wh, {})
            for part in chunked(pids):
                rows = self.client.call(
                    "product.product",
                    "read",
                    [part, ["qty_available", "free_qty", "virtual_available"]],
                    context={"warehouse": wh},
                )
                for row in rows:
                    levels[row["id"]] = StockLevel(
                        qty_available=float(row["qty_available"] or 0),
                        free_qty=float(row["free_qty"] or 0),
                        virtual_available=float(row["virtual_available"] or 0),
                    )
        return out

    def stock_quants(
        self, *, product_ids: Sequence[int], location_ids: Sequence[int] | None = None
    ) -> list[dict[str, Any]]:
        """Quants in internal locations (optionally under ``location_ids``), by location."""
        fields = ["product_id", "location_id", "quantity", "reserved_quantity"]
        out: list[dict[str, Any]] = []
        for part in chunked(_unique(product_ids)):
            domain: list[Any] = [["product_id", "in", part], ["location_id.usage", "=", "internal"]]
            if location_ids:
                domain.append(["location_id", "child_of", list(location_ids)])
            rows = self.client.call(
                "stock.quant", "search_read", [domain], {"fields": fields, "order": "id"}
            )
            for r in rows:
                qty, reserved = float(r["quantity"] or 0), float(r["reserved_quantity"] or 0)
                out.append(
                    {
                        "id": r["id"],
                        "product_id": m2o_id(r["product_id"]),
                        "location_id": m2o_id(r["location_id"]),
                        "quantity": qty,
                        "reserved_quantity": reserved,
                        "available_quantity": qty - reserved,
                    }
                )
        return out

    def warehouses_ids(self) -> list[int]:
        """Every active warehouse (ATP of a channel that names none sums over all of them)."""
        return [int(i) for i in self.client.call("stock.warehouse", "search", [[]])]

    def stock_changed_since(self, *, since: str, limit: int = 20000) -> StockChanges:
        """Products whose quants, or done moves, were written at or after ``since``.

        Two calls whatever the number of changes (quants, then done moves), each reading only
        ``product_id`` and ``write_date``. ``since`` is an Odoo datetime second
        ("YYYY-MM-DD HH:MM:SS"); callers pass their watermark minus an overlap and deduplicate,
        because Odoo stamps write_date when a transaction starts, so a row can become visible
        after newer ones. A full page returns ``more=True`` and a watermark of its last second,
        so the next call continues from there.
        """
        product_ids: set[int] = set()
        newest = since
        more = False
        for model, domain in (
            ("stock.quant", [["write_date", ">=", since]]),
            ("stock.move", [["state", "=", "done"], ["write_date", ">=", since]]),
        ):
            rows = self.client.call(
                model,
                "search_read",
                [domain],
                {
                    "fields": ["product_id", "write_date"],
                    "order": "write_date asc, id asc",
                    "limit": limit,
                },
            )
            for row in rows:
                pid = m2o_id(row.get("product_id"))
                if pid:
                    product_ids.add(pid)
            if rows:
                newest = max(newest, _second(rows[-1]["write_date"]))
            more = more or len(rows) >= limit
        return StockChanges(product_ids=sorted(product_ids), watermark=newest, more=more)

    def stock_webhook_ensure(
        self,
        *,
        name: str,
        url: str,
        model: str = "stock.quant",
        trigger_fields: Sequence[str] = ("quantity", "reserved_quantity"),
        sent_fields: Sequence[str] = ("quantity", "reserved_quantity", "product_id", "location_id"),
    ) -> tuple[int, bool]:
        """Install (or find) a base.automation rule that POSTs changed records to ``url``.

        The payload follows transcript 12 (Odoo 17 "Send Webhook Notification" server action).
        Idempotent: a rule with the same name is reused, and its action's URL is updated when it
        differs. Returns (automation id, created).
        """
        model_ids = self.client.call("ir.model", "search", [[["model", "=", model]]])
        if not model_ids:
            raise OdooConfigurationError(f"Odoo has no model {model} (is Inventory installed?)")
        model_id = int(model_ids[0])
        wanted = _unique([*trigger_fields, *sent_fields])
        rows = self.client.call(
            "ir.model.fields",
            "search_read",
            [[["model", "=", model], ["name", "in", wanted]]],
            {"fields": ["name"]},
        )
        field_ids = {r["name"]: int(r["id"]) for r in rows}
        missing = [f for f in wanted if f not in field_ids]
        if missing:
            raise OdooConfigurationError(f"{model} lacks fields {', '.join(missing)}")
        found = self.client.call(
            "base.automation",
            "search_read",
            [[["name", "=", name], ["model_id", "=", model_id]]],
            {"fields": ["action_server_ids"], "context": {"active_test": False}},
        )
        if found:
            rule = found[0]
            action_ids = [int(a) for a in rule.get("action_server_ids") or []]
            if action_ids:
                actions = self.client.call(
                    "ir.actions.server", "read", [action_ids, ["webhook_url"]]
                )
                stale = [a["id"] for a in actions if a.get("webhook_url") != url]
                if stale:
                    self.client.call("ir.actions.server", "write", [stale, {"webhook_url": url}])
            self.client.call("base.automation", "write", [[rule["id"]], {"active": True}])
            return int(rule["id"]), False
        rule_id = self.client.call(
            "base.automation",
            "create",
            [
                {
                    "name": name,
                    "model_id": model_id,
                    "trigger": "on_create_or_write",
                    "trigger_field_ids": [[6, 0, [field_ids[f] for f in trigger_fields]]],
                    "action_server_ids": [
                        [
                            0,
                            0,
                            {
                                "name": f"{name}: POST to the hub",
                                "model_id": model_id,
                                "state": "webhook",
                                "webhook_url": url,
                                "webhook_field_ids": [[6, 0, [field_ids[f] for f in sent_fields]]],
                            },
                        ]
                    ],
                }
            ],
        )
        return int(rule_id), True

    # --- sale orders ---------------------------------------------------------------------------
    def sale_orders_find(self, *, refs: Sequence[str]) -> dict[str, dict[str, Any]]:
        """ref -> {id, state, name} for orders carrying our deterministic reference.

        Two orders with the same reference (someone duplicated one by hand) resolve to the
        oldest, with a warning, so the answer does not change between calls.
        """
        found: dict[str, dict[str, Any]] = {}
        for part in chunked(_unique(r for r in refs if r)):
            rows = self.client.call(
                "sale.order",
                "search_read",
                [[[SALE_ORDER_REF_FIELD, "in", part]]],
                {"fields": [SALE_ORDER_REF_FIELD, "state", "name"], "order": "id"},
            )
            for row in rows:
                ref = row[SALE_ORDER_REF_FIELD]
                if ref in found:
                    logger.warning(
                        "Two Odoo sale orders carry reference %s; using %s", ref, found[ref]["id"]
                    )
                    continue
                found[ref] = {"id": row["id"], "state": row["state"], "name": row["name"]}
        return found

    @staticmethod
    def _sale_order_vals(order: Mapping[str, Any]) -> dict[str, Any]:
        vals: dict[str, Any] = {
            SALE_ORDER_REF_FIELD: order["ref"],
            "partner_id": order["partner_id"],
        }
        for key in (
            "partner_shipping_id",
            "partner_invoice_id",
            "warehouse_id",
            "pricelist_id",
            "client_order_ref",
            "date_order",
            "note",
            "carrier_id",
            "commitment_date",
        ):
            if order.get(key) not in (None, ""):
                vals[key] = order[key]
        lines = []
        for line in order.get("lines", ()):
            lv: dict[str, Any] = {
                "product_id": line["product_id"],
                "product_uom_qty": _num(line["qty"]),
            }
            for key in ("price_unit", "discount", "name"):
                if line.get(key) is not None:
                    lv[key] = _num(line[key])
            # Taxes as x2many commands ([[6, 0, ids]]), mapped by the caller; absent means
            # Odoo applies the product's own taxes.
            if line.get("tax_id") is not None:
                lv["tax_id"] = line["tax_id"]
            lines.append([0, 0, lv])
        vals["order_line"] = lines
        return vals

    def sale_orders_create(self, *, orders: Sequence[Mapping[str, Any]]) -> list[int]:
        """Create orders with all their lines in ONE call (per chunk); ids in input order.

        Prefer ``sale_orders_ensure``: this one creates blindly.
        """
        ids: list[int] = []
        for part in chunked(list(orders)):
            vals_list = [self._sale_order_vals(o) for o in part]
            ids += [int(i) for i in self.client.call("sale.order", "create", [vals_list])]
        return ids

    def sale_orders_ensure(
        self, *, orders: Sequence[Mapping[str, Any]], confirm: bool = False
    ) -> dict[str, int]:
        """ref -> Odoo id for every order, creating only the missing ones.

        One search for all references, one create for the missing orders, and with ``confirm``
        one ``action_confirm`` for those still in draft. Running it again after any failure
        (even a create whose response was lost after Odoo committed) finds the committed orders
        and creates nothing twice; a confirm that was lost is completed, not repeated.

        ``orders``: dicts with ``ref`` (the deterministic reference, e.g. "shop-1:1001"),
        ``partner_id``, optional ``partner_shipping_id``, ``partner_invoice_id``,
        ``warehouse_id``, ``pricelist_id``, ``client_order_ref``, ``date_order``, ``note``, and
        ``lines`` of {product_id, qty, price_unit?, discount?, name?}.
        """
        refs = [o["ref"] for o in orders]
        if len(set(refs)) != len(refs) or not all(refs):
            raise ValueError("every order needs a distinct, non-empty ref")
        existing = self.sale_orders_find(refs=refs)
        missing = [o for o in orders if o["ref"] not in existing]
        result = {ref: info["id"] for ref, info in existing.items()}
        drafts = ("draft", "sent")
        to_confirm = [info["id"] for info in existing.values() if info["state"] in drafts]
        if missing:
            created = self.sale_orders_create(orders=missing)
            result.update(zip((o["ref"] for o in missing), created, strict=True))
            to_confirm += created
        if confirm and to_confirm:
            self.sale_orders_confirm(order_ids=to_confirm)
        return {o["ref"]: result[o["ref"]] for o in orders}

    def sale_orders_confirm(self, *, order_ids: Sequence[int]) -> None:
        """``action_confirm`` on many draft orders in ONE call (per chunk).

        Odoo refuses the whole call if one order is not a quotation; callers that cannot be
        sure use ``sale_orders_ensure(confirm=True)``, which confirms only drafts.
        """
        for part in chunked(_unique(order_ids)):
            self.client.call("sale.order", "action_confirm", [part])

    def sale_orders_cancel(self, *, order_ids: Sequence[int], use_wizard: bool = False) -> None:
        """Cancel orders. By default in ONE call, skipping the confirmation wizard through the
        ``disable_cancel_warning`` context (transcript 09). ``use_wizard`` drives Odoo's
        ``sale.order.cancel`` wizard instead, one order at a time (Odoo's button requires it)."""
        ids = _unique(order_ids)
        if not use_wizard:
            for part in chunked(ids):
                result = self.client.call(
                    "sale.order", "action_cancel", [part], context={"disable_cancel_warning": True}
                )
                if _action_dict(result):
                    raise OdooPermanentError(
                        "Odoo asked for a wizard despite disable_cancel_warning",
                        model="sale.order",
                        method="action_cancel",
                        action=result.get("res_model"),
                    )
            return
        for oid in ids:
            result = self.client.call("sale.order", "action_cancel", [[oid]])
            action = _action_dict(result)
            if action is None:
                continue  # a draft is cancelled directly
            if action.get("res_model") != "sale.order.cancel":
                raise OdooPermanentError(
                    "Unexpected action from sale.order.action_cancel",
                    model="sale.order",
                    method="action_cancel",
                    action=action.get("res_model"),
                )
            ctx = action.get("context") or {}
            wiz = self.client.call("sale.order.cancel", "create", [{"order_id": oid}], context=ctx)
            self.client.call("sale.order.cancel", "action_cancel", [[wiz]], context=ctx)

    def sale_orders_read(self, *, order_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """id -> state, name, reference, picking_ids, delivery_status, invoice_status, ..."""
        fields = [
            *self.client.adapter.sale_order_status_fields,
            SALE_ORDER_REF_FIELD,
            "client_order_ref",
            "invoice_ids",
        ]
        out: dict[int, dict[str, Any]] = {}
        for part in chunked(_unique(order_ids)):
            for row in self.client.call("sale.order", "read", [part, fields]):
                out[row["id"]] = {
                    "id": row["id"],
                    "name": row["name"],
                    "state": row["state"],
                    "ref": falsy_none(row.get(SALE_ORDER_REF_FIELD)),
                    "client_order_ref": falsy_none(row.get("client_order_ref")),
                    "picking_ids": row.get("picking_ids") or [],
                    "invoice_ids": row.get("invoice_ids") or [],
                    "delivery_status": falsy_none(row.get("delivery_status")),
                    "invoice_status": falsy_none(row.get("invoice_status")),
                    "locked": bool(row.get("locked")) or row["state"] == "done",
                }
        return out

    def sale_orders_totals(self, *, order_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """id -> {id, name, state, amount_total}: ONE read per chunk (the push binds the names
        and reconciles the totals with the channel's)."""
        out: dict[int, dict[str, Any]] = {}
        for part in chunked(_unique(order_ids)):
            for row in self.client.call(
                "sale.order", "read", [part, ["name", "state", "amount_total"]]
            ):
                out[row["id"]] = {
                    "id": row["id"],
                    "name": row["name"],
                    "state": row["state"],
                    "amount_total": row.get("amount_total"),
                }
        return out

    def partners_credit(self, *, partner_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """id -> {credit_limit, use_partner_credit_limit, credit (open receivables)}: ONE read
        per chunk, for the B2B credit hold."""
        fields = ["credit_limit", "use_partner_credit_limit", "credit"]
        out: dict[int, dict[str, Any]] = {}
        for part in chunked(_unique(partner_ids)):
            for row in self.client.call("res.partner", "read", [part, fields]):
                out[row["id"]] = {
                    "id": row["id"],
                    "credit_limit": row.get("credit_limit") or 0,
                    "use_partner_credit_limit": bool(row.get("use_partner_credit_limit")),
                    "credit": row.get("credit") or 0,
                }
        return out

    def sale_order_lines_read(self, *, order_id: int) -> list[dict[str, Any]]:
        """The lines of one order, in id order: id, product_id, qty, qty_delivered, price_unit,
        discount (one search_read)."""
        rows = self.client.call(
            "sale.order.line",
            "search_read",
            [[["order_id", "=", order_id]]],
            {
                "fields": [
                    "product_id",
                    "product_uom_qty",
                    "qty_delivered",
                    "price_unit",
                    "discount",
                ],
                "order": "id",
            },
        )
        return [
            {
                "id": r["id"],
                "product_id": m2o_id(r.get("product_id")),
                "qty": r.get("product_uom_qty") or 0,
                "qty_delivered": r.get("qty_delivered") or 0,
                "price_unit": r.get("price_unit") or 0,
                "discount": r.get("discount") or 0,
            }
            for r in rows
        ]

    @staticmethod
    def _line_vals(line: Mapping[str, Any]) -> dict[str, Any]:
        lv: dict[str, Any] = {"product_uom_qty": _num(line["qty"])}
        for key in ("product_id", "price_unit", "discount", "name", "tax_id"):
            if line.get(key) is not None:
                lv[key] = line[key] if key == "tax_id" else _num(line[key])
        return lv

    def sale_order_edit(
        self,
        *,
        order_id: int,
        header: Mapping[str, Any] | None = None,
        update: Mapping[int, Mapping[str, Any]] | None = None,
        create: Sequence[Mapping[str, Any]] = (),
        zero: Sequence[int] = (),
    ) -> None:
        """Edit a confirmed order in ONE write: header fields (partner_shipping_id,
        partner_invoice_id, note, client_order_ref), existing lines by id (qty, price_unit,
        discount, name, tax_id), new lines, and lines set to quantity 0 (Odoo does not let a
        confirmed order's lines be deleted). Odoo adjusts the delivery itself; a locked order
        raises (the caller cancels and recreates instead)."""
        vals: dict[str, Any] = {
            k: v
            for k, v in (header or {}).items()
            if k in ("partner_shipping_id", "partner_invoice_id", "note", "client_order_ref")
            and v not in (None, "")
        }
        commands: list[Any] = [[1, lid, self._line_vals(ln)] for lid, ln in (update or {}).items()]
        commands += [[1, lid, {"product_uom_qty": 0}] for lid in zero]
        commands += [[0, 0, self._line_vals(ln)] for ln in create]
        if commands:
            vals["order_line"] = commands
        if vals:
            self.client.call("sale.order", "write", [[order_id], vals])

    def sale_orders_unlock(self, *, order_ids: Sequence[int]) -> None:
        """``action_unlock`` (a locked order can be neither edited nor cancelled)."""
        for part in chunked(_unique(order_ids)):
            self.client.call("sale.order", "action_unlock", [part])

    def partner_address_create(
        self,
        *,
        parent_id: int,
        address: Mapping[str, Any],
        kind: str = "delivery",
        ref: str = "",
    ) -> int:
        """A delivery (or invoice) child address of ``parent_id``, in one create.

        ``ref``, when given, is a deterministic key the caller searches before creating, so a
        create whose response was lost is found instead of made twice.
        """
        countries = self._country_ids([address.get("country_code") or ""])
        vals = {
            "parent_id": parent_id,
            "type": kind,
            "name": address.get("name") or "",
            **self._address_vals(address, countries),
        }
        if ref:
            vals["ref"] = ref
        if not vals["name"]:
            vals.pop("name")
        return int(self.client.call("res.partner", "create", [vals]))

    # --- pickings ------------------------------------------------------------------------------
    def _has_tracking(self) -> bool:
        return self.client.has_field("stock.picking", "carrier_tracking_ref")

    def pickings_done_since(
        self, *, cursor: str | None, limit: int = 200, picking_type_code: str = "outgoing"
    ) -> PickingPage:
        """Done pickings after ``cursor``, with their moves, carrier and tracking reference.

        Three calls per page whatever its size (pickings, their moves, the moves' SKUs), one
        more when a whole page shares one second of ``write_date``. ``cursor`` is opaque
        ("<write_date second>|<id>": everything written in earlier seconds, and the pickings of
        that second up to that id, were seen); it only moves forward, so pages never repeat or
        skip a record that was already visible.

        Odoo keeps ``write_date`` to the microsecond but sends (and so the hub only ever sees)
        whole seconds, and it orders by the microseconds: a page is therefore cut only at a
        second boundary, or, when one second fills a page, continued by id inside that second.
        Odoo stamps write_date at transaction start, so a long transaction can commit a row "in
        the past": callers that need every row re-read the last minutes now and then by passing
        an older cursor (e.g. "<write_date - 5 min>|0") and deduplicate by picking id and
        write_date.
        """
        if limit <= 0:
            raise ValueError("limit must be positive")
        base: list[Any] = [["state", "=", "done"], ["picking_type_code", "=", picking_type_code]]
        domain = base + (_after_cursor(cursor) if cursor else [])
        fields = self._picking_fields()
        rows = self.client.call(
            "stock.picking",
            "search_read",
            [domain],
            {"fields": fields, "order": "write_date asc, id asc", "limit": limit},
        )
        if not rows:
            return PickingPage(pickings=[], next_cursor=cursor)
        last_second = _second(rows[-1]["write_date"])
        if len(rows) < limit:
            # Everything visible now: the page ends after the last row of its last second.
            top = max(r["id"] for r in rows if _second(r["write_date"]) == last_second)
            next_cursor = f"{last_second}|{top}"
        else:
            earlier = [r for r in rows if _second(r["write_date"]) < last_second]
            if earlier:
                # The last second may go on past the page: leave it whole to the next page.
                rows, next_cursor = earlier, f"{last_second}|0"
            else:
                # One second fills the page: go through it by id (the order Odoo cannot give).
                rows = self.client.call(
                    "stock.picking",
                    "search_read",
                    [[*domain, ["write_date", "<", _next_second(last_second)]]],
                    {"fields": fields, "order": "id asc", "limit": limit},
                )
                if not rows:  # changed under us since the first read: try again next poll
                    return PickingPage(pickings=[], next_cursor=cursor)
                next_cursor = f"{last_second}|{rows[-1]['id']}"
        return PickingPage(pickings=self._with_moves(rows), next_cursor=next_cursor)

    def pickings_read(self, *, picking_ids: Sequence[int]) -> list[dict[str, Any]]:
        """Pickings with their moves, in three calls per 1,000 pickings (like the poll)."""
        out: list[dict[str, Any]] = []
        for part in chunked(_unique(picking_ids)):
            rows = self.client.call("stock.picking", "read", [part, self._picking_fields()])
            out += self._with_moves(rows)
        return out

    def _picking_fields(self) -> list[str]:
        fields = [
            "name",
            "state",
            "origin",
            "sale_id",
            "partner_id",
            "date_done",
            "write_date",
            "backorder_id",
            "return_id",
            "move_ids",
        ]
        if self._has_tracking():
            fields += ["carrier_id", "carrier_tracking_ref"]
        return fields

    def _with_moves(self, pickings: list[dict[str, Any]]) -> list[dict[str, Any]]:
        adapter = self.client.adapter
        move_fields = [
            "picking_id",
            "product_id",
            "product_uom_qty",
            "state",
            "sale_line_id",
            *adapter.move_fields(),
        ]
        moves: list[dict[str, Any]] = []
        for part in chunked([p["id"] for p in pickings]):
            moves += self.client.call(
                "stock.move",
                "search_read",
                [[["picking_id", "in", part]]],
                {"fields": move_fields, "order": "id"},
            )
        skus: dict[int, str | None] = {}
        product_ids = [p for p in _unique(m2o_id(m["product_id"]) for m in moves) if p]
        for part in chunked(product_ids):
            for row in self.client.call("product.product", "read", [part, ["default_code"]]):
                skus[row["id"]] = falsy_none(row["default_code"])
        by_picking: dict[int, list[dict[str, Any]]] = {}
        for m in moves:
            pid = m2o_id(m["product_id"]) or 0
            by_picking.setdefault(m2o_id(m["picking_id"]) or 0, []).append(
                {
                    "move_id": m["id"],
                    "product_id": pid,
                    "sku": skus.get(pid),
                    "demand": float(m["product_uom_qty"] or 0),
                    # Reserved (16: not read) before validation; done after it.
                    "quantity": adapter.move_done_quantity(m),
                    "done": adapter.move_done_quantity(m) if m["state"] == "done" else 0.0,
                    "state": m["state"],
                    "sale_line_id": m2o_id(m.get("sale_line_id")),
                }
            )
        out = []
        for p in pickings:
            carrier = p.get("carrier_id")
            out.append(
                {
                    "id": p["id"],
                    "name": p["name"],
                    "state": p["state"],
                    "origin": falsy_none(p["origin"]),
                    "sale_id": m2o_id(p["sale_id"]),
                    "partner_id": m2o_id(p["partner_id"]),
                    "date_done": falsy_none(p["date_done"]),
                    "write_date": p["write_date"],
                    "backorder_of": m2o_id(p["backorder_id"]),
                    "return_of": m2o_id(p["return_id"]),
                    "carrier": carrier[1] if isinstance(carrier, list) else None,
                    "tracking_ref": falsy_none(p.get("carrier_tracking_ref")),
                    "moves": by_picking.get(p["id"], []),
                }
            )
        return out

    def picking_validate(
        self,
        *,
        picking_id: int,
        quantities: Mapping[int, float] | None = None,
        backorder: bool = True,
        tracking_ref: str | None = None,
        carrier_id: int | None = None,
    ) -> ValidateResult:
        """Validate a picking, optionally partially (``quantities``: move id -> done qty).

        ``backorder`` decides what happens to the rest of a partial delivery: a backorder
        picking, or nothing. Both go through the context shortcuts of transcript 06b, so there
        is no wizard round trip; if Odoo still answers with a wizard (an "always ask" picking
        type, or 16's immediate-transfer wizard) it is processed the same way.
        """
        adapter = self.client.adapter
        by_qty: dict[float, list[int]] = {}
        for move_id, qty in (quantities or {}).items():
            by_qty.setdefault(float(qty), []).append(int(move_id))
        for qty, move_ids in by_qty.items():  # one write per distinct quantity, not per move
            self.client.call("stock.move", "write", [move_ids, adapter.move_done_vals(qty)])
        if tracking_ref is not None or carrier_id is not None:
            if not self._has_tracking():
                raise OdooConfigurationError(
                    f"Tracking numbers need the Odoo module {adapter.tracking_module}",
                    model="stock.picking",
                    field="carrier_tracking_ref",
                )
            vals: dict[str, Any] = {}
            if tracking_ref is not None:
                vals["carrier_tracking_ref"] = tracking_ref
            if carrier_id is not None:
                vals["carrier_id"] = carrier_id
            self.client.call("stock.picking", "write", [[picking_id], vals])
        ctx: dict[str, Any] = {"skip_backorder": True}
        if not backorder:
            ctx["picking_ids_not_to_backorder"] = [picking_id]
        result = self.client.call("stock.picking", "button_validate", [[picking_id]], context=ctx)
        action = _action_dict(result)
        if action is not None:
            self._process_validate_wizard(action, backorder=backorder)
        row = self.client.call("stock.picking", "read", [[picking_id], ["state", "backorder_ids"]])
        if not row:
            raise OdooPermanentError("Picking vanished", model="stock.picking", id=picking_id)
        return ValidateResult(picking_id, row[0]["state"], list(row[0]["backorder_ids"] or []))

    def _process_validate_wizard(self, action: dict[str, Any], *, backorder: bool) -> None:
        model, ctx = action.get("res_model"), action.get("context") or {}
        if model == "stock.backorder.confirmation":
            method = "process" if backorder else "process_cancel_backorder"
        elif model == "stock.immediate.transfer":  # Odoo 16, nothing marked done
            method = "process"
        else:
            raise OdooPermanentError(
                f"button_validate asks for {model}, which the hub does not handle",
                model="stock.picking",
                method="button_validate",
                action=model,
            )
        # The wizard must be created AND run with the action's context (transcript 06).
        wiz = self.client.call(str(model), "create", [{}], context=ctx)
        result = self.client.call(str(model), method, [[wiz]], context=ctx)
        nested = _action_dict(result)
        if nested is not None and nested.get("res_model") == "stock.backorder.confirmation":
            self._process_validate_wizard(nested, backorder=backorder)

    # --- returns -------------------------------------------------------------------------------
    def return_create(
        self,
        *,
        picking_id: int,
        quantities: Mapping[int, float] | None = None,
        to_refund: bool = True,
        validate: bool = False,
    ) -> int:
        """Create a return of a done picking through Odoo's return wizard (transcript 07).

        ``quantities``: product id -> quantity to return (None: everything delivered; products
        left out are not returned). Returns the return picking id.
        """
        ctx = {"active_id": picking_id, "active_ids": [picking_id], "active_model": "stock.picking"}
        wiz = self.client.call("stock.return.picking", "create", [{}], context=ctx)
        lines = self.client.call(
            "stock.return.picking.line",
            "search_read",
            [[["wizard_id", "=", wiz]]],
            {"fields": ["product_id", "quantity", "to_refund"], "order": "id"},
        )
        by_vals: dict[tuple[float, bool], list[int]] = {}
        remaining = dict(quantities or {})
        for line in lines:
            pid = m2o_id(line["product_id"]) or 0
            qty = float(line["quantity"] or 0)
            if quantities is not None:
                qty = float(remaining.pop(pid, 0.0))
            if qty != float(line["quantity"] or 0) or bool(line["to_refund"]) != to_refund:
                by_vals.setdefault((qty, to_refund), []).append(line["id"])
        if remaining:
            raise OdooPermanentError(
                "Products to return are not on the picking",
                model="stock.return.picking",
                picking_id=picking_id,
                product_ids=sorted(remaining),
            )
        for (qty, refund), line_ids in by_vals.items():
            self.client.call(
                "stock.return.picking.line",
                "write",
                [line_ids, {"quantity": qty, "to_refund": refund}],
            )
        method = self.client.adapter.return_method
        action = self.client.call("stock.return.picking", method, [[wiz]], context=ctx)
        if not isinstance(action, dict) or not action.get("res_id"):
            raise OdooPermanentError(
                "The return wizard did not answer with the return picking",
                model="stock.return.picking",
                method=method,
            )
        return_id = int(action["res_id"])
        if validate:
            self.picking_validate(picking_id=return_id, backorder=False)
        return return_id

    # --- invoices and payments -----------------------------------------------------------------
    def invoices_create(self, *, order_ids: Sequence[int]) -> dict[int, list[int]]:
        """Invoice what is invoiceable on the orders (the "delivered" wizard, transcript 08).

        Orders with nothing to invoice are skipped rather than failing the batch, which also
        makes a retry after a lost response harmless. Returns order id -> NEW invoice ids.
        """
        ids = _unique(order_ids)
        before = {
            r["id"]: r
            for r in self.client.call(
                "sale.order", "read", [ids, ["invoice_ids", "invoice_status"]]
            )
        }
        todo = [i for i in ids if before.get(i, {}).get("invoice_status") == "to invoice"]
        if not todo:
            return {i: [] for i in ids}
        ctx = {"active_model": "sale.order", "active_ids": todo, "active_id": todo[0]}
        wiz = self.client.call(
            "sale.advance.payment.inv",
            "create",
            [{"advance_payment_method": "delivered"}],
            context=ctx,
        )
        # Its answer is a big act_window listing all invoices; the ids are read from the orders.
        self.client.call("sale.advance.payment.inv", "create_invoices", [[wiz]], context=ctx)
        after = self.client.call("sale.order", "read", [todo, ["invoice_ids"]])
        out: dict[int, list[int]] = {i: [] for i in ids}
        for row in after:
            old = set(before[row["id"]]["invoice_ids"] or [])
            out[row["id"]] = [i for i in row["invoice_ids"] or [] if i not in old]
        return out

    def invoices_post(self, *, invoice_ids: Sequence[int]) -> None:
        """Post draft invoices in one call. Odoo answers ``false`` on success (transcript 08)."""
        for part in chunked(_unique(invoice_ids)):
            self.client.call("account.move", "action_post", [part])

    def invoice_register_payment(
        self,
        *,
        invoice_ids: Sequence[int],
        journal_id: int | None = None,
        amount: Decimal | float | None = None,
        payment_date: str | None = None,
        memo: str | None = None,
    ) -> int | None:
        """Register a payment on posted invoices through Odoo's payment wizard.

        Defaults (transcript 08): the full residual, the Bank journal, today. Returns the
        payment id when Odoo names a single one.
        """
        ctx = {"active_model": "account.move", "active_ids": list(invoice_ids)}
        vals: dict[str, Any] = {}
        if journal_id is not None:
            vals["journal_id"] = journal_id
        if amount is not None:
            vals["amount"] = _num(amount)
        if payment_date is not None:
            vals["payment_date"] = payment_date
        if memo is not None:
            vals["communication"] = memo
        wiz = self.client.call("account.payment.register", "create", [vals], context=ctx)
        action = self.client.call(
            "account.payment.register", "action_create_payments", [[wiz]], context=ctx
        )
        if isinstance(action, dict) and action.get("res_id"):
            return int(action["res_id"])
        return None

    def invoices_read(self, *, invoice_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        fields = [
            "name",
            "state",
            "payment_state",
            "amount_total",
            "amount_residual",
            "invoice_origin",
            "ref",
            "move_type",
        ]
        out: dict[int, dict[str, Any]] = {}
        for part in chunked(_unique(invoice_ids)):
            for row in self.client.call("account.move", "read", [part, fields]):
                out[row["id"]] = {k: falsy_none(row.get(k)) for k in ["id", *fields]}
        return out


def get_gateway() -> OdooGateway:
    """A gateway on the process-wide client configured by settings."""
    return OdooGateway(get_client())
