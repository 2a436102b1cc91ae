"""Partners: companies and people, their delivery and invoice addresses, their credit.

Odoo calls: res.partner: search_read, read, create, address_get; res.country: search_read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..errors import OdooPermanentError
from .base import (
    ADDRESS_KEYS,
    EMAIL_CHUNK,
    PARTNER_FIELDS,
    GatewayBase,
    PartnerIds,
    PartnerLookup,
    _unique,
    chunked,
    falsy_none,
)


class PartnersGateway(GatewayBase):
    """Find, create and read partners; countries are looked up once per gateway."""

    def partners_find(
        self, *, refs: Sequence[str] = (), emails: Sequence[str] = ()
    ) -> PartnerLookup:
        """Partners matching any ref or email, in one call for ordinary batch sizes.

        Several partners may share an email (a company and its contacts): the top-level
        (commercial) partner wins, then the lowest id, so the answer is stable.
        """
        refs_u = _unique(r for r in refs if r)
        emails_u = _unique(e.strip().lower() for e in emails if e and e.strip())
        lookup = PartnerLookup()
        ref_chunks = list(chunked(refs_u)) or [[]]
        email_chunks = list(chunked(emails_u, EMAIL_CHUNK)) or [[]]
        for i in range(max(len(ref_chunks), len(email_chunks))):
            leaves: list[list[Any]] = []
            if i < len(ref_chunks) and ref_chunks[i]:
                leaves.append(["ref", "in", ref_chunks[i]])
            if i < len(email_chunks):
                leaves += [["email", "=ilike", e] for e in email_chunks[i]]
            if not leaves:
                continue
            domain: list[Any] = ["|"] * (len(leaves) - 1) + leaves
            lookup.records += self.client.call(
                "res.partner", "search_read", [domain], {"fields": PARTNER_FIELDS, "order": "id"}
            )
        ref_set, email_set = set(refs_u), set(emails_u)
        # Sorted so that parents (no parent_id) come first, then by id: the first match wins.
        for rec in sorted(lookup.records, key=lambda r: (bool(r.get("parent_id")), r["id"])):
            ref = falsy_none(rec.get("ref"))
            if ref in ref_set:
                lookup.by_ref.setdefault(ref, rec["id"])
            email = (falsy_none(rec.get("email")) or "").strip().lower()
            if email in email_set:
                lookup.by_email.setdefault(email, rec["id"])
        return lookup

    def _country_ids(self, codes: Iterable[str]) -> dict[str, int]:
        missing = sorted({c.upper() for c in codes if c} - set(self._countries))
        if missing:
            rows = self.client.call(
                "res.country", "search_read", [[["code", "in", missing]]], {"fields": ["code"]}
            )
            self._countries.update({r["code"].upper(): r["id"] for r in rows})
        return self._countries

    def _address_vals(
        self, data: Mapping[str, Any], countries: Mapping[str, int]
    ) -> dict[str, Any]:
        vals = {k: data[k] for k in ADDRESS_KEYS if data.get(k) not in (None, "")}
        code = data.get("country_code")
        if code and "country_id" not in vals:
            if code.upper() not in countries:
                raise OdooPermanentError(f"Unknown country code {code!r}", country_code=code)
            vals["country_id"] = countries[code.upper()]
        return vals

    def partner_create(self, *, partner: Mapping[str, Any]) -> PartnerIds:
        """Create a company or person with its delivery and invoice addresses in ONE create.

        ``partner``: name, is_company, ref, email, phone, street..., country_code, and optional
        ``delivery`` / ``invoice`` address dicts (same keys, plus ``name``). Without one, the
        partner itself is that address (as Odoo's address_get would answer).
        """
        if not partner.get("name"):
            raise OdooPermanentError("A partner needs a name", ref=partner.get("ref"))
        codes = [partner.get("country_code")] + [
            (partner.get(kind) or {}).get("country_code") for kind in ("delivery", "invoice")
        ]
        countries = self._country_ids(c for c in codes if c)
        vals: dict[str, Any] = {
            "name": partner["name"],
            "is_company": bool(partner.get("is_company")),
            **self._address_vals(partner, countries),
        }
        if partner.get("ref"):
            vals["ref"] = partner["ref"]
        children = []
        for kind in ("delivery", "invoice"):
            child = partner.get(kind)
            if child:
                children.append(
                    [
                        0,
                        0,
                        {
                            "type": kind,
                            "name": child.get("name") or partner["name"],
                            **self._address_vals(child, countries),
                        },
                    ]
                )
        if children:
            vals["child_ids"] = children
        partner_id = int(self.client.call("res.partner", "create", [vals]))
        ids = {"delivery": partner_id, "invoice": partner_id}
        if children:
            rows = self.client.call(
                "res.partner",
                "search_read",
                [[["parent_id", "=", partner_id], ["type", "in", ["delivery", "invoice"]]]],
                {"fields": ["type"], "order": "id"},
            )
            for row in rows:  # the first child of each type, as address_get would pick
                if ids[row["type"]] == partner_id:
                    ids[row["type"]] = row["id"]
        return PartnerIds(id=partner_id, delivery_id=ids["delivery"], invoice_id=ids["invoice"])

    def partner_ensure(self, *, partner: Mapping[str, Any]) -> PartnerIds:
        """Find by ``ref`` (deterministic, set by the hub) or create; safe to run twice."""
        ref = partner.get("ref")
        if not ref:
            raise OdooPermanentError("partner_ensure needs a ref", name=partner.get("name"))
        found = self.partners_find(refs=[ref])
        if ref in found.by_ref:
            pid = found.by_ref[ref]
            addr = self.client.call("res.partner", "address_get", [[pid], ["delivery", "invoice"]])
            return PartnerIds(id=pid, delivery_id=addr["delivery"], invoice_id=addr["invoice"])
        return self.partner_create(partner=partner)

    def partners_credit(self, *, partner_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """id -> {credit_limit, use_partner_credit_limit, credit (open receivables)}: ONE read
        per chunk, for the B2B credit hold."""
        fields = ["credit_limit", "use_partner_credit_limit", "credit"]
        out: dict[int, dict[str, Any]] = {}
        for part in chunked(_unique(partner_ids)):
            for row in self.client.call("res.partner", "read", [part, fields]):
                out[row["id"]] = {
                    "id": row["id"],
                    "credit_limit": row.get("credit_limit") or 0,
                    "use_partner_credit_limit": bool(row.get("use_partner_credit_limit")),
                    "credit": row.get("credit") or 0,
                }
        return out

    def partner_address_create(
        self,
        *,
        parent_id: int,
        address: Mapping[str, Any],
        kind: str = "delivery",
        ref: str = "",
    ) -> int:
        """A delivery (or invoice) child address of ``parent_id``, in one create.

        ``ref``, when given, is a deterministic key the caller searches before creating, so a
        create whose response was lost is found instead of made twice.
        """
        countries = self._country_ids([address.get("country_code") or ""])
        vals = {
            "parent_id": parent_id,
            "type": kind,
            "name": address.get("name") or "",
            **self._address_vals(address, countries),
        }
        if ref:
            vals["ref"] = ref
        if not vals["name"]:
            vals.pop("name")
        return int(self.client.call("res.partner", "create", [vals]))
