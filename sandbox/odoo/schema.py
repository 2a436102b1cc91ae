"""Declarations of the models and fields the sandbox knows.

Only fields an integration plausibly touches are declared. Fields flagged ``store=False`` are
computed on read (see ``orm.COMPUTES``) so derived numbers (stock levels, order totals,
delivered quantities) can never drift from the records they are derived from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Selection = list[tuple[str, str]]


@dataclass
class Field:
    type: str
    string: str = ""
    comodel: str | None = None
    inverse: str | None = None
    selection: Selection | None = None
    required: bool = False
    readonly: bool = False
    default: Any = None
    store: bool = True
    owner: str | None = None  # model that defines it in Odoo (matters for error messages)


@dataclass
class Model:
    name: str
    description: str
    fields: dict[str, Field]
    order: str = "id"
    rec_name: str = "name"
    parent: str | None = None  # field used by child_of / parent_of
    transient: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def char(string: str = "", **kw: Any) -> Field:
    return Field("char", string, **kw)


def text(string: str = "", **kw: Any) -> Field:
    return Field("text", string, **kw)


def integer(string: str = "", **kw: Any) -> Field:
    kw.setdefault("default", 0)
    return Field("integer", string, **kw)


def flt(string: str = "", **kw: Any) -> Field:
    kw.setdefault("default", 0.0)
    return Field("float", string, **kw)


def money(string: str = "", **kw: Any) -> Field:
    kw.setdefault("default", 0.0)
    return Field("monetary", string, **kw)


def boolean(string: str = "", **kw: Any) -> Field:
    kw.setdefault("default", False)
    return Field("boolean", string, **kw)


def sel(string: str, selection: Selection, **kw: Any) -> Field:
    return Field("selection", string, selection=selection, **kw)


def date(string: str = "", **kw: Any) -> Field:
    return Field("date", string, **kw)


def dtime(string: str = "", **kw: Any) -> Field:
    return Field("datetime", string, **kw)


def m2o(comodel: str, string: str = "", **kw: Any) -> Field:
    return Field("many2one", string, comodel=comodel, **kw)


def o2m(comodel: str, inverse: str, string: str = "", **kw: Any) -> Field:
    return Field("one2many", string, comodel=comodel, inverse=inverse, store=False, **kw)


def m2m(comodel: str, string: str = "", **kw: Any) -> Field:
    kw.setdefault("default", [])
    return Field("many2many", string, comodel=comodel, **kw)


def computed(ftype: str, string: str = "", **kw: Any) -> Field:
    return Field(ftype, string, store=False, readonly=True, **kw)


MOVE_STATES: Selection = [
    ("draft", "New"),
    ("waiting", "Waiting Another Move"),
    ("confirmed", "Waiting Availability"),
    ("partially_available", "Partially Available"),
    ("assigned", "Available"),
    ("done", "Done"),
    ("cancel", "Cancelled"),
]
PICKING_STATES: Selection = [
    ("draft", "Draft"),
    ("waiting", "Waiting Another Operation"),
    ("confirmed", "Waiting"),
    ("assigned", "Ready"),
    ("done", "Done"),
    ("cancel", "Cancelled"),
]
PRODUCT_TYPES: Selection = [
    ("consu", "Consumable"),
    ("service", "Service"),
    ("product", "Storable Product"),
]
PARTNER_TYPES: Selection = [
    ("contact", "Contact"),
    ("invoice", "Invoice Address"),
    ("delivery", "Delivery Address"),
    ("other", "Other Address"),
]
SO_STATES: Selection = [
    ("draft", "Quotation"),
    ("sent", "Quotation Sent"),
    ("sale", "Sales Order"),
    ("cancel", "Cancelled"),
]
PAYMENT_STATES: Selection = [
    ("not_paid", "Not Paid"),
    ("in_payment", "In Payment"),
    ("paid", "Paid"),
    ("partial", "Partially Paid"),
    ("reversed", "Reversed"),
    ("invoicing_legacy", "Invoicing App Legacy"),
]
SERVER_ACTION_STATES: Selection = [
    ("object_write", "Update Record"),
    ("next_activity", "Create Activity"),
    ("mail_post", "Send Email"),
    ("sms", "Send SMS"),
    ("followers", "Add Followers"),
    ("remove_followers", "Remove Followers"),
    ("object_create", "Create Record"),
    ("code", "Execute Code"),
    ("webhook", "Send Webhook Notification"),
    ("multi", "Execute Existing Actions"),
]

# Product fields that live on product.template in Odoo; product.product mirrors them.
TEMPLATE_FIELDS: dict[str, Field] = {
    "name": char("Name", required=True),
    "default_code": char("Internal Reference"),
    "barcode": char("Barcode"),
    "list_price": flt("Sales Price", default=1.0),
    "standard_price": flt("Cost"),
    "detailed_type": sel("Product Type", PRODUCT_TYPES, required=True, default="consu"),
    "type": sel("Type", PRODUCT_TYPES, default="consu"),
    "invoice_policy": sel(
        "Invoicing Policy",
        [("order", "Ordered quantities"), ("delivery", "Delivered quantities")],
        default="order",
    ),
    "uom_id": m2o("uom.uom", "Unit of Measure", default=1),
    "uom_po_id": m2o("uom.uom", "Purchase Unit of Measure", default=1),
    "categ_id": m2o("product.category", "Product Category", default=1),
    "taxes_id": m2m("account.tax", "Customer Taxes"),
    "sale_ok": boolean("Can be Sold", default=True),
    "purchase_ok": boolean("Can be Purchased", default=True),
    "active": boolean("Active", default=True),
    "description_sale": text("Sales Description"),
    "weight": flt("Weight"),
    "tracking": sel(
        "Tracking",
        [("serial", "By Unique Serial Number"), ("lot", "By Lots"), ("none", "No Tracking")],
        default="none",
    ),
    "company_id": m2o("res.company", "Company"),
}
STOCK_QTY_FIELDS: dict[str, Field] = {
    "qty_available": computed("float", "Quantity On Hand"),
    "virtual_available": computed("float", "Forecasted Quantity"),
    "free_qty": computed("float", "Free To Use Quantity "),
    "incoming_qty": computed("float", "Incoming"),
    "outgoing_qty": computed("float", "Outgoing"),
}


def _owned(fields: dict[str, Field], owner: str) -> dict[str, Field]:
    out: dict[str, Field] = {}
    for name, f in fields.items():
        out[name] = Field(**{**f.__dict__, "owner": owner})
    return out


MODELS: list[Model] = [
    Model(
        "res.company",
        "Companies",
        {
            "name": char("Company Name", required=True),
            "currency_id": m2o("res.currency", "Currency"),
            "partner_id": m2o("res.partner", "Partner"),
            "country_id": m2o("res.country", "Country"),
        },
        order="sequence, name",
        extra={"order_fallback": "id"},
    ),
    Model(
        "res.currency",
        "Currency",
        {
            "name": char("Currency", required=True),
            "symbol": char("Symbol"),
            "rate": flt("Current Rate", default=1.0),
            "rounding": flt("Rounding Factor", default=0.01),
            "active": boolean("Active", default=True),
            "decimal_places": integer("Decimal Places", default=2),
        },
        order="active desc, name",
    ),
    Model(
        "res.country",
        "Country",
        {
            "name": char("Country Name", required=True),
            "code": char("Country Code"),
        },
        order="name",
    ),
    Model(
        "res.country.state",
        "Country state",
        {
            "name": char("State Name", required=True),
            "code": char("State Code"),
            "country_id": m2o("res.country", "Country"),
        },
        order="country_id, name",
    ),
    Model(
        "res.groups",
        "Access Groups",
        {
            "name": char("Name", required=True),
            "full_name": char("Group Name"),
        },
        order="name",
    ),
    Model(
        "res.users",
        "User",
        {
            "name": char("Name", required=True),
            "login": char("Login", required=True),
            "password": char("Password"),
            "partner_id": m2o("res.partner", "Related Partner"),
            "company_id": m2o("res.company", "Company", default=1),
            "groups_id": m2m("res.groups", "Groups"),
            "active": boolean("Active", default=True),
            "tz": char("Timezone"),
            "lang": char("Language"),
            "share": boolean("Share User"),
        },
        order="name, login",
    ),
    Model(
        "res.users.apikeys",
        "Users API Keys",
        {
            "name": char("Description", required=True),
            "user_id": m2o("res.users", "User"),
            "scope": char("Scope"),
        },
    ),
    Model(
        "res.users.apikeys.description",
        "API Key Description",
        {
            "name": char("Description", required=True),
        },
        transient=True,
    ),
    Model(
        "res.partner",
        "Contact",
        {
            "name": char("Name"),
            "complete_name": computed("char", "Complete Name"),
            "ref": char("Reference"),
            "email": char("Email"),
            "phone": char("Phone"),
            "mobile": char("Mobile"),
            "vat": char("Tax ID"),
            "is_company": boolean("Is a Company"),
            "company_type": computed(
                "selection",
                "Company Type",
                selection=[("person", "Individual"), ("company", "Company")],
            ),
            "parent_id": m2o("res.partner", "Related Company"),
            "child_ids": o2m("res.partner", "parent_id", "Contact"),
            "commercial_partner_id": computed(
                "many2one", "Commercial Entity", comodel="res.partner"
            ),
            "type": sel("Address Type", PARTNER_TYPES, default="contact"),
            "street": char("Street"),
            "street2": char("Street2"),
            "city": char("City"),
            "zip": char("Zip"),
            "state_id": m2o("res.country.state", "State"),
            "country_id": m2o("res.country", "Country"),
            "lang": char("Language", default="en_US"),
            "comment": text("Notes"),
            "active": boolean("Active", default=True),
            "customer_rank": integer("Customer Rank"),
            "supplier_rank": integer("Supplier Rank"),
            "credit_limit": flt("Credit Limit"),
            "use_partner_credit_limit": boolean("Partner Limit"),
            "credit": computed("monetary", "Total Receivable"),
            "company_id": m2o("res.company", "Company"),
            "property_product_pricelist": m2o("product.pricelist", "Pricelist"),
            "property_payment_term_id": m2o("account.payment.term", "Customer Payment Terms"),
            "property_delivery_carrier_id": m2o("delivery.carrier", "Delivery Method"),
            "user_ids": o2m("res.users", "partner_id", "Users"),
            "sale_order_ids": o2m("sale.order", "partner_id", "Sales Order"),
        },
        order="complete_name, id desc",
        parent="parent_id",
    ),
    Model(
        "uom.uom",
        "Product Unit of Measure",
        {
            "name": char("Unit of Measure", required=True),
            "factor": flt("Ratio", default=1.0),
            "uom_type": sel(
                "Type",
                [("bigger", "Bigger"), ("reference", "Reference"), ("smaller", "Smaller")],
                default="reference",
            ),
        },
        order="name",
    ),
    Model(
        "product.category",
        "Product Category",
        {
            "name": char("Name", required=True),
            "complete_name": computed("char", "Complete Name"),
            "parent_id": m2o("product.category", "Parent Category"),
        },
        order="complete_name",
        parent="parent_id",
    ),
    Model(
        "product.template",
        "Product",
        {
            **_owned(TEMPLATE_FIELDS, "product.template"),
            "product_variant_ids": o2m("product.product", "product_tmpl_id", "Products"),
            "product_variant_id": computed("many2one", "Product", comodel="product.product"),
            **STOCK_QTY_FIELDS,
        },
        order="priority desc, name, id",
    ),
    Model(
        "product.product",
        "Product Variant",
        {
            **_owned(TEMPLATE_FIELDS, "product.template"),
            "product_tmpl_id": m2o("product.template", "Product Template"),
            "lst_price": computed("float", "Sales Price"),
            "code": computed("char", "Reference"),
            **STOCK_QTY_FIELDS,
        },
        order="priority desc, default_code, name, id",
    ),
    Model(
        "product.pricelist",
        "Pricelist",
        {
            "name": char("Pricelist Name", required=True),
            "currency_id": m2o("res.currency", "Currency", default=1),
            "item_ids": o2m("product.pricelist.item", "pricelist_id", "Pricelist Rules"),
            "active": boolean("Active", default=True),
            "sequence": integer("Sequence", default=16),
            "company_id": m2o("res.company", "Company"),
        },
        order="sequence, id",
    ),
    Model(
        "product.pricelist.item",
        "Pricelist Rule",
        {
            "pricelist_id": m2o("product.pricelist", "Pricelist"),
            "applied_on": sel(
                "Apply On",
                [
                    ("3_global", "All Products"),
                    ("2_product_category", "Product Category"),
                    ("1_product", "Product"),
                    ("0_product_variant", "Product Variant"),
                ],
                default="3_global",
            ),
            "compute_price": sel(
                "Computation",
                [("fixed", "Fixed Price"), ("percentage", "Discount"), ("formula", "Formula")],
                default="fixed",
            ),
            "fixed_price": flt("Fixed Price"),
            "percent_price": flt("Percentage Price"),
            "min_quantity": flt("Min. Quantity"),
            "product_tmpl_id": m2o("product.template", "Product"),
            "product_id": m2o("product.product", "Product Variant"),
            "categ_id": m2o("product.category", "Product Category"),
            # the formula and the date range (evaluated in pricelist_rules.py)
            "base": sel(
                "Based on",
                [
                    ("list_price", "Sales Price"),
                    ("standard_price", "Cost"),
                    ("pricelist", "Other Pricelist"),
                ],
                default="list_price",
            ),
            "base_pricelist_id": m2o("product.pricelist", "Other Pricelist"),
            "price_discount": flt("Price Discount"),
            "price_surcharge": flt("Price Surcharge"),
            "price_round": flt("Price Rounding"),
            "price_min_margin": flt("Min. Price Margin"),
            "price_max_margin": flt("Max. Price Margin"),
            "date_start": dtime("Start Date"),
            "date_end": dtime("End Date"),
        },
        order="applied_on, min_quantity desc, id desc",
    ),
    Model(
        "account.tax",
        "Tax",
        {
            "name": char("Tax Name", required=True),
            "amount": flt("Amount"),
            "amount_type": sel(
                "Tax Computation",
                [("percent", "Percentage of Price"), ("fixed", "Fixed")],
                default="percent",
            ),
            "type_tax_use": sel(
                "Tax Type",
                [("sale", "Sales"), ("purchase", "Purchases"), ("none", "None")],
                default="sale",
            ),
            "price_include": boolean("Included in Price"),
            "active": boolean("Active", default=True),
            "company_id": m2o("res.company", "Company", default=1),
        },
        order="sequence, id",
    ),
    Model(
        "account.journal",
        "Journal",
        {
            "name": char("Journal Name", required=True),
            "code": char("Short Code"),
            "type": sel(
                "Type",
                [
                    ("sale", "Sales"),
                    ("purchase", "Purchase"),
                    ("cash", "Cash"),
                    ("bank", "Bank"),
                    ("general", "Miscellaneous"),
                ],
            ),
            "company_id": m2o("res.company", "Company", default=1),
        },
        order="sequence, type, code",
    ),
    Model(
        "account.move",
        "Journal Entry",
        {
            "name": char("Number", default="/"),
            "move_type": sel(
                "Type",
                [
                    ("entry", "Journal Entry"),
                    ("out_invoice", "Customer Invoice"),
                    ("out_refund", "Customer Credit Note"),
                    ("in_invoice", "Vendor Bill"),
                    ("in_refund", "Vendor Credit Note"),
                ],
                default="entry",
            ),
            "state": sel(
                "Status",
                [("draft", "Draft"), ("posted", "Posted"), ("cancel", "Cancelled")],
                default="draft",
            ),
            "payment_state": sel("Payment Status", PAYMENT_STATES, default="not_paid"),
            "partner_id": m2o("res.partner", "Partner"),
            "partner_shipping_id": m2o("res.partner", "Delivery Address"),
            "invoice_origin": char("Origin"),
            "ref": char("Reference"),
            "invoice_date": date("Invoice/Bill Date"),
            "invoice_date_due": date("Due Date"),
            "date": date("Date"),
            "journal_id": m2o("account.journal", "Journal"),
            "currency_id": m2o("res.currency", "Currency", default=1),
            "company_id": m2o("res.company", "Company", default=1),
            "invoice_line_ids": o2m("account.move.line", "move_id", "Invoice lines"),
            "line_ids": o2m("account.move.line", "move_id", "Journal Items"),
            "amount_untaxed": computed("monetary", "Untaxed Amount"),
            "amount_tax": computed("monetary", "Tax"),
            "amount_total": computed("monetary", "Total"),
            "amount_residual": computed("monetary", "Amount Due"),
            "amount_paid": money("Amount Paid"),  # internal bookkeeping, read-only in effect
            "amount_reversed": money("Amount Reversed"),  # the part of amount_paid by reversals
            "narration": text("Terms and Conditions"),
            "reversed_entry_id": m2o("account.move", "Reversal of"),
            "reversal_move_id": o2m("account.move", "reversed_entry_id", "Reversal Move"),
            "auto_post": sel(
                "Auto-post",
                [
                    ("no", "No"),
                    ("at_date", "At Date"),
                    ("monthly", "Monthly"),
                    ("quarterly", "Quarterly"),
                    ("yearly", "Yearly"),
                ],
                default="no",
            ),
        },
        order="date desc, name desc, id desc",
    ),
    Model(
        "account.move.reversal",
        "Account Move Reversal",
        {
            "move_ids": m2m("account.move", "Move"),
            "new_move_ids": m2m("account.move", "New Move"),
            "date": date("Reversal date"),
            "reason": char("Reason"),
            "journal_id": m2o("account.journal", "Journal", required=True),
            "company_id": m2o("res.company", "Company", default=1),
            "currency_id": m2o("res.currency", "Currency"),
            "residual": computed("monetary", "Residual"),
            "move_type": computed("char", "Move Type"),
        },
        transient=True,
    ),
    Model(
        "account.move.line",
        "Journal Item",
        {
            "move_id": m2o("account.move", "Journal Entry", required=True),
            "product_id": m2o("product.product", "Product"),
            "name": char("Label"),
            "quantity": flt("Quantity", default=1.0),
            "price_unit": flt("Unit Price"),
            "discount": flt("Discount (%)"),
            "tax_ids": m2m("account.tax", "Taxes"),
            "price_subtotal": computed("monetary", "Subtotal"),
            "price_total": computed("monetary", "Total"),
            "sale_line_ids": m2m("sale.order.line", "Sales Order Lines"),
            "display_type": sel(
                "Display Type",
                [("product", "Product"), ("line_section", "Section"), ("line_note", "Note")],
                default="product",
            ),
        },
        order="date desc, move_name desc, id",
        extra={"order_fallback": "id"},
    ),
    Model(
        "account.payment",
        "Payments",
        {
            "name": char("Number"),
            "amount": money("Amount"),
            "state": sel(
                "Status",
                [("draft", "Draft"), ("posted", "Posted"), ("cancel", "Cancelled")],
                default="draft",
            ),
            "is_reconciled": boolean("Is Reconciled"),
            "is_matched": boolean("Is Matched With a Bank Statement"),
            "journal_id": m2o("account.journal", "Journal"),
            "partner_id": m2o("res.partner", "Customer/Vendor"),
            "payment_type": sel(
                "Payment Type", [("outbound", "Send"), ("inbound", "Receive")], default="inbound"
            ),
            "date": date("Date"),
            "ref": char("Memo"),
            "currency_id": m2o("res.currency", "Currency", default=1),
            "reconciled_invoice_ids": m2m("account.move", "Reconciled Invoices"),
        },
        order="date desc, name desc",
    ),
    Model(
        "account.payment.register",
        "Register Payment",
        {
            "amount": money("Amount"),
            "journal_id": m2o("account.journal", "Journal"),
            "payment_date": date("Payment Date"),
            "payment_method_line_id": m2o("account.payment.method.line", "Payment Method"),
            "communication": char("Memo"),
            "line_ids": m2m("account.move", "Journal items"),
            "partner_id": m2o("res.partner", "Customer/Vendor"),
            "currency_id": m2o("res.currency", "Currency", default=1),
        },
        transient=True,
    ),
    Model(
        "account.payment.method.line",
        "Payment Methods",
        {
            "name": char("Name"),
            "journal_id": m2o("account.journal", "Journal"),
            "payment_type": sel("Payment Type", [("inbound", "Inbound"), ("outbound", "Outbound")]),
        },
    ),
    Model(
        "stock.location",
        "Inventory Locations",
        {
            "name": char("Location Name", required=True),
            "complete_name": char("Full Location Name"),
            "location_id": m2o("stock.location", "Parent Location"),
            "usage": sel(
                "Location Type",
                [
                    ("supplier", "Vendor Location"),
                    ("view", "View"),
                    ("internal", "Internal Location"),
                    ("customer", "Customer Location"),
                    ("inventory", "Inventory Loss"),
                    ("production", "Production"),
                    ("transit", "Transit Location"),
                ],
                default="internal",
            ),
            "warehouse_id": computed("many2one", "Warehouse", comodel="stock.warehouse"),
            "active": boolean("Active", default=True),
            "company_id": m2o("res.company", "Company"),
        },
        order="complete_name, id",
        rec_name="complete_name",
        parent="location_id",
    ),
    Model(
        "stock.warehouse",
        "Warehouse",
        {
            "name": char("Warehouse", required=True),
            "code": char("Short Name", required=True),
            "lot_stock_id": m2o("stock.location", "Location Stock"),
            "view_location_id": m2o("stock.location", "View Location"),
            "partner_id": m2o("res.partner", "Address"),
            "company_id": m2o("res.company", "Company", default=1),
            "in_type_id": m2o("stock.picking.type", "In Type"),
            "out_type_id": m2o("stock.picking.type", "Out Type"),
            "sequence": integer("Sequence", default=10),
            "active": boolean("Active", default=True),
        },
        order="sequence, id",
    ),
    Model(
        "stock.picking.type",
        "Picking Type",
        {
            "name": char("Operation Type", required=True),
            "code": sel(
                "Type of Operation",
                [
                    ("incoming", "Receipt"),
                    ("outgoing", "Delivery"),
                    ("internal", "Internal Transfer"),
                ],
            ),
            "sequence_code": char("Sequence Prefix"),
            "warehouse_id": m2o("stock.warehouse", "Warehouse"),
            "default_location_src_id": m2o("stock.location", "Default Source Location"),
            "default_location_dest_id": m2o("stock.location", "Default Destination Location"),
            "create_backorder": sel(
                "Create Backorder",
                [("ask", "Ask"), ("always", "Always"), ("never", "Never")],
                default="ask",
            ),
            "return_picking_type_id": m2o("stock.picking.type", "Operation Type for Returns"),
            "use_create_lots": boolean("Create New Lots/Serial Numbers", default=True),
            "use_existing_lots": boolean("Use Existing Lots/Serial Numbers", default=True),
            # stock_delivery: print the carrier's label when a delivery is validated.
            "print_label": boolean("Print Label"),
            "active": boolean("Active", default=True),
            "company_id": m2o("res.company", "Company", default=1),
        },
        order="sequence, id",
    ),
    Model(
        "stock.quant",
        "Quants",
        {
            "product_id": m2o("product.product", "Product", required=True),
            "location_id": m2o("stock.location", "Location", required=True),
            "warehouse_id": computed("many2one", "Warehouse", comodel="stock.warehouse"),
            "quantity": flt("Quantity"),
            "reserved_quantity": computed("float", "Reserved Quantity"),
            "available_quantity": computed("float", "Available Quantity"),
            "inventory_quantity": flt("Counted Quantity"),
            "inventory_diff_quantity": flt("Difference"),
            "inventory_quantity_set": boolean("Inventory Quantity Set"),
            "inventory_quantity_auto_apply": computed("float", "Inventoried Quantity"),
            "company_id": m2o("res.company", "Company", default=1),
            "lot_id": m2o("stock.lot", "Lot/Serial Number"),
            "package_id": m2o("stock.quant.package", "Package"),
            "in_date": dtime("Incoming Date"),
        },
    ),
    Model(
        "stock.picking",
        "Transfer",
        {
            "name": char("Reference", default="/"),
            "state": sel("Status", PICKING_STATES, default="draft"),
            "origin": char("Source Document"),
            "partner_id": m2o("res.partner", "Contact"),
            "picking_type_id": m2o("stock.picking.type", "Operation Type", required=True),
            "picking_type_code": computed(
                "selection",
                "Type of Operation",
                selection=[
                    ("incoming", "Receipt"),
                    ("outgoing", "Delivery"),
                    ("internal", "Internal Transfer"),
                ],
            ),
            "location_id": m2o("stock.location", "Source Location"),
            "location_dest_id": m2o("stock.location", "Destination Location"),
            "move_ids": o2m("stock.move", "picking_id", "Stock moves"),
            "move_ids_without_package": o2m(
                "stock.move", "picking_id", "Stock moves not in package"
            ),
            "move_line_ids": o2m("stock.move.line", "picking_id", "Operations"),
            "sale_id": m2o("sale.order", "Sales Order"),
            "backorder_id": m2o("stock.picking", "Back Order of"),
            "backorder_ids": o2m("stock.picking", "backorder_id", "Back Orders"),
            "return_id": m2o("stock.picking", "Return of"),
            "return_ids": o2m("stock.picking", "return_id", "Returns"),
            "return_count": computed("integer", "# Returns"),
            "carrier_id": m2o("delivery.carrier", "Carrier"),
            "carrier_tracking_ref": char("Tracking Reference"),
            # stock_delivery: about carrier return labels, not "this is a return" (transcript 19).
            "is_return_picking": computed("boolean", "Is Return Picking"),
            # Computed by the carrier's provider: false for fixed and rule-based carriers.
            "carrier_tracking_url": computed("char", "Tracking URL"),
            "delivery_type": computed(
                "selection",
                "Provider",
                selection=[("fixed", "Fixed Price"), ("base_on_rule", "Based on Rules")],
            ),
            "carrier_price": flt("Shipping Cost"),
            "weight": computed("float", "Weight"),
            "date_done": dtime("Date of Transfer"),
            "scheduled_date": dtime("Scheduled Date"),
            "date_deadline": dtime("Deadline"),
            "priority": sel("Priority", [("0", "Normal"), ("1", "Urgent")], default="0"),
            "move_type": sel(
                "Shipping Policy",
                [("direct", "As soon as possible"), ("one", "When all products are ready")],
                default="direct",
            ),
            "note": text("Notes"),
            "company_id": m2o("res.company", "Company", default=1),
            "user_id": m2o("res.users", "Responsible"),
            "shipping_weight": computed("float", "Weight for Shipping"),
        },
        order="priority desc, scheduled_date asc, id desc",
    ),
    Model(
        "stock.move",
        "Stock Move",
        {
            "name": char("Description"),
            "reference": char("Reference"),
            "origin": char("Source Document"),
            "product_id": m2o("product.product", "Product", required=True),
            "product_uom_qty": flt("Demand"),
            "product_qty": computed("float", "Real Quantity"),
            "product_uom": m2o("uom.uom", "UoM", default=1),
            "quantity": flt("Quantity"),
            "picked": boolean("Picked"),
            "state": sel("Status", MOVE_STATES, default="draft", readonly=True),
            "picking_id": m2o("stock.picking", "Transfer"),
            "picking_type_id": m2o("stock.picking.type", "Operation Type"),
            "location_id": m2o("stock.location", "Source Location", required=True),
            "location_dest_id": m2o("stock.location", "Destination Location", required=True),
            "location_usage": computed("selection", "Source Location Type"),
            "location_dest_usage": computed("selection", "Destination Location Type"),
            "sale_line_id": m2o("sale.order.line", "Sale Line"),
            "move_line_ids": o2m("stock.move.line", "move_id", "Move Lines"),
            "origin_returned_move_id": m2o("stock.move", "Origin return move"),
            "returned_move_ids": o2m("stock.move", "origin_returned_move_id", "All returned moves"),
            "to_refund": boolean("Update quantities on SO/PO"),
            "is_inventory": boolean("Inventory"),
            "date": dtime("Date Scheduled"),
            "sequence": integer("Sequence", default=10),
            "partner_id": m2o("res.partner", "Destination Address"),
            "company_id": m2o("res.company", "Company", default=1),
        },
        order="sequence, id",
    ),
    Model(
        "stock.move.line",
        "Product Moves (Stock Move Line)",
        {
            "move_id": m2o("stock.move", "Stock Operation"),
            "picking_id": m2o("stock.picking", "Transfer"),
            "product_id": m2o("product.product", "Product"),
            "quantity": flt("Quantity"),
            "quantity_product_uom": computed("float", "Quantity in Product UoM"),
            "product_uom_id": m2o("uom.uom", "Unit of Measure", default=1),
            "picked": boolean("Picked"),
            "date": dtime("Date"),
            "location_id": m2o("stock.location", "From"),
            "location_dest_id": m2o("stock.location", "To"),
            "lot_id": m2o("stock.lot", "Lot/Serial Number"),
            "picking_code": computed("char", "Picking Code"),
            "lot_name": char("Lot/Serial Number Name"),
            "package_id": m2o("stock.quant.package", "Source Package"),
            "state": sel("Status", MOVE_STATES, default="draft"),
            "company_id": m2o("res.company", "Company", default=1),
        },
        order="result_package_id desc, id",
        extra={"order_fallback": "id"},
    ),
    Model(
        "stock.lot",
        "Lot/Serial",
        {
            "name": char("Lot/Serial Number", required=True),
            "product_id": m2o("product.product", "Product", required=True),
            "company_id": m2o("res.company", "Company", default=1),
        },
    ),
    Model("stock.quant.package", "Packages", {"name": char("Package Reference")}),
    Model(
        "stock.backorder.confirmation",
        "Backorder Confirmation",
        {
            "pick_ids": m2m("stock.picking", "Pick"),
            "show_transfers": boolean("Show Transfers"),
            "backorder_confirmation_line_ids": o2m(
                "stock.backorder.confirmation.line",
                "backorder_confirmation_id",
                "Backorder Confirmation Lines",
            ),
        },
        transient=True,
    ),
    Model(
        "stock.backorder.confirmation.line",
        "Backorder Confirmation Line",
        {
            "backorder_confirmation_id": m2o("stock.backorder.confirmation", "Immediate Transfer"),
            "picking_id": m2o("stock.picking", "Transfer"),
            "to_backorder": boolean("To Backorder", default=True),
        },
        transient=True,
    ),
    Model(
        "stock.return.picking",
        "Return Picking",
        {
            "picking_id": m2o("stock.picking", "Picking"),
            "product_return_moves": o2m("stock.return.picking.line", "wizard_id", "Moves"),
            "location_id": m2o("stock.location", "Return Location"),
            "original_location_id": m2o("stock.location", "Original Location"),
            "parent_location_id": m2o("stock.location", "Parent Location"),
            "company_id": m2o("res.company", "Company", default=1),
        },
        transient=True,
    ),
    Model(
        "stock.return.picking.line",
        "Return Picking Line",
        {
            "wizard_id": m2o("stock.return.picking", "Wizard"),
            "product_id": m2o("product.product", "Product", required=True),
            "quantity": flt("Quantity"),
            "move_id": m2o("stock.move", "Move"),
            "to_refund": boolean("Update quantities on SO/PO", default=True),
            "uom_id": m2o("uom.uom", "Unit of Measure", default=1),
        },
        transient=True,
    ),
    Model(
        "delivery.carrier",
        "Shipping Methods",
        {
            "name": char("Delivery Method", required=True),
            "delivery_type": sel(
                "Provider",
                [("fixed", "Fixed Price"), ("base_on_rule", "Based on Rules")],
                default="fixed",
            ),
            "integration_level": sel(
                "Level of Integration",
                [("rate", "Get Rate"), ("rate_and_ship", "Get Rate and Create Shipment")],
                default="rate_and_ship",
            ),
            "invoice_policy": sel(
                "Invoicing Policy",
                [("estimated", "Estimated cost"), ("real", "Real cost")],
                default="estimated",
            ),
            "fixed_price": flt("Fixed Price"),
            "free_over": boolean("Free if order amount is above"),
            "amount": flt("Amount"),
            "product_id": m2o("product.product", "Delivery Product", required=True),
            "sequence": integer("Sequence", default=10),
            "active": boolean("Active", default=True),
            "company_id": m2o("res.company", "Company"),
        },
        order="sequence, id",
    ),
    Model(
        "choose.delivery.carrier",
        "Delivery Carrier Selection Wizard",
        {
            "order_id": m2o("sale.order", "Order", required=True),
            "partner_id": computed("many2one", "Partner", comodel="res.partner"),
            "carrier_id": m2o("delivery.carrier", "Shipping Method", required=True),
            "delivery_type": computed(
                "selection",
                "Delivery Type",
                selection=[("fixed", "Fixed Price"), ("base_on_rule", "Based on Rules")],
            ),
            "delivery_price": flt("Delivery Price"),
            "display_price": flt("Cost"),
            "currency_id": computed("many2one", "Currency", comodel="res.currency"),
            "company_id": computed("many2one", "Company", comodel="res.company"),
            "delivery_message": text("Delivery Message"),
            "total_weight": flt("Total Order Weight"),
            "weight_uom_name": char("Weight UoM Name", default="kg"),
        },
        transient=True,
    ),
    Model(
        "sale.order",
        "Sales Order",
        {
            "name": char("Order Reference", default="New"),
            "partner_id": m2o("res.partner", "Customer", required=True),
            "partner_invoice_id": m2o("res.partner", "Invoice Address"),
            "partner_shipping_id": m2o("res.partner", "Delivery Address"),
            "client_order_ref": char("Customer Reference"),
            "origin": char("Source Document"),
            "order_line": o2m("sale.order.line", "order_id", "Order Lines"),
            "state": sel("Status", SO_STATES, default="draft", readonly=True),
            "locked": boolean("Locked"),
            "date_order": dtime("Order Date", required=True),
            "commitment_date": dtime("Delivery Date"),
            "validity_date": date("Expiration"),
            "amount_untaxed": computed("monetary", "Untaxed Amount"),
            "amount_tax": computed("monetary", "Taxes"),
            "amount_total": computed("monetary", "Total"),
            "picking_ids": o2m("stock.picking", "sale_id", "Transfers"),
            "delivery_count": computed("integer", "Delivery Orders"),
            "delivery_status": computed(
                "selection",
                "Delivery Status",
                selection=[
                    ("pending", "Not Delivered"),
                    ("started", "Started"),
                    ("partial", "Partially Delivered"),
                    ("full", "Fully Delivered"),
                ],
            ),
            "invoice_status": computed(
                "selection",
                "Invoice Status",
                selection=[
                    ("upselling", "Upselling Opportunity"),
                    ("invoiced", "Fully Invoiced"),
                    ("to invoice", "To Invoice"),
                    ("no", "Nothing to Invoice"),
                ],
            ),
            "invoice_ids": m2m("account.move", "Invoices"),
            "invoice_count": computed("integer", "Invoice Count"),
            "warehouse_id": m2o("stock.warehouse", "Warehouse"),
            "pricelist_id": m2o("product.pricelist", "Pricelist"),
            "currency_id": m2o("res.currency", "Currency"),
            "carrier_id": m2o("delivery.carrier", "Delivery Method"),
            "delivery_set": computed("boolean", "Delivery Set"),
            "recompute_delivery_price": boolean("Delivery cost should be recomputed"),
            "delivery_message": char("Delivery Message"),
            "shipping_weight": computed("float", "Shipping Weight"),
            "note": text("Terms and conditions"),
            "user_id": m2o("res.users", "Salesperson"),
            "company_id": m2o("res.company", "Company", default=1),
            "payment_term_id": m2o("account.payment.term", "Payment Terms"),
        },
        order="date_order desc, id desc",
    ),
    Model(
        "sale.order.line",
        "Sales Order Line",
        {
            "order_id": m2o("sale.order", "Order Reference", required=True),
            "sequence": integer("Sequence", default=10),
            "name": text("Description"),
            "product_id": m2o("product.product", "Product"),
            "product_template_id": computed(
                "many2one", "Product Template", comodel="product.template"
            ),
            "product_uom_qty": flt("Quantity", default=1.0),
            "product_uom": m2o("uom.uom", "Unit of Measure"),
            "price_unit": flt("Unit Price"),
            "discount": flt("Discount (%)"),
            "tax_id": m2m("account.tax", "Taxes"),
            "price_subtotal": computed("monetary", "Subtotal"),
            "price_tax": computed("float", "Total Tax"),
            "price_total": computed("monetary", "Total"),
            "price_reduce_taxexcl": computed("monetary", "Price Reduce Tax excl"),
            "qty_delivered": computed("float", "Delivery Quantity"),
            "qty_invoiced": computed("float", "Invoiced Quantity"),
            "qty_to_invoice": computed("float", "Quantity To Invoice"),
            "invoice_status": computed(
                "selection",
                "Invoice Status",
                selection=[
                    ("upselling", "Upselling Opportunity"),
                    ("invoiced", "Fully Invoiced"),
                    ("to invoice", "To Invoice"),
                    ("no", "Nothing to Invoice"),
                ],
            ),
            "state": computed("selection", "Order Status", selection=SO_STATES),
            "display_type": sel(
                "Display Type", [("line_section", "Section"), ("line_note", "Note")]
            ),
            "is_delivery": boolean("Is a Delivery"),
            "move_ids": o2m("stock.move", "sale_line_id", "Stock Moves"),
            "order_partner_id": computed("many2one", "Customer", comodel="res.partner"),
            "currency_id": computed("many2one", "Currency", comodel="res.currency"),
            "company_id": m2o("res.company", "Company", default=1),
            "invoice_lines": m2m("account.move.line", "Invoice Lines"),
        },
        order="order_id, sequence, id",
    ),
    Model(
        "sale.advance.payment.inv",
        "Sales Advance Payment Invoice",
        {
            "advance_payment_method": sel(
                "Create Invoice",
                [
                    ("delivered", "Regular invoice"),
                    ("percentage", "Down payment (%)"),
                    ("fixed", "Down payment (fixed)"),
                ],
                default="delivered",
            ),
            "sale_order_ids": m2m("sale.order", "Sales Orders"),
            "amount": flt("Down Payment Amount"),
            "fixed_amount": money("Down Payment Amount (Fixed)"),
        },
        transient=True,
    ),
    Model(
        "sale.order.cancel",
        "Sales Order Cancel",
        {
            "order_id": m2o("sale.order", "Sale Order", required=True),
            "template_id": m2o("mail.template", "Email template"),
            "subject": char("Subject"),
            "body": text("Contents"),
        },
        transient=True,
    ),
    Model(
        "ir.model",
        "Models",
        {
            "name": char("Model Description", required=True),
            "model": char("Model", required=True),
            "transient": boolean("Transient Model"),
            "is_mail_thread": boolean("Has Mail Thread"),
            "field_id": o2m("ir.model.fields", "model_id", "Fields"),
        },
        # The mail module's order, not base's "model": searching several models by name gives
        # the mail threads first (checked on a real 17).
        order="is_mail_thread desc, name",
    ),
    Model(
        "ir.model.fields",
        "Fields",
        {
            "name": char("Field Name", required=True),
            "model": char("Model Name"),
            "model_id": m2o("ir.model", "Model"),
            "field_description": char("Field Label"),
            "ttype": char("Field Type"),
            "relation": char("Related Model"),
            "store": boolean("Stored", default=True),
            "required": boolean("Required"),
            "readonly": boolean("Readonly"),
        },
        order="name",
    ),
    Model(
        "ir.actions.server",
        "Server Action",
        {
            "name": char("Action Name", required=True),
            "model_id": m2o("ir.model", "Model", required=True),
            "model_name": computed("char", "Model Name"),
            "state": sel("Type", SERVER_ACTION_STATES, default="object_write"),
            "usage": sel(
                "Usage",
                [
                    ("ir_actions_server", "Server Action"),
                    ("ir_cron", "Scheduled Action"),
                    ("base_automation", "Automation Rule"),
                ],
                default="ir_actions_server",
            ),
            "webhook_url": char("Webhook URL"),
            "webhook_field_ids": m2m("ir.model.fields", "Webhook Fields"),
            "webhook_sample_payload": computed("text", "Sample Payload"),
            "base_automation_id": m2o("base.automation", "Automation Rule"),
            "code": text("Python Code"),
        },
        order="sequence,name",
        extra={"order_fallback": "name"},
    ),
    Model(
        "base.automation",
        "Automation Rule",
        {
            "name": char("Automation Rule Name", required=True),
            "model_id": m2o("ir.model", "Model", required=True),
            "model_name": computed("char", "Model Name"),
            "trigger": sel(
                "Trigger",
                [
                    ("on_create_or_write", "On save"),
                    ("on_create", "On creation"),
                    ("on_write", "On update"),
                    ("on_unlink", "On deletion"),
                    ("on_change", "On UI change"),
                    ("on_time", "Based on date field"),
                    ("on_webhook", "On webhook"),
                ],
                required=True,
            ),
            "trigger_field_ids": m2m("ir.model.fields", "Trigger Fields"),
            "action_server_ids": o2m("ir.actions.server", "base_automation_id", "Actions"),
            "filter_pre_domain": text("Before Update Domain"),
            "filter_domain": text("Apply on"),
            "active": boolean("Active", default=True),
            "url": computed("char", "Webhook URL"),
        },
    ),
    Model(
        "ir.module.module",
        "Module",
        {
            "name": char("Technical Name", required=True),
            "shortdesc": char("Module Name"),
            "state": sel(
                "Status",
                [
                    ("uninstallable", "Uninstallable"),
                    ("uninstalled", "Not Installed"),
                    ("installed", "Installed"),
                    ("to upgrade", "To be upgraded"),
                    ("to remove", "To be removed"),
                    ("to install", "To be installed"),
                ],
                default="uninstalled",
            ),
            "latest_version": char("Latest Version"),
        },
        order="application desc,sequence,name",
        extra={"order_fallback": "name"},
    ),
]

# Models that inherit mail.thread in Odoo 17 (with sale, stock and account installed).
MAIL_THREAD_MODELS = frozenset(
    {
        "account.journal",
        "account.move",
        "account.payment",
        "account.tax",
        "product.pricelist",
        "product.product",
        "product.template",
        "res.company",
        "res.partner",
        "sale.order",
        "stock.lot",
        "stock.picking",
    }
)

# Every model carries these, as in Odoo.
COMMON_FIELDS: dict[str, Field] = {
    "id": Field("integer", "ID", readonly=True),
    "display_name": computed("char", "Display Name"),
    "create_date": dtime("Created on", readonly=True),
    "write_date": dtime("Last Updated on", readonly=True),
    "create_uid": m2o("res.users", "Created by", readonly=True),
    "write_uid": m2o("res.users", "Last Updated by", readonly=True),
}

# The accounting models live in their own module, which needs the field helpers above.
from .schema_account import ACCOUNT_FIELDS, ACCOUNT_MODELS, STUB_MODELS  # noqa: E402

MODELS += ACCOUNT_MODELS
for _m in MODELS:
    _m.fields.update(ACCOUNT_FIELDS.get(_m.name, {}))

REGISTRY: dict[str, Model] = {}
for _m in MODELS:
    for _fname, _f in _m.fields.items():
        if not _f.string:
            _f.string = _fname.replace("_ids", "s").replace("_id", "").replace("_", " ").title()
    _m.fields = {**COMMON_FIELDS, **_m.fields}
    REGISTRY[_m.name] = _m

# Models referenced by many2one fields but with no behaviour: keep them readable and empty.
for _stub, _desc in (
    ("mail.template", "Email Templates"),
    ("account.payment.term", "Payment Terms"),
    *STUB_MODELS,
):
    REGISTRY[_stub] = Model(
        _stub, _desc, {**COMMON_FIELDS, "name": char("Name")}, extra={"stub": True}
    )
