"""Customers contract: B2B accounts read (credit limit, payment terms, pricelist, contacts,
delivery addresses), partners by e-mail, a consumer's contact update written only where it
differs, a company refused, and a person anonymised with its address children.

The same test runs on the sandbox and, with ODOO_URL set (``-m live_odoo``), on a real Odoo 17;
with ODOO_RECORD_TRANSCRIPTS=<dir> the live run records transcript 47_hub_customers. The test
creates its own records (unique names); the gateway calls are the hub's.
"""

from __future__ import annotations

import pytest

from apps.odoo.errors import OdooPermanentError
from apps.odoo.gateway import OdooGateway

from .conftest import OdooTarget, Recorder

pytestmark = pytest.mark.django_db


def _payment_term(gateway: OdooGateway, unique: str) -> int:
    rows = gateway.client.call(
        "account.payment.term",
        "search_read",
        [[["name", "=", "30 Days"]]],
        {"fields": ["name"], "limit": 1},
    )
    if rows:
        return int(rows[0]["id"])
    return int(gateway.client.call("account.payment.term", "create", [{"name": "30 Days"}]))


def test_customers_contract(
    odoo: OdooTarget, gateway: OdooGateway, unique: str, recorder: Recorder
) -> None:
    recorder.start("47_hub_customers", "Hub customers: B2B accounts, contact updates, anonymise")
    country = gateway.client.call(
        "res.country", "search_read", [[["code", "=", "BE"]]], {"fields": ["code"]}
    )[0]["id"]
    pricelist = int(
        gateway.client.call("product.pricelist", "create", [{"name": f"B2B PL {unique}"}])
    )
    term = _payment_term(gateway, unique)
    shared = f"orders-{unique}@acme.example"
    company = int(
        gateway.client.call(
            "res.partner",
            "create",
            [
                {
                    "name": f"Acme B2B {unique}",
                    "is_company": True,
                    "ref": f"B2B-{unique}",
                    "email": shared,
                    "street": "Main St 1",
                    "city": "Antwerp",
                    "zip": "2000",
                    "country_id": country,
                    "customer_rank": 1,
                    "credit_limit": 5000.0,
                    "property_product_pricelist": pricelist,
                    "property_payment_term_id": term,
                    "child_ids": [
                        [
                            0,
                            0,
                            {
                                "type": "contact",
                                "name": f"Buyer {unique}",
                                "email": f"buyer-{unique}@acme.example",
                            },
                        ],
                        [0, 0, {"type": "contact", "name": "No Mail"}],
                        [
                            0,
                            0,
                            {
                                "type": "delivery",
                                "name": "Dock",
                                "street": "Dock 7",
                                "city": "Ghent",
                                "zip": "9000",
                                "country_id": country,
                            },
                        ],
                        [0, 0, {"type": "invoice", "name": "AP", "email": shared}],
                    ],
                }
            ],
        )
    )

    accounts = gateway.b2b_accounts_read(company_ids=[company])
    acc = accounts[company]
    assert acc["credit_limit"] == "5000.00"
    assert acc["payment_term"] == {"id": term, "name": "30 Days"}
    assert acc["pricelist"]["id"] == pricelist
    assert acc["country_code"] == "BE" and acc["ref"] == f"B2B-{unique}"
    assert [c["email"] for c in acc["contacts"]] == [f"buyer-{unique}@acme.example"]
    assert [(a["name"], a["city"], a["country_code"]) for a in acc["addresses"]] == [
        ("Dock", "Ghent", "BE")
    ]
    recorder.note(
        "b2b_accounts_read: res.partner read (companies), read (children), res.country read"
    )

    by_email = gateway.partners_by_email(emails=[shared.upper()])[shared]
    assert {r["commercial_partner_id"] for r in by_email} == {company}
    assert len(by_email) == 2  # the company and its invoice contact: one customer

    person = gateway.partner_create(
        partner={
            "name": f"Maria {unique}",
            "email": f"maria-{unique}@example.com",
            "ref": f"shop1:customer:{unique}",
            "delivery": {"name": "Home", "street": "1 Elm", "city": "Ghent", "country_code": "BE"},
        }
    )
    contact = {
        "name": f"Maria Lopez {unique}",
        "email": f"maria-{unique}@example.com",
        "phone": "+32 9 000 00 00",
        "street": "5 Elm Street",
        "city": "Ghent",
        "zip": "9000",
        "country_code": "BE",
    }
    written = gateway.partner_contact_update(partner_id=person.id, contact=contact)
    # Odoo 17 copies a first child's address up to a parent without one
    # (_handle_first_contact_creation): city and country may already be Ghent/BE there.
    assert (
        {"name", "phone", "street", "zip"}
        <= set(written)
        <= {"city", "country_id", "name", "phone", "street", "zip"}
    )
    now = gateway.partners_contact_read(partner_ids=[person.id])[person.id]
    assert (now["name"], now["street"], now["city"], now["zip"]) == (
        contact["name"],
        "5 Elm Street",
        "Ghent",
        "9000",
    )
    assert gateway.partner_contact_update(partner_id=person.id, contact=contact) == []
    with pytest.raises(OdooPermanentError):
        gateway.partner_contact_update(partner_id=company, contact=contact)

    label = f"Redacted customer {person.id}"
    done = gateway.partner_anonymise(partner_id=person.id, label=label)
    assert sorted(done) == sorted({person.id, person.delivery_id})
    rows = gateway.partners_contact_read(partner_ids=[person.id, person.delivery_id])
    for row in rows.values():
        assert row["name"] == label
        assert not row["email"] and not row["phone"] and not row["street"]
    assert gateway.partner_anonymise(partner_id=person.id, label=label) == []
    with pytest.raises(OdooPermanentError):
        gateway.partner_anonymise(partner_id=company, label="x")
    recorder.note("partner_anonymise: one search_read, one write for the partner and its children")

    # leave the live database as we found it: archive what the test created
    gateway.client.call("res.partner", "write", [[company, person.id], {"active": False}])
    gateway.client.call("product.pricelist", "write", [[pricelist], {"active": False}])
