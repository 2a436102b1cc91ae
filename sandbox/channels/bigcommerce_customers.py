"""BigCommerce customers and customer groups stand-in (LIFECYCLE.md §5.3), reached through
``bigcommerce.BigCommerce``:

- ``GET /v3/customers`` with ``id:in``, ``email:in``, ``customer_group_id:in``,
  ``include=addresses``; ``POST /v3/customers`` (array, at most 10, else 413; ``email``,
  ``first_name``, ``last_name`` required, else 422); ``PUT /v3/customers`` (at most 10, ``id``
  required). ``DELETE /v3/customers?id:in=…``.
- ``GET /v2/customer_groups`` (``name`` filter), ``GET|PUT /v2/customer_groups/<id>``,
  ``POST /v2/customer_groups`` (``name`` required, unique: 409 otherwise).

Stand-in choices where BigCommerce is UNCONFIRMED (§7): a duplicate e-mail on create is a 422
naming the e-mail; ``date_modified`` is the write time in ISO 8601 UTC. Every create and update
fires ``store/customer/created|updated`` through the stand-in's webhook sender when one is set.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .base import Request, Response

MAX_BATCH = 10
FIRST_CUSTOMER = 101
FIRST_GROUP = 11
FIELDS = ("email", "first_name", "last_name", "company", "phone", "customer_group_id", "notes")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _problem(status: int, title: str, errors: dict[str, Any] | None = None) -> Response:
    return Response(status, {"status": status, "title": title, "type": "", "errors": errors or {}})


class Customers:
    def __init__(self, store: Any, fire: Any) -> None:
        self.store = store
        self.fire = fire

    @property
    def state(self) -> dict[str, Any]:
        found = self.store.extra.get("customers")
        if found is None:
            found = self.store.extra["customers"] = {
                "customers": {},
                "groups": {},
                "next_customer": FIRST_CUSTOMER,
                "next_group": FIRST_GROUP,
            }
        return found  # type: ignore[no-any-return]

    def _json(self, row: dict[str, Any], addresses: bool) -> dict[str, Any]:
        out = {k: v for k, v in row.items() if k != "addresses"}
        if addresses:
            out["addresses"] = list(row.get("addresses") or [])
        return out

    def v3(self, req: Request, parts: list[str], body: Any) -> Response | None:
        if parts != ["customers"]:
            return None
        st = self.state
        m = req.method
        if m == "GET":
            ids = {x for x in (req.arg("id:in") or "").split(",") if x}
            emails = {x.lower() for x in (req.arg("email:in") or "").split(",") if x}
            groups = {x for x in (req.arg("customer_group_id:in") or "").split(",") if x}
            include = "addresses" in (req.arg("include") or "")
            rows = [
                self._json(c, include)
                for cid, c in sorted(st["customers"].items())
                if (not ids or str(cid) in ids)
                and (not emails or c["email"] in emails)
                and (not groups or str(c.get("customer_group_id")) in groups)
            ]
            meta = {
                "pagination": {
                    "total": len(rows),
                    "count": len(rows),
                    "per_page": 250,
                    "current_page": 1,
                    "total_pages": 1,
                }
            }
            return Response(200, {"data": rows, "meta": meta})
        if m == "DELETE":
            for x in (req.arg("id:in") or "").split(","):
                st["customers"].pop(int(x), None) if x.isdigit() else None
            return Response(204)
        if not isinstance(body, list):
            return _problem(422, "The request body must be an array")
        if len(body) > MAX_BATCH:
            return _problem(413, f"The maximum items allowed in the array is {MAX_BATCH}")
        out = []
        if m == "POST":
            for i, item in enumerate(body):
                missing = [f for f in ("email", "first_name", "last_name") if not item.get(f)]
                if missing:
                    return _problem(
                        422, "Missing required fields", {f"{i}.{f}": "required" for f in missing}
                    )
                email = str(item["email"]).lower()
                if any(c["email"] == email for c in st["customers"].values()):
                    return _problem(
                        422,
                        f"The email address {email} is already in use",
                        {f"{i}.email": "already in use"},
                    )
            for item in body:
                cid = st["next_customer"]
                st["next_customer"] += 1
                row = {
                    "id": cid,
                    **{f: item.get(f, "") for f in FIELDS},
                    "date_created": _now(),
                    "date_modified": _now(),
                    "addresses": list(item.get("addresses") or []),
                }
                row["email"] = str(row["email"]).lower()
                row["customer_group_id"] = int(item.get("customer_group_id") or 0)
                st["customers"][cid] = row
                out.append(self._json(row, False))
                self.fire("store/customer/created", {"type": "customer", "id": cid})
            return Response(200, {"data": out, "meta": {}})
        if m == "PUT":
            for i, item in enumerate(body):
                if int(item.get("id") or 0) not in st["customers"]:
                    return _problem(422, "Customer not found", {f"{i}.id": "not found"})
            for item in body:
                row = st["customers"][int(item["id"])]
                row.update({f: item[f] for f in FIELDS if f in item})
                row["date_modified"] = _now()
                out.append(self._json(row, False))
                self.fire("store/customer/updated", {"type": "customer", "id": row["id"]})
            return Response(200, {"data": out, "meta": {}})
        return None

    def v2(self, req: Request, parts: list[str], body: Any) -> Response | None:
        if not parts or parts[0] != "customer_groups":
            return None
        st = self.state
        m = req.method
        groups = st["groups"]
        if len(parts) == 1 and m == "GET":
            name = req.arg("name")
            rows = [g for _, g in sorted(groups.items()) if name is None or g["name"] == name]
            return Response(200, rows) if rows else Response(204)
        if len(parts) == 1 and m == "POST":
            name = str((body or {}).get("name") or "").strip()
            if not name:
                return Response(400, [{"status": 400, "message": "The field 'name' is required."}])
            if any(g["name"] == name for g in groups.values()):
                return Response(409, [{"status": 409, "message": "The group name is in use."}])
            gid = st["next_group"]
            st["next_group"] += 1
            groups[gid] = {
                "id": gid,
                "name": name,
                "is_default": False,
                "category_access": {"type": "all"},
                "discount_rules": [],
            }
            return Response(201, groups[gid])
        if len(parts) == 2 and parts[1].isdigit():
            group = groups.get(int(parts[1]))
            if group is None:
                return Response(
                    404, [{"status": 404, "message": "The requested resource was not found."}]
                )
            if m == "GET":
                return Response(200, group)
            if m == "PUT":
                group.update(
                    {k: v for k, v in (body or {}).items() if k in ("name", "discount_rules")}
                )
                return Response(200, group)
        return None
