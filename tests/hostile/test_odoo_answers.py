"""Hostile Odoo answers over HTTP from the sandbox (``fail_next`` with ``answer``,
sandbox/odoo/hostile.py): the client classifies every one, never hands the gateway a value of the
wrong shape, and never raises a bare exception.

- a body that is not JSON (a proxy's HTML page, truncated JSON, nothing) or a 200 with an error
  string instead of an error object: ``OdooUnexpectedResponse``, transient (reads are retried
  inside the client, so every attempt gets the broken answer here);
- JSON that is no JSON-RPC answer (``{}``) or a result of the wrong shape for the ORM method
  (``null`` for ``search_read``, a string for ``search_count``, a record without a field asked
  for): ``BadPartnerAnswer``, permanent, naming the model and the method.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.errors import HubError
from apps.core.shapes import BadPartnerAnswer, problem
from apps.odoo.client import READ_RETRIES, OdooClient, OdooConfig, result_shape
from apps.odoo.errors import OdooUnexpectedResponse

from .test_channel_answers import JSON

pytestmark = [pytest.mark.django_db]

CALLS: list[tuple[str, str, list[Any], dict[str, Any]]] = [
    ("res.partner", "search_read", [[]], {"fields": ["name", "email"], "limit": 2}),
    ("res.partner", "search", [[]], {"limit": 2}),
    ("res.partner", "search_count", [[]], {}),
    ("res.partner", "read", [[1], ["name"]], {}),
    ("res.partner", "create", [{"name": "Hostile"}], {}),
    ("res.partner", "write", [[1], {"name": "Hostile"}], {}),
]
READS = {"search_read", "search", "search_count", "read"}
UNREADABLE = ("html_page", "truncated_json", "empty_body")
WRONG = ("empty_object", "missing_result", "wrong_type")
# A 200 with {"error": "<text>"}: no error object over JSON-RPC (transient, like a proxy page);
# over JSON-2 (no envelope) a result of the wrong shape.
ERROR_BODY = "error_body"


@pytest.fixture(params=["jsonrpc", "json2"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sandbox(request: pytest.FixtureRequest, transport: str) -> Any:
    """The Odoo 17 sandbox for JSON-RPC, the Odoo 19 one (API key) for JSON-2."""
    return request.getfixturevalue("odoo_sandbox" if transport == "jsonrpc" else "odoo_sandbox19")


@pytest.fixture
def odoo(sandbox: Any, transport: str) -> OdooClient:
    sb = sandbox
    config = OdooConfig(
        url=sb.url.rstrip("/"),
        db=sb.db,
        user=sb.user,
        password=sb.password,
        api_key=sb.api_key,
        transport=transport,
    )
    client = OdooClient(config)
    client.uid()  # log in before the broken answers start
    assert client.transport.name == transport
    return client


def break_next(sb: Any, model: str, method: str, n: int, **item: Any) -> None:
    sb.set_faults(fail_next=[{"model": model, "method": method, **item}] * n)


def attempts(method: str) -> int:
    return 1 + READ_RETRIES if method in READS else 1


@pytest.mark.parametrize(("model", "method", "args", "kwargs"), CALLS, ids=lambda v: str(v)[:20])
@pytest.mark.parametrize("answer", [*UNREADABLE, *WRONG, ERROR_BODY])
def test_every_hostile_odoo_answer_is_classified(
    odoo: OdooClient,
    sandbox: Any,
    transport: str,
    answer: str,
    model: str,
    method: str,
    args: list[Any],
    kwargs: dict[str, Any],
) -> None:
    unreadable = answer in UNREADABLE or (answer == ERROR_BODY and transport == "jsonrpc")
    # a transient answer is retried inside the client (reads): every attempt gets it
    n = attempts(method) if unreadable else 1
    break_next(sandbox, model, method, n, answer=answer)
    with pytest.raises(HubError) as caught:
        odoo.call(model, method, args, kwargs)
    exc = caught.value
    assert sandbox.faults()["fail_next"] == []
    if unreadable:
        assert isinstance(exc, OdooUnexpectedResponse), exc
    else:
        assert isinstance(exc, BadPartnerAnswer), exc
        assert exc.context["model"] == model and exc.context["method"] == method
        assert exc.context["partner"] == "odoo" and exc.context["operation"] == f"{model}.{method}"


def test_a_record_without_a_field_asked_for_is_a_bad_answer(odoo: OdooClient, sandbox: Any) -> None:
    break_next(sandbox, "res.partner", "search_read", 1, answer="result", result=[{"id": 1}])
    with pytest.raises(BadPartnerAnswer) as caught:
        odoo.call("res.partner", "search_read", [[]], {"fields": ["name", "email"]})
    assert caught.value.context["shape_problem"] == "result[0].name: missing"
    # and the sandbox answers normally again: the same call reads real records
    rows = odoo.call("res.partner", "search_read", [[]], {"fields": ["name"], "limit": 1})
    assert rows and set(rows[0]) >= {"id", "name"}


@pytest.mark.parametrize(("model", "method", "args", "kwargs"), CALLS, ids=lambda v: str(v)[:20])
def test_arbitrary_results_are_either_the_right_shape_or_classified(
    odoo: OdooClient,
    sandbox: Any,
    transport: str,
    model: str,
    method: str,
    args: list[Any],
    kwargs: dict[str, Any],
) -> None:
    spec = result_shape(method, args, kwargs)

    @settings(
        max_examples=15,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(result=JSON | st.lists(st.fixed_dictionaries({"id": st.integers(1, 9)}), max_size=2))
    def prop(result: Any) -> None:
        break_next(sandbox, model, method, 1, answer="result", result=result)
        if transport == "json2" and method == "create" and isinstance(result, list):
            # JSON-2 creates answer a list of ids; one record's create is unwrapped to its id
            result = result[0] if len(result) == 1 else result
        found = problem(result, spec, "result")
        try:
            got = odoo.call(model, method, args, kwargs)
        except HubError as exc:
            got = exc
        except Exception as exc:  # the defect this file exists for
            pytest.fail(f"{model}.{method}: bare {type(exc).__name__}: {exc}")
        if found is None:
            assert got == result  # a fitting answer is read as it is
        else:
            assert isinstance(got, BadPartnerAnswer) and got.context["shape_problem"] == found

    prop()
