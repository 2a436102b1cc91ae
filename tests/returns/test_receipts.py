"""Odoo → channel: a validated return receipt refunds on the channel once, never twice."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from apps.core.models import AuditEntry
from apps.events.models import BusinessEvent
from apps.returns.models import ChannelRefund, ChannelReturn, RefundRequest
from apps.returns.receipts import receipt_record, receipts_poll, refund_decide

from .conftest import channel, run_all, shipped_order

pytestmark = pytest.mark.django_db


def receipt(order: Any, pid: int = 8801, qty: int = 1, sku: str = "TSHIRT") -> dict[str, Any]:
    return {
        "id": pid,
        "name": f"WH/IN/{pid}",
        "state": "done",
        "origin": f"Return of WH/OUT/{order.external_id}",
        "sale_id": [order.odoo_id, order.odoo_name],
        "return_of": int(order.external_id) + 500,
        "date_done": "2026-12-06 12:00:00",
        "moves": [{"product_id": 11, "sku": sku, "quantity": qty, "done": qty, "state": "done"}],
    }


def test_receipt_refunds_once_and_a_lost_answer_is_found(
    gw: Any, rings: Any, refunds: Any, settings: Any
) -> None:
    settings.HUB_REFUND_APPROVAL_ABOVE = "250.00"
    shop = channel("shop", "shopify", refund_on_receipt=True)
    order = shipped_order(shop)
    refunds.lose_answers = 1
    assert receipt_record(receipt(order)) == "new"
    assert receipt_record(receipt(order)) == "seen"
    ret = ChannelReturn.objects.get()
    assert ret.source == "odoo" and ret.state == "received"
    req = RefundRequest.objects.get()
    assert req.state == "approved" and str(req.amount) == "10.00"
    first = run_all(limit=1)
    assert first == ["retry"]
    assert refunds.money_calls == 1
    run_all()
    assert refunds.money_calls == 1  # found on the retry, never paid again
    req.refresh_from_db()
    assert req.state == "sent" and req.channel_refund_id == "R1"
    refund = ChannelRefund.objects.get()
    assert refund.by_hub and refund.amount == req.amount and refund.ret_id == ret.pk
    assert BusinessEvent.objects.filter(type="return.received").count() == 1
    assert BusinessEvent.objects.filter(type="refund.created").count() == 1


def test_poll_reads_receipts_from_the_cursor(gw: Any, rings: Any, refunds: Any) -> None:
    shop = channel("shop", "shopify")
    order = shipped_order(shop)
    gw.receipts = [receipt(order)]
    totals = receipts_poll()
    assert totals.get("new") == 1
    # The overlap reads it again: seen, nothing recorded twice.
    assert receipts_poll().get("seen") == 1
    assert ChannelReturn.objects.count() == 1
    assert ChannelReturn.objects.get().state == "received"
    assert not RefundRequest.objects.exists()  # refund_on_receipt is off


def _user(django_user_model: Any, name: str, group: str) -> Any:
    call_command("hub_roles", verbosity=0)
    user = django_user_model.objects.create_user(name, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return django_user_model.objects.get(pk=user.pk)


def test_above_threshold_waits_for_an_approver(
    gw: Any, rings: Any, refunds: Any, settings: Any, django_user_model: Any, client: Any
) -> None:
    settings.HUB_REFUND_APPROVAL_ABOVE = "5.00"
    shop = channel("shop", "shopify", refund_on_receipt=True)
    order = shipped_order(shop)
    receipt_record(receipt(order))
    req = RefundRequest.objects.get()
    assert req.state == "awaiting_approval"
    run_all()
    assert refunds.money_calls == 0

    support = _user(django_user_model, "sam", "Support")
    assert support.has_perm("returns.view_refundrequest")
    assert not support.has_perm("returns.approve_refund")
    client.force_login(support)
    url = "/admin/returns/refundrequest/"
    body = {"action": "approve", "_selected_action": [req.pk], "decide": "1", "reason": "ok"}
    client.post(url, body)
    req.refresh_from_db()
    assert req.state == "awaiting_approval"

    approver = _user(django_user_model, "ann", "Approver")
    assert approver.has_perm("returns.approve_refund")
    client.force_login(approver)
    page = client.post(url, {"action": "approve", "_selected_action": [req.pk]})
    assert page.status_code == 200 and b"Reason" in page.content  # asks for the reason
    client.post(url, body)
    req.refresh_from_db()
    assert req.state == "approved" and req.decided_by == "ann" and req.decision_reason == "ok"
    assert AuditEntry.objects.filter(action="returns.approve_refund").count() == 1
    assert refund_decide(req=req, approve=False, user=approver, reason="late") is False
    run_all()
    assert refunds.money_calls == 1


def test_reject_sends_nothing(gw: Any, rings: Any, refunds: Any, settings: Any) -> None:
    settings.HUB_REFUND_APPROVAL_ABOVE = "5.00"
    shop = channel("shop", "shopify", refund_on_receipt=True)
    order = shipped_order(shop)
    receipt_record(receipt(order))
    req = RefundRequest.objects.get()
    assert refund_decide(req=req, approve=False, user="ann", reason="damaged by customer")
    run_all()
    req.refresh_from_db()
    assert req.state == "rejected" and refunds.money_calls == 0
