"""Shopify B2B stand-in: companies, their locations and contacts, customers, payment terms
(LIFECYCLE.md §5.1), reached through ``shopify.Shopify``'s GraphQL endpoint.

Queries: ``companies(first, query: "external_id:'…'")``, ``customers(first, query:
"email:'…'")``, ``paymentTermsTemplates``. Mutations: ``companyCreate(input: {company,
companyLocation, companyContact})``, ``companyUpdate(companyId, input)``,
``companyLocationAssignAddress(locationId, address, addressTypes)``,
``companyContactCreate(companyId, input)``, ``companyAssignCustomerAsContact(companyId,
customerId)``.

What the stand-in decides where Shopify's behaviour is UNCONFIRMED (LIFECYCLE.md §7): a company
contact whose e-mail already belongs to a customer is refused with userError code ``TAKEN``
("Email has already been taken"); payment terms templates are Shopify's usual list (due on
receipt, NET 7/15/30/45/60/90, fixed, on fulfilment) with these ids. Seeding a customer (as a
storefront sign-up would): ``POST /__standin__/shopify/customers`` is not provided — tests create
one through ``companyContactCreate`` on another company or read ``b2b_state``.
"""

from __future__ import annotations

from typing import Any

from . import graphql as gql

S = None
PAYMENT_TERMS = [
    (1, "Due on receipt", "RECEIPT", None),
    (2, "Net 7", "NET", 7),
    (3, "Net 15", "NET", 15),
    (4, "Net 30", "NET", 30),
    (8, "Net 45", "NET", 45),
    (5, "Net 60", "NET", 60),
    (6, "Net 90", "NET", 90),
    (7, "Fixed", "FIXED", None),
    (9, "Due on fulfillment", "FULFILLMENT", None),
]
FIRST_ID = 7_000_000

SCHEMA_ADDITIONS: dict[str, dict[str, Any]] = {
    "Company": {
        "id": S,
        "externalId": S,
        "name": S,
        "note": S,
        "locations": "CompanyLocationConnection",
        "contacts": "CompanyContactConnection",
    },
    "CompanyLocation": {
        "id": S,
        "externalId": S,
        "name": S,
        "shippingAddress": "CompanyAddress",
        "billingAddress": "CompanyAddress",
        "buyerExperienceConfiguration": "BuyerExperienceConfiguration",
    },
    "CompanyAddress": {
        "id": S,
        "address1": S,
        "address2": S,
        "city": S,
        "zip": S,
        "countryCode": S,
        "recipient": S,
    },
    "BuyerExperienceConfiguration": {
        "checkoutToDraft": S,
        "paymentTermsTemplate": "PaymentTermsTemplate",
    },
    "CompanyContact": {"id": S, "customer": "Customer", "company": "Company"},
    "Customer": {"id": S, "email": S, "firstName": S, "lastName": S, "phone": S},
    "PaymentTermsTemplate": {"id": S, "name": S, "paymentTermsType": S, "dueInDays": S},
    "BusinessCustomerUserError": {"field": S, "message": S, "code": S},
    "CompanyCreatePayload": {"company": "Company", "userErrors": "[BusinessCustomerUserError]"},
    "CompanyUpdatePayload": {"company": "Company", "userErrors": "[BusinessCustomerUserError]"},
    "CompanyLocationAssignAddressPayload": {
        "addresses": "[CompanyAddress]",
        "userErrors": "[BusinessCustomerUserError]",
    },
    "CompanyContactCreatePayload": {
        "companyContact": "CompanyContact",
        "userErrors": "[BusinessCustomerUserError]",
    },
    "CompanyAssignCustomerAsContactPayload": {
        "companyContact": "CompanyContact",
        "userErrors": "[BusinessCustomerUserError]",
    },
}
QUERY_FIELDS = {
    "companies": "CompanyConnection",
    "customers": "CustomerConnection",
    "paymentTermsTemplates": "[PaymentTermsTemplate]",
}
MUTATION_FIELDS = {
    "companyCreate": "CompanyCreatePayload",
    "companyUpdate": "CompanyUpdatePayload",
    "companyLocationAssignAddress": "CompanyLocationAssignAddressPayload",
    "companyContactCreate": "CompanyContactCreatePayload",
    "companyAssignCustomerAsContact": "CompanyAssignCustomerAsContactPayload",
}
ROOT_FIELDS = frozenset(QUERY_FIELDS) | frozenset(MUTATION_FIELDS)


def extend(schema: dict[str, Any]) -> None:
    """Add the B2B types and root fields to the Shopify stand-in's schema."""
    schema.update(SCHEMA_ADDITIONS)
    schema["QueryRoot"].update(QUERY_FIELDS)
    schema["Mutation"].update(MUTATION_FIELDS)
    for conn, node in (
        ("CompanyConnection", "Company"),
        ("CompanyLocationConnection", "CompanyLocation"),
        ("CompanyContactConnection", "CompanyContact"),
        ("CustomerConnection", "Customer"),
    ):
        schema[conn] = {
            "nodes": f"[{node}]",
            "edges": f"[{conn[:-10]}Edge]",
            "pageInfo": "PageInfo",
        }
        schema[f"{conn[:-10]}Edge"] = {"node": node, "cursor": S}


def _gid(kind: str, num: int) -> str:
    return f"gid://shopify/{kind}/{num}"


def _num(value: Any, kind: str) -> int:
    from .shopify import parse_gid

    return parse_gid(value, kind)[1]


class B2BState:
    """Companies, locations, contacts and customers of one stand-in shop (in ``store.extra``)."""

    def __init__(self) -> None:
        self.next_id = FIRST_ID
        self.companies: dict[int, dict[str, Any]] = {}
        self.locations: dict[int, dict[str, Any]] = {}
        self.contacts: dict[int, dict[str, Any]] = {}
        self.customers: dict[int, dict[str, Any]] = {}

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def snapshot(self) -> dict[str, Any]:
        return {
            "companies": list(self.companies.values()),
            "locations": list(self.locations.values()),
            "contacts": list(self.contacts.values()),
            "customers": list(self.customers.values()),
        }


def state(store: Any) -> B2BState:
    found = store.extra.get("b2b")
    if found is None:
        found = store.extra["b2b"] = B2BState()
    return found  # type: ignore[no-any-return]


def _error(field: list[str], message: str, code: str) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}


class Resolver:
    def __init__(self, store: Any) -> None:
        self.st = state(store)

    # -- objects --------------------------------------------------------------------------------
    def customer(self, cid: int) -> dict[str, Any]:
        c = self.st.customers[cid]
        return {"__typename": "Customer", "id": _gid("Customer", cid), **c["data"]}

    def contact(self, kid: int) -> dict[str, Any]:
        k = self.st.contacts[kid]
        return {
            "__typename": "CompanyContact",
            "id": _gid("CompanyContact", kid),
            "customer": self.customer(k["customer"]),
            "company": lambda _a: self.company(k["company"]),
        }

    def location(self, lid: int) -> dict[str, Any]:
        loc = self.st.locations[lid]
        terms = loc.get("paymentTermsTemplateId")
        template = next((t for t in self.terms() if t["id"] == terms), None)
        return {
            "__typename": "CompanyLocation",
            "id": _gid("CompanyLocation", lid),
            "externalId": loc.get("externalId"),
            "name": loc.get("name"),
            "shippingAddress": loc.get("shippingAddress"),
            "billingAddress": loc.get("billingAddress"),
            "buyerExperienceConfiguration": {
                "checkoutToDraft": bool(loc.get("checkoutToDraft")),
                "paymentTermsTemplate": template,
            },
        }

    def company(self, cid: int) -> dict[str, Any]:
        from .shopify import connection

        c = self.st.companies[cid]
        return {
            "__typename": "Company",
            "id": _gid("Company", cid),
            "externalId": c.get("externalId"),
            "name": c.get("name"),
            "note": c.get("note"),
            "locations": connection(list(c["locations"]), lambda i: i, self.location),
            "contacts": connection(list(c["contacts"]), lambda i: i, self.contact),
        }

    @staticmethod
    def terms() -> list[dict[str, Any]]:
        return [
            {
                "__typename": "PaymentTermsTemplate",
                "id": _gid("PaymentTermsTemplate", n),
                "name": name,
                "paymentTermsType": kind,
                "dueInDays": days,
            }
            for n, name, kind, days in PAYMENT_TERMS
        ]

    # -- writes ---------------------------------------------------------------------------------
    def _customer_by_email(self, email: str) -> int | None:
        return next(
            (i for i, c in self.st.customers.items() if c["data"]["email"] == email.lower()),
            None,
        )

    def _contact_create(self, company: int, data: dict[str, Any]) -> tuple[int | None, list[Any]]:
        email = str(data.get("email") or "").strip().lower()
        if not email:
            return None, [_error(["input", "email"], "Email can't be blank", "BLANK")]
        if self._customer_by_email(email) is not None:
            return None, [_error(["input", "email"], "Email has already been taken", "TAKEN")]
        cid = self.st.new_id()
        self.st.customers[cid] = {
            "data": {
                "email": email,
                "firstName": data.get("firstName"),
                "lastName": data.get("lastName"),
                "phone": data.get("phone"),
            }
        }
        kid = self.st.new_id()
        self.st.contacts[kid] = {"company": company, "customer": cid}
        self.st.companies[company]["contacts"].append(kid)
        return kid, []

    def _address(self, data: dict[str, Any] | None) -> dict[str, Any] | None:
        if not data:
            return None
        return {
            "id": _gid("CompanyAddress", self.st.new_id()),
            **{
                k: data.get(k)
                for k in ("address1", "address2", "city", "zip", "countryCode", "recipient")
            },
        }

    def company_create(self, data: dict[str, Any]) -> dict[str, Any]:
        company = data.get("company") or {}
        if not str(company.get("name") or "").strip():
            return {
                "company": None,
                "userErrors": [
                    _error(["input", "company", "name"], "Name can't be blank", "BLANK")
                ],
            }
        ext = company.get("externalId")
        if ext and any(c.get("externalId") == ext for c in self.st.companies.values()):
            return {
                "company": None,
                "userErrors": [
                    _error(
                        ["input", "company", "externalId"],
                        "External Id has already been taken",
                        "TAKEN",
                    )
                ],
            }
        cid = self.st.new_id()
        self.st.companies[cid] = {
            "externalId": ext,
            "name": company.get("name"),
            "note": company.get("note"),
            "locations": [],
            "contacts": [],
        }
        loc = data.get("companyLocation") or {}
        lid = self.st.new_id()
        shipping = self._address(loc.get("shippingAddress"))
        buyer = loc.get("buyerExperienceConfiguration") or {}
        self.st.locations[lid] = {
            "externalId": loc.get("externalId"),
            "name": loc.get("name") or company.get("name"),
            "shippingAddress": shipping,
            "billingAddress": shipping
            if loc.get("billingSameAsShipping")
            else self._address(loc.get("billingAddress")),
            "paymentTermsTemplateId": buyer.get("paymentTermsTemplateId"),
            "checkoutToDraft": buyer.get("checkoutToDraft"),
        }
        self.st.companies[cid]["locations"].append(lid)
        if data.get("companyContact"):
            _kid, errors = self._contact_create(cid, data["companyContact"])
            if errors:
                return {"company": None, "userErrors": errors}
        return {"company": self.company(cid), "userErrors": []}

    def root(self, name: str, args: dict[str, Any]) -> Any:
        from .shopify import connection

        st = self.st
        if name == "companies":

            def match(cid: int, field: str, value: str) -> bool:
                c = st.companies[cid]
                if field == "external_id":
                    return str(c.get("externalId")) == value
                return value.lower() in str(c.get("name") or "").lower()

            return connection(list(st.companies), lambda i: i, self.company, match)(args)
        if name == "customers":

            def match_c(cid: int, field: str, value: str) -> bool:
                return field == "email" and st.customers[cid]["data"]["email"] == value.lower()

            return connection(list(st.customers), lambda i: i, self.customer, match_c)(args)
        if name == "paymentTermsTemplates":
            return self.terms()
        if name == "companyCreate":
            return self.company_create(args.get("input") or {})
        if name == "companyUpdate":
            cid = _num(args.get("companyId"), "Company")
            if cid not in st.companies:
                return {
                    "company": None,
                    "userErrors": [
                        _error(
                            ["companyId"],
                            "Resource requested does not exist.",
                            "RESOURCE_NOT_FOUND",
                        )
                    ],
                }
            data = args.get("input") or {}
            st.companies[cid].update(
                {k: data[k] for k in ("name", "note", "externalId") if k in data}
            )
            return {"company": self.company(cid), "userErrors": []}
        if name == "companyLocationAssignAddress":
            lid = _num(args.get("locationId"), "CompanyLocation")
            if lid not in st.locations:
                return {
                    "addresses": None,
                    "userErrors": [
                        _error(
                            ["locationId"],
                            "Resource requested does not exist.",
                            "RESOURCE_NOT_FOUND",
                        )
                    ],
                }
            address = self._address(args.get("address"))
            for kind in args.get("addressTypes") or []:
                st.locations[lid]["shippingAddress" if kind == "SHIPPING" else "billingAddress"] = (
                    address
                )
            return {"addresses": [address], "userErrors": []}
        if name == "companyContactCreate":
            cid = _num(args.get("companyId"), "Company")
            if cid not in st.companies:
                return {
                    "companyContact": None,
                    "userErrors": [
                        _error(
                            ["companyId"],
                            "Resource requested does not exist.",
                            "RESOURCE_NOT_FOUND",
                        )
                    ],
                }
            kid, errors = self._contact_create(cid, args.get("input") or {})
            return {"companyContact": self.contact(kid) if kid else None, "userErrors": errors}
        if name == "companyAssignCustomerAsContact":
            cid = _num(args.get("companyId"), "Company")
            customer = _num(args.get("customerId"), "Customer")
            if cid not in st.companies or customer not in st.customers:
                return {
                    "companyContact": None,
                    "userErrors": [
                        _error(
                            ["customerId"],
                            "Resource requested does not exist.",
                            "RESOURCE_NOT_FOUND",
                        )
                    ],
                }
            kid = st.new_id()
            st.contacts[kid] = {"company": cid, "customer": customer}
            st.companies[cid]["contacts"].append(kid)
            return {"companyContact": self.contact(kid), "userErrors": []}
        raise gql.GraphQLError(f"Field '{name}' is not supported by this stand-in")
