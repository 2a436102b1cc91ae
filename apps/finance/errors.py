"""The finance flow's own errors, for the inbox (each names the channel, order, payout and
amounts in its message and context)."""

from __future__ import annotations

from apps.core.errors import MappingMissing, PermanentError


class PayoutDifference(PermanentError):
    """A payout line the hub cannot explain (no order, an amount that differs, an adjustment)."""

    category = "data_conflict"


class PaymentJournalMissing(MappingMissing):
    """The channel's payment gateway has no Odoo journal in the value map."""


class FinanceSyncFailed(PermanentError):
    """A finance work row failed (an invoice, a payment, a payout posting)."""

    category = "unknown"
