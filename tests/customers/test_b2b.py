"""B2B accounts: an Odoo company (sandbox) published to the Shopify and BigCommerce stand-ins,
its contacts bound to the company so their orders resolve to it, a repeat sending nothing."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from apps.customers.b2b import accounts_publish
from apps.customers.models import B2BAccount
from apps.mappings.models import Binding
from apps.odoo.gateway import get_gateway
from apps.orders.customers import resolve_partners
from apps.orders.services import order_ingest
from apps.sales_channels.services import channel_create
from apps.sales_channels.translators import order_from_shopify
from tests.orders.conftest import shopify_payload

pytestmark = pytest.mark.django_db


def _acme(odoo_settings: Any) -> int:
    gw = get_gateway()
    acme = gw.partners_find(refs=["ACME"]).by_ref["ACME"]
    term = gw.client.call("account.payment.term", "create", [{"name": "30 Days"}])
    gw.client.call("res.partner", "write", [[acme], {"property_payment_term_id": term}])
    return int(acme)


def _channel(code: str, standin: Any) -> Any:
    token = standin.auth_token if standin.kind == "bigcommerce" else standin.access_token
    channel, _ = channel_create(
        code=code, kind=standin.kind, api_base_url=standin.base_url, access_token=token
    )
    return channel


def test_shopify_company_location_and_contacts_then_a_repeat_sends_nothing(
    odoo_settings: Any, shopify_standin: Any
) -> None:
    acme = _acme(odoo_settings)
    channel = _channel("b2bshop", shopify_standin)
    B2BAccount.objects.create(channel=channel, odoo_partner_id=acme)

    report = accounts_publish(channel)

    assert (report.published, report.failed) == (1, 0), report.errors
    row = B2BAccount.objects.get(channel=channel)
    found = shopify_standin.graphql(
        f"{{ companies(first: 5, query: \"external_id:'odoo-{acme}'\") {{ nodes {{ id name"
        " note locations(first: 1) { nodes { id buyerExperienceConfiguration"
        " { paymentTermsTemplate { dueInDays } } } }"
        " contacts(first: 5) { nodes { customer { id email } } } } } }"
    ).body["data"]["companies"]["nodes"]
    assert [c["id"] for c in found] == [row.external_company_id]
    company = found[0]
    assert "credit limit 50000.00" in company["note"] and "30 Days" in company["note"]
    location = company["locations"]["nodes"][0]
    assert location["buyerExperienceConfiguration"]["paymentTermsTemplate"]["dueInDays"] == 30
    [contact] = company["contacts"]["nodes"]
    customer_id = contact["customer"]["id"].rsplit("/", 1)[-1]
    assert contact["customer"]["email"] == "buyer@acme.example.com"
    binding = Binding.objects.get(channel=channel, kind="customer", external_id=customer_id)
    assert binding.odoo_id == acme
    # an order from that buyer resolves to the company
    payload = shopify_payload(3001)
    payload["customer"] = dict(
        payload["customer"], id=int(customer_id), email="buyer@acme.example.com"
    )
    order = order_ingest(order=order_from_shopify(payload, channel=channel.code))
    partners = resolve_partners(SimpleNamespace(gateway=None), [order])  # type: ignore[arg-type]
    assert partners[order.pk].id == acme

    again = accounts_publish(channel)
    assert (again.published, again.unchanged, again.calls) == (0, 1, 0)

    # a new contact in Odoo: the company is updated and the contact added, nothing recreated
    gw = get_gateway()
    gw.client.call(
        "res.partner",
        "create",
        [
            {
                "name": "Rita Reorder",
                "parent_id": acme,
                "type": "contact",
                "email": "rita@acme.example.com",
            }
        ],
    )
    third = accounts_publish(channel)
    assert third.published == 1
    row.refresh_from_db()
    assert len(row.contacts) == 2
    assert Binding.objects.filter(channel=channel, kind="customer", odoo_id=acme).count() == 2
    state = shopify_standin.graphql("{ companies(first: 5) { nodes { id } } }").body
    assert len(state["data"]["companies"]["nodes"]) == 1


def test_bigcommerce_group_and_customers_bound_to_the_company(
    odoo_settings: Any, bigcommerce_standin: Any
) -> None:
    acme = _acme(odoo_settings)
    channel = _channel("b2bbc", bigcommerce_standin)
    B2BAccount.objects.create(channel=channel, odoo_partner_id=acme)

    report = accounts_publish(channel)

    assert (report.published, report.failed) == (1, 0), report.errors
    row = B2BAccount.objects.get(channel=channel)
    group = bigcommerce_standin.api("GET", f"v2/customer_groups/{row.customer_group_id}").body
    assert group["name"] == "B2B ACME: Acme Distribution"
    customers = bigcommerce_standin.api("GET", "v3/customers?email:in=buyer@acme.example.com").body[
        "data"
    ]
    assert [(c["company"], c["customer_group_id"]) for c in customers] == [
        ("Acme Distribution", int(row.customer_group_id))
    ]
    assert (
        Binding.objects.get(
            channel=channel, kind="customer", external_id=str(customers[0]["id"])
        ).odoo_id
        == acme
    )
    assert accounts_publish(channel).calls == 0
    # forced: found by e-mail and by group name, nothing created twice
    accounts_publish(channel, force=True)
    all_customers = bigcommerce_standin.api("GET", "v3/customers").body["data"]
    assert len(all_customers) == 1
