"""The JSON-2 transport over HTTP: against the sandbox started as Odoo 19 (``odoo_sandbox19``),
and, with the live_odoo mark, against a real Odoo 19 (ODOO_URL, ODOO_DB, ODOO_USER,
ODOO_PASSWORD, ODOO_API_KEY). Every call shape the gateway uses, every error class recorded in
transcript 20, the choice of transport at login, /readyz and the metric."""

from __future__ import annotations

import ast
import dataclasses
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from django.test import Client
from pytest_django.fixtures import SettingsWrapper

from apps.core.errors import (
    ConfigurationError,
    LockContention,
    PermanentError,
    TransientError,
)
from apps.odoo import client as client_module
from apps.odoo.client import JsonRpcTransport, OdooClient, OdooConfig
from apps.odoo.errors import (
    OdooAccessError,
    OdooAuthError,
    OdooConfigurationError,
    OdooMissingError,
    OdooUserError,
    OdooValidationError,
)
from apps.odoo.json2 import (
    METHODS,
    Json2Transport,
    Signature,
    classify_json2_error,
    settings_problems,
    to_body,
)
from tests.fixtures.sandbox import SANDBOX_API_KEY, OdooSandbox

REPO = Path(__file__).resolve().parents[2]
LIVE = ("ODOO_URL", "ODOO_DB", "ODOO_USER", "ODOO_API_KEY")


@dataclasses.dataclass
class Target:
    config: OdooConfig
    sandbox: OdooSandbox | None


def _config(url: str, db: str, user: str, password: str, key: str, transport: str) -> OdooConfig:
    return OdooConfig(
        url=url.rstrip("/"),
        db=db,
        user=user,
        password=password,
        timeout_read=30.0,
        max_concurrency=0,  # no shared slots: these tests look at the transport only
        api_key=key,
        api_key_user=user,
        transport=transport,
    )


@pytest.fixture(params=["sandbox19", pytest.param("live", marks=pytest.mark.live_odoo)])
def target(request: pytest.FixtureRequest, db: None) -> Target:
    if request.param == "live":
        if not all(os.environ.get(v) for v in LIVE):
            pytest.skip("live_odoo JSON-2: set ODOO_URL, ODOO_DB, ODOO_USER and ODOO_API_KEY")
        env = os.environ
        config = _config(
            env["ODOO_URL"],
            env["ODOO_DB"],
            env["ODOO_USER"],
            env.get("ODOO_PASSWORD", ""),
            env["ODOO_API_KEY"],
            "json2",
        )
        return Target(config, None)
    sb: OdooSandbox = request.getfixturevalue("odoo_sandbox19")
    return Target(_config(sb.url, sb.db, sb.user, sb.password, sb.api_key, "json2"), sb)


@pytest.fixture
def j2(target: Target) -> OdooClient:
    client = OdooClient(target.config)
    assert client.transport.name == "json2"
    return client


# --- call shapes ------------------------------------------------------------------------------


def test_version_and_uid(j2: OdooClient) -> None:
    version = j2.version()
    assert int(str(version["server_version_info"][0]).split("~")[-1]) >= 19
    assert j2.adapter.major >= 19
    assert j2.uid() > 0


def test_gateway_call_shapes(j2: OdooClient) -> None:
    tag = uuid.uuid4().hex[:8]
    # create with one dict answers one id (JSON-2 answers a list: unwrapped), a list answers ids
    pid = j2.call("res.partner", "create", [{"name": f"J2 {tag}", "ref": f"J2-{tag}"}])
    assert isinstance(pid, int)
    more = j2.call("res.partner", "create", [[{"name": f"J2 b {tag}"}, {"name": f"J2 c {tag}"}]])
    assert isinstance(more, list) and len(more) == 2
    # search_read positional domain + keyword fields/limit/order
    rows = j2.call(
        "res.partner",
        "search_read",
        [[["ref", "=", f"J2-{tag}"]]],
        {"fields": ["name", "ref"], "limit": 5, "order": "id"},
    )
    assert [r["id"] for r in rows] == [pid]
    # all positional
    rows = j2.call("res.partner", "search_read", [[["id", "=", pid]], ["name"], 0, 1, "id"])
    assert rows[0]["name"] == f"J2 {tag}"
    assert j2.call("res.partner", "search", [[["id", "in", [pid, *more]]]], {"order": "id"}) == [
        pid,
        *more,
    ]
    assert j2.call("res.partner", "search_count", [[["id", "in", more]]]) == 2
    # read: ids + fields by position; a single id is sent as a list
    assert j2.call("res.partner", "read", [pid, ["ref"]])[0]["ref"] == f"J2-{tag}"
    assert j2.call("res.partner", "write", [[pid], {"comment": "json2"}]) is True
    assert j2.call("res.partner", "read", [[pid]], {"fields": ["comment"]})[0]["comment"]
    found = j2.call("res.partner", "name_search", [f"J2 b {tag}"], {"limit": 5})
    assert [f[0] for f in found] == [more[0]]
    fields = j2.call("res.partner", "fields_get", [["name", "no_such"]], {"attributes": ["type"]})
    assert fields == {"name": {"type": "char"}}
    assert j2.call("res.partner", "check_access_rights", ["write"], {"raise_exception": False})
    addr = j2.call("res.partner", "address_get", [[pid], ["delivery", "invoice"]])
    assert addr == {"contact": pid, "delivery": pid, "invoice": pid}
    assert j2.call("res.partner", "unlink", [more]) is True
    assert j2.call("res.partner", "search_count", [[["id", "in", more]]]) == 0


def test_context_travels_and_buttons_take_ids(j2: OdooClient, target: Target) -> None:
    from apps.odoo.gateway import OdooGateway
    from tests.odoo.helpers import order, seed

    gw = OdooGateway(j2)
    tag = uuid.uuid4().hex[:8]
    s = seed(gw, tag)  # stock.quant create with context inventory_mode
    levels = j2.call(
        "product.product",
        "read",
        [list(s.products.values()), ["qty_available"]],
        context={"warehouse": s.warehouse_id},
    )
    assert [r["qty_available"] for r in levels] == [50.0, 50.0]
    refs = gw.sale_orders_ensure(
        orders=[order(tag, s, 1, [(f"T-{tag}-0", 2)])], confirm=True
    )  # create + action_confirm(ids)
    so = j2.call("sale.order", "read", [list(refs.values()), ["state"]])
    assert so[0]["state"] == "sale"


# --- the method table ---------------------------------------------------------------------


def test_unknown_method_and_missing_ids_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="sale.order.action_frobnicate is not in"):
        to_body("sale.order", "action_frobnicate", [[1]], {})
    with pytest.raises(ConfigurationError, match="without ids"):
        to_body("sale.order", "action_confirm", [], {})
    with pytest.raises(ConfigurationError, match="positional"):
        to_body("res.partner", "write", [[1], {"a": 1}, "extra"], {})
    with pytest.raises(ConfigurationError, match="both by position and by name"):
        to_body("res.partner", "read", [[1], ["name"]], {"fields": ["x"]})
    assert to_body("res.partner", "create", [{"name": "x"}], {"context": {"a": 1}}) == (
        {"vals_list": [{"name": "x"}], "context": {"a": 1}},
        True,
    )
    assert to_body("stock.picking", "button_validate", [[7]], {}) == ({"ids": [7]}, False)


def _literal_call_methods() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "apps").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "call"
                and len(node.args) >= 2
                and isinstance(node.args[0], (ast.Constant, ast.Call, ast.Name))
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
                and node.args[1].value not in ("GET", "POST", "PUT", "DELETE")
            ):
                names.add(node.args[1].value)
    return names


def test_every_method_the_hub_calls_is_in_the_table() -> None:
    from apps.odoo.versions import ADAPTERS

    used = _literal_call_methods()
    assert {"search_read", "create", "button_validate", "action_post"} <= used
    # methods chosen at run time: the adapters' return button, the wizards' buttons
    used |= {a.return_method for a in ADAPTERS.values()}
    used |= {"process", "process_cancel_backorder", "refund_moves", "reverse_moves"}
    assert sorted(used - set(METHODS)) == []


# --- errors, one per class recorded in transcript 20 -------------------------------------------


def _raises(j2: OdooClient, cls: type[Exception], *call: Any) -> Exception:
    with pytest.raises(cls) as info:
        j2.transport.execute(*call)
    return info.value


def test_recorded_error_classes(
    j2: OdooClient, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 401 bad key
    bad = OdooClient(dataclasses.replace(target.config, api_key="0" * 40))
    err = _raises(bad, OdooAuthError, "res.partner", "search_count", [[]], {})
    assert err.context["http_status"] == 401
    # 403 private method (never in the table: added here only to send it)
    monkeypatch.setitem(METHODS, "_create_invoices", Signature(True))
    _raises(j2, OdooAccessError, "sale.order", "_create_invoices", [[1]], {})
    # 404 unknown model, unknown method (a 17 method name on 19): configuration
    _raises(j2, OdooConfigurationError, "no.such.model", "search_read", [[]], {"limit": 1})
    _raises(j2, OdooConfigurationError, "stock.return.picking", "create_returns", [[1]], {})
    # 404 MissingError: permanent
    _raises(j2, OdooMissingError, "res.partner", "write", [[99999999], {"name": "x"}], {})
    # 422 ValidationError / UserError: permanent
    _raises(j2, OdooValidationError, "sale.order", "create", [{"order_line": []}], {})
    # 422 argument binding (the table does not fit the server): configuration
    err = _raises(j2, OdooConfigurationError, "res.partner", "read", [[1]], {"field": ["name"]})
    assert err.context["http_status"] == 422
    # 500 unknown field: configuration; 500 bad selection value: permanent
    _raises(j2, OdooConfigurationError, "res.partner", "read", [[1], ["no_such_field"]], {})
    err = _raises(
        j2, PermanentError, "product.product", "create", [{"name": "x", "type": "product"}], {}
    )
    assert not isinstance(err, (ConfigurationError, TransientError))


def test_user_error_is_permanent(j2: OdooClient) -> None:
    pid = j2.call("res.partner", "create", [{"name": "J2 SO"}])
    so = j2.call("sale.order", "create", [{"partner_id": pid}])
    j2.call("sale.order", "action_confirm", [[so]])
    _raises(j2, OdooUserError, "sale.order", "unlink", [[so]], {})


def test_unknown_database_is_an_html_404_and_a_configuration_error(target: Target) -> None:
    other = OdooClient(dataclasses.replace(target.config, db="no_such_db"))
    other.transport = Json2Transport(other.config, target.config.api_key)
    err = _raises(other, OdooConfigurationError, "res.partner", "search_count", [[]], {})
    assert err.context["http_status"] == 404
    assert "ODOO_DB" in str(err)


def test_missing_content_type_is_an_html_415_and_a_configuration_error(
    j2: OdooClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport: Any = j2.transport
    session = transport._http()
    monkeypatch.delitem(session.headers, "Content-Type")
    err = _raises(j2, OdooConfigurationError, "res.partner", "search_count", [[]], {})
    assert err.context["http_status"] == 415


def test_serialization_failure_is_contention_and_503_is_transient(
    odoo_sandbox19: OdooSandbox, db: None
) -> None:
    sb = odoo_sandbox19
    j2 = OdooClient(_config(sb.url, sb.db, sb.user, sb.password, sb.api_key, "json2"))
    j2.uid()
    sb.set_faults(transient_rate=1.0, transient_kind="serialization")
    err = _raises(j2, LockContention, "res.partner", "write", [[1], {"name": "x"}], {})
    assert err.context["http_status"] == 500
    assert "SerializationFailure" in err.context["odoo_error"]
    sb.set_faults(transient_rate=1.0, transient_kind="http503")
    _raises(j2, TransientError, "res.partner", "search_count", [[]], {})
    sb.set_faults(transient_rate=0.0, down=True)
    err = _raises(j2, TransientError, "res.partner", "write", [[1], {"name": "x"}], {})
    assert err.context["maybe_committed"] is True


def test_connection_refused_is_transient(target: Target) -> None:
    config = dataclasses.replace(target.config, url="http://127.0.0.1:9", timeout_connect=1.0)
    with pytest.raises(TransientError):
        Json2Transport(config, "k").execute("res.partner", "search_count", [[]], {})


def test_classification_of_bodies_without_a_server() -> None:
    def body(name: str, message: str) -> dict[str, Any]:
        return {"name": name, "message": message, "arguments": [message], "context": {}}

    cases: list[tuple[int, Any, type[Exception]]] = [
        (400, body("werkzeug.exceptions.BadRequest", "could not parse"), PermanentError),
        (403, body("odoo.exceptions.AccessDenied", "Access Denied"), OdooAuthError),
        (404, body("werkzeug.exceptions.NotFound", "Did you mean POST"), ConfigurationError),
        (409, body("odoo.exceptions.LockError", "locked"), LockContention),
        (500, body("psycopg2.OperationalError", "server closed"), TransientError),
        (500, body("builtins.TypeError", "got an unexpected keyword"), PermanentError),
        (502, "<html>Bad Gateway</html>", TransientError),
        (429, "slow down", TransientError),
        (500, "<html>Internal Server Error</html>", TransientError),
        (404, "<html>Not Found</html>", ConfigurationError),
    ]
    for status, answer, cls in cases:
        err = classify_json2_error(status, answer, model="m", method="x")
        assert isinstance(err, cls), (status, answer, type(err))
        assert err.context["http_status"] == status


# --- the choice at login, /readyz, the metric ---------------------------------------------------


def test_choice_at_login(odoo_sandbox19: OdooSandbox, odoo_sandbox: OdooSandbox, db: None) -> None:
    s19, s17 = odoo_sandbox19, odoo_sandbox
    key = SANDBOX_API_KEY

    def chosen(sb: OdooSandbox, key: str, mode: str, password: str = "admin") -> str:
        client = OdooClient(_config(sb.url, sb.db, sb.user, password, key, mode))
        client.uid()
        return client.transport.name

    assert chosen(s19, key, "auto") == "json2"  # offered and a key
    assert chosen(s19, "", "auto") == "jsonrpc"  # no key
    assert chosen(s17, key, "auto", password="admin") == "jsonrpc"  # 17 has no JSON-2
    assert chosen(s19, key, "jsonrpc", password="") == "jsonrpc"  # the key as the password
    with pytest.raises(OdooConfigurationError, match="ODOO_TRANSPORT=json2 needs an API key"):
        chosen(s19, "", "json2")
    with pytest.raises(OdooConfigurationError, match="ODOO_TRANSPORT"):
        chosen(s19, key, "soap")
    # a config copied for another user (the accounting user) does not act with this user's key
    other = dataclasses.replace(_config(s19.url, s19.db, "admin", "admin", key, "auto"), user="x")
    assert other.key_for_user == ""
    assert isinstance(OdooClient(other).transport, JsonRpcTransport)


def test_settings_problems_and_system_check(settings: SettingsWrapper) -> None:
    from apps.odoo.apps import check_transport_settings

    assert settings_problems("auto", "") == []
    assert settings_problems("json2", "k") == []
    assert settings_problems("json2", "") != []
    assert settings_problems("grpc", "k") != []
    settings.ODOO_TRANSPORT, settings.ODOO_API_KEY = "json2", ""
    assert [e.id for e in check_transport_settings()] == ["odoo.E001"]


def test_readyz_and_metric_show_the_transport(
    odoo_sandbox19: OdooSandbox, settings: SettingsWrapper, db: None
) -> None:
    sb = odoo_sandbox19
    settings.ODOO_URL, settings.ODOO_DB = sb.url, sb.db
    settings.ODOO_USER, settings.ODOO_PASSWORD = sb.user, sb.password
    settings.ODOO_API_KEY, settings.ODOO_TRANSPORT = sb.api_key, "auto"
    client_module._clients.clear()
    body = Client().get("/readyz").json()
    odoo = body["checks"]["odoo"]
    assert odoo["transport"] == "json2", odoo
    assert odoo["version"] == "19.0"
    client = client_module.get_client()
    gauge = client_module.ODOO_TRANSPORT.labels(client.label, "json2")
    assert gauge._value.get() == 1  # type: ignore[attr-defined]
    settings.ODOO_TRANSPORT, settings.ODOO_API_KEY = "json2", ""
    client_module._clients.clear()
    odoo = Client().get("/readyz").json()["checks"]["odoo"]
    assert odoo["status"] == "down"
    assert "ODOO_API_KEY" in odoo["error"]
    client_module._clients.clear()


def test_json2_and_jsonrpc_answer_the_same(odoo_sandbox19: OdooSandbox, db: None) -> None:
    sb = odoo_sandbox19
    j2 = OdooClient(_config(sb.url, sb.db, sb.user, sb.password, sb.api_key, "json2"))
    rpc = OdooClient(_config(sb.url, sb.db, sb.user, sb.password, "", "jsonrpc"))
    call = ("product.product", "search_read", [[["is_storable", "=", True]]])
    kw = {"fields": ["default_code", "type", "is_storable", "qty_available"], "order": "id"}
    assert j2.call(*call, kw) == rpc.call(*call, kw)
    assert requests.get(f"{sb.url}/web/version", timeout=5).json()["version_info"][0] == 19
