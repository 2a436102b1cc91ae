"""The Odoo calls of the finance flow, in one place (the gateway's settlement.py).

Every call goes through `gateway()` or, for bank statement lines and the reconciliation that
need Odoo's accounting group, `accounting_gateway()` (ODOO_ACCOUNTING_USER; docs/odoo.md).
Tests may swap either for a fake with the same methods. The calls, by their agreed names:

- `invoices_find(refs)`, `invoices_ensure(invoices, post)` -> {ref: (invoice, created)};
- `payments_find(refs)`, `payments_register(payments)` -> {ref: (payment, created)};
- `clearing_account_id()`, `payment_lines(payment_ids, account_id)`, `move_lines_of(move_ids)`;
- `statement_line_ensure(ref, journal_id, date, amount)`, `settlement_entry_ensure(ref,
  journal_id, date, lines)`, `lines_reconcile(line_ids)`, `statement_line_reconcile(...)`.

The references are deterministic, so a retry after a lost answer finds what the first try made.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.odoo.gateway import get_accounting_gateway, get_gateway

CENT = Decimal("0.01")
_override: Any = None
_accounting_override: Any = None


def gateway() -> Any:
    return _override if _override is not None else get_gateway()


def accounting_gateway() -> Any:
    if _accounting_override is not None:
        return _accounting_override
    if _override is not None:
        return _override
    return get_accounting_gateway()


def set_gateway(fake: Any, accounting: Any = None) -> None:
    """Tests: use `fake` (and `accounting`) instead of the real gateways (None restores)."""
    global _override, _accounting_override
    _override = fake
    _accounting_override = accounting


def cents(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def invoice_ref(channel_code: str, order_external_id: str, picking_id: int | None = None) -> str:
    """`<channel>:invoice:<order id>`, or per shipment `<channel>:invoice:<order id>:<picking>`."""
    base = f"{channel_code}:invoice:{order_external_id}"
    return f"{base}:{picking_id}" if picking_id else base


def payment_ref(channel_code: str, transaction_id: str) -> str:
    """`<channel>:payment:<gateway transaction id>`: the Odoo payment's memo."""
    return f"{channel_code}:payment:{transaction_id}"


def payout_ref(account_code: str, payout_id: str) -> str:
    """`<payment account>:payout:<payout id>`: the bank line's label and the entry's ref."""
    return f"{account_code}:payout:{payout_id}"
