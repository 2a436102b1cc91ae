"""Per-request / per-task context (correlation id and business keys) for logs and tasks."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)
_log_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "log_context", default=None
)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def get_correlation_id() -> str | None:
    return _correlation_id.get()


def set_correlation_id(value: str | None) -> contextvars.Token[str | None]:
    return _correlation_id.set(value)


def reset_correlation_id(token: contextvars.Token[str | None]) -> None:
    _correlation_id.reset(token)


def get_log_context() -> dict[str, Any]:
    return dict(_log_context.get() or {})


@contextmanager
def log_context(**values: Any) -> Iterator[None]:
    """Attach business keys (channel, order, sku...) to every log line inside the block."""
    token = _log_context.set({**get_log_context(), **values})
    try:
        yield
    finally:
        _log_context.reset(token)


@contextmanager
def correlation(value: str | None) -> Iterator[str]:
    cid = value or new_correlation_id()
    token = _correlation_id.set(cid)
    try:
        yield cid
    finally:
        _correlation_id.reset(token)
