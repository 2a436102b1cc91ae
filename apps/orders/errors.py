"""Order-flow errors (classified, so the task base and the inbox know what to do)."""

from __future__ import annotations

from apps.core.errors import DataConflict, PermanentError


class OrderRejected(PermanentError):
    """A payload that cannot become an order (no lines, bad quantity, unknown currency...)."""

    category = "validation"


class TransitionRefused(DataConflict):
    """The state machine does not allow the move, or someone else moved the order first."""


class IdempotencyConflict(DataConflict):
    """Same Idempotency-Key, different request body."""


class IdempotencyInFlight(DataConflict):
    """Same Idempotency-Key while the first request is still running."""
