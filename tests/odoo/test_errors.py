"""Classification of the error objects a real Odoo 17 server sent (transcripts 01 and 10)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from apps.core.errors import (
    ConfigurationError,
    LockContention,
    PermanentError,
    RateLimited,
    TransientError,
)
from apps.odoo.errors import (
    OdooAccessError,
    OdooAuthError,
    OdooMissingError,
    OdooValidationError,
    classify_http_status,
    classify_rpc_error,
)

RECORDED = json.loads((Path(__file__).parent / "data" / "odoo17_errors.json").read_text())["errors"]

# label in the recording -> expected class
EXPECTED: dict[str, type[Exception]] = {
    "non-existent model": ConfigurationError,
    "non-existent field in fields list": ConfigurationError,
    "non-existent field in domain": ConfigurationError,
    "write to non-existent field": ConfigurationError,
    "non-existent method": ConfigurationError,
    "bad selection value (detailed_type='storable' is the Odoo 18 value)": PermanentError,
    "ValidationError: duplicate barcode": OdooValidationError,
    "constraint: partner without name (SQL check constraint)": OdooValidationError,
    "SQL unique constraint: duplicate warehouse code": OdooValidationError,
    "missing required field partner_id": OdooValidationError,
    "missing record write id 999999": OdooMissingError,
    "private method (_ prefix)": OdooAccessError,
    "UserError-ish: validate an already done picking": PermanentError,
    "wrong argument type (limit='abc')": PermanentError,
    "unexpected keyword argument": PermanentError,
    "portal user: search_read product.product with qty fields": OdooAccessError,
    "portal user: search_read stock.quant (AccessError)": OdooAccessError,
    "portal user: create sale.order (AccessError)": OdooAccessError,
    "internal user without Inventory rights: stock.picking (AccessError)": OdooAccessError,
    "internal user without Sales rights: sale.order.action_confirm": OdooAccessError,
    "internal user: unlink a partner (AccessError)": OdooAccessError,
    "malformed: too few execute_kw args": PermanentError,
    "unknown service": ConfigurationError,
    "common.authenticate unknown database": ConfigurationError,
    "execute_kw with wrong password": OdooAuthError,
}


def test_every_recorded_error_is_covered() -> None:
    assert {e["label"] for e in RECORDED} == set(EXPECTED)


@pytest.mark.parametrize("recorded", RECORDED, ids=[e["label"] for e in RECORDED])
def test_recorded_error_classification(recorded: dict[str, Any]) -> None:
    # given an error object exactly as Odoo 17 sent it
    # when
    err = classify_rpc_error(recorded["error"], model=recorded["model"], method=recorded["method"])
    # then it lands in the expected class, is never retryable, and keeps Odoo's words
    assert isinstance(err, EXPECTED[recorded["label"]])
    assert not isinstance(err, TransientError)
    assert err.context["odoo_error"] == recorded["error"]["data"]["name"]
    assert err.context["odoo_message"] == recorded["error"]["data"]["message"]
    assert err.context["model"] == recorded["model"]
    assert err.context["method"] == recorded["method"]
    assert "debug" not in json.dumps(err.as_dict())


def _error(name: str, message: str, code: int = 200) -> dict[str, Any]:
    return {
        "code": code,
        "message": "Odoo Server Error",
        "data": {"name": name, "message": message, "arguments": [message], "context": {}},
    }


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "psycopg2.errors.SerializationFailure",
            "could not serialize access due to concurrent update",
        ),
        ("psycopg2.errors.LockNotAvailable", 'could not obtain lock on row in relation "x"'),
        ("psycopg2.extensions.TransactionRollbackError", "deadlock detected"),
        ("odoo.exceptions.UserError", "could not serialize access due to concurrent update"),
    ],
)
def test_serialization_failures_are_lock_contention(name: str, message: str) -> None:
    err = classify_rpc_error(_error(name, message), model="sale.order", method="action_confirm")
    assert isinstance(err, LockContention)
    assert err.context["model"] == "sale.order"


def test_session_expired_and_lost_database_connection_are_transient() -> None:
    expired = classify_rpc_error(
        _error("odoo.http.SessionExpiredException", "Session expired", code=100),
        model=None,
        method="call_kw",
    )
    gone = classify_rpc_error(
        _error("psycopg2.OperationalError", "server closed the connection unexpectedly"),
        model="res.partner",
        method="read",
    )
    assert isinstance(expired, TransientError)
    assert not isinstance(expired, LockContention)
    assert isinstance(gone, TransientError)


def test_unknown_error_names_are_permanent() -> None:
    err = classify_rpc_error(_error("odoo.addons.x.Boom", "boom"), model="m", method="x")
    assert isinstance(err, PermanentError)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (429, RateLimited),
        (502, TransientError),
        (503, TransientError),
        (504, TransientError),
        (500, TransientError),
        (404, ConfigurationError),
        (401, ConfigurationError),
        (400, PermanentError),
    ],
)
def test_http_status_classification(status: int, expected: type[Exception]) -> None:
    err = classify_http_status(status, model="sale.order", method="create", retry_after=7.0)
    assert isinstance(err, expected)
    assert err.context["http_status"] == status
    if status == 429:
        assert isinstance(err, RateLimited)
        assert err.retry_after == 7.0
