"""Finance fixtures: a WooCommerce channel whose orders reach the sandbox Odoo, invoiced on
confirmation, with the Stripe gateway mapped to the sandbox's bank journal; helpers that run
the due finance rows in process (what the workers would do after the rings)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from apps.core.workrow import WorkState
from apps.finance import runs
from apps.finance.models import FinanceSync
from apps.mappings.models import ValueMap
from apps.sales_channels.models import Channel
from apps.sales_channels.services import channel_create
from tests.orders import conftest as _orders
from tests.orders.conftest import load
from tests.returns.conftest import map_tax8

# The sandbox fixtures of the order tests (settings pointed at a reset sandbox, SKUs bound).
sandbox_settings = _orders.sandbox_settings
gateway = _orders.gateway
bind_all = _orders.bind_all

OID = 7_700_001


@pytest.fixture
def quiet_rings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No broker in these tests: rows are run by `run_finance`."""
    monkeypatch.setattr(runs, "ring", lambda pk, countdown=None: None)
    monkeypatch.setattr(runs, "ring_batch", lambda action, countdown=None: None)
    monkeypatch.setattr(runs, "ring_capture", lambda pk, countdown=None: None)


def bank_journal(sb: Any) -> int:
    return int(sb.execute("account.journal", "search", [["type", "=", "bank"]])[0])


@pytest.fixture
def woo(
    sandbox_settings: Any, bind_all: Callable[[Channel], None], quiet_rings: None, settings: Any
) -> Channel:
    settings.ODOO_ACCOUNTING_USER = "accounting"
    settings.ODOO_ACCOUNTING_PASSWORD = "accounting"
    channel, _ = channel_create(code="woo", kind="woocommerce")
    channel.invoicing = Channel.Invoicing.ON_CONFIRM
    channel.save()
    bind_all(channel)
    map_tax8(channel, sandbox_settings)  # the Odoo order then carries the channel's 8 %
    ValueMap.objects.create(
        channel=channel,
        kind=ValueMap.Kind.PAYMENT_METHOD,
        channel_value="stripe",
        odoo_model="account.journal",
        odoo_value=str(bank_journal(sandbox_settings)),
    )
    return channel


def woo_payload(order_id: int = OID, **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(load("woocommerce_order.json"))
    data["id"] = order_id
    data["number"] = str(order_id)
    data["transaction_id"] = f"ch_{order_id}"
    data.update(changes)
    return data


def run_finance(limit: int = 100) -> list[str]:
    """Run every due finance row in process, batches included, until none is due."""
    out: list[str] = []
    for _ in range(limit):
        due = (
            FinanceSync.objects.filter(state=WorkState.PENDING)
            .order_by("pk")
            .values_list("pk", "action")
            .first()
        )
        if due is None:
            return out
        pk, action = due
        if action in runs.BATCHED:
            out.append(runs.batch_run(action=action))
        else:
            out.append(runs.row_run(sync_id=pk))
    return out


def cents(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))
