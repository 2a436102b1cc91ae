"""Payout settlement end to end in process: paid WooCommerce orders invoiced and paid in the
sandbox Odoo, a Stripe payout served by the Stripe stand-in over HTTP, imported, matched line
by line and posted to Odoo once (bank line = net, fee entry, payments matched)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from apps.finance import runs
from apps.finance.invoicing import invoices_plan
from apps.finance.models import (
    ChannelPayment,
    FinanceSync,
    OrderInvoice,
    PaymentAccount,
    Payout,
    PayoutLine,
)
from apps.finance.payouts import payouts_import, payouts_rematch
from apps.finance.posting import payout_release
from apps.finance.reports import payouts_csv
from apps.inbox.models import Issue
from apps.orders.models import ChannelOrder
from apps.orders.services import order_push_due
from apps.returns.models import ChannelRefund
from apps.sales_channels.models import Channel
from tests.fixtures.channel_standins import http_call

from .conftest import bank_journal, cents, run_finance, woo_payload
from .test_flows_sandbox import deliver

pytestmark = pytest.mark.django_db

STRIPE_KEY = "sk_test_standin_51Hub0000000000000000"
FIRST = 7_710_000
CHARGE = 6674  # each order's 66.74, in cents
FEE = 224


def account_id(sb: Any, code: str) -> int:
    found = sb.execute("account.account", "search", [["code", "=", code]])
    assert found, f"no account {code} in the sandbox"
    return int(found[0])


@pytest.fixture
def stripe_account(woo: Channel, woo_standin: Any, sandbox_settings: Any) -> PaymentAccount:
    sb = sandbox_settings
    return PaymentAccount.objects.create(
        code="stripe-woo",
        provider=PaymentAccount.Provider.STRIPE,
        channel=woo,
        api_base_url=woo_standin.url,
        secret_key=STRIPE_KEY,
        odoo_journal_id=bank_journal(sb),
        fee_account_id=account_id(sb, "620000"),
        adjustment_account_id=account_id(sb, "101402"),
    )


def paid_orders(woo: Channel, n: int) -> list[ChannelOrder]:
    for i in range(n):
        deliver(woo, woo_payload(FIRST + i))
    order_push_due()
    assert ChannelOrder.objects.filter(state="in_odoo").count() == n
    assert invoices_plan() == n
    run_finance(limit=400)
    assert ChannelPayment.objects.filter(state="registered").count() == n
    return list(ChannelOrder.objects.order_by("pk"))


def refund(gateway: Any, order: ChannelOrder, rid: str, amount: str) -> ChannelRefund:
    """A refund the returns flow recorded, with its posted credit note in Odoo."""
    inv = OrderInvoice.objects.get(order=order)
    note, _ = gateway.credit_note_partial(
        invoice_id=inv.odoo_id,
        ref=f"woo:refund:{rid}",
        lines=[],
        extra_lines=[{"name": f"Refund {rid}", "price_unit": Decimal(amount)}],
    )
    return ChannelRefund.objects.create(
        channel=order.channel,
        order=order,
        external_id=rid,
        state=ChannelRefund.State.CREDITED,
        currency="USD",
        amount=Decimal(amount),
        refunded_at=dt.datetime.now(dt.UTC),
        odoo_credit_note_id=int(note["id"]),
        odoo_credit_note_name=str(note.get("name") or ""),
        odoo_credit_note_total=cents(note["amount_total"]),
    )


def seed_payout(standin: Any, pid: str, txns: list[dict[str, Any]]) -> dict[str, Any]:
    ans = http_call(
        "POST",
        f"{standin.url}/__standin__/stripe/payouts",
        {"id": pid, "status": "paid", "currency": "usd", "transactions": txns},
    )
    assert ans.status in (200, 201), ans.body
    body: dict[str, Any] = ans.body
    return body


def charge(order: ChannelOrder) -> dict[str, Any]:
    return {
        "type": "charge",
        "amount": CHARGE,
        "fee": FEE,
        "source": {"id": f"ch_{order.external_id}", "metadata": {"order_id": order.number}},
    }


def odoo_rows(sb: Any, model: str, domain: list[Any], fields: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sb.execute(model, "search_read", domain, fields=fields)
    return rows


def test_a_payout_of_50_charges_3_refunds_and_fees_is_matched_and_posted_once(
    woo: Channel,
    stripe_account: PaymentAccount,
    woo_standin: Any,
    sandbox_settings: Any,
    gateway: Any,
) -> None:
    sb = sandbox_settings
    orders = paid_orders(woo, 50)
    refunds = [refund(gateway, o, f"R{i}", "10.00") for i, o in enumerate(orders[:3])]
    txns = [charge(o) for o in orders]
    txns += [
        {
            "type": "refund",
            "amount": -1000,
            "fee": 0,
            "source": {"charge": f"ch_{r.order.external_id}"},
        }
        for r in refunds
    ]
    seed_payout(woo_standin, "po_hub_50", txns)
    # import and match
    assert payouts_import(stripe_account) == {"payouts": 1, "lines": 54}
    payout = Payout.objects.get()
    net = Decimal(50 * (CHARGE - FEE) - 3000) / 100
    assert payout.amount == net == Decimal("3195.00")
    assert (payout.gross, payout.refunds, payout.fees) == (
        Decimal("3337.00"),
        Decimal("30.00"),
        Decimal("112.00"),
    )
    assert payout.state == Payout.State.MATCHED and payout.difference == 0
    assert payout.matched_count == payout.line_count == 54  # the transfer row is ignored
    assert PayoutLine.objects.filter(category="transfer", match="ignored").count() == 1
    # post (through the accounting user), then run again: nothing new
    assert run_finance() == ["posted"]
    payout.refresh_from_db()
    assert payout.state == Payout.State.POSTED and payout.odoo_statement_line_id
    [line] = odoo_rows(
        sb,
        "account.bank.statement.line",
        [["payment_ref", "=", "stripe-woo:payout:po_hub_50"]],
        ["amount", "is_reconciled"],
    )
    assert cents(line["amount"]) == net and line["is_reconciled"] is True
    pays = odoo_rows(sb, "account.payment", [["ref", "like", "woo:payment:"]], ["is_matched"])
    assert len(pays) == 50 and all(p["is_matched"] for p in pays)
    notes = odoo_rows(sb, "account.move", [["ref", "like", "woo:refund:R"]], ["amount_residual"])
    # the refunds went out with the payout: their credit notes are settled
    assert len(notes) == 3 and all(cents(n["amount_residual"]) == 0 for n in notes)
    # a re-import and a re-run of the posting row make nothing new
    assert payouts_import(stripe_account) == {"payouts": 0, "lines": 0}
    FinanceSync.objects.filter(action="post_payout").update(state="pending")
    run_finance()
    assert len(odoo_rows(sb, "account.bank.statement.line", [], ["id"])) == 1
    entries = odoo_rows(sb, "account.move", [["ref", "=", "stripe-woo:payout:po_hub_50"]], ["id"])
    assert len(entries) == 1
    csv = payouts_csv(Payout.objects.all())
    assert "po_hub_50" in csv and "3195.00" in csv and "100.0" in csv


def test_an_adjustment_without_an_order_stops_at_difference_with_one_inbox_item(
    woo: Channel,
    stripe_account: PaymentAccount,
    woo_standin: Any,
    sandbox_settings: Any,
    django_user_model: Any,
) -> None:
    sb = sandbox_settings
    orders = paid_orders(woo, 2)
    txns = [charge(o) for o in orders]
    txns.append({"type": "adjustment", "amount": -1500, "fee": 1500, "source": "dp_lost_1"})
    seed_payout(woo_standin, "po_hub_adj", txns)
    payouts_import(stripe_account)
    payout = Payout.objects.get()
    assert payout.state == Payout.State.DIFFERENCE
    [bad] = PayoutLine.objects.filter(match="unexplained")
    assert bad.category == "chargeback" or bad.category == "adjustment"
    assert "adjustment with no order" in bad.suggestions
    [issue] = Issue.objects.filter(category="data_conflict")
    assert "po_hub_adj" in issue.title and issue.channel_code == "woo"
    # nothing is posted until an Approver releases it
    assert run_finance() == []
    assert odoo_rows(sb, "account.bank.statement.line", [], ["id"]) == []
    approver = django_user_model.objects.create_user("approver", password="x")
    assert payout_release(payout=payout, user=approver, reason="dispute lost, booked") is True
    assert run_finance() == ["posted"]
    payout.refresh_from_db()
    assert payout.state == Payout.State.POSTED and payout.released_by == "approver"
    [line] = odoo_rows(sb, "account.bank.statement.line", [], ["amount", "is_reconciled"])
    assert cents(line["amount"]) == payout.amount and line["is_reconciled"] is True
    from apps.core.models import AuditEntry

    assert AuditEntry.objects.filter(action="finance.payout_release").count() == 1


def test_a_lost_answer_while_posting_does_not_post_twice(
    woo: Channel, stripe_account: PaymentAccount, woo_standin: Any, sandbox_settings: Any
) -> None:
    sb = sandbox_settings
    orders = paid_orders(woo, 3)
    seed_payout(woo_standin, "po_hub_lost", [charge(o) for o in orders])
    payouts_import(stripe_account)
    row = FinanceSync.objects.get(action="post_payout")
    outcomes = []
    for _ in range(4):  # lose the answer of each of the first writes in turn
        sb.set_faults(drop_after_commit=1)
        outcomes.append(runs.row_run(sync_id=row.pk))
        FinanceSync.objects.filter(pk=row.pk, state="pending").update(next_attempt_at=None)
    sb.set_faults(drop_after_commit=0)
    while FinanceSync.objects.filter(pk=row.pk, state="pending").exists():
        runs.row_run(sync_id=row.pk)
        FinanceSync.objects.filter(pk=row.pk, state="pending").update(next_attempt_at=None)
    assert Payout.objects.get().state == Payout.State.POSTED
    assert len(odoo_rows(sb, "account.bank.statement.line", [], ["id"])) == 1
    entries = odoo_rows(sb, "account.move", [["ref", "=", "stripe-woo:payout:po_hub_lost"]], ["id"])
    assert len(entries) == 1
    pays = odoo_rows(sb, "account.payment", [], ["is_matched"])
    assert outcomes == ["retry"] * 4
    assert len(pays) == 3 and all(p["is_matched"] for p in pays)


def test_a_payment_that_lands_later_turns_a_difference_into_a_match(
    woo: Channel, stripe_account: PaymentAccount, woo_standin: Any
) -> None:
    orders = paid_orders(woo, 1)
    late = ChannelOrder.objects.create(
        channel=woo,
        external_id="7719999",
        number="7719999",
        currency="USD",
        total=Decimal("66.74"),
        odoo_ref="woo:7719999",
        source_version=dt.datetime.now(dt.UTC),
        channel_created_at=dt.datetime.now(dt.UTC),
    )
    seed_payout(woo_standin, "po_hub_late", [charge(orders[0]), charge(late)])
    payouts_import(stripe_account)
    assert Payout.objects.get().state == Payout.State.DIFFERENCE
    issue = Issue.objects.get(category="data_conflict")
    assert issue.order_number == "7719999"
    # the late order's payment is registered in Odoo after all (here: its hub record)
    first = ChannelPayment.objects.get()
    ChannelPayment.objects.create(
        channel=woo,
        order=late,
        transaction_id="ch_7719999",
        gateway="stripe",
        amount=Decimal("66.74"),
        currency="USD",
        processed_at=dt.datetime.now(dt.UTC),
        state="registered",
        odoo_payment_id=first.odoo_payment_id,
    )
    assert payouts_rematch() == 1
    assert Payout.objects.get().state == Payout.State.MATCHED
    issue.refresh_from_db()
    assert issue.status == "resolved"


def test_a_refused_key_is_an_inbox_item_naming_the_account_until_it_works(
    woo: Channel, stripe_account: PaymentAccount, woo_standin: Any
) -> None:
    from apps.finance.payouts import payouts_import_all as job

    PaymentAccount.objects.filter(pk=stripe_account.pk).update(secret_key="sk_test_wrong")
    assert "stripe-woo: failed" in job()
    issue = Issue.objects.get(category="channel_auth")
    assert issue.channel_code == "woo" and issue.status == "open"
    PaymentAccount.objects.filter(pk=stripe_account.pk).update(secret_key=STRIPE_KEY)
    assert "stripe-woo: 0 payout(s)" in job()
    issue.refresh_from_db()
    assert issue.status == "resolved"
