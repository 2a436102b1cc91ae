"""Odoo failures, classified into the core error hierarchy at the edge.

Odoo answers almost every failure with HTTP 200 and an ``error`` member whose ``data.name`` is the
Python exception path on the server. That name (plus, for a few generic names, the message) is
what we classify on; the rules are written from the recorded Odoo 17 transcripts:

- transient: the network, timeouts, HTTP 429/5xx, expired sessions, a database Odoo cannot reach;
- lock contention: PostgreSQL serialization/lock failures, retried without spending an attempt;
- configuration: bad credentials (AccessDenied), a model, field, method or service that does not
  exist (a module is missing or the version adapter is wrong), an unknown database;
- permanent: everything else Odoo refused (ValidationError, UserError, MissingError, AccessError,
  bad values or arguments). An unknown error name is permanent too: retrying something we do not
  understand only multiplies the load on Odoo.

Every error carries ``model``, ``method``, ``odoo_error`` (data.name) and ``odoo_message`` in its
context so the inbox can group and explain it. The server traceback (``data.debug``) is dropped on
purpose: it is large and contains server source lines.
"""

from __future__ import annotations

import re
from typing import Any

from apps.core.errors import (
    ConfigurationError,
    HubError,
    LockContention,
    PermanentError,
    RateLimited,
    TransientError,
)


class OdooTransientError(TransientError):
    """Odoo could not be reached or did not answer in time; the call may succeed later."""


class OdooRateLimited(RateLimited):
    """A proxy in front of Odoo answered 429."""


class OdooLockContention(LockContention):
    """Odoo hit a PostgreSQL serialization failure or a lock it could not take."""


class OdooBreakerOpen(OdooTransientError):
    """The circuit breaker is open: the call was not attempted. ``retry_after`` = next probe."""


class OdooPermanentError(PermanentError):
    """Odoo refused the call; the same call will be refused again."""


class OdooValidationError(OdooPermanentError):
    category = "validation"


class OdooUserError(OdooPermanentError):
    category = "validation"


class OdooMissingError(OdooPermanentError):
    category = "validation"


class OdooAccessError(OdooPermanentError):
    """The integration user lacks a group (see docs/odoo.md for the groups it needs)."""

    category = "validation"


class OdooConfigurationError(ConfigurationError):
    """Something a person must fix: credentials, a module, the database name, the URL."""


class OdooAuthError(OdooConfigurationError):
    """Wrong login, password or revoked API key."""


class OdooUnexpectedResponse(OdooTransientError):
    """The body was not a JSON-RPC answer (a proxy page, a truncated body)."""


# --- classification of Odoo error objects ------------------------------------------------------

_LOCK_NAMES = (
    "SerializationFailure",
    "LockNotAvailable",
    "TransactionRollbackError",
    "DeadlockDetected",
)
_LOCK_MESSAGES = (
    "could not serialize access",
    "concurrent update",
    "could not obtain lock",
    "deadlock detected",
)
# psycopg2.OperationalError is both "the database does not exist" (configuration) and "the server
# closed the connection / too many clients" (transient); the message tells them apart.
_MISSING_DB = re.compile(r"database \".*\" does not exist", re.IGNORECASE)
_MISSING_MODEL = re.compile(r"^Object \S+ doesn't exist", re.IGNORECASE)
_MISSING_FIELD = re.compile(r"^Invalid field ", re.IGNORECASE)
_MISSING_METHOD = re.compile(r"does not exist on the model", re.IGNORECASE)


def _context(
    *, model: str | None, method: str | None, name: str, message: str, code: Any
) -> dict[str, Any]:
    return {
        "model": model,
        "method": method,
        "odoo_error": name,
        "odoo_message": message,
        "odoo_code": code,
    }


def classify_rpc_error(error: Any, *, model: str | None, method: str | None) -> HubError:
    """Turn the ``error`` member of a JSON-RPC response into a classified hub error."""
    if not isinstance(error, dict):
        return OdooUnexpectedResponse(
            "Odoo returned a malformed error object", model=model, method=method
        )
    raw = error.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    name = str(data.get("name") or "")
    message = str(data.get("message") or error.get("message") or "")
    code = error.get("code")
    ctx = _context(model=model, method=method, name=name, message=message, code=code)
    where = f"{model}.{method}" if model else str(method)
    text = f"Odoo {name.rsplit('.', 1)[-1] or 'error'} on {where}: {message}".strip()

    lowered = message.lower()
    if any(part in name for part in _LOCK_NAMES) or any(m in lowered for m in _LOCK_MESSAGES):
        return OdooLockContention(text, context=ctx)
    if code == 100 or name.endswith("SessionExpiredException"):
        return OdooTransientError(text, context=ctx)
    if name == "odoo.exceptions.AccessDenied":
        return OdooAuthError(text, context=ctx)
    if name in ("psycopg2.OperationalError", "psycopg2.InterfaceError"):
        if _MISSING_DB.search(message):
            return OdooConfigurationError(text, context=ctx)
        return OdooTransientError(text, context=ctx)
    if name == "odoo.exceptions.UserError" and _MISSING_MODEL.search(message):
        return OdooConfigurationError(text, context=ctx)
    if name == "builtins.ValueError" and _MISSING_FIELD.search(message):
        return OdooConfigurationError(text, context=ctx)
    if name == "builtins.AttributeError" and _MISSING_METHOD.search(message):
        return OdooConfigurationError(text, context=ctx)
    if name == "builtins.KeyError":  # unknown JSON-RPC service: we talk to something odd
        return OdooConfigurationError(text, context=ctx)
    if name == "odoo.exceptions.ValidationError":
        return OdooValidationError(text, context=ctx)
    if name in ("odoo.exceptions.UserError", "odoo.exceptions.RedirectWarning"):
        return OdooUserError(text, context=ctx)
    if name == "odoo.exceptions.MissingError":
        return OdooMissingError(text, context=ctx)
    if name == "odoo.exceptions.AccessError":
        return OdooAccessError(text, context=ctx)
    return OdooPermanentError(text, context=ctx)


def classify_http_status(
    status: int, *, model: str | None, method: str | None, retry_after: float | None = None
) -> HubError:
    """A non-200 HTTP answer: Odoo itself answers 200, so this is a proxy or a dying worker."""
    ctx: dict[str, Any] = {"model": model, "method": method, "http_status": status}
    text = f"Odoo answered HTTP {status} on {model}.{method}" if model else f"HTTP {status}"
    if status == 429:
        return OdooRateLimited(text, retry_after=retry_after, context=ctx)
    if status >= 500 or status == 408:
        return OdooTransientError(text, retry_after=retry_after, context=ctx)
    if status in (401, 403, 404):  # wrong URL, a proxy that wants credentials
        return OdooConfigurationError(text, context=ctx)
    return OdooPermanentError(text, context=ctx)


class OdooBusy(OdooLockContention):
    """Every shared Odoo call slot stayed taken for the whole wait (see protection.py)."""
