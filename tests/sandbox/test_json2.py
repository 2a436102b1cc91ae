"""The sandbox's JSON-2 endpoint and its version profiles (``--odoo-version``, ``--api-key``).

The recorded exchanges of transcript 20 are replayed by test_transcript_replay.py; these tests
cover what the recording does not: the profiles of 17 and 18, the seeded key across a reset, and
that JSON-2 and JSON-RPC reach the same dispatch."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.sandbox import OdooSandbox, SandboxProcess, http_json, start_sandbox


def post2(sb: OdooSandbox, model: str, method: str, body: dict[str, Any], key: str = "") -> Any:
    req = urllib.request.Request(
        f"{sb.url}/json/2/{model}/{method}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"bearer {key or sb.api_key}",
            "X-Odoo-Database": sb.db,
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        raw = err.read()
        ctype = err.headers.get("Content-Type", "")
        return err.code, json.loads(raw) if "json" in ctype else raw.decode()


@pytest.fixture(scope="module")
def sandbox18() -> Iterator[OdooSandbox]:
    proc: SandboxProcess = start_sandbox("--odoo-version", "18", "--api-key", "k" * 40)
    try:
        yield OdooSandbox(proc.url, version=18, api_key="k" * 40)
    finally:
        proc.stop()


def test_versions_presented(
    odoo_sandbox: OdooSandbox, sandbox18: OdooSandbox, odoo_sandbox19: OdooSandbox
) -> None:
    for sb, serie in ((odoo_sandbox, "17"), (sandbox18, "18.0"), (odoo_sandbox19, "19.0")):
        version = sb.call("common", "version")["result"]
        assert str(version["server_version"]).startswith(serie)
        assert version["server_version_info"][0] == sb.version
    # JSON-2 and /web/version exist on 19 only
    assert post2(sandbox18, "res.partner", "search_count", {"domain": []})[0] == 404
    assert http_json("GET", f"{odoo_sandbox19.url}/web/version")["version_info"][0] == 19
    # 19's JSON-RPC error code is 0 (17: 200)
    err = odoo_sandbox19.call("object", "execute_kw", "hub", 2, "admin", "no.model", "read", [[]])
    assert err["error"]["code"] == 0
    err = odoo_sandbox.call("object", "execute_kw", "hub", 2, "admin", "no.model", "read", [[]])
    assert err["error"]["code"] == 200


def test_storable_product_and_return_renames(
    odoo_sandbox: OdooSandbox, sandbox18: OdooSandbox
) -> None:
    sandbox18.reset()
    pid = sandbox18.execute(
        "product.product", "create", {"name": "P", "type": "consu", "is_storable": True}
    )
    row = sandbox18.execute("product.product", "read", [pid], fields=["type", "is_storable"])[0]
    assert row == {"id": pid, "type": "consu", "is_storable": True}
    assert sandbox18.execute("product.product", "search", [["is_storable", "=", True]])
    with pytest.raises(AssertionError, match="Invalid field 'detailed_type'"):
        sandbox18.execute("product.product", "read", [pid], fields=["detailed_type"])
    with pytest.raises(AssertionError, match="Wrong value for product.template.type"):
        sandbox18.execute("product.product", "create", {"name": "Q", "type": "product"})
    fields = sandbox18.execute("product.product", "fields_get", ["detailed_type", "is_storable"])
    assert set(fields) == {"is_storable"}
    # 17 keeps its names
    assert odoo_sandbox.execute("product.product", "fields_get", ["detailed_type"])
    with pytest.raises(AssertionError, match="Invalid field 'is_storable'"):
        odoo_sandbox.execute("product.product", "create", {"name": "R", "is_storable": True})
    # the return button: action_create_returns on 18, create_returns on 17
    with pytest.raises(AssertionError, match="create_returns"):
        sandbox18.execute("stock.return.picking", "create_returns", [1])
    with pytest.raises(AssertionError, match="action_create_returns"):
        odoo_sandbox.execute("stock.return.picking", "action_create_returns", [1])


def test_api_key_survives_reset_and_bad_keys_are_401(odoo_sandbox19: OdooSandbox) -> None:
    sb = odoo_sandbox19
    sb.reset()
    status, count = post2(sb, "res.partner", "search_count", {"domain": []})
    assert status == 200 and count > 0
    status, body = post2(sb, "res.partner", "search_count", {"domain": []}, key="f" * 40)
    assert (status, body["name"]) == (401, "werkzeug.exceptions.Unauthorized")
    # the key also works as the JSON-RPC password
    assert sb.call("common", "authenticate", sb.db, "admin", sb.api_key, {})["result"] == 2


def test_json2_and_jsonrpc_share_the_dispatch(odoo_sandbox19: OdooSandbox) -> None:
    sb = odoo_sandbox19
    sb.reset_stats()
    status, ids = post2(sb, "res.partner", "create", {"vals_list": {"name": "J2"}})
    assert status == 200 and isinstance(ids, list) and len(ids) == 1
    rpc = sb.execute("res.partner", "read", ids, fields=["name"])
    status, j2 = post2(sb, "res.partner", "read", {"ids": ids, "fields": ["name"]})
    assert rpc == j2 == [{"id": ids[0], "name": "J2"}]
    calls = sb.stats()["calls"]
    assert calls["res.partner.create"] == 1 and calls["res.partner.read"] == 2
    # an injected failure reaches JSON-2 with its HTTP status
    sb.set_faults(fail_next=[{"model": "res.partner", "error_name": "odoo.exceptions.UserError"}])
    status, body = post2(sb, "res.partner", "search_count", {"domain": []})
    assert (status, body["name"]) == (422, "odoo.exceptions.UserError")
    # names that do not bind are 422; a record method without ids runs on nothing
    status, body = post2(sb, "res.partner", "write", {"ids": ids, "values": {}})
    assert status == 422 and "vals" in body["message"]
    assert post2(sb, "sale.order", "action_confirm", {}) == (200, True)
