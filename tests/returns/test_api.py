"""The B2B returns API: 201, 422 over-return, 404 across channels, the credit note on receipt."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.returns.models import ChannelReturn
from apps.returns.receipts import receipt_record
from apps.sales_channels.services import api_token_create

from .conftest import channel, invoice, run_all, shipped_order
from .test_receipts import receipt

pytestmark = pytest.mark.django_db


def client_for(ch: Any, *scopes: str) -> APIClient:
    c = APIClient()
    _, raw = api_token_create(channel=ch, scopes=list(scopes) or ["returns:write"])
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return c


def test_b2b_return_flow(gw: Any, rings: Any) -> None:
    b2b = channel("acme", "b2b_api")
    order = shipped_order(b2b, "3001")
    api = client_for(b2b)
    body = {"order_id": order.pk, "lines": [{"sku": "TSHIRT", "quantity": 1, "reason": "broken"}]}
    res = api.post("/api/v1/returns/", body, format="json")
    assert res.status_code == 201, res.content
    rid = res.json()["id"]
    assert res.json()["state"] == "approved"
    run_all()
    ret = ChannelReturn.objects.get(pk=rid)
    assert ret.state == "expected" and ret.odoo_return_picking_id
    # Odoo receives it: the credit note (B2B, on terms).
    invoice(gw, order)
    rec = receipt(order, pid=ret.odoo_return_picking_id)
    assert receipt_record(rec) == "received"
    run_all()
    got = api.get(f"/api/v1/returns/{rid}/").json()
    assert got["state"] == "credited"
    assert got["credit_note"]["odoo_name"].startswith("RINV/")
    # Shipped 2, one returned: asking for 2 more is an over-return.
    body["lines"][0]["quantity"] = 2
    res = api.post("/api/v1/returns/", body, format="json")
    assert res.status_code == 422
    assert res.json()["field"] == "lines[0].quantity"


def test_unshipped_sku_and_bad_body(gw: Any, rings: Any) -> None:
    b2b = channel("acme", "b2b_api")
    order = shipped_order(b2b, "3001")
    api = client_for(b2b)
    res = api.post(
        "/api/v1/returns/",
        {"order_id": order.pk, "lines": [{"sku": "NOPE", "quantity": 1}]},
        format="json",
    )
    assert res.status_code == 422 and res.json()["field"] == "lines[0].sku"
    res = api.post("/api/v1/returns/", {"order_id": order.pk, "lines": []}, format="json")
    assert res.status_code == 400 and res.json()["field"] == "lines"


def test_other_channels_are_404(gw: Any, rings: Any) -> None:
    a = channel("acme", "b2b_api")
    b = channel("bolt", "b2b_api")
    order = shipped_order(a, "3001")
    api_a = client_for(a)
    rid = api_a.post(
        "/api/v1/returns/",
        {"order_id": order.pk, "lines": [{"sku": "TSHIRT", "quantity": 1}]},
        format="json",
    ).json()["id"]
    api_b = client_for(b)
    assert api_b.get(f"/api/v1/returns/{rid}/").status_code == 404
    res = api_b.post(
        "/api/v1/returns/",
        {"order_id": order.pk, "lines": [{"sku": "TSHIRT", "quantity": 1}]},
        format="json",
    )
    assert res.status_code == 404
    assert (
        client_for(a, "orders:read").post("/api/v1/returns/", {}, format="json").status_code == 403
    )
