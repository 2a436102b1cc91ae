"""The error hierarchy every edge classifies into.

Edges (the Odoo gateway, channel clients, translators) raise these, never bare exceptions, so the
task base and the inbox can decide what to do without knowing where an error came from:

- TransientError: worth retrying (network, timeouts, 429/5xx, Odoo serialization failures).
- LockContention: someone else holds the entity; retry soon without spending an attempt.
- PermanentError: retrying cannot help (validation, access, bad payload) -> inbox at once.
- ConfigurationError: a person must fix settings or mappings (wrong password, missing module).
"""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from redis.exceptions import ConnectionError as CacheConnectionError
from redis.exceptions import TimeoutError as CacheTimeoutError


class HubError(Exception):
    """Base of every classified error. Carries context for the inbox."""

    category = "unknown"
    retryable = False

    def __init__(self, message: str, *, context: dict[str, Any] | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        self.context: dict[str, Any] = {**(context or {}), **extra}

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, Any]:
        return {
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "category": self.category,
            "message": self.message,
            "context": {k: v for k, v in self.context.items() if _jsonable(v)},
        }


def _jsonable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, type(None), list, dict))


class TransientError(HubError):
    """A failure that may succeed on retry. `retry_after` (seconds) overrides the backoff."""

    category = "odoo_unavailable"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class RateLimited(TransientError):
    category = "rate_limited"


class LockContention(TransientError):
    """The entity is busy (a lease, a row lock, an Odoo serialization failure).

    Retried quickly and without spending the attempt budget: contention says nothing about
    whether the work itself can succeed.
    """

    category = "data_conflict"


class PermanentError(HubError):
    category = "validation"


class ConfigurationError(PermanentError):
    category = "mapping_missing"


class MappingMissing(ConfigurationError):
    category = "mapping_missing"


class ChannelAuthError(ConfigurationError):
    category = "channel_auth"


class DataConflict(PermanentError):
    category = "data_conflict"


# Our own database or shared cache (Redis) failing for a moment (a restart, a failover) says
# nothing about the work that met it: every work runner classifies these as transient where it
# catches exceptions, never as an unknown failure for the inbox.
INFRASTRUCTURE_ERRORS: tuple[type[Exception], ...] = (
    DatabaseOperationalError,
    DatabaseInterfaceError,
    CacheConnectionError,
    CacheTimeoutError,
)
