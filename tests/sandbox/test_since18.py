"""The sandbox presenting itself as Odoo 18 and 19 answers what the real servers answered
beyond a field's new name (sandbox/odoo/since18.py; transcripts 18/40, 18/41, 19/41): the
payments' own states, the Outstanding Receipts account known only by its external id, the
journal entry's origin_payment_id, 19's group_ids and tax_ids, and a down server that does not
answer JSON-2's version probe either."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.sandbox import OdooSandbox, SandboxProcess, start_sandbox

from .test_accounting import invoice, pay

XMLID = "1_account_journal_payment_debit_account_id"


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[int, SandboxProcess]]:
    started: dict[int, SandboxProcess] = {}
    try:
        for major in (18, 19):
            started[major] = start_sandbox("--odoo-version", str(major))
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture
def sb18(servers: dict[int, SandboxProcess]) -> OdooSandbox:
    sandbox = OdooSandbox(servers[18].url, version=18)
    sandbox.reset()
    return sandbox


@pytest.fixture
def sb19(servers: dict[int, SandboxProcess]) -> OdooSandbox:
    sandbox = OdooSandbox(servers[19].url, version=19)
    sandbox.reset()
    return sandbox


def _error(sb: OdooSandbox, model: str, method: str, *args: Any, **kw: Any) -> dict[str, Any]:
    resp = sb.call("object", "execute_kw", sb.db, 2, "admin", model, method, list(args), kw)
    assert "error" in resp, f"{model}.{method} should fail: {resp}"
    data: dict[str, Any] = resp["error"]["data"]
    return data


def _states(sb: OdooSandbox, ids: list[int]) -> list[str]:
    return [r["state"] for r in sb.execute("account.payment", "read", ids, ["state"])]


def test_payments_are_in_process_until_their_invoices_are_paid(sb18: OdooSandbox) -> None:
    partner = sb18.execute("res.partner", "create", {"name": "Payments 18"})
    full, part = invoice(sb18, partner, 100.0), invoice(sb18, partner, 50.0)
    p1 = pay(sb18, full, communication="pay-18-full")
    p2 = pay(sb18, part, amount=20.0, communication="pay-18-part")
    # a payment of a paid invoice is paid; one of a partly paid invoice is in process
    assert _states(sb18, [p1, p2]) == ["paid", "in_process"]
    [row] = sb18.execute("account.payment", "search_read", [["id", "=", p2]], fields=["memo"])
    assert row == {"id": p2, "memo": "pay-18-part"}
    # a search on the state is answered with 18's states, exactly
    mine = [["partner_id", "=", partner]]
    assert sb18.execute("account.payment", "search", [*mine, ["state", "=", "paid"]]) == [p1]
    assert sb18.execute("account.payment", "search", [*mine, ["state", "in", ["in_process"]]]) == [
        p2
    ]
    assert sb18.execute("account.payment", "search", [*mine, ["state", "=", "posted"]]) == []
    assert sb18.execute("account.payment", "search", [*mine, ["state", "!=", "paid"]]) == [p2]
    fields = sb18.execute("account.payment", "fields_get", ["state"], attributes=["selection"])
    assert [s[0] for s in fields["state"]["selection"]] == [
        "draft",
        "in_process",
        "paid",
        "canceled",
        "rejected",
    ]
    # once the rest is paid, the invoice is paid and so is the first partial payment
    p3 = pay(sb18, part, amount=30.0, communication="pay-18-rest")
    assert _states(sb18, [p2, p3]) == ["paid", "paid"]


def test_journal_entry_names_its_payment_origin_payment_id(sb18: OdooSandbox) -> None:
    partner = sb18.execute("res.partner", "create", {"name": "Origin 18"})
    payment = pay(sb18, invoice(sb18, partner, 10.0), communication="origin-18")
    [row] = sb18.execute("account.payment", "read", [payment], ["move_id"])
    move = row["move_id"][0]
    [entry] = sb18.execute("account.move", "read", [move], ["origin_payment_id"])
    assert entry["origin_payment_id"][0] == payment
    found = sb18.execute("account.move", "search", [["origin_payment_id", "=", payment]])
    assert found == [move]
    err = _error(sb18, "account.move", "read", [move], ["payment_id"])
    assert err["message"] == "Invalid field 'payment_id' on model 'account.move'"  # 18's words


def test_outstanding_receipts_account_only_by_external_id_from_18(
    sb18: OdooSandbox, odoo_sandbox: OdooSandbox
) -> None:
    # 17: the company field and the chart's external id name the same account
    [company] = odoo_sandbox.execute(
        "res.company", "read", [1], ["account_journal_payment_debit_account_id"]
    )
    ref = odoo_sandbox.execute("ir.model.data", "check_object_reference", "account", XMLID)
    assert ref == ["account.account", company["account_journal_payment_debit_account_id"][0]]
    [account] = odoo_sandbox.execute("account.account", "read", [ref[1]], ["code"])
    assert account["code"] == "101403"
    # 18: the field is gone, the external id remains
    err = _error(sb18, "res.company", "read", [1], ["account_journal_payment_debit_account_id"])
    assert err["name"] == "builtins.ValueError"
    assert "account_journal_payment_debit_account_id" not in sb18.execute(
        "res.company", "fields_get", attributes=["type"]
    )
    assert (
        "account_journal_payment_debit_account_id"
        not in sb18.execute("res.company", "read", [1])[0]
    )
    ref18 = sb18.execute("ir.model.data", "check_object_reference", "account", XMLID)
    assert ref18 == ref
    err = _error(sb18, "ir.model.data", "check_object_reference", "account", "no_such_id")
    assert err["message"] == "External ID not found in the system: account.no_such_id"


def test_19_names_the_groups_group_ids_and_refuses_tax_id_on_order_lines(
    sb19: OdooSandbox,
) -> None:
    [internal] = sb19.execute(
        "ir.model.data", "search_read", [["name", "=", "group_user"]], fields=["res_id"]
    )
    vals = {"name": "Groups 19", "login": "groups-19", "password": "groups-19"}
    # (19's words for a field it lacks, as its real server answers them)
    err = _error(sb19, "res.users", "create", {**vals, "groups_id": [[6, 0, [1]]]})
    assert err["message"] == "Invalid field 'groups_id' in 'res.users'"
    uid = sb19.execute("res.users", "create", {**vals, "group_ids": [[6, 0, [internal["res_id"]]]]})
    [user] = sb19.execute("res.users", "read", [uid], ["group_ids"])
    assert user["group_ids"] == [internal["res_id"]]
    err = _error(sb19, "res.users", "read", [uid], ["groups_id"])
    assert err["message"] == "Invalid field 'groups_id' on 'res.users'"
    err = _error(sb19, "res.users", "search", [["groups_id", "in", [1]]])
    assert (
        err["message"] == "Invalid field res.users.groups_id in condition ('groups_id', 'in', [1])"
    )
    err = _error(sb19, "res.users", "write", [uid], {"groups_id": [[6, 0, [1]]]})
    assert (err["name"], err["message"]) == ("builtins.KeyError", "groups_id")
    partner = sb19.execute("res.partner", "create", {"name": "Taxes 19"})
    [product] = sb19.execute("product.product", "search", [["sale_ok", "=", True]], limit=1)
    line = {"product_id": product, "product_uom_qty": 1}
    err = _error(
        sb19,
        "sale.order",
        "create",
        {"partner_id": partner, "order_line": [[0, 0, {**line, "tax_id": [[6, 0, []]]}]]},
    )
    assert err["message"] == "Invalid field 'tax_id' on model 'sale.order.line'"
    so = sb19.execute(
        "sale.order",
        "create",
        {"partner_id": partner, "order_line": [[0, 0, {**line, "tax_ids": [[6, 0, []]]}]]},
    )
    [row] = sb19.execute("sale.order.line", "search_read", [["order_id", "=", so]], ["tax_ids"])
    assert row["tax_ids"] == []


def test_a_down_server_does_not_answer_the_json2_version_probe(sb19: OdooSandbox) -> None:
    with urllib.request.urlopen(f"{sb19.url}/web/version", timeout=5) as resp:
        assert resp.status == 200
    sb19.set_faults(down=True)
    try:
        with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
            urllib.request.urlopen(f"{sb19.url}/web/version", timeout=5).read()
    finally:
        sb19.set_faults(down=False)
