"""The platform calls of the customers flow, through the channel account's rate budget.

Shopify (Admin GraphQL; companies need a B2B-enabled plan — LIFECYCLE.md §5.1, verify):
``companies(query: "external_id:…")`` (check before create: ``companyCreate`` has no
idempotency key), ``companyCreate`` (company + location + first contact), ``companyUpdate``,
``companyLocationAssignAddress``, ``companyContactCreate``, and for an e-mail that already has a
customer ``customers(query: "email:…")`` + ``companyAssignCustomerAsContact``;
``paymentTermsTemplates`` names the NET terms a location's checkout may use.

BigCommerce: ``/v2/customer_groups`` (one group per B2B account, the group a price list is
assigned to), ``GET /v3/customers?email:in=…`` then ``POST``/``PUT /v3/customers`` in batches
of at most 10 (§5.3), ``GET /v3/customers?id:in=…&include=addresses`` for a webhook's customer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from apps.core.errors import PermanentError
from apps.core.shapes import ID
from apps.fulfillment.adapters._http import ChannelHttp
from apps.inventory.publishers.bigcommerce import BigCommercePublisher
from apps.inventory.publishers.shopify import ShopifyPublisher, mutation_shape
from apps.sales_channels.models import Channel

logger = logging.getLogger(__name__)

BC_CUSTOMER_BATCH = 10
GRAPHQL_COST = 10.0
# What each call reads of the answer (apps.core.shapes).
BC_CUSTOMERS = {"data": [dict]}
BC_GROUP = {"id": ID, "name?": (str, None)}


# --- BigCommerce --------------------------------------------------------------------------------


class BigCommerceCustomers:
    def __init__(self, channel: Channel, *, session: Any = None) -> None:
        self.pub = BigCommercePublisher(channel, session=session)
        self.http = ChannelHttp(self.pub)
        self.root = channel.api_base_url.rstrip("/")
        self.channel = channel

    def _json(self, method: str, path: str, spec: Any, operation: str, **kw: Any) -> Any:
        """The answer checked against ``spec``; None for 204, and for an empty body from v2
        (its "none"). A v3 answer always has its envelope: an empty one is unreadable, never
        "no customers" (the lookup before a create would create a second one)."""
        resp = self.http.request(
            method, f"{self.root}/{path}", headers=self.pub.headers, allow=(204,), **kw
        )
        if resp.status_code == 204:
            return None
        if path.startswith("v2/"):
            return self.pub.answer(resp, spec, operation, empty=None)
        return self.pub.answer(resp, spec, operation)

    @property
    def calls(self) -> int:
        return self.http.calls

    def customers_by_id(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        body = self._json(
            "GET",
            f"v3/customers?id:in={','.join(ids)}&include=addresses&limit=250",
            BC_CUSTOMERS,
            "customers.read",
        )
        return list((body or {}).get("data") or [])

    def customers_by_email(self, emails: Sequence[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(emails), 50):
            part = ",".join(quote(e, safe="@") for e in emails[start : start + 50])
            body = self._json(
                "GET", f"v3/customers?email:in={part}&limit=250", BC_CUSTOMERS, "customers.find"
            )
            for row in (body or {}).get("data") or []:
                out[str(row.get("email") or "").lower()] = row
        return out

    def customers_create(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for start in range(0, len(rows), BC_CUSTOMER_BATCH):
            body = self._json(
                "POST",
                "v3/customers",
                BC_CUSTOMERS,
                "customers.create",
                json=rows[start : start + BC_CUSTOMER_BATCH],
            )
            out += list((body or {}).get("data") or [])
        return out

    def customers_update(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for start in range(0, len(rows), BC_CUSTOMER_BATCH):
            body = self._json(
                "PUT",
                "v3/customers",
                BC_CUSTOMERS,
                "customers.update",
                json=rows[start : start + BC_CUSTOMER_BATCH],
            )
            out += list((body or {}).get("data") or [])
        return out

    def group_find(self, name: str) -> dict[str, Any] | None:
        rows = (
            self._json(
                "GET", f"v2/customer_groups?name={quote(name)}", [BC_GROUP], "customers.group_find"
            )
            or []
        )
        return next((g for g in rows if str(g.get("name")) == name), None)

    def group_ensure(self, group_id: str, name: str) -> str:
        """The account's customer group: renamed when the company's name changed, found by its
        name before one is created (a create whose answer was lost is not repeated)."""
        if group_id:
            current = self._json(
                "GET", f"v2/customer_groups/{group_id}", BC_GROUP, "customers.group_read"
            )
            if current and str(current.get("name")) != name:
                self._json(
                    "PUT",
                    f"v2/customer_groups/{group_id}",
                    dict,
                    "customers.group_rename",
                    json={"name": name},
                )
            if current:
                return group_id
        found = self.group_find(name)
        if found:
            return str(found["id"])
        created = self._json(
            "POST", "v2/customer_groups", BC_GROUP, "customers.group_create", json={"name": name}
        )
        if created is None:
            raise PermanentError(
                f"{self.channel.code}: BigCommerce created the customer group {name!r} "
                "without answering its id",
                channel=self.channel.code,
            )
        return str(created["id"])


def bigcommerce_customer_read(channel: Channel, customer_id: str) -> dict[str, Any] | None:
    if not customer_id:
        return None
    rows = BigCommerceCustomers(channel).customers_by_id([customer_id])
    return rows[0] if rows else None


# --- Shopify -------------------------------------------------------------------------------------

COMPANY_FIELDS = """
  id externalId name note
  locations(first: 5) { nodes { id externalId name } }
  contacts(first: 100) { nodes { id customer { id email } } }
"""
Q_COMPANIES = (
    "query($q: String!) { companies(first: 1, query: $q) { nodes {" + COMPANY_FIELDS + "} } }"
)
Q_TERMS = "{ paymentTermsTemplates { id name paymentTermsType dueInDays } }"
Q_CUSTOMERS = "query($q: String!) { customers(first: 1, query: $q) { nodes { id email } } }"
M_CREATE = (
    "mutation($input: CompanyCreateInput!) { companyCreate(input: $input) { company {"
    + COMPANY_FIELDS
    + "} userErrors { field message code } } }"
)
M_UPDATE = (
    "mutation($id: ID!, $input: CompanyInput!) { companyUpdate(companyId: $id, input: $input) {"
    " company { id } userErrors { field message code } } }"
)
M_ADDRESS = (
    "mutation($id: ID!, $address: CompanyAddressInput!, $types: [CompanyAddressType!]!) {"
    " companyLocationAssignAddress(locationId: $id, address: $address, addressTypes: $types) {"
    " addresses { id } userErrors { field message code } } }"
)
M_CONTACT = (
    "mutation($id: ID!, $input: CompanyContactInput!) { companyContactCreate(companyId: $id,"
    " input: $input) { companyContact { id customer { id email } }"
    " userErrors { field message code } } }"
)
M_ASSIGN = (
    "mutation($id: ID!, $customer: ID!) { companyAssignCustomerAsContact(companyId: $id,"
    " customerId: $customer) { companyContact { id customer { id email } }"
    " userErrors { field message code } } }"
)


Q_COMPANIES_SHAPE = {"companies": {"nodes": [{"id": str}]}}
Q_TERMS_SHAPE = {
    "paymentTermsTemplates": [
        {"id": ID, "paymentTermsType?": (str, None), "dueInDays?": (int, None)}
    ]
}
Q_CUSTOMERS_SHAPE = {"customers": {"nodes": [{"id": str}]}}


def numeric_id(gid: Any) -> str:
    text = str(gid or "")
    return text.rsplit("/", 1)[-1].split("?", 1)[0] if text.startswith("gid://") else text


class ShopifyCompanies:
    def __init__(self, channel: Channel, *, session: Any = None) -> None:
        self.pub = ShopifyPublisher(channel, session=session)
        self.channel = channel

    @property
    def calls(self) -> int:
        return self.pub.calls

    def _gql(
        self, query: str, variables: dict[str, Any], key: str = "", *, shape: Any, operation: str
    ) -> Any:
        """``data`` checked against ``shape``; with ``key``, that mutation's payload (its
        ``userErrors`` raised as a PermanentError)."""
        data = self.pub.graphql(
            query, variables, cost=GRAPHQL_COST, shape=shape, operation=operation
        )
        if not key:
            return data
        payload = data[key]
        errors = payload["userErrors"]
        if errors:
            raise PermanentError(
                f"{self.channel.code}: Shopify {key} refused: "
                + "; ".join(str(e.get("message")) for e in errors)[:400],
                channel=self.channel.code,
                user_errors=errors,
            )
        return payload

    def company_find(self, external_id: str) -> dict[str, Any] | None:
        data = self._gql(
            Q_COMPANIES,
            {"q": f"external_id:'{external_id}'"},
            shape=Q_COMPANIES_SHAPE,
            operation="customers.company_find",
        )
        nodes = data["companies"]["nodes"]
        return nodes[0] if nodes else None

    def net_terms(self) -> dict[int, str]:
        """Days -> payment terms template id, for the NET templates."""
        data = self._gql(Q_TERMS, {}, shape=Q_TERMS_SHAPE, operation="customers.payment_terms")
        return {
            int(t["dueInDays"]): str(t["id"])
            for t in data["paymentTermsTemplates"]
            if t.get("paymentTermsType") == "NET" and t.get("dueInDays")
        }

    def company_create(self, payload: dict[str, Any]) -> dict[str, Any]:
        result = self._gql(
            M_CREATE,
            {"input": payload},
            "companyCreate",
            shape=mutation_shape("companyCreate", company=dict),
            operation="customers.company_create",
        )
        return dict(result.get("company") or {})

    def company_update(self, company_id: str, payload: dict[str, Any]) -> None:
        self._gql(
            M_UPDATE,
            {"id": company_id, "input": payload},
            "companyUpdate",
            shape=mutation_shape("companyUpdate"),
            operation="customers.company_update",
        )

    def location_address(self, location_id: str, address: dict[str, Any]) -> None:
        self._gql(
            M_ADDRESS,
            {"id": location_id, "address": address, "types": ["SHIPPING", "BILLING"]},
            "companyLocationAssignAddress",
            shape=mutation_shape("companyLocationAssignAddress"),
            operation="customers.location_address",
        )

    def contact_add(self, company_id: str, contact: dict[str, Any]) -> dict[str, Any]:
        """A company contact for ``contact`` (email, firstName, lastName, phone): created, or,
        when a customer already has that e-mail, that customer assigned as a contact."""
        contact_shape = mutation_shape("companyContactCreate", companyContact=dict)
        data = self._gql(
            M_CONTACT,
            {"id": company_id, "input": contact},
            shape=contact_shape,
            operation="customers.contact_create",
        )
        payload = data["companyContactCreate"]
        if not payload["userErrors"]:
            return dict(payload.get("companyContact") or {})
        found = self._gql(
            Q_CUSTOMERS,
            {"q": f"email:'{contact['email']}'"},
            shape=Q_CUSTOMERS_SHAPE,
            operation="customers.customer_find",
        )
        nodes = found["customers"]["nodes"]
        if not nodes:
            # No customer has the e-mail after all: create again, its userErrors raised (a
            # create that goes through this time is the contact).
            made = self._gql(
                M_CONTACT,
                {"id": company_id, "input": contact},
                "companyContactCreate",
                shape=contact_shape,
                operation="customers.contact_create",
            )
            return dict(made.get("companyContact") or {})
        assigned = self._gql(
            M_ASSIGN,
            {"id": company_id, "customer": nodes[0]["id"]},
            "companyAssignCustomerAsContact",
            shape=mutation_shape("companyAssignCustomerAsContact", companyContact=dict),
            operation="customers.contact_assign",
        )
        return dict(assigned.get("companyContact") or {})
