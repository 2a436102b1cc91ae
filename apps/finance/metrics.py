"""Finance metrics (prometheus_client multiprocess mode, see apps.core.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

INVOICES = Counter(
    "hub_finance_invoices_total", "Invoices the hub made or found in Odoo", ["channel", "outcome"]
)  # outcome: created, found
PAYMENTS = Counter(
    "hub_finance_payments_total", "Payments registered in Odoo", ["channel", "outcome"]
)  # outcome: created, found
PAYOUTS = Counter(
    "hub_finance_payouts_total", "Payouts by outcome", ["account", "outcome"]
)  # outcome: imported, matched, difference, posted
UNRECONCILED_AMOUNT = Gauge(
    "hub_finance_unreconciled_amount",
    "Net amount of imported payouts not posted to Odoo yet, per account and currency",
    ["account", "currency"],
    multiprocess_mode="mostrecent",
)
OLDEST_UNRECONCILED = Gauge(
    "hub_finance_oldest_unreconciled_payout_seconds",
    "Age of the oldest payout not posted to Odoo, per account (0 when none)",
    ["account"],
    multiprocess_mode="mostrecent",
)
