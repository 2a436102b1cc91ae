"""Accounting: invoices from sale orders, posting them, payments, reading them.

Odoo calls: sale.order: read; sale.advance.payment.inv: create, create_invoices;
account.move: action_post, read; account.payment.register: create, action_create_payments.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from .base import GatewayBase, _num, _unique, chunked, falsy_none


class AccountingGateway(GatewayBase):
    """Invoices and payments, through Odoo's own wizards."""

    def invoices_create(self, *, order_ids: Sequence[int]) -> dict[int, list[int]]:
        """Invoice what is invoiceable on the orders (the "delivered" wizard, transcript 08).

        Orders with nothing to invoice are skipped rather than failing the batch, which also
        makes a retry after a lost response harmless. Returns order id -> NEW invoice ids.
        """
        ids = _unique(order_ids)
        before = {
            r["id"]: r
            for r in self.client.call(
                "sale.order", "read", [ids, ["invoice_ids", "invoice_status"]]
            )
        }
        todo = [i for i in ids if before.get(i, {}).get("invoice_status") == "to invoice"]
        if not todo:
            return {i: [] for i in ids}
        ctx = {"active_model": "sale.order", "active_ids": todo, "active_id": todo[0]}
        wiz = self.client.call(
            "sale.advance.payment.inv",
            "create",
            [{"advance_payment_method": "delivered"}],
            context=ctx,
        )
        # Its answer is a big act_window listing all invoices; the ids are read from the orders.
        self.client.call("sale.advance.payment.inv", "create_invoices", [[wiz]], context=ctx)
        after = self.client.call("sale.order", "read", [todo, ["invoice_ids"]])
        out: dict[int, list[int]] = {i: [] for i in ids}
        for row in after:
            old = set(before[row["id"]]["invoice_ids"] or [])
            out[row["id"]] = [i for i in row["invoice_ids"] or [] if i not in old]
        return out

    def invoices_post(self, *, invoice_ids: Sequence[int]) -> None:
        """Post draft invoices in one call. Odoo answers ``false`` on success (transcript 08)."""
        for part in chunked(_unique(invoice_ids)):
            self.client.call("account.move", "action_post", [part])

    def invoice_register_payment(
        self,
        *,
        invoice_ids: Sequence[int],
        journal_id: int | None = None,
        amount: Decimal | float | None = None,
        payment_date: str | None = None,
        memo: str | None = None,
    ) -> int | None:
        """Register a payment on posted invoices through Odoo's payment wizard.

        Defaults (transcript 08): the full residual, the Bank journal, today. Returns the
        payment id when Odoo names a single one.
        """
        ctx = {"active_model": "account.move", "active_ids": list(invoice_ids)}
        vals: dict[str, Any] = {}
        if journal_id is not None:
            vals["journal_id"] = journal_id
        if amount is not None:
            vals["amount"] = _num(amount)
        if payment_date is not None:
            vals["payment_date"] = payment_date
        if memo is not None:
            vals["communication"] = memo
        wiz = self.client.call("account.payment.register", "create", [vals], context=ctx)
        action = self.client.call(
            "account.payment.register", "action_create_payments", [[wiz]], context=ctx
        )
        if isinstance(action, dict) and action.get("res_id"):
            return int(action["res_id"])
        return None

    def invoices_read(self, *, invoice_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        fields = [
            "name",
            "state",
            "payment_state",
            "amount_total",
            "amount_residual",
            "invoice_origin",
            "ref",
            "move_type",
        ]
        out: dict[int, dict[str, Any]] = {}
        for part in chunked(_unique(invoice_ids)):
            for row in self.client.call("account.move", "read", [part, fields]):
                out[row["id"]] = {k: falsy_none(row.get(k)) for k in ["id", *fields]}
        return out
