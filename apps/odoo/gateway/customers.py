"""Customers: consumer contact data, B2B accounts (companies and their contacts), anonymisation.

Odoo calls: res.partner: search_read, read, write; res.country: search_read (through the
partners mixin's cache). Every read names its fields; ids go in chunks of ``CHUNK``.

- ``partners_by_email``: every active partner per e-mail (a company and its contacts may share
  one), so the caller can tell one customer from two customers sharing an address.
- ``partner_contact_update``: reads, then writes only the fields that differ (a repeat writes
  nothing), on a person only (a company is Odoo's B2B account: never written from a channel).
- ``b2b_accounts_read``: companies with their credit limit, payment terms and pricelist
  (company-dependent fields read in the integration user's company; the pricelist's fields are
  the version adapter's ``partner_pricelist_fields``) and their contacts and delivery
  addresses, in two reads for any number of companies.
- ``partner_anonymise``: the partner and its address children lose name, e-mail, phones,
  street, VAT and notes in ONE write; running it twice writes nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ..errors import OdooPermanentError
from .base import CHUNK, EMAIL_CHUNK, GatewayBase, _unique, chunked, falsy_none, m2o_id

CONTACT_FIELDS = [
    "name",
    "email",
    "phone",
    "street",
    "street2",
    "city",
    "zip",
    "country_id",
    "is_company",
    "parent_id",
    "commercial_partner_id",
    "ref",
    "active",
]
WRITABLE_CONTACT_KEYS = ("name", "email", "phone", "street", "street2", "city", "zip")
COMPANY_FIELDS = [
    "name",
    "ref",
    "vat",
    "email",
    "phone",
    "street",
    "street2",
    "city",
    "zip",
    "country_id",
    "is_company",
    "credit_limit",
    "use_partner_credit_limit",
    "property_payment_term_id",
    "child_ids",
    "write_date",
    "active",
]
CHILD_FIELDS = ["name", "email", "phone", "type", "street", "street2", "city", "zip", "country_id"]
ANONYMISED = {
    "email": False,
    "phone": False,
    "street": False,
    "street2": False,
    "city": False,
    "zip": False,
    "vat": False,
    "comment": False,
}


def _text(value: Any) -> str:
    value = falsy_none(value)
    return "" if value is None else str(value)


def _m2o(value: Any) -> dict[str, Any] | None:
    if isinstance(value, list) and value:
        return {"id": int(value[0]), "name": str(value[1]) if len(value) > 1 else ""}
    return None


class CustomersGateway(GatewayBase):
    """Consumer contact updates, B2B account reads and anonymisation."""

    def _contact_fields(self) -> list[str]:
        """CONTACT_FIELDS and the version's mobile field (none on 19)."""
        return [*CONTACT_FIELDS, *self.client.adapter.partner_mobile_fields]

    def _country_id(self, code: str) -> int | None:
        """A country id by ISO code, cached with the partners mixin's countries."""
        if code not in self._countries:
            rows = self.client.call(
                "res.country", "search_read", [[["code", "=", code]]], {"fields": ["code"]}
            )
            if rows:
                self._countries[code] = int(rows[0]["id"])
        return self._countries.get(code)

    def partners_by_email(self, *, emails: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Lower-cased e-mail -> every active partner with it (ONE search per chunk), ordered
        by id; each record carries ``commercial_partner_id`` as an int."""
        wanted = _unique(e.strip().lower() for e in emails if e and e.strip())
        out: dict[str, list[dict[str, Any]]] = {e: [] for e in wanted}
        for part in chunked(wanted, EMAIL_CHUNK):
            leaves: list[Any] = [["email", "=ilike", e] for e in part]
            domain: list[Any] = ["|"] * (len(leaves) - 1) + leaves
            rows = self.client.call(
                "res.partner",
                "search_read",
                [domain],
                {"fields": self._contact_fields(), "order": "id"},
            )
            for row in rows:
                email = _text(row.get("email")).strip().lower()
                if email in out:
                    row["commercial_partner_id"] = m2o_id(row.get("commercial_partner_id"))
                    out[email].append(row)
        return out

    def partners_contact_read(self, *, partner_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """id -> the contact fields (archived partners included: a read by id finds them)."""
        fields = self._contact_fields()
        out: dict[int, dict[str, Any]] = {}
        for part in chunked(_unique(int(i) for i in partner_ids)):
            for row in self.client.call("res.partner", "read", [part, fields]):
                row["commercial_partner_id"] = m2o_id(row.get("commercial_partner_id"))
                out[int(row["id"])] = row
        return out

    def partner_contact_update(self, *, partner_id: int, contact: Mapping[str, Any]) -> list[str]:
        """Write the person's contact data where it differs from Odoo's; the fields written.

        ``contact``: name, email, phone, street, street2, city, zip, country_code; empty values
        are left alone (a channel that sends no phone does not erase Odoo's). A company is
        refused: B2B accounts are Odoo's.
        """
        current = self.partners_contact_read(partner_ids=[partner_id]).get(int(partner_id))
        if current is None:
            raise OdooPermanentError(f"Partner {partner_id} does not exist", partner=partner_id)
        if current.get("is_company"):
            raise OdooPermanentError(
                f"Partner {partner_id} is a company: B2B accounts are maintained in Odoo",
                partner=partner_id,
            )
        vals: dict[str, Any] = {}
        for key in WRITABLE_CONTACT_KEYS:
            value = str(contact.get(key) or "").strip()
            if value and value != _text(current.get(key)).strip():
                vals[key] = value
        code = str(contact.get("country_code") or "").strip().upper()
        if code:
            country = self._country_id(code)
            if country and country != m2o_id(current.get("country_id")):
                vals["country_id"] = country
        if vals:
            self.client.call("res.partner", "write", [[int(partner_id)], vals])
        return sorted(vals)

    def b2b_accounts_read(self, *, company_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Company id -> {id, name, ref, vat, email, phone, street..., country_code,
        credit_limit (str, "" without a limit), payment_term {id, name} | None,
        pricelist {id, name} | None, contacts [{id, name, email, phone}],
        addresses [{id, name, street, street2, city, zip, country_code}], write_date, active}.

        Contacts are the company's children of type ``contact`` with an e-mail (the people who
        buy); addresses its ``delivery`` children. Two reads per chunk of companies.
        """
        adapter = self.client.adapter
        fields = [*COMPANY_FIELDS, *adapter.partner_pricelist_fields]
        out: dict[int, dict[str, Any]] = {}
        for part in chunked(_unique(int(i) for i in company_ids), CHUNK):
            rows = self.client.call("res.partner", "read", [part, fields])
            child_ids = [c for r in rows for c in (r.get("child_ids") or [])]
            children: dict[int, dict[str, Any]] = {}
            for cpart in chunked(child_ids):
                for child in self.client.call("res.partner", "read", [cpart, CHILD_FIELDS]):
                    children[int(child["id"])] = child
            for row in rows:
                if not row.get("is_company"):
                    raise OdooPermanentError(
                        f"Partner {row['id']} is not a company", partner=row["id"]
                    )
                kids = [children[c] for c in row.get("child_ids") or [] if c in children]
                limit = row.get("credit_limit") or 0
                out[int(row["id"])] = {
                    "id": int(row["id"]),
                    "name": _text(row.get("name")),
                    "ref": _text(row.get("ref")),
                    "vat": _text(row.get("vat")),
                    "email": _text(row.get("email")),
                    "phone": _text(row.get("phone")),
                    **{k: _text(row.get(k)) for k in ("street", "street2", "city", "zip")},
                    "country_id": m2o_id(row.get("country_id")),
                    # Odoo 17 computes use_partner_credit_limit from the limit itself
                    # (transcript 17); a limit of 0 means none.
                    "credit_limit": f"{Decimal(str(limit)):.2f}" if limit else "",
                    "payment_term": _m2o(row.get("property_payment_term_id")),
                    "pricelist": _m2o(adapter.partner_pricelist(row)),
                    "contacts": [
                        {
                            "id": int(k["id"]),
                            "name": _text(k.get("name")),
                            "email": _text(k.get("email")).strip().lower(),
                            "phone": _text(k.get("phone")),
                        }
                        for k in kids
                        if k.get("type") == "contact" and _text(k.get("email")).strip()
                    ],
                    "addresses": [
                        {
                            "id": int(k["id"]),
                            "name": _text(k.get("name")),
                            **{f: _text(k.get(f)) for f in ("street", "street2", "city", "zip")},
                            "country_id": m2o_id(k.get("country_id")),
                        }
                        for k in kids
                        if k.get("type") == "delivery"
                    ],
                    "write_date": _text(row.get("write_date")),
                    "active": bool(row.get("active", True)),
                }
        ids = sorted(
            {a["country_id"] for a in out.values() if a["country_id"]}
            | {x["country_id"] for a in out.values() for x in a["addresses"] if x["country_id"]}
        )
        codes: dict[int, str] = {}
        if ids:
            for row in self.client.call("res.country", "read", [ids, ["code"]]):
                codes[int(row["id"])] = _text(row.get("code")).upper()
        for acc in out.values():
            acc["country_code"] = codes.get(acc.pop("country_id") or 0, "")
            for addr in acc["addresses"]:
                addr["country_code"] = codes.get(addr.pop("country_id") or 0, "")
        return out

    def partner_anonymise(self, *, partner_id: int, label: str) -> list[int]:
        """Erase the personal data of ``partner_id`` and of its address children in ONE write;
        the ids written. The partner keeps its id (orders and invoices still point at it) and
        is renamed ``label``. Partners already anonymised are not written again."""
        rows = self.client.call(
            "res.partner",
            "search_read",
            [["|", ["id", "=", int(partner_id)], ["parent_id", "=", int(partner_id)]]],
            {"fields": ["name", "email", "phone", "street", "is_company"], "order": "id"},
        )
        if not rows:
            raise OdooPermanentError(f"Partner {partner_id} does not exist", partner=partner_id)
        if any(r["id"] == int(partner_id) and r.get("is_company") for r in rows):
            raise OdooPermanentError(
                f"Partner {partner_id} is a company: not anonymised by the hub",
                partner=partner_id,
            )
        todo = [
            int(r["id"])
            for r in rows
            if r.get("name") != label
            or any(falsy_none(r.get(f)) for f in ("email", "phone", "street"))
        ]
        if todo:
            erased = {
                **ANONYMISED,
                **dict.fromkeys(self.client.adapter.partner_mobile_fields, False),
            }
            self.client.call("res.partner", "write", [todo, {**erased, "name": label}])
        return todo
