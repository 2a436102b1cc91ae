"""Behaviour of the Odoo sandbox beyond response shapes: stock, domains, faults, stats,
persistence. Everything goes over HTTP to a sandbox subprocess."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fixtures.sandbox import OdooSandbox, start_sandbox


def rpc(
    sb: OdooSandbox,
    model: str,
    method: str,
    *args: Any,
    uid: int = 2,
    password: str = "admin",
    **kwargs: Any,
) -> dict[str, Any]:
    return sb.call("object", "execute_kw", sb.db, uid, password, model, method, list(args), kwargs)


def one(sb: OdooSandbox, model: str, domain: list[Any]) -> int:
    ids = sb.execute(model, "search", domain)
    assert len(ids) == 1, (model, domain, ids)
    return int(ids[0])


def warehouses(sb: OdooSandbox) -> dict[str, int]:
    return {
        w["code"]: w["id"]
        for w in sb.execute("stock.warehouse", "search_read", [], fields=["code"])
    }


def stock(sb: OdooSandbox, product: int, **ctx: Any) -> dict[str, float]:
    row = sb.execute(
        "product.product",
        "read",
        [product],
        ["qty_available", "free_qty", "virtual_available", "outgoing_qty"],
        context=ctx,
    )[0]
    return {k: v for k, v in row.items() if k != "id"}


def order(sb: OdooSandbox, product: int, qty: float, **vals: Any) -> int:
    partner = one(sb, "res.partner", [["ref", "=", "ACME"]])
    so: int = sb.execute(
        "sale.order",
        "create",
        {
            "partner_id": partner,
            "order_line": [[0, 0, {"product_id": product, "product_uom_qty": qty}]],
            **vals,
        },
    )
    return so


def delivery(sb: OdooSandbox, so: int) -> int:
    picks = sb.execute("sale.order", "read", [so], ["picking_ids"])[0]["picking_ids"]
    assert len(picks) == 1
    return int(picks[0])


# -- records and domains -------------------------------------------------------------------
def test_create_single_returns_id_and_list_returns_ids(odoo_sandbox: OdooSandbox) -> None:
    single = odoo_sandbox.execute("res.partner", "create", {"name": "Solo"})
    batch = odoo_sandbox.execute("res.partner", "create", [{"name": "A"}, {"name": "B"}])
    assert isinstance(single, int)
    assert isinstance(batch, list) and len(batch) == 2 and single not in batch
    names = odoo_sandbox.execute("res.partner", "read", batch, ["name"])
    assert [n["name"] for n in names] == ["A", "B"]


def test_batch_create_is_atomic(odoo_sandbox: OdooSandbox) -> None:
    before = odoo_sandbox.execute("res.partner", "search_count", [])
    resp = rpc(odoo_sandbox, "res.partner", "create", [{"name": "ok"}, {"email": "no@name"}])
    assert resp["error"]["data"]["name"] == "odoo.exceptions.ValidationError"
    assert odoo_sandbox.execute("res.partner", "search_count", []) == before


def test_read_values_follow_odoo_conventions(odoo_sandbox: OdooSandbox) -> None:
    pid = odoo_sandbox.execute("res.partner", "create", {"name": "Bare"})
    rec = odoo_sandbox.execute(
        "res.partner",
        "read",
        [pid],
        ["email", "parent_id", "child_ids", "credit_limit", "write_date"],
    )
    assert rec[0]["email"] is False
    assert rec[0]["parent_id"] is False
    assert rec[0]["child_ids"] == []
    assert rec[0]["credit_limit"] == 0.0
    assert time.strptime(rec[0]["write_date"], "%Y-%m-%d %H:%M:%S")
    child = odoo_sandbox.execute("res.partner", "create", {"name": "Kid", "parent_id": pid})
    got = odoo_sandbox.execute("res.partner", "read", [child, pid], ["parent_id", "child_ids"])
    assert got[0]["parent_id"] == [pid, "Bare"]
    assert got[1]["child_ids"] == [child]


def test_domains_with_or_not_and_dotted_paths(odoo_sandbox: OdooSandbox) -> None:
    sb = odoo_sandbox
    acme = one(sb, "res.partner", [["ref", "=", "ACME"]])
    globex = one(sb, "res.partner", [["ref", "=", "GLOBEX"]])
    both = sb.execute("res.partner", "search", ["|", ["ref", "=", "ACME"], ["ref", "=", "GLOBEX"]])
    assert set(both) == {acme, globex}
    not_acme = sb.execute(
        "res.partner", "search", [["is_company", "=", True], "!", ["ref", "=", "ACME"]]
    )
    assert globex in not_acme and acme not in not_acme
    children = sb.execute("res.partner", "search", [["parent_id.ref", "=", "ACME"]])
    assert len(children) == 3
    tree = sb.execute("res.partner", "search", [["id", "child_of", acme]])
    assert set(tree) == {acme, *children}
    assert sb.execute(
        "res.partner", "search", [["email", "=ilike", "ORDERS@ACME.EXAMPLE.COM"]]
    ) == [acme]
    assert len(sb.execute("product.product", "search", [["default_code", "=like", "SKU-00%"]])) == 9
    widget = sb.execute("product.product", "search", [["name", "ilike", "widget"]])
    assert len(widget) == 2
    red = one(sb, "product.product", [["default_code", "=", "WIDGET-RED"]])
    so = order(sb, red, 1, client_order_ref="PO-DOTTED")
    lines = sb.execute(
        "sale.order.line", "search", [["order_id.client_order_ref", "=", "PO-DOTTED"]]
    )
    assert len(lines) == 1
    sb.execute("sale.order", "action_confirm", [so])
    out = sb.execute(
        "stock.picking",
        "search",
        [["picking_type_id.code", "=", "outgoing"], ["sale_id.client_order_ref", "=", "PO-DOTTED"]],
    )
    assert out == [delivery(sb, so)]
    assert (
        sb.execute(
            "stock.picking",
            "search",
            [["picking_type_id.code", "not in", ["outgoing"]], ["sale_id", "=", so]],
        )
        == []
    )


def test_search_order_limit_offset(odoo_sandbox: OdooSandbox) -> None:
    codes = [
        r["default_code"]
        for r in odoo_sandbox.execute(
            "product.product",
            "search_read",
            [["default_code", "=like", "SKU-%"]],
            fields=["default_code"],
            order="default_code desc",
            limit=3,
            offset=1,
        )
    ]
    assert codes == ["SKU-015", "SKU-014", "SKU-013"]


def test_errors_have_odoo_shape(odoo_sandbox: OdooSandbox) -> None:
    resp = rpc(odoo_sandbox, "product.product", "read", [1], ["nope"])
    err = resp["error"]
    assert err["code"] == 200 and err["message"] == "Odoo Server Error"
    assert err["data"]["name"] == "builtins.ValueError"
    assert err["data"]["message"] == "Invalid field 'nope' on model 'product.product'"
    assert err["data"]["arguments"] == [err["data"]["message"]]
    assert err["data"]["context"] == {}
    missing = rpc(odoo_sandbox, "product.product", "write", [999999], {"name": "x"})
    assert missing["error"]["data"]["name"] == "odoo.exceptions.MissingError"
    assert rpc(odoo_sandbox, "product.product", "read", [999999], ["name"])["result"] == []


def test_wrong_password_is_access_denied_but_authenticate_is_false(
    odoo_sandbox: OdooSandbox,
) -> None:
    denied = rpc(odoo_sandbox, "res.partner", "search_count", [], password="WRONG")
    assert denied["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
    assert (
        odoo_sandbox.call("common", "authenticate", "hub", "admin", "WRONG", {})["result"] is False
    )


def test_integration_user_cannot_write_users_but_can_sell(odoo_sandbox: OdooSandbox) -> None:
    uid = odoo_sandbox.call("common", "authenticate", "hub", "integration", "integration", {})[
        "result"
    ]
    assert isinstance(uid, int) and uid != 2
    denied = rpc(
        odoo_sandbox, "res.users", "write", [uid], {"name": "x"}, uid=uid, password="integration"
    )
    assert denied["error"]["data"]["name"] == "odoo.exceptions.AccessError"
    assert "res.users" in denied["error"]["data"]["message"]
    partner = one(odoo_sandbox, "res.partner", [["ref", "=", "ACME"]])
    created = rpc(
        odoo_sandbox,
        "sale.order",
        "create",
        {"partner_id": partner},
        uid=uid,
        password="integration",
    )
    assert isinstance(created["result"], int)


# -- sales and stock -----------------------------------------------------------------------
def test_order_amounts_use_discount_and_percent_taxes(odoo_sandbox: OdooSandbox) -> None:
    sb = odoo_sandbox
    red = one(sb, "product.product", [["default_code", "=", "WIDGET-RED"]])
    tax20 = one(sb, "account.tax", [["name", "=", "20%"]])
    partner = one(sb, "res.partner", [["ref", "=", "GLOBEX"]])
    so = sb.execute(
        "sale.order",
        "create",
        {
            "partner_id": partner,
            "order_line": [
                [
                    0,
                    0,
                    {
                        "product_id": red,
                        "product_uom_qty": 4,
                        "price_unit": 12.5,
                        "discount": 10,
                        "tax_id": [[6, 0, [tax20]]],
                    },
                ],
                [
                    0,
                    0,
                    {
                        "product_id": red,
                        "product_uom_qty": 1,
                        "price_unit": 10,
                        "tax_id": [[6, 0, []]],
                    },
                ],
            ],
        },
    )
    amounts = sb.execute(
        "sale.order", "read", [so], ["amount_untaxed", "amount_tax", "amount_total"]
    )[0]
    assert amounts["amount_untaxed"] == pytest.approx(55.0)  # 4*12.5*0.9 + 10
    assert amounts["amount_tax"] == pytest.approx(9.0)
    assert amounts["amount_total"] == pytest.approx(64.0)


def test_confirm_reserves_in_the_order_warehouse_only(odoo_sandbox: OdooSandbox) -> None:
    sb = odoo_sandbox
    wh = warehouses(sb)
    red = one(sb, "product.product", [["default_code", "=", "WIDGET-RED"]])
    before1, before2 = stock(sb, red, warehouse=wh["WH"]), stock(sb, red, warehouse=wh["WH2"])
    so = order(sb, red, 10, warehouse_id=wh["WH2"])
    assert sb.execute("sale.order", "action_confirm", [so]) is True
    after1, after2 = stock(sb, red, warehouse=wh["WH"]), stock(sb, red, warehouse=wh["WH2"])
    assert after1 == before1
    assert after2["qty_available"] == before2["qty_available"]
    assert after2["free_qty"] == before2["free_qty"] - 10
    assert after2["outgoing_qty"] == before2["outgoing_qty"] + 10
    total = stock(sb, red)
    assert total["qty_available"] == before1["qty_available"] + before2["qty_available"]
    pick = sb.execute(
        "stock.picking", "read", [delivery(sb, so)], ["state", "name", "location_id"]
    )[0]
    assert pick["state"] == "assigned" and pick["name"].startswith("WH2/OUT/")
    assert sb.execute("stock.picking", "button_validate", [pick["id"]]) is True
    done = stock(sb, red, warehouse=wh["WH2"])
    assert done["qty_available"] == before2["qty_available"] - 10
    assert done["outgoing_qty"] == before2["outgoing_qty"]
    state = sb.execute("sale.order", "read", [so], ["delivery_status"])[0]
    assert state["delivery_status"] == "full"


def test_confirm_list_confirms_all_and_reconfirm_errors(odoo_sandbox: OdooSandbox) -> None:
    sb = odoo_sandbox
    red = one(sb, "product.product", [["default_code", "=", "WIDGET-RED"]])
    sos = [order(sb, red, 1), order(sb, red, 2)]
    assert sb.execute("sale.order", "action_confirm", sos) is True
    assert {r["state"] for r in sb.execute("sale.order", "read", sos, ["state"])} == {"sale"}
    again = rpc(sb, "sale.order", "action_confirm", sos)
    assert again["error"]["data"]["name"] == "odoo.exceptions.UserError"


def test_partial_validation_returns_wizard_and_process_creates_backorder(
    odoo_sandbox: OdooSandbox,
) -> None:
    sb = odoo_sandbox
    wh = warehouses(sb)
    red = one(sb, "product.product", [["default_code", "=", "WIDGET-RED"]])
    before = stock(sb, red, warehouse=wh["WH"])
    so = order(sb, red, 10)
    sb.execute("sale.order", "action_confirm", [so])
    pick = delivery(sb, so)
    move = sb.execute("stock.move", "search", [["picking_id", "=", pick]])
    sb.execute("stock.move", "write", move, {"quantity": 6, "picked": True})
    action = sb.execute("stock.picking", "button_validate", [pick])
    assert action["res_model"] == "stock.backorder.confirmation"
    assert action["context"]["button_validate_picking_ids"] == [pick]
    assert action["context"]["default_pick_ids"] == [[4, pick]]
    assert sb.execute("stock.picking", "read", [pick], ["state"])[0]["state"] == "assigned"
    wiz = sb.execute("stock.backorder.confirmation", "create", {}, context=action["context"])
    assert (
        sb.execute("stock.backorder.confirmation", "process", [wiz], context=action["context"])
        is True
    )
    orig = sb.execute("stock.picking", "read", [pick], ["state", "backorder_ids", "date_done"])[0]
    assert orig["state"] == "done" and orig["date_done"] and len(orig["backorder_ids"]) == 1
    bo = orig["backorder_ids"][0]
    bo_moves = sb.execute(
        "stock.move",
        "search_read",
        [["picking_id", "=", bo]],
        fields=["product_uom_qty", "quantity", "state"],
    )
    assert [(m["product_uom_qty"], m["state"]) for m in bo_moves] == [(4.0, "assigned")]
    so_state = sb.execute("sale.order", "read", [so], ["delivery_status", "picking_ids"])[0]
    assert so_state["delivery_status"] == "partial" and set(so_state["picking_ids"]) == {pick, bo}
    line = sb.execute(
        "sale.order.line", "search_read", [["order_id", "=", so]], fields=["qty_delivered"]
    )[0]
    assert line["qty_delivered"] == 6.0
    now = stock(sb, red, warehouse=wh["WH"])
    assert now["qty_available"] == before["qty_available"] - 6
    assert now["free_qty"] == before["free_qty"] - 10


def test_skip_backorder_shortcuts(odoo_sandbox: OdooSandbox) -> None:
    sb = odoo_sandbox
    red = one(sb, "product.product", [["default_code", "=", "WIDGET-RED"]])
    results = {}
    for name, ctx in (("no_bo", "not_to_backorder"), ("bo", "skip_only")):
        so = order(sb, red, 5)
        sb.execute("sale.order", "action_confirm", [so])
        pick = delivery(sb, so)
        move = sb.execute("stock.move", "search", [["picking_id", "=", pick]])
        sb.execute("stock.move", "write", move, {"quantity": 2, "picked": True})
        context: dict[str, Any] = {"skip_backorder": True}
        if ctx == "not_to_backorder":
            context["picking_ids_not_to_backorder"] = [pick]
        assert sb.execute("stock.picking", "button_validate", [pick], context=context) is True
        results[name] = sb.execute("stock.picking", "read", [pick], ["state", "backorder_ids"])[0]
    assert results["no_bo"]["state"] == "done" and results["no_bo"]["backorder_ids"] == []
    assert results["bo"]["state"] == "done" and len(results["bo"]["backorder_ids"]) == 1


def test_validate_done_picking_is_user_error(odoo_sandbox: OdooSandbox) -> None:
    sb = odoo_sandbox
    red = one(sb, "product.product", [["default_code", "=", "WIDGET-RED"]])
    so = order(sb, red, 1)
    sb.execute("sale.order", "action_confirm", [so])
    pick = delivery(sb, so)
    sb.execute("stock.picking", "button_validate", [pick])
    again = rpc(sb, "stock.picking", "button_validate", [pick])
    assert again["error"]["data"]["name"] == "odoo.exceptions.UserError"


def test_inventory_adjustment_returns_no_result_key(odoo_sandbox: OdooSandbox) -> None:
    sb = odoo_sandbox
    wh = warehouses(sb)
    loc = sb.execute("stock.warehouse", "read", [wh["WH2"]], ["lot_stock_id"])[0]["lot_stock_id"][0]
    pid = sb.execute(
        "product.product",
        "create",
        {"name": "Fresh", "default_code": "FRESH", "detailed_type": "product"},
    )
    quant = sb.execute(
        "stock.quant",
        "create",
        {"product_id": pid, "location_id": loc, "inventory_quantity": 42},
        context={"inventory_mode": True},
    )
    assert stock(sb, pid)["qty_available"] == 0.0
    resp = rpc(
        sb, "stock.quant", "action_apply_inventory", [quant], context={"inventory_mode": True}
    )
    assert "result" not in resp and "error" not in resp
    assert stock(sb, pid, warehouse=wh["WH2"])["qty_available"] == 42.0
    assert stock(sb, pid, warehouse=wh["WH"])["qty_available"] == 0.0
    assert stock(sb, pid, location=loc)["qty_available"] == 42.0
    moves = sb.execute(
        "stock.move",
        "search_read",
        [["product_id", "=", pid]],
        fields=["is_inventory", "state", "quantity"],
    )
    assert [(m["is_inventory"], m["state"], m["quantity"]) for m in moves] == [(True, "done", 42.0)]


def test_return_invoice_payment_and_cancel(odoo_sandbox: OdooSandbox) -> None:
    sb = odoo_sandbox
    red = one(sb, "product.product", [["default_code", "=", "WIDGET-RED"]])
    so = order(sb, red, 5, client_order_ref="PO-FLOW")
    sb.execute("sale.order", "action_confirm", [so])
    pick = delivery(sb, so)
    sb.execute("stock.picking", "button_validate", [pick])
    ctx = {"active_id": pick, "active_ids": [pick], "active_model": "stock.picking"}
    wiz = sb.execute("stock.return.picking", "create", {}, context=ctx)
    lines = sb.execute("stock.return.picking", "read", [wiz], ["product_return_moves"])[0][
        "product_return_moves"
    ]
    sb.execute("stock.return.picking.line", "write", lines, {"quantity": 2})
    action = sb.execute("stock.return.picking", "create_returns", [wiz])
    ret = action["res_id"]
    assert sb.execute("stock.picking", "button_validate", [ret]) is True
    line = sb.execute(
        "sale.order.line",
        "search_read",
        [["order_id", "=", so]],
        fields=["qty_delivered", "qty_to_invoice"],
    )[0]
    assert (line["qty_delivered"], line["qty_to_invoice"]) == (3.0, 3.0)
    ictx = {"active_model": "sale.order", "active_ids": [so], "active_id": so}
    adv = sb.execute(
        "sale.advance.payment.inv", "create", {"advance_payment_method": "delivered"}, context=ictx
    )
    sb.execute("sale.advance.payment.inv", "create_invoices", [adv], context=ictx)
    inv = sb.execute("sale.order", "read", [so], ["invoice_ids"])[0]["invoice_ids"][0]
    draft = sb.execute("account.move", "read", [inv], ["state", "ref", "amount_total"])[0]
    assert draft["state"] == "draft" and draft["ref"] == "PO-FLOW"
    assert rpc(sb, "account.move", "action_post", [inv])["result"] is False
    pctx = {"active_model": "account.move", "active_ids": [inv]}
    reg = sb.execute("account.payment.register", "create", {"amount": 10.0}, context=pctx)
    sb.execute("account.payment.register", "action_create_payments", [reg], context=pctx)
    assert (
        sb.execute("account.move", "read", [inv], ["payment_state"])[0]["payment_state"]
        == "partial"
    )
    reg = sb.execute("account.payment.register", "create", {}, context=pctx)
    sb.execute("account.payment.register", "action_create_payments", [reg], context=pctx)
    paid = sb.execute("account.move", "read", [inv], ["payment_state", "amount_residual"])[0]
    assert paid == {"id": inv, "payment_state": "paid", "amount_residual": 0.0}
    # cancelling a confirmed order goes through the wizard unless the warning is disabled
    so2 = order(sb, red, 3)
    sb.execute("sale.order", "action_confirm", [so2])
    wizard = sb.execute("sale.order", "action_cancel", [so2])
    assert wizard["res_model"] == "sale.order.cancel"
    assert sb.execute("sale.order", "read", [so2], ["state"])[0]["state"] == "sale"
    assert (
        sb.execute("sale.order", "action_cancel", [so2], context={"disable_cancel_warning": True})
        is True
    )
    assert (
        sb.execute("stock.picking", "read", [delivery(sb, so2)], ["state"])[0]["state"] == "cancel"
    )


# -- faults, stats, persistence ------------------------------------------------------------
def jsonrpc_body(model: str, method: str, args: list[Any]) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 1,
        "params": {
            "service": "object",
            "method": "execute_kw",
            "args": ["hub", 2, "admin", model, method, args],
        },
    }


def test_latency_is_applied_per_call_and_per_record(odoo_sandbox: OdooSandbox) -> None:
    sb = odoo_sandbox
    start = time.perf_counter()
    sb.execute("res.partner", "search_count", [])
    fast = time.perf_counter() - start
    sb.set_faults(latency_ms=150)
    start = time.perf_counter()
    sb.execute("res.partner", "search_count", [])
    slow = time.perf_counter() - start
    assert slow >= 0.15 and slow > fast
    sb.set_faults(latency_ms=0, per_record_ms=10)
    start = time.perf_counter()
    rows = sb.execute("product.product", "search_read", [], fields=["name"], limit=20)
    assert len(rows) == 20
    assert time.perf_counter() - start >= 0.2


def test_latency_overlaps_between_concurrent_calls(odoo_sandbox: OdooSandbox) -> None:
    odoo_sandbox.set_faults(latency_ms=300)
    body = jsonrpc_body("res.partner", "search_count", [[]])
    errors: list[BaseException] = []

    def hit() -> None:
        try:
            requests.post(f"{odoo_sandbox.url}/jsonrpc", json=body, timeout=10).raise_for_status()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hit) for _ in range(4)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    assert not errors
    assert 0.3 <= elapsed < 0.9, elapsed


def test_transient_http503_and_serialization(odoo_sandbox: OdooSandbox) -> None:
    sb = odoo_sandbox
    body = jsonrpc_body("res.partner", "search_count", [[]])
    sb.set_faults(transient_rate=1.0, transient_kind="http503")
    assert requests.post(f"{sb.url}/jsonrpc", json=body, timeout=5).status_code == 503
    sb.set_faults(transient_kind="serialization")
    resp = requests.post(f"{sb.url}/jsonrpc", json=body, timeout=5)
    assert resp.status_code == 200
    data = resp.json()["error"]["data"]
    assert data["name"] == "psycopg2.errors.SerializationFailure"
    assert data["message"] == "could not serialize access due to concurrent update"
    sb.set_faults(transient_rate=0.0)
    assert requests.post(f"{sb.url}/jsonrpc", json=body, timeout=5).json()["result"] > 0


def test_transient_failure_does_not_commit(odoo_sandbox: OdooSandbox) -> None:
    sb = odoo_sandbox
    sb.set_faults(transient_rate=1.0, transient_kind="serialization")
    resp = rpc(sb, "res.partner", "create", {"name": "Never Stored"})
    assert "error" in resp
    sb.set_faults(transient_rate=0.0)
    assert sb.execute("res.partner", "search", [["name", "=", "Never Stored"]]) == []


def test_drop_after_commit_loses_the_answer_but_keeps_the_record(odoo_sandbox: OdooSandbox) -> None:
    sb = odoo_sandbox
    sb.set_faults(drop_after_commit=1)
    body = jsonrpc_body("res.partner", "search_count", [[]])
    # reads are not affected
    assert requests.post(f"{sb.url}/jsonrpc", json=body, timeout=5).json()["result"] > 0
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(
            f"{sb.url}/jsonrpc",
            json=jsonrpc_body("res.partner", "create", [{"name": "Ghost Writer"}]),
            timeout=5,
        )
    assert len(sb.execute("res.partner", "search", [["name", "=", "Ghost Writer"]])) == 1
    assert sb.faults()["drop_after_commit"] == 0
    assert isinstance(sb.execute("res.partner", "create", {"name": "Next"}), int)


def test_down_refuses_rpc_but_control_endpoints_answer(odoo_sandbox: OdooSandbox) -> None:
    sb = odoo_sandbox
    sb.set_faults(down=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(
            f"{sb.url}/jsonrpc",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "id": 1,
                "params": {"service": "common", "method": "version", "args": []},
            },
            timeout=5,
        )
    assert requests.get(f"{sb.url}/__sandbox__/health", timeout=5).status_code == 200
    sb.set_faults(down=False)
    assert sb.call("common", "version")["result"]["server_version_info"][0] == 17


def test_fail_next_is_one_shot_and_targeted(odoo_sandbox: OdooSandbox) -> None:
    sb = odoo_sandbox
    sb.set_faults(
        fail_next=[
            {
                "model": "sale.order",
                "method": "create",
                "error_name": "odoo.exceptions.ValidationError",
                "message": "Injected",
            }
        ]
    )
    assert "result" in rpc(sb, "res.partner", "search_count", [])
    partner = one(sb, "res.partner", [["ref", "=", "ACME"]])
    first = rpc(sb, "sale.order", "create", {"partner_id": partner})
    assert first["error"]["data"]["name"] == "odoo.exceptions.ValidationError"
    assert first["error"]["data"]["message"] == "Injected"
    assert isinstance(rpc(sb, "sale.order", "create", {"partner_id": partner})["result"], int)


def test_stats_count_calls_and_reset(odoo_sandbox: OdooSandbox) -> None:
    sb = odoo_sandbox
    assert sb.stats() == {"calls": {}, "total": 0}
    sb.call("common", "authenticate", "hub", "admin", "admin", {})
    partner = one(sb, "res.partner", [["ref", "=", "ACME"]])
    for _ in range(3):
        sb.execute("sale.order", "create", {"partner_id": partner})
    rpc(sb, "no.such.model", "search", [])
    stats = sb.stats()
    assert stats["calls"]["sale.order.create"] == 3
    assert stats["calls"]["common.authenticate"] == 1
    assert stats["calls"]["res.partner.search"] == 1
    assert stats["calls"]["no.such.model.search"] == 1
    assert stats["total"] == 6
    sb.reset_stats()
    assert sb.stats()["total"] == 0
    sb.set_faults(latency_ms=5)
    sb.reset()
    assert sb.faults()["latency_ms"] == 0
    assert sb.execute("sale.order", "search_count", []) == 0


def test_persistence_with_data_file_survives_restart(tmp_path: Path) -> None:
    data = tmp_path / "odoo.sqlite"
    first = start_sandbox("--data", str(data))
    try:
        sb = OdooSandbox(first.url)
        pid = sb.execute("res.partner", "create", {"name": "Persistent Pat"})
        red = one(sb, "product.product", [["default_code", "=", "WIDGET-RED"]])
        so = order(sb, red, 4)
        sb.execute("sale.order", "action_confirm", [so])
        before = stock(sb, red)
    finally:
        first.stop()
    second = start_sandbox("--data", str(data))
    try:
        sb = OdooSandbox(second.url)
        assert sb.execute("res.partner", "read", [pid], ["name"])[0]["name"] == "Persistent Pat"
        assert stock(sb, red) == before
        assert sb.execute("sale.order", "read", [so], ["state"])[0]["state"] == "sale"
        again = sb.execute("res.partner", "create", {"name": "After Restart"})
        assert again > pid
    finally:
        second.stop()


# -- automation webhooks -------------------------------------------------------------------
@pytest.fixture
def listener() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    bodies: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", bodies
    server.shutdown()
    server.server_close()


def test_webhook_automation_posts_quant_changes(
    odoo_sandbox: OdooSandbox, listener: tuple[str, list[dict[str, Any]]]
) -> None:
    sb = odoo_sandbox
    url, bodies = listener
    model = one(sb, "ir.model", [["model", "=", "stock.quant"]])
    fields = {
        f["name"]: f["id"]
        for f in sb.execute(
            "ir.model.fields",
            "search_read",
            [
                ["model", "=", "stock.quant"],
                ["name", "in", ["quantity", "reserved_quantity", "product_id", "location_id"]],
            ],
            fields=["name"],
        )
    }
    auto = sb.execute(
        "base.automation",
        "create",
        {
            "name": "Quant changed",
            "model_id": model,
            "trigger": "on_create_or_write",
            "trigger_field_ids": [[6, 0, [fields["quantity"], fields["reserved_quantity"]]]],
            "action_server_ids": [
                [
                    0,
                    0,
                    {
                        "name": "POST",
                        "model_id": model,
                        "state": "webhook",
                        "webhook_url": url,
                        "webhook_field_ids": [[6, 0, list(fields.values())]],
                    },
                ]
            ],
        },
    )
    action = sb.execute("base.automation", "read", [auto], ["action_server_ids"])[0][
        "action_server_ids"
    ][0]
    assert (
        sb.execute("ir.actions.server", "read", [action], ["name"])[0]["name"]
        == "Send Webhook Notification"
    )
    red = one(sb, "product.product", [["default_code", "=", "WIDGET-RED"]])
    so = order(sb, red, 1)
    sb.execute("sale.order", "action_confirm", [so])
    deadline = time.monotonic() + 5
    while not bodies and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bodies, "no webhook received"
    body = bodies[0]
    assert body["_model"] == "stock.quant" and body["product_id"] == red
    assert body["reserved_quantity"] == 1.0
    assert body["_action"] == f"Send Webhook Notification(#{action})"
    assert list(body) == sorted(body)


def test_no_seed_starts_with_base_records_only() -> None:
    server = start_sandbox("--no-seed")
    try:
        sb = OdooSandbox(server.url)
        assert sb.execute("product.product", "search_count", []) == 0
        assert sb.execute("res.partner", "search", [["ref", "=", "ACME"]]) == []
        assert len(sb.execute("stock.warehouse", "search", [])) == 2
        assert sb.call("common", "authenticate", "hub", "admin", "admin", {})["result"] == 2
    finally:
        server.stop()


def test_user_passwords_are_never_sent_back(odoo_sandbox: OdooSandbox) -> None:
    row = odoo_sandbox.execute("res.users", "read", [2], ["login", "password"])[0]
    assert row == {"id": 2, "login": "admin", "password": ""}
    ctx = odoo_sandbox.execute("res.users", "context_get")
    assert ctx["uid"] == 2 and ctx["lang"] == "en_US"


# -- shipments: carriers, the delivery line, the picking hint (as a real Odoo 17 does) ------------
def test_carrier_on_the_order_goes_to_the_picking_without_a_line(odoo_sandbox: OdooSandbox) -> None:
    sb = odoo_sandbox
    carriers = sb.execute(
        "delivery.carrier", "search_read", [], fields=["name", "product_id", "integration_level"]
    )
    # every seeded carrier has its own delivery product, as in Odoo's demo data
    assert len({c["product_id"][0] for c in carriers}) == len(carriers) == 3
    express = next(c for c in carriers if c["name"] == "Express Delivery")
    red = one(sb, "product.product", [["default_code", "=", "WIDGET-RED"]])
    so = order(sb, red, 2, carrier_id=express["id"])
    row = sb.execute("sale.order", "read", [so], ["delivery_set", "order_line"])[0]
    assert row["delivery_set"] is False and len(row["order_line"]) == 1  # no line added
    sb.execute("sale.order", "action_confirm", [so])
    picking = sb.execute("sale.order", "read", [so], ["picking_ids"])[0]["picking_ids"][0]
    got = sb.execute(
        "stock.picking", "read", [picking], ["carrier_id", "carrier_tracking_url", "weight"]
    )[0]
    assert got["carrier_id"][0] == express["id"]
    assert got["carrier_tracking_url"] is False and got["weight"] == 2.0
    # set_delivery_line takes a carrier record: over RPC the id fails as it does in Odoo 17
    failed = rpc(sb, "sale.order", "set_delivery_line", [so], express["id"], 5.0)
    assert failed["error"]["data"]["name"] == "builtins.AttributeError"
    assert failed["error"]["data"]["message"] == "'int' object has no attribute 'id'"


def test_any_user_may_ask_its_rights(odoo_sandbox: OdooSandbox) -> None:
    sb = odoo_sandbox
    uid = sb.call("common", "authenticate", "hub", "integration", "integration", {})["result"]

    def may(model: str, op: str) -> Any:
        answer = rpc(
            sb,
            model,
            "check_access_rights",
            op,
            uid=uid,
            password="integration",
            raise_exception=False,
        )
        return answer["result"]

    # even on a model it may not read (check_access_rights itself needs no right)
    assert may("base.automation", "create") is False
    assert may("sale.order", "create") is True


def test_picking_hint_fires_only_for_done_deliveries_with_microsecond_write_date(
    odoo_sandbox: OdooSandbox, listener: tuple[str, list[dict[str, Any]]]
) -> None:
    sb = odoo_sandbox
    url, bodies = listener
    model = one(sb, "ir.model", [["model", "=", "stock.picking"]])
    fields = {
        f["name"]: f["id"]
        for f in sb.execute(
            "ir.model.fields",
            "search_read",
            [
                ["model", "=", "stock.picking"],
                ["name", "in", ["id", "name", "state", "carrier_tracking_ref", "write_date"]],
            ],
            fields=["name"],
        )
    }
    sb.execute(
        "base.automation",
        "create",
        {
            "name": "Picking done",
            "model_id": model,
            "trigger": "on_create_or_write",
            "trigger_field_ids": [[6, 0, [fields["state"], fields["carrier_tracking_ref"]]]],
            "filter_domain": "[('state', '=', 'done'), ('picking_type_code', 'in', "
            "['outgoing', 'dropship'])]",
            "action_server_ids": [
                [
                    0,
                    0,
                    {
                        "name": "POST",
                        "model_id": model,
                        "state": "webhook",
                        "webhook_url": url,
                        "webhook_field_ids": [[6, 0, list(fields.values())]],
                    },
                ]
            ],
        },
    )
    red = one(sb, "product.product", [["default_code", "=", "WIDGET-RED"]])
    so = order(sb, red, 3)
    sb.execute("sale.order", "action_confirm", [so])
    picking = sb.execute("sale.order", "read", [so], ["picking_ids"])[0]["picking_ids"][0]
    sb.execute("stock.picking", "write", [picking], {"carrier_tracking_ref": "NOT-YET"})
    time.sleep(0.3)
    assert bodies == []  # confirmed, then a tracking number on an open picking: filtered out
    assert sb.execute("stock.picking", "button_validate", [picking]) is True
    deadline = time.monotonic() + 5
    while not bodies and time.monotonic() < deadline:
        time.sleep(0.05)
    [body] = bodies
    assert body["id"] == picking and body["state"] == "done"
    assert body["carrier_tracking_ref"] == "NOT-YET"
    assert len(body["write_date"]) in (19, 26)  # str(datetime): microseconds unless zero
    read = sb.execute("stock.picking", "read", [picking], ["write_date"])[0]["write_date"]
    assert body["write_date"][:19] == read  # read over RPC: whole seconds
