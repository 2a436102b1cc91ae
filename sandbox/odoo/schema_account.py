"""Declarations of the accounting models: chart of accounts, journal items, reconciliation,
payments and bank statement lines, plus the accounting fields of models declared in
``schema`` (merged there before the registry is built).
"""

from __future__ import annotations

from .schema import (
    Field,
    Model,
    Selection,
    boolean,
    char,
    computed,
    date,
    integer,
    m2m,
    m2o,
    money,
    o2m,
    sel,
)

ACCOUNT_TYPES: Selection = [
    ("asset_receivable", "Receivable"),
    ("asset_cash", "Bank and Cash"),
    ("asset_current", "Current Assets"),
    ("asset_non_current", "Non-current Assets"),
    ("asset_prepayments", "Prepayments"),
    ("asset_fixed", "Fixed Assets"),
    ("liability_payable", "Payable"),
    ("liability_credit_card", "Credit Card"),
    ("liability_current", "Current Liabilities"),
    ("liability_non_current", "Non-current Liabilities"),
    ("equity", "Equity"),
    ("equity_unaffected", "Current Year Earnings"),
    ("income", "Income"),
    ("income_other", "Other Income"),
    ("expense", "Expenses"),
    ("expense_depreciation", "Depreciation"),
    ("expense_direct_cost", "Cost of Revenue"),
    ("off_balance", "Off-Balance Sheet"),
]
LINE_DISPLAY_TYPES: Selection = [
    ("product", "Product"),
    ("cogs", "Cost of Goods Sold"),
    ("tax", "Tax"),
    ("rounding", "Rounding"),
    ("payment_term", "Payment Term"),
    ("line_section", "Section"),
    ("line_note", "Note"),
    ("epd", "Early Payment Discount"),
]

ACCOUNT_MODELS: list[Model] = [
    Model(
        "account.account",
        "Account",
        {
            "code": char("Code", required=True),
            "name": char("Account Name", required=True),
            "account_type": sel("Type", ACCOUNT_TYPES, required=True),
            "reconcile": boolean("Allow Reconciliation"),
            "deprecated": boolean("Deprecated"),
            "currency_id": m2o("res.currency", "Account Currency"),
            "company_id": m2o("res.company", "Company", default=1),
        },
        order="code",
    ),
    Model(
        "account.full.reconcile",
        "Full Reconcile",
        {
            "partial_reconcile_ids": o2m(
                "account.partial.reconcile", "full_reconcile_id", "Reconciliation Parts"
            ),
            "reconciled_line_ids": o2m("account.move.line", "full_reconcile_id", "Matched"),
            "exchange_move_id": m2o("account.move", "Exchange Move"),
        },
    ),
    Model(
        "account.partial.reconcile",
        "Partial Reconcile",
        {
            "debit_move_id": m2o("account.move.line", "Debit line", required=True),
            "credit_move_id": m2o("account.move.line", "Credit line", required=True),
            "full_reconcile_id": m2o("account.full.reconcile", "Full Reconcile"),
            "amount": money("Amount"),
            "debit_amount_currency": money("Debit amount in currency"),
            "credit_amount_currency": money("Credit amount in currency"),
            "max_date": date("Max Date of Matched Lines"),
            "company_id": m2o("res.company", "Company", default=1),
        },
    ),
    Model(
        "account.bank.statement",
        "Bank Statement",
        {
            "name": char("Reference"),
            "journal_id": m2o("account.journal", "Journal"),
            "date": date("Date"),
            "line_ids": o2m("account.bank.statement.line", "statement_id", "Statement lines"),
        },
        order="date desc, name desc, id desc",
    ),
    Model(
        "account.bank.statement.line",
        "Bank Statement Line",
        {
            "move_id": m2o("account.move", "Journal Entry"),
            "journal_id": m2o("account.journal", "Journal", required=True),
            "statement_id": m2o("account.bank.statement", "Statement"),
            "date": date("Date", required=True),
            "payment_ref": char("Label"),
            "amount": money("Amount"),
            "partner_id": m2o("res.partner", "Partner"),
            "partner_name": char("Partner Name"),
            "account_number": char("Bank Account Number"),
            "narration": char("Notes"),
            "sequence": integer("Sequence", default=1),
            "currency_id": computed("many2one", "Journal Currency", comodel="res.currency"),
            "foreign_currency_id": m2o("res.currency", "Foreign Currency"),
            "amount_currency": money("Amount in Currency"),
            "is_reconciled": computed("boolean", "Is Reconciled"),
            "amount_residual": computed("float", "Residual Amount"),
            "state": computed(
                "selection",
                "Status",
                selection=[("draft", "Draft"), ("posted", "Posted"), ("cancel", "Cancelled")],
            ),
            "to_check": boolean("To Check"),
            "company_id": m2o("res.company", "Company", default=1),
        },
        order="date desc, sequence, id desc",
    ),
    Model(
        "ir.model.data",
        "Model Data",
        {
            "name": char("External Identifier", required=True),
            "module": char("Module", required=True),
            "model": char("Model Name", required=True),
            "res_id": integer("Record ID"),
            "complete_name": computed("char", "Complete ID"),
            "noupdate": boolean("Non Updatable"),
        },
        order="module, model, name",
    ),
]

# Accounting fields of models declared in ``schema``.
ACCOUNT_FIELDS: dict[str, dict[str, Field]] = {
    "res.company": {
        "account_journal_payment_debit_account_id": m2o(
            "account.account", "Journal Outstanding Receipts"
        ),
        "account_journal_payment_credit_account_id": m2o(
            "account.account", "Journal Outstanding Payments"
        ),
        "account_journal_suspense_account_id": m2o("account.account", "Journal Suspense"),
        "account_default_receivable_id": m2o("account.account", "Default Receivable"),
    },
    "account.journal": {
        "default_account_id": m2o("account.account", "Default Account"),
        "suspense_account_id": m2o("account.account", "Suspense Account"),
        "currency_id": m2o("res.currency", "Currency"),
        "bank_account_id": m2o("res.partner.bank", "Bank Account"),
        "inbound_payment_method_line_ids": computed(
            "many2many", "Inbound Payment Methods", comodel="account.payment.method.line"
        ),
        "outbound_payment_method_line_ids": computed(
            "many2many", "Outbound Payment Methods", comodel="account.payment.method.line"
        ),
    },
    "sale.order": {
        "team_id": m2o("crm.team", "Sales Team", default=1),
        "fiscal_position_id": m2o("account.fiscal.position", "Fiscal Position"),
        "amount_invoiced": computed("monetary", "Already invoiced"),
        "amount_to_invoice": computed("monetary", "Amount to invoice"),
    },
    "sale.order.line": {
        "is_downpayment": boolean("Is a down payment"),
        "product_type": computed(
            "selection",
            "Product Type",
            selection=[("consu", "Consumable"), ("service", "Service"), ("product", "Storable")],
        ),
    },
    "account.move": {
        "team_id": m2o("crm.team", "Sales Team"),
        "invoice_user_id": m2o("res.users", "Salesperson"),
        "fiscal_position_id": m2o("account.fiscal.position", "Fiscal Position"),
        "invoice_payment_term_id": m2o("account.payment.term", "Payment Terms"),
        "payment_id": m2o("account.payment", "Payment"),
        "statement_line_id": m2o("account.bank.statement.line", "Statement Line"),
        "payment_reference": char("Payment Reference"),
        "invoice_payments_widget": computed("binary", "Invoice Payments Widget"),
        "invoice_outstanding_credits_debits_widget": computed(
            "binary", "Invoice Outstanding Credits Debits Widget"
        ),
        "invoice_has_outstanding": computed("boolean", "Has Outstanding"),
        "posted_before": boolean("Posted Before"),
    },
    "account.move.line": {
        "sequence": integer("Sequence", default=10),
        "product_uom_id": m2o("uom.uom", "Unit of Measure"),
        "display_type": sel("Display Type", LINE_DISPLAY_TYPES, default="product"),
        "account_id": m2o("account.account", "Account"),
        "account_type": computed("selection", "Internal Type", selection=ACCOUNT_TYPES),
        "partner_id": m2o("res.partner", "Partner"),
        "debit": money("Debit"),
        "credit": money("Credit"),
        "balance": money("Balance"),
        "amount_currency": money("Amount in Currency"),
        "currency_id": m2o("res.currency", "Currency", default=1),
        "amount_residual": money("Residual Amount"),
        "amount_residual_currency": money("Residual Amount in Currency"),
        "reconciled": boolean("Reconciled"),
        "full_reconcile_id": m2o("account.full.reconcile", "Matching"),
        "matched_debit_ids": o2m("account.partial.reconcile", "credit_move_id", "Matched Debits"),
        "matched_credit_ids": o2m("account.partial.reconcile", "debit_move_id", "Matched Credits"),
        "payment_id": m2o("account.payment", "Originator Payment"),
        "statement_line_id": m2o("account.bank.statement.line", "Originator Statement Line"),
        "tax_line_id": m2o("account.tax", "Originator Tax"),
        "date": computed("date", "Date"),
        "date_maturity": date("Due Date"),
        "move_name": computed("char", "Number"),
        "parent_state": computed(
            "selection",
            "Status",
            selection=[("draft", "Draft"), ("posted", "Posted"), ("cancel", "Cancelled")],
        ),
        "journal_id": computed("many2one", "Journal", comodel="account.journal"),
        "ref": computed("char", "Reference"),
        "company_id": m2o("res.company", "Company", default=1),
    },
    "account.payment": {
        "move_id": m2o("account.move", "Journal Entry"),
        "partner_type": sel(
            "Partner Type", [("customer", "Customer"), ("supplier", "Vendor")], default="customer"
        ),
        "payment_method_line_id": m2o("account.payment.method.line", "Payment Method"),
        "outstanding_account_id": m2o("account.account", "Outstanding Account"),
        "destination_account_id": m2o("account.account", "Destination Account"),
        "is_reconciled": computed("boolean", "Is Reconciled"),
        "is_matched": computed("boolean", "Is Matched With a Bank Statement"),
        "reconciled_invoice_ids": computed(
            "many2many", "Reconciled Invoices", comodel="account.move"
        ),
        "company_id": m2o("res.company", "Company", default=1),
    },
    "account.payment.register": {
        "line_ids": m2m("account.move.line", "Journal items"),
        "source_amount": money("Amount to Pay (company currency)"),
        "payment_difference": computed("monetary", "Payment Difference"),
        "payment_difference_handling": sel(
            "Payment Difference Handling",
            [("open", "Keep open"), ("reconcile", "Mark as fully paid")],
            default="open",
        ),
        "writeoff_account_id": m2o("account.account", "Difference Account"),
        "writeoff_label": char("Journal Item Label", default="Write-Off"),
        "group_payment": boolean("Group Payments", default=True),
        "can_group_payments": computed("boolean", "Can Group Payments"),
        "payment_type": sel(
            "Payment Type", [("outbound", "Send"), ("inbound", "Receive")], default="inbound"
        ),
        "partner_type": sel(
            "Partner Type", [("customer", "Customer"), ("supplier", "Vendor")], default="customer"
        ),
        "company_id": m2o("res.company", "Company", default=1),
    },
    "account.payment.method.line": {
        "payment_account_id": m2o("account.account", "Outstanding Receipts/Payments Account"),
    },
}

STUB_MODELS: list[tuple[str, str]] = [
    ("res.partner.bank", "Bank Accounts"),
    ("crm.team", "Sales Team"),
    ("account.fiscal.position", "Fiscal Position"),
]
