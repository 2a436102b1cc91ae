"""The returns flow's own errors, for the inbox (each names the channel, order number, refund or
return id, SKUs and amounts in its message and context)."""

from __future__ import annotations

from typing import Any

from apps.core.errors import PermanentError


class ReturnProblem(PermanentError):
    """Goods coming back that do not fit: more than shipped, or lines Odoo never shipped."""

    category = "data_conflict"


class RefundOnCancelledOrder(PermanentError):
    """The channel refunded an order Odoo cancelled: nothing to credit, a person checks."""

    category = "data_conflict"


class CreditNoteMismatch(PermanentError):
    """The Odoo credit note's total differs from the channel's refund: left in draft."""

    category = "data_conflict"


class RefundSyncFailed(PermanentError):
    """A returns work row failed (a channel refund, a credit note, a return picking); keeps the
    category of its cause so the inbox suggests the right fix."""

    def __init__(self, message: str, *, category: str, **context: Any) -> None:
        super().__init__(message, **context)
        self.category = category
