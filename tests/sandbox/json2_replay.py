"""Replays a transcript recorded over Odoo 19's JSON-2 API (20_json2_odoo19) against a sandbox
started as the version it was recorded from (used by test_transcript_replay.py).

A JSON-2 exchange differs from a JSON-RPC one in URL (``/json/2/<model>/<method>``), headers
(bearer key, ``X-Odoo-Database``, Content-Type, sometimes deliberately missing) and body (named
arguments; sometimes not JSON at all). The replay sends exactly the recorded method, headers and
body, with three substitutions: the recorded ``<API KEY>`` becomes the sandbox's key, the recorded
database the sandbox's (any other database name stays "another database"), and record ids go
through the same per-model id map as the JSON-RPC replay. Legacy ``/jsonrpc`` exchanges in the same
file are replayed as JSON-RPC.

The recording used Odoo's demo products (E-COM11, FURN_1118, FURN_8855); the sandbox has other
demo data, so ``setup`` creates them first with the free quantities exchange #12 recorded (what the
reservation of the partially available second order, #46-#50, depends on).
"""

from __future__ import annotations

import copy
import json
import urllib.error
import urllib.request
from typing import Any

from tests.fixtures.sandbox import OdooSandbox
from tests.sandbox.test_transcript_replay import IdMap, assert_same_shape

RECORD_METHODS = {"read", "write", "unlink", "action_confirm", "button_validate"}


def is_json2(data: dict[str, Any]) -> bool:
    return any("/json/2" in ex["request"]["url"] for ex in data["exchanges"])


def recorded_major(data: dict[str, Any]) -> int:
    return int(str(data.get("odoo_version") or "17").split(".")[0])


class Json2Replayer:
    def __init__(self, sandbox: OdooSandbox, data: dict[str, Any]) -> None:
        self.sb = sandbox
        self.data = data
        self.ids = IdMap(recorded_major(data))
        self.ids.set("res.users", 2, 2, override=True)
        self.ids.set("res.currency", 1, self._one("res.currency", [["name", "=", "USD"]]))
        self.ids.set("res.country", 233, self._one("res.country", [["code", "=", "US"]]))

    def _one(self, model: str, domain: list[Any]) -> int:
        found = self.sb.execute(model, "search", domain, limit=1)
        assert found, f"sandbox seed lacks {model} {domain}"
        return int(found[0])

    def setup(self) -> None:
        """Stand-ins for the demo products the recording read in #12."""
        ex = next(e for e in self.data["exchanges"] if e["label"].startswith("#12 "))
        wh = self.sb.execute("stock.warehouse", "search_read", [], fields=["lot_stock_id"])[0]
        for row in ex["response"]["body"]:
            pid = self.sb.execute(
                "product.product",
                "create",
                {
                    "name": row["name"],
                    "default_code": row["default_code"],
                    "type": "consu",
                    "is_storable": True,
                    "list_price": row["list_price"],
                },
            )
            self.sb.execute(
                "stock.quant",
                "create",
                {
                    "product_id": pid,
                    "location_id": wh["lot_stock_id"][0],
                    "inventory_quantity_auto_apply": row["free_qty"],
                },
                context={"inventory_mode": True},
            )

    # -- requests ------------------------------------------------------------------------
    def headers(self, recorded: dict[str, str]) -> dict[str, str]:
        out = {}
        for name, value in recorded.items():
            if name == "Authorization":
                value = value.replace("<API KEY>", self.sb.api_key)
            elif name == "X-Odoo-Database":
                value = self.sb.db if value == self.data["db"] else f"not-{self.sb.db}"
            out[name] = value
        return out

    def json2_body(self, model: str, method: str, body: Any) -> Any:
        if not isinstance(body, dict):
            return body
        body = copy.deepcopy(body)
        if "ids" in body:
            body["ids"] = self.ids.get(model, body["ids"])
        if "domain" in body:
            body["domain"] = self.ids.domain(model, body["domain"])
        if "vals_list" in body:
            vals = body["vals_list"]
            body["vals_list"] = (
                [self.ids.vals(model, v) for v in vals]
                if isinstance(vals, list)
                else self.ids.vals(model, vals)
            )
        if "vals" in body:
            body["vals"] = self.ids.vals(model, body["vals"])
        if "context" in body:
            ctx = self.ids.context(body["context"])
            if "pricelist" in ctx:
                ctx["pricelist"] = self.ids.get("product.pricelist", ctx["pricelist"])
            body["context"] = ctx
        return body

    def jsonrpc_body(self, body: dict[str, Any]) -> dict[str, Any]:
        body = copy.deepcopy(body)
        params = body.get("params", {})
        args = params.get("args") or []
        if params.get("method") == "execute_kw":
            args[0] = self.sb.db
            args[2] = self.sb.api_key if args[2] == "<API KEY>" else args[2]
            params["args"] = self.ids.execute_kw(args)
        return body

    def send(self, ex: dict[str, Any]) -> tuple[int, str, Any, Any]:
        req = ex["request"]
        path = "/" + req["url"].split("/", 3)[3]
        parts = path.split("/")
        model = parts[3] if len(parts) == 5 and path.startswith("/json/2/") else None
        method = parts[4] if model else None
        body = req.get("body")
        if path == "/jsonrpc":
            body = self.jsonrpc_body(body)
        elif model and method:
            body = self.json2_body(model, method, body)
        if body is None:
            data = None
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body).encode()
        request = urllib.request.Request(
            self.sb.url + path,
            data=data,
            method=req.get("method", "POST"),
            headers=self.headers(req.get("headers") or {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                status, ctype, raw = resp.status, resp.headers.get("Content-Type", ""), resp.read()
        except urllib.error.HTTPError as err:
            status, ctype, raw = err.code, err.headers.get("Content-Type", ""), err.read()
        answer: Any = json.loads(raw) if "json" in ctype else raw.decode()
        return status, ctype, answer, (model, method, body)

    # -- the replay ----------------------------------------------------------------------
    def replay(self) -> int:
        checked = 0
        for ex in self.data["exchanges"]:
            label = f"{ex['label']}"
            status, ctype, actual, (model, method, _) = self.send(ex)
            rec = ex["response"]
            recorded = rec["body"]
            assert status == rec["status"], f"[{label}] status {status}: {actual!r}"
            rtype = rec["headers"].get("Content-Type", "")
            assert ("json" in ctype) == ("json" in rtype), f"[{label}] content type {ctype}"
            if isinstance(recorded, dict) and "jsonrpc" in recorded:
                params = ex["request"]["body"]["params"]
                args = params.get("args") or []
                meth = args[4] if len(args) > 4 else None
                assert_same_shape(label, recorded, actual, meth)
            elif status != 200:
                if isinstance(recorded, dict):
                    assert actual["name"] == recorded["name"], f"[{label}] {actual}"
                    assert set(actual) == set(recorded), f"[{label}] error keys"
            else:
                assert_same_shape(label, {"result": recorded}, {"result": actual}, method)
                self.learn(model, method, recorded, actual)
            checked += 1
        return checked

    def learn(self, model: str | None, method: str | None, recorded: Any, actual: Any) -> None:
        if model is None:
            return
        if method == "create" and isinstance(recorded, list) and isinstance(actual, list):
            for r, a in zip(recorded, actual, strict=False):
                self.ids.set(model, r, a, override=True)
            return
        self.ids.learn(model, method, recorded, actual)
