"""What differs between the Odoo versions the hub supports, and nothing else.

17, 18 and 19 are verified by the live contract suite run on real Odoo 17.0, 18.0 and 19.0
Community servers, whose calls are recorded as transcripts (tests/data/odoo/transcripts/, and its
18/ and 19/ folders; docs/odoo.md, "Versions: what differs, verified live"). 16 comes from
reading Odoo's public source and is not verified against a running server.
The gateway asks the adapter for every version-sensitive field name, value or method, so adding
a version is adding one adapter here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from .errors import OdooConfigurationError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VersionAdapter:
    major: int
    # product.product: how a storable product is written and searched.
    storable_vals: tuple[tuple[str, Any], ...]
    storable_domain: tuple[tuple[str, str, Any], ...]
    # stock.move: the field that holds the done quantity, and whether "picked" must be set too.
    move_done_field: str
    move_uses_picked: bool
    # stock.return.picking: the button that creates the return picking, and the one that
    # returns everything delivered. Up to 17 the wizard's lines start at the returnable
    # quantity (None: ``return_method`` returns it all); from 18 they start at 0 and
    # ``action_create_returns_all`` fills them in.
    return_method: str
    return_all_method: str | None
    # The module that adds carrier_tracking_ref / carrier_id to stock.picking.
    tracking_module: str
    # sale.order fields that exist in this version (delivery_status came with 17).
    sale_order_status_fields: tuple[str, ...]
    # account.payment: the field the register wizard's ``communication`` lands in, where the
    # hub's payment ref is found again ("ref" up to 17, "memo" from 18).
    payment_ref_field: str
    # account.payment states: posted (reconciled or not) and dead; 18 gave payments their own
    # states instead of the journal entry's.
    payment_posted_states: tuple[str, ...]
    payment_cancel_states: tuple[str, ...]
    # sale.order.line: taxes and unit ("tax_id"/"product_uom" up to 18, "tax_ids"/
    # "product_uom_id" from 19). The hub's own line dicts keep the canonical "tax_id" and
    # "product_uom" keys; ``sale_line_field`` names the version's field for them.
    sale_line_tax_field: str
    sale_line_uom_field: str
    # res.users: the groups many2many ("groups_id" up to 18, "group_ids" from 19).
    user_groups_field: str
    # The company's Outstanding Receipts account (where a payment's journal item waits for the
    # bank): a res.company field up to 17; from 18 only the chart's external id
    # "account.<company id>_account_journal_payment_debit_account_id" (``{company}`` below).
    clearing_account_company_field: str | None
    clearing_account_xmlid: str | None
    # account.move: the payment whose journal entry it is ("payment_id" up to 17,
    # "origin_payment_id" from 18; account.move.line keeps "payment_id").
    move_payment_field: str
    # res.partner: the fields read for a partner's pricelist, the first one set wins. Up to 18
    # ``property_product_pricelist`` answers it (the partner's own, else its country group's,
    # else the first active pricelist; 18 computes it from the company-dependent
    # ``specific_property_product_pricelist`` that a write of it fills). 19 computes nothing
    # while the "Pricelists" setting (product.group_product_pricelist) is off, so the
    # partner's own is read from ``specific_property_product_pricelist`` then (verified live).
    partner_pricelist_fields: tuple[str, ...]
    # res.partner: "mobile" up to 18; 19 removed the field (one "phone" per partner): read and
    # cleared where the version has it.
    partner_mobile_fields: tuple[str, ...]

    def product_storable_vals(self) -> dict[str, Any]:
        return dict(self.storable_vals)

    def product_storable_domain(self) -> list[list[Any]]:
        return [list(leaf) for leaf in self.storable_domain]

    def move_fields(self) -> list[str]:
        fields = [self.move_done_field]
        if self.move_uses_picked:
            fields.append("picked")
        return fields

    def move_done_vals(self, quantity: float) -> dict[str, Any]:
        """Values that mark ``quantity`` as done on a stock.move."""
        vals: dict[str, Any] = {self.move_done_field: quantity}
        if self.move_uses_picked:
            # 17+: "quantity" is both reserved and done; only picked moves count as done.
            vals["picked"] = True
        return vals

    def move_done_quantity(self, move: dict[str, Any]) -> float:
        """Done quantity of a move read with ``move_fields()`` (after validation)."""
        return float(move.get(self.move_done_field) or 0.0)

    def sale_line_field(self, key: str) -> str:
        """This version's sale.order.line field for a canonical key ("tax_id", "product_uom");
        any other key is its own field."""
        return {"tax_id": self.sale_line_tax_field, "product_uom": self.sale_line_uom_field}.get(
            key, key
        )

    def sale_line_fields(self, keys: Iterable[str]) -> list[str]:
        return [self.sale_line_field(k) for k in keys]

    def partner_pricelist(self, row: dict[str, Any]) -> Any:
        """The pricelist many2one of a res.partner row read with ``partner_pricelist_fields``
        (``[id, name]``), False when Odoo reports none."""
        for field in self.partner_pricelist_fields:
            if row.get(field):
                return row[field]
        return False

    def sale_line_canonical(self, row: dict[str, Any]) -> dict[str, Any]:
        """A sale.order.line row read with ``sale_line_fields`` under the canonical keys."""
        out = dict(row)
        for key in ("tax_id", "product_uom"):
            field = self.sale_line_field(key)
            if field != key and field in out:
                out[key] = out.pop(field)
        return out


_SO_FIELDS_17 = ("name", "state", "picking_ids", "delivery_status", "invoice_status", "locked")

ODOO_16 = VersionAdapter(
    major=16,
    storable_vals=(("detailed_type", "product"),),
    storable_domain=(("detailed_type", "=", "product"),),
    move_done_field="quantity_done",
    move_uses_picked=False,
    return_method="create_returns",
    return_all_method=None,
    tracking_module="delivery",
    # 16 has no delivery_status and no locked flag (a locked order is in state "done").
    sale_order_status_fields=("name", "state", "picking_ids", "invoice_status"),
    payment_ref_field="ref",
    payment_posted_states=("posted",),
    payment_cancel_states=("cancel",),
    sale_line_tax_field="tax_id",
    sale_line_uom_field="product_uom",
    user_groups_field="groups_id",
    clearing_account_company_field="account_journal_payment_debit_account_id",
    clearing_account_xmlid=None,
    move_payment_field="payment_id",
    partner_pricelist_fields=("property_product_pricelist",),
    partner_mobile_fields=("mobile",),
)

# Verified against transcripts 02, 03, 06, 06b and 07 (create_returns, not action_create_returns).
ODOO_17 = VersionAdapter(
    major=17,
    storable_vals=(("detailed_type", "product"),),
    storable_domain=(("detailed_type", "=", "product"),),
    move_done_field="quantity",
    move_uses_picked=True,
    return_method="create_returns",
    return_all_method=None,
    tracking_module="stock_delivery",
    sale_order_status_fields=_SO_FIELDS_17,
    payment_ref_field="ref",
    payment_posted_states=("posted",),
    payment_cancel_states=("cancel",),
    sale_line_tax_field="tax_id",
    sale_line_uom_field="product_uom",
    user_groups_field="groups_id",
    clearing_account_company_field="account_journal_payment_debit_account_id",
    clearing_account_xmlid=None,
    move_payment_field="payment_id",
    partner_pricelist_fields=("property_product_pricelist",),
    partner_mobile_fields=("mobile",),
)

# 18: detailed_type is gone; type is consu/service/combo and storable is the is_storable boolean.
ODOO_18 = VersionAdapter(
    major=18,
    storable_vals=(("type", "consu"), ("is_storable", True)),
    storable_domain=(("is_storable", "=", True),),
    move_done_field="quantity",
    move_uses_picked=True,
    return_method="action_create_returns",
    return_all_method="action_create_returns_all",
    tracking_module="stock_delivery",
    sale_order_status_fields=_SO_FIELDS_17,
    # account.payment's ref became memo (the register wizard still takes communication).
    payment_ref_field="memo",
    # draft, in_process (posted, not matched with the bank), paid, canceled, rejected.
    payment_posted_states=("in_process", "paid"),
    payment_cancel_states=("canceled", "rejected"),
    sale_line_tax_field="tax_id",
    sale_line_uom_field="product_uom",
    user_groups_field="groups_id",
    clearing_account_company_field=None,
    clearing_account_xmlid="account.{company}_account_journal_payment_debit_account_id",
    move_payment_field="origin_payment_id",
    partner_pricelist_fields=("property_product_pricelist",),
    partner_mobile_fields=("mobile",),
)

# 19: 18's model, with the renames below (verified live, docs/odoo.md).
ODOO_19 = replace(
    ODOO_18,
    major=19,
    # sale.order.line's tax_id and product_uom became tax_ids and product_uom_id (as on
    # account.move.line); res.users' groups_id became group_ids.
    sale_line_tax_field="tax_ids",
    sale_line_uom_field="product_uom_id",
    user_groups_field="group_ids",
    # The partner's pricelist is computed only with the Pricelists setting on: its own is read
    # beside it. res.partner.mobile is gone.
    partner_pricelist_fields=("property_product_pricelist", "specific_property_product_pricelist"),
    partner_mobile_fields=(),
)

ADAPTERS: dict[int, VersionAdapter] = {16: ODOO_16, 17: ODOO_17, 18: ODOO_18, 19: ODOO_19}


def parse_major(version: dict[str, Any]) -> int:
    """Major version from a ``common.version`` answer ("saas~17.2" counts as 17)."""
    info = version.get("server_version_info")
    head: Any = info[0] if isinstance(info, list) and info else version.get("server_serie", "")
    text = str(head).split("~")[-1].split(".")[0]
    try:
        return int(text)
    except ValueError:
        raise OdooConfigurationError(
            "Cannot read the Odoo version", server_version=version.get("server_version")
        )


def adapter_for(version: dict[str, Any]) -> VersionAdapter:
    major = parse_major(version)
    if major in ADAPTERS:
        return ADAPTERS[major]
    if major > max(ADAPTERS):
        # Newer servers still speak /jsonrpc; the newest known model is the best guess, and the
        # field errors it may cause are classified as configuration errors, loudly.
        newest = max(ADAPTERS)
        logger.warning(
            "Odoo %s is newer than the supported versions; using the %s adapter", major, newest
        )
        return ADAPTERS[newest]
    raise OdooConfigurationError(
        f"Odoo {major} is not supported ({', '.join(str(v) for v in sorted(ADAPTERS))} are)",
        server_version=version.get("server_version"),
    )
