"""Seed data: one US company, two warehouses, products with stock, customers, users.

Built through the same ORM code paths as RPC calls (warehouse creation, inventory
adjustments) so the seeded state is one a real server could be in.
"""

from __future__ import annotations

from .access import GROUP_XML_IDS, GROUPS
from .orm import Env
from .schema import MAIL_THREAD_MODELS, REGISTRY
from .stock import quant_create
from .store import Store

ADMIN_UID = 2

# (default_code, name, list_price, standard_price, barcode, qty in WH, qty in WH2, policy)
# The generic chart's accounts an integration meets (codes as on a real 17 database).
ACCOUNTS: list[tuple[str, str, str, bool]] = [
    ("101401", "Bank", "asset_cash", False),
    ("101402", "Bank Suspense Account", "asset_current", False),
    ("101403", "Outstanding Receipts", "asset_current", True),
    ("101404", "Outstanding Payments", "asset_current", True),
    ("101501", "Cash", "asset_cash", False),
    ("121000", "Account Receivable", "asset_receivable", True),
    ("211000", "Account Payable", "liability_payable", True),
    ("251000", "Tax Received", "liability_current", False),
    ("400000", "Product Sales", "income", False),
    ("600000", "Expenses", "expense", False),
    ("620000", "Bank Fees", "expense", False),
    ("999999", "Undistributed Profits/Losses", "equity_unaffected", False),
]

PRODUCTS: list[tuple[str, str, float, float, str | None, float, float, str]] = [
    ("SKU-001", "Office Chair", 149.0, 80.0, "4006381333931", 120, 40, "delivery"),
    ("SKU-002", "Standing Desk", 499.0, 260.0, "4006381333948", 35, 10, "delivery"),
    ("SKU-003", "Desk Lamp", 39.9, 14.0, None, 200, 0, "delivery"),
    ("SKU-004", "Monitor Arm", 89.0, 41.0, None, 75, 25, "delivery"),
    ("SKU-005", "Ergonomic Keyboard", 119.0, 55.0, "4006381333955", 60, 60, "delivery"),
    ("SKU-006", "Wireless Mouse", 29.9, 9.5, None, 300, 150, "delivery"),
    ("SKU-007", "Laptop Stand", 49.0, 18.0, None, 90, 0, "delivery"),
    ("SKU-008", "Cable Organizer", 12.5, 3.2, None, 500, 250, "delivery"),
    ("SKU-009", "Whiteboard 120x90", 159.0, 70.0, None, 15, 5, "delivery"),
    ("SKU-010", "Filing Cabinet", 229.0, 110.0, None, 20, 0, "delivery"),
    ("SKU-011", "Bookshelf", 189.0, 85.0, None, 12, 8, "delivery"),
    ("SKU-012", "Footrest", 35.0, 12.0, None, 80, 20, "order"),
    ("SKU-013", "Noise Cancelling Headset", 249.0, 120.0, "4006381333962", 40, 0, "delivery"),
    ("SKU-014", "Webcam 4K", 139.0, 60.0, None, 0, 0, "delivery"),
    ("SKU-015", "Conference Speaker", 299.0, 150.0, None, 0, 18, "delivery"),
    ("SKU-016", "Docking Station", 259.0, 130.0, None, 0, 22, "delivery"),
    ("WIDGET-RED", "Widget (Red)", 25.0, 10.0, "20000000017", 120, 30, "delivery"),
    ("WIDGET-BLUE", "Widget (Blue)", 25.0, 10.0, "20000000024", 80, 0, "delivery"),
    ("GADGET-XL", "Gadget XL", 75.0, 33.0, None, 45, 15, "delivery"),
    ("CABLE-USB-C", "USB-C Cable 2m", 9.9, 2.1, "20000000031", 1000, 400, "order"),
]


def seed(store: Store, demo: bool = True) -> None:
    """Load the base records; ``demo`` adds products, stock, pricelists, carriers and
    customers."""
    store.clear()
    env = Env(store, 1, {})
    new = env.new_raw

    for key, full_name in GROUPS:
        new("res.groups", {"name": full_name.split(" / ")[-1], "full_name": full_name, "_key": key})
    gid = {rec["_key"]: rid for rid, rec in store.tables["res.groups"].items()}

    usd = new(
        "res.currency",
        {"name": "USD", "symbol": "$", "rate": 1.0, "active": True, "decimal_places": 2},
    )
    new(
        "res.currency",
        {"name": "EUR", "symbol": "€", "rate": 0.92, "active": True, "decimal_places": 2},
    )
    countries = {}
    for code, name in (
        ("US", "United States"),
        ("CA", "Canada"),
        ("GB", "United Kingdom"),
        ("DE", "Germany"),
        ("FR", "France"),
        ("BE", "Belgium"),
        ("NL", "Netherlands"),
        ("ES", "Spain"),
        ("IT", "Italy"),
        ("AU", "Australia"),
    ):
        countries[code] = new("res.country", {"name": name, "code": code})
    for code, name in (
        ("CA", "California"),
        ("NY", "New York"),
        ("TX", "Texas"),
        ("WA", "Washington"),
    ):
        new("res.country.state", {"name": name, "code": code, "country_id": countries["US"]})

    company_partner = env.create_one(
        "res.partner",
        {
            "name": "My Company",
            "is_company": True,
            "street": "250 Executive Park Blvd",
            "city": "San Francisco",
            "zip": "94134",
            "country_id": countries["US"],
            "email": "info@mycompany.example.com",
        },
    )
    company = new(
        "res.company",
        {
            "name": "My Company",
            "currency_id": usd,
            "partner_id": company_partner,
            "country_id": countries["US"],
        },
    )
    env.upd("res.partner", company_partner, {"company_id": company})

    # uid 1 is the superuser (OdooBot) so that admin gets uid 2 like on a real database.
    bot_partner = env.create_one("res.partner", {"name": "OdooBot", "active": False})
    new(
        "res.users",
        {
            "name": "OdooBot",
            "login": "__system__",
            "password": None,
            "partner_id": bot_partner,
            "active": False,
            "company_id": company,
            "groups_id": list(gid.values()),
            "share": False,
        },
    )
    admin_partner = env.create_one(
        "res.partner",
        {
            "name": "Mitchell Admin",
            "parent_id": company_partner,
            "email": "admin@mycompany.example.com",
        },
    )
    new(
        "res.users",
        {
            "name": "Mitchell Admin",
            "login": "admin",
            "password": "admin",
            "partner_id": admin_partner,
            "active": True,
            "company_id": company,
            # Like the demo admin: no "Show Full Accounting Features" (transcript 15 #27).
            "groups_id": [g for k, g in gid.items() if k not in ("portal", "account_user")],
            "tz": "Europe/Brussels",
            "lang": "en_US",
            "share": False,
        },
    )
    integ_partner = env.create_one(
        "res.partner", {"name": "Integration Bot", "email": "integration@example.com"}
    )
    integration_groups = [
        "internal",
        "partner_manager",
        "sale_user",
        "sale_manager",
        "stock_user",
        "stock_manager",
        "account_invoice",
        "account_manager",
    ]
    new(
        "res.users",
        {
            "name": "Integration Bot",
            "login": "integration",
            "password": "integration",
            "partner_id": integ_partner,
            "active": True,
            "company_id": company,
            "groups_id": [gid[k] for k in integration_groups],
            "tz": "UTC",
            "lang": "en_US",
            "share": False,
        },
    )

    for name, factor, utype in (
        ("Units", 1.0, "reference"),
        ("Dozens", 1 / 12.0, "bigger"),
        ("kg", 1.0, "reference"),
    ):
        new("uom.uom", {"name": name, "factor": factor, "uom_type": utype})
    all_categ = new("product.category", {"name": "All"})
    new("product.category", {"name": "Saleable", "parent_id": all_categ})

    tax15 = env.create_one("account.tax", {"name": "15%", "amount": 15.0})
    env.create_one("account.tax", {"name": "10%", "amount": 10.0})
    env.create_one("account.tax", {"name": "20%", "amount": 20.0})
    env.upd("res.company", company, {"_default_sale_tax": tax15})

    new("crm.team", {"name": "Sales"})
    acc = {
        code: new(
            "account.account",
            {
                "code": code,
                "name": name,
                "account_type": atype,
                "reconcile": rec,
                "company_id": company,
            },
        )
        for code, name, atype, rec in ACCOUNTS
    }
    env.upd(
        "res.company",
        company,
        {
            "account_journal_payment_debit_account_id": acc["101403"],
            "account_journal_payment_credit_account_id": acc["101404"],
            "account_journal_suspense_account_id": acc["101402"],
            "account_default_receivable_id": acc["121000"],
        },
    )
    for name, code, jtype, default, suspense in (
        ("Customer Invoices", "INV", "sale", "400000", None),
        ("Vendor Bills", "BILL", "purchase", "600000", None),
        ("Miscellaneous Operations", "MISC", "general", None, None),
        ("Bank", "BNK1", "bank", "101401", "101402"),
        ("Cash", "CSH1", "cash", "101501", "101402"),
        ("Exchange Difference", "EXCH", "general", None, None),
        ("Cash Basis Taxes", "CABA", "general", None, None),
        ("Inventory Valuation", "STJ", "general", None, None),
    ):
        jid = new(
            "account.journal",
            {
                "name": name,
                "code": code,
                "type": jtype,
                "company_id": company,
                "default_account_id": acc[default] if default else None,
                "suspense_account_id": acc[suspense] if suspense else None,
            },
        )
        if jtype == "bank":
            for ptype in ("inbound", "outbound"):
                new(
                    "account.payment.method.line",
                    {"name": "Manual", "journal_id": jid, "payment_type": ptype},
                )

    physical = env.create_one("stock.location", {"name": "Physical Locations", "usage": "view"})
    partners = env.create_one("stock.location", {"name": "Partners", "usage": "view"})
    virtual = env.create_one("stock.location", {"name": "Virtual Locations", "usage": "view"})
    env.create_one(
        "stock.location", {"name": "Vendors", "usage": "supplier", "location_id": partners}
    )
    env.create_one(
        "stock.location", {"name": "Customers", "usage": "customer", "location_id": partners}
    )
    env.create_one(
        "stock.location",
        {"name": "Inventory adjustment", "usage": "inventory", "location_id": virtual},
    )
    assert physical
    wh1 = env.create_one(
        "stock.warehouse",
        {"name": "Main Warehouse", "code": "WH", "partner_id": company_partner, "sequence": 1},
    )
    wh2 = env.create_one(
        "stock.warehouse",
        {"name": "Second Warehouse", "code": "WH2", "partner_id": company_partner, "sequence": 2},
    )
    wh1_stock = store.tables["stock.warehouse"][wh1]["lot_stock_id"]
    wh2_stock = store.tables["stock.warehouse"][wh2]["lot_stock_id"]
    env.create_one(
        "stock.location", {"name": "Shelf 1", "usage": "internal", "location_id": wh1_stock}
    )

    if demo:
        _demo(env, countries, all_categ, usd, wh1_stock, wh2_stock)

    acct_partner = env.create_one(
        "res.partner", {"name": "Accounting Bot", "email": "accounting@example.com"}
    )
    new(
        "res.users",
        {
            "name": "Accounting Bot",
            "login": "accounting",
            "password": "accounting",
            "partner_id": acct_partner,
            "active": True,
            "company_id": company,
            "groups_id": [gid[k] for k in ("internal", "account_invoice", "account_user")],
            "tz": "UTC",
            "lang": "en_US",
            "share": False,
        },
    )
    for key, xml_id in GROUP_XML_IDS.items():
        module, _, name = xml_id.partition(".")
        new(
            "ir.model.data",
            {"module": module, "name": name, "model": "res.groups", "res_id": gid[key]},
        )
    for module, name, model, res_id in (
        ("base", "main_company", "res.company", company),
        ("base", "user_admin", "res.users", 2),
        ("base", "main_partner", "res.partner", company_partner),
        # the chart's Outstanding Receipts/Payments (18+ knows them only by these ids)
        (
            "account",
            f"{company}_account_journal_payment_debit_account_id",
            "account.account",
            acc["101403"],
        ),
        (
            "account",
            f"{company}_account_journal_payment_credit_account_id",
            "account.account",
            acc["101404"],
        ),
    ):
        new("ir.model.data", {"module": module, "name": name, "model": model, "res_id": res_id})

    for name, state in (
        ("base", "installed"),
        ("sale_management", "installed"),
        ("sale_stock", "installed"),
        ("stock", "installed"),
        ("account", "installed"),
        ("base_automation", "installed"),
        ("delivery", "installed"),
        ("stock_delivery", "installed"),
        ("website_sale", "uninstalled"),
        ("purchase", "uninstalled"),
    ):
        new(
            "ir.module.module",
            {
                "name": name,
                "shortdesc": name.replace("_", " ").title(),
                "state": state,
                "latest_version": "17.0.1.0" if state == "installed" else None,
            },
        )

    for mname, mdef in sorted(REGISTRY.items()):
        mid = new(
            "ir.model",
            {
                "name": mdef.description,
                "model": mname,
                "transient": mdef.transient,
                "is_mail_thread": mname in MAIL_THREAD_MODELS,
            },
        )
        for fname, f in mdef.fields.items():
            new(
                "ir.model.fields",
                {
                    "name": fname,
                    "model": mname,
                    "model_id": mid,
                    "field_description": f.string,
                    "ttype": f.type,
                    "relation": f.comodel,
                    "store": f.store,
                    "required": f.required,
                    "readonly": f.readonly,
                },
            )
    store.dirty.clear()


def _demo(
    env: Env,
    countries: dict[str, int],
    all_categ: int,
    usd: int,
    wh1_stock: int,
    wh2_stock: int,
) -> None:
    public = env.create_one(
        "product.pricelist", {"name": "Public Pricelist", "currency_id": usd, "sequence": 1}
    )
    wholesale = env.create_one(
        "product.pricelist",
        {
            "name": "Wholesale",
            "currency_id": usd,
            "sequence": 2,
            "item_ids": [
                [
                    0,
                    0,
                    {
                        "applied_on": "3_global",
                        "compute_price": "percentage",
                        "percent_price": 10.0,
                    },
                ]
            ],
        },
    )
    assert public

    inv_env = env.with_ctx(inventory_mode=True)
    for code, name, price, cost, barcode, q1, q2, policy in PRODUCTS:
        pid = env.create_one(
            "product.product",
            {
                "name": name,
                "default_code": code,
                "detailed_type": "product",
                "list_price": price,
                "standard_price": cost,
                "barcode": barcode or False,
                "invoice_policy": policy,
                "weight": 1.0,
                "categ_id": all_categ + 1,
            },
        )
        for loc, qty in ((wh1_stock, q1), (wh2_stock, q2)):
            if qty:
                quant_create(
                    inv_env,
                    "stock.quant",
                    {"product_id": pid, "location_id": loc, "inventory_quantity_auto_apply": qty},
                )
    env.create_one(
        "product.product",
        {
            "name": "Shipping",
            "default_code": "SHIP",
            "detailed_type": "service",
            "list_price": 9.95,
            "invoice_policy": "order",
            "taxes_id": [[6, 0, []]],
        },
    )
    env.create_one(
        "product.product",
        {
            "name": "Gift Wrapping",
            "default_code": "GIFT-WRAP",
            "detailed_type": "consu",
            "list_price": 4.5,
            "invoice_policy": "order",
        },
    )
    env.create_one(
        "product.product",
        {
            "name": "On-site Installation",
            "default_code": "SVC-INSTALL",
            "detailed_type": "service",
            "list_price": 120.0,
            "invoice_policy": "order",
        },
    )
    # Carriers with their own delivery products, as in Odoo's demo data ("[Delivery_007]
    # Standard delivery"); SHIP stays the hub's fallback shipping product.
    for code, name, price in (
        ("Delivery_STD", "Standard Delivery", 9.95),
        ("Delivery_EXP", "Express Delivery", 24.95),
        ("Delivery_FREE", "Free Shipping", 0.0),
    ):
        product = env.create_one(
            "product.product",
            {
                "name": name,
                "default_code": code,
                "detailed_type": "service",
                "list_price": price,
                "invoice_policy": "order",
                "sale_ok": False,
                "taxes_id": [[6, 0, []]],
            },
        )
        env.create_one(
            "delivery.carrier",
            {"name": name, "fixed_price": price, "product_id": product, "delivery_type": "fixed"},
        )

    acme = env.create_one(
        "res.partner",
        {
            "name": "Acme Distribution",
            "is_company": True,
            "ref": "ACME",
            "email": "orders@acme.example.com",
            "phone": "+1 555 0100",
            "street": "100 Industrial Way",
            "city": "Springfield",
            "zip": "62701",
            "country_id": countries["US"],
            "state_id": None,
            "credit_limit": 50000.0,
            "use_partner_credit_limit": True,
            "customer_rank": 1,
            "property_product_pricelist": wholesale,
            "vat": "US123456789",
        },
    )
    env.create_one(
        "res.partner",
        {
            "name": "Acme Receiving Dock",
            "parent_id": acme,
            "type": "delivery",
            "street": "7 Dock Road",
            "city": "Shelbyville",
            "zip": "62565",
            "country_id": countries["US"],
        },
    )
    env.create_one(
        "res.partner",
        {
            "name": "Acme Accounts Payable",
            "parent_id": acme,
            "type": "invoice",
            "email": "ap@acme.example.com",
        },
    )
    env.create_one(
        "res.partner",
        {
            "name": "Wile E. Buyer",
            "parent_id": acme,
            "type": "contact",
            "email": "buyer@acme.example.com",
        },
    )
    env.create_one(
        "res.partner",
        {
            "name": "Globex Retail",
            "is_company": True,
            "ref": "GLOBEX",
            "email": "purchasing@globex.example.com",
            "city": "Cypress Creek",
            "country_id": countries["US"],
            "customer_rank": 1,
            "credit_limit": 10000.0,
        },
    )
    env.create_one(
        "res.partner",
        {
            "name": "John Doe",
            "email": "john.doe@example.com",
            "phone": "+1 555 0199",
            "street": "12 Elm Street",
            "city": "Portland",
            "zip": "97201",
            "country_id": countries["US"],
            "customer_rank": 1,
        },
    )
    env.create_one(
        "res.partner",
        {
            "name": "Maria Garcia",
            "email": "maria.garcia@example.com",
            "street": "Calle Mayor 5",
            "city": "Madrid",
            "zip": "28013",
            "country_id": countries["ES"],
        },
    )
