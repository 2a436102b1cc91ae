"""Odoo-shaped exceptions and the JSON-RPC error envelope.

The names and messages mirror what a real Odoo 17 server put on the wire (see the recorded
transcripts); clients branch on ``error.data.name`` so those strings must match exactly.
"""

from __future__ import annotations

from typing import Any

USER_ERROR = "odoo.exceptions.UserError"
VALIDATION_ERROR = "odoo.exceptions.ValidationError"
ACCESS_ERROR = "odoo.exceptions.AccessError"
ACCESS_DENIED = "odoo.exceptions.AccessDenied"
MISSING_ERROR = "odoo.exceptions.MissingError"
VALUE_ERROR = "builtins.ValueError"
TYPE_ERROR = "builtins.TypeError"
KEY_ERROR = "builtins.KeyError"
ATTRIBUTE_ERROR = "builtins.AttributeError"
SESSION_EXPIRED = "odoo.http.SessionExpiredException"
SERIALIZATION_FAILURE = "psycopg2.errors.SerializationFailure"
SERIALIZATION_MESSAGE = "could not serialize access due to concurrent update"


# ``error.code`` of an ordinary failure: 200 on 17, 0 on 19 (versions.py sets it).
DEFAULT_CODE = 200


class OdooError(Exception):
    """An error that is reported to the client as a JSON-RPC error object."""

    def __init__(self, name: str, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.code = DEFAULT_CODE if code is None else code


def user_error(message: str) -> OdooError:
    return OdooError(USER_ERROR, message)


def validation_error(message: str) -> OdooError:
    return OdooError(VALIDATION_ERROR, message)


def value_error(message: str) -> OdooError:
    return OdooError(VALUE_ERROR, message)


def error_body(req_id: Any, err: OdooError) -> dict[str, Any]:
    """Build the exact envelope Odoo 17 sends; key order follows the recordings."""
    # Real servers put the Python traceback in ``debug``; we give a short, honest stand-in so
    # clients that log it have something to show without leaking anything of this process.
    debug = (
        "Traceback (most recent call last):\n"
        '  File "<odoo-sandbox>", line 1, in <module>\n'
        f"{err.name.rsplit('.', 1)[-1]}: {err.message}\n"
    )
    message = "Odoo Session Expired" if err.code == 100 else "Odoo Server Error"
    return {
        "jsonrpc": "2.0",
        "id": req_id,
        "error": {
            "code": err.code,
            "message": message,
            "data": {
                "name": err.name,
                "debug": debug,
                "message": err.message,
                "arguments": [err.message],
                "context": {},
            },
        },
    }
