"""Accounting: invoices from sale orders, posting them, payments, reading them; credit notes
(the full reversal wizard, or a partial ``out_refund`` linked to the invoice) found again by
the hub's deterministic ``ref``.

Odoo calls: sale.order: read; sale.advance.payment.inv: create, create_invoices;
account.move: action_post, read, search_read, create, write; account.payment.register: create,
action_create_payments; account.move.reversal: create, refund_moves (reverse_moves on 16,
which has refund_method), fields_get (through client.has_field).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ..errors import OdooPermanentError
from .base import EMAIL_CHUNK, GatewayBase, _num, _unique, chunked, falsy_none, m2o_id

logger = logging.getLogger(__name__)

MOVE_FIELDS = [
    "name",
    "state",
    "move_type",
    "ref",
    "partner_id",
    "invoice_origin",
    "invoice_date",
    "currency_id",
    "amount_untaxed",
    "amount_tax",
    "amount_total",
    "amount_residual",
    "payment_state",
    "reversed_entry_id",
]
# The reason the reversal wizard writes into the credit note's ref: "Reversal of: <inv>, <reason>".
_REVERSAL_PREFIX = "Reversal of: "


def money(value: Any) -> Decimal:
    """An Odoo monetary float as a Decimal with the float's shortest decimal form
    (345.1 -> Decimal("345.1"), never 345.099999...); callers quantize to the currency."""
    return Decimal(str(value or 0))


def _move_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    """``id``, ``name``, ``state``, ``move_type``, ``ref``, ``partner_id``, ``invoice_origin``,
    ``invoice_date``, ``currency`` (its code) and ``currency_id``, ``amount_untaxed``,
    ``amount_tax``, ``amount_total``, ``amount_residual`` (Decimal), ``payment_state``,
    ``reversed_entry_id`` (the invoice a credit note reverses)."""
    currency = row.get("currency_id")
    return {
        "id": row["id"],
        "name": falsy_none(row.get("name")),
        "state": row.get("state"),
        "move_type": row.get("move_type"),
        "ref": falsy_none(row.get("ref")),
        "partner_id": m2o_id(row.get("partner_id")),
        "invoice_origin": falsy_none(row.get("invoice_origin")),
        "invoice_date": falsy_none(row.get("invoice_date")),
        "currency": currency[1] if isinstance(currency, list) else None,
        "currency_id": m2o_id(currency),
        "amount_untaxed": money(row.get("amount_untaxed")),
        "amount_tax": money(row.get("amount_tax")),
        "amount_total": money(row.get("amount_total")),
        "amount_residual": money(row.get("amount_residual")),
        "payment_state": falsy_none(row.get("payment_state")),
        "reversed_entry_id": m2o_id(row.get("reversed_entry_id")),
    }


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

    # -- credit notes ----------------------------------------------------------------------------

    def moves_read(self, *, move_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Invoices and credit notes by id as ``_move_dict``; ids Odoo does not have are left
        out. One call per 1,000 ids."""
        out: dict[int, dict[str, Any]] = {}
        for part in chunked(_unique(move_ids)):
            for row in self.client.call("account.move", "read", [part, MOVE_FIELDS]):
                out[row["id"]] = _move_dict(row)
        return out

    def moves_post(self, *, move_ids: Sequence[int]) -> list[int]:
        """Post the drafts among ``move_ids`` (posted ones are skipped, so a retry is
        harmless; Odoo refuses to post twice). Returns the ids posted. Two calls per 1,000."""
        posted: list[int] = []
        for part in chunked(_unique(move_ids)):
            rows = self.client.call("account.move", "read", [part, ["state"]])
            drafts = [r["id"] for r in rows if r["state"] == "draft"]
            if drafts:
                self.client.call("account.move", "action_post", [drafts])
                posted += drafts
        return posted

    def invoices_of_orders(
        self, *, order_ids: Sequence[int], states: Sequence[str] = ("posted",)
    ) -> dict[int, list[dict[str, Any]]]:
        """order id -> its customer invoices (``out_invoice``, in ``states``) as
        ``_move_dict``, oldest first. Two calls per 1,000 orders (their ``invoice_ids``,
        then the moves); credit notes of the orders are left out (``credit_notes_find``)."""
        out: dict[int, list[dict[str, Any]]] = {}
        for part in chunked(_unique(order_ids)):
            orders = self.client.call("sale.order", "read", [part, ["invoice_ids"]])
            move_ids = _unique(i for o in orders for i in o["invoice_ids"] or [])
            moves = self.moves_read(move_ids=move_ids)
            for o in orders:
                out[o["id"]] = sorted(
                    (
                        moves[i]
                        for i in o["invoice_ids"] or []
                        if i in moves
                        and moves[i]["move_type"] == "out_invoice"
                        and moves[i]["state"] in states
                    ),
                    key=lambda m: m["id"],
                )
        return out

    def credit_notes_find(self, *, refs: Sequence[str]) -> dict[str, dict[str, Any]]:
        """ref -> customer credit note (``out_refund``, as ``_move_dict``) carrying the hub's
        deterministic reference, e.g. ``shopify:refund:123``.

        Also found: a reversal whose ref the hub had not rewritten yet (the wizard wrote
        "Reversal of: <invoice>, <ref>", the hub's ref being the reason); ``credit_note_full``
        rewrites it. A live credit note wins over a cancelled one, then the oldest.
        One call per 200 refs (``_`` and ``%`` in a ref match loosely in the pattern; the
        answer is filtered exactly).
        """
        found: dict[str, dict[str, Any]] = {}
        for part in chunked(_unique(r for r in refs if r), EMAIL_CHUNK):
            leaves: list[Any] = [["ref", "in", part]]
            leaves += [["ref", "=like", f"{_REVERSAL_PREFIX}%, {r}"] for r in part]
            domain = [["move_type", "=", "out_refund"], *["|"] * (len(leaves) - 1), *leaves]
            rows = self.client.call(
                "account.move", "search_read", [domain], {"fields": MOVE_FIELDS, "order": "id"}
            )
            wanted = set(part)
            for row in rows:
                move = _move_dict(row)
                hub_ref = _hub_ref(move["ref"] or "", wanted)
                if hub_ref is None:
                    continue
                old = found.get(hub_ref)
                if old is None or (old["state"] == "cancel" and move["state"] != "cancel"):
                    found[hub_ref] = move
                elif move["state"] != "cancel":
                    logger.warning(
                        "Two Odoo credit notes carry ref %s; using %s", hub_ref, old["id"]
                    )
        return found

    def credit_note_full(
        self,
        *,
        invoice_id: int,
        ref: str,
        post: bool = True,
        date: str | None = None,
        journal_id: int | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """The full credit note of a posted invoice, through Odoo's reversal wizard
        (``account.move.reversal``, transcript 14), with ``ref`` as its reference; found by
        ``ref`` on a retry. Returns (credit note, created).

        The credit note carries ``reversed_entry_id`` = the invoice; posting it reconciles the
        two (an unpaid invoice becomes ``reversed``). ``post=False`` leaves it a draft.
        ``journal_id``: by default the invoice's (Odoo 17 requires it on the wizard and does
        not default it over RPC). 6 calls made and posted (7 on a first fields_get), 2 found.
        """
        found = self.credit_notes_find(refs=[ref]).get(ref)
        if found is not None:
            return self._credit_note_finish(found, ref, post), False
        if journal_id is None:
            # Odoo 17 does not default the wizard's (required) journal over RPC: the invoice's.
            rows = self.client.call("account.move", "read", [[invoice_id], ["journal_id"]])
            if not rows:
                raise OdooPermanentError("Invoice not found", model="account.move", id=invoice_id)
            journal_id = m2o_id(rows[0]["journal_id"])
        ctx = {"active_model": "account.move", "active_ids": [invoice_id], "active_id": invoice_id}
        vals: dict[str, Any] = {"reason": ref, "journal_id": journal_id}
        if date is not None:
            vals["date"] = date
        method = "refund_moves"
        if self.client.has_field("account.move.reversal", "refund_method"):  # Odoo 16
            vals["refund_method"] = "refund"
            method = "reverse_moves"
        wiz = self.client.call("account.move.reversal", "create", [vals], context=ctx)
        action = self.client.call("account.move.reversal", method, [[wiz]], context=ctx)
        if not isinstance(action, dict) or not action.get("res_id"):
            raise OdooPermanentError(
                "The reversal wizard did not answer with the credit note",
                model="account.move.reversal",
                method=method,
                invoice_id=invoice_id,
            )
        move: dict[str, Any] = {"id": int(action["res_id"]), "state": "draft", "ref": None}
        return self._credit_note_finish(move, ref, post), True

    def credit_note_partial(
        self,
        *,
        invoice_id: int,
        ref: str,
        lines: Sequence[Mapping[str, Any]],
        extra_lines: Sequence[Mapping[str, Any]] = (),
        post: bool = True,
        date: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """A credit note for part of a posted invoice: an ``out_refund`` with
        ``reversed_entry_id`` = the invoice (so posting reconciles it with the invoice), the
        invoice's partner, currency and journal, and ``ref``; found by ``ref`` on a retry.
        Returns (credit note, created).

        ``lines``: ``product_id``, ``quantity``, ``price_unit``, optional ``tax_ids`` (ids;
        left out: the product's taxes), ``discount``, ``name`` and ``sale_line_id`` (links the
        line to the order line, whose invoiced quantity then goes down). ``extra_lines``:
        shipping, fees or adjustments: ``name``, ``price_unit``, optional ``quantity`` (1),
        ``product_id`` and ``tax_ids`` (left out: none). Amounts may be Decimal.
        """
        found = self.credit_notes_find(refs=[ref]).get(ref)
        if found is not None:
            return self._credit_note_finish(found, ref, post), False
        rows = self.client.call(
            "account.move",
            "read",
            [[invoice_id], ["partner_id", "currency_id", "journal_id", "invoice_origin", "state"]],
        )
        if not rows:
            raise OdooPermanentError("Invoice not found", model="account.move", id=invoice_id)
        inv = rows[0]
        invoice_lines: list[Any] = []
        for line in lines:
            vals = {
                "product_id": line["product_id"],
                "quantity": _num(line["quantity"]),
                "price_unit": _num(line["price_unit"]),
            }
            if "tax_ids" in line:
                vals["tax_ids"] = [[6, 0, list(line["tax_ids"] or [])]]
            if line.get("discount"):
                vals["discount"] = _num(line["discount"])
            if line.get("name"):
                vals["name"] = line["name"]
            if line.get("sale_line_id"):
                vals["sale_line_ids"] = [[6, 0, [line["sale_line_id"]]]]
            invoice_lines.append([0, 0, vals])
        for extra in extra_lines:
            vals = {
                "name": extra["name"],
                "quantity": _num(extra.get("quantity", 1)),
                "price_unit": _num(extra["price_unit"]),
                "tax_ids": [[6, 0, list(extra.get("tax_ids") or [])]],
            }
            if extra.get("product_id"):
                vals["product_id"] = extra["product_id"]
            invoice_lines.append([0, 0, vals])
        if not invoice_lines:
            raise ValueError("a credit note needs at least one line")
        move_vals: dict[str, Any] = {
            "move_type": "out_refund",
            "partner_id": m2o_id(inv["partner_id"]),
            "currency_id": m2o_id(inv["currency_id"]),
            "journal_id": m2o_id(inv["journal_id"]),
            "invoice_origin": falsy_none(inv["invoice_origin"]),
            "reversed_entry_id": invoice_id,
            "ref": ref,
            "invoice_line_ids": invoice_lines,
        }
        if date is not None:
            move_vals["invoice_date"] = date
        move_id = self.client.call("account.move", "create", [move_vals])
        move: dict[str, Any] = {"id": int(move_id), "state": "draft", "ref": ref}
        return self._credit_note_finish(move, ref, post), True

    def _credit_note_finish(self, move: Mapping[str, Any], ref: str, post: bool) -> dict[str, Any]:
        """Write the hub's ref if the wizard's is still there, post if asked, read it back."""
        if move.get("ref") != ref:
            self.client.call("account.move", "write", [[move["id"]], {"ref": ref}])
        if post and move.get("state") == "draft":
            self.client.call("account.move", "action_post", [[move["id"]]])
        return self.moves_read(move_ids=[move["id"]])[move["id"]]


def _hub_ref(ref: str, wanted: set[str]) -> str | None:
    """Which of the hub's refs a credit note's ``ref`` carries (exactly, or as the reason
    of the reversal wizard's "Reversal of: <invoice>, <reason>")."""
    if ref in wanted:
        return ref
    if ref.startswith(_REVERSAL_PREFIX) and ", " in ref:
        reason = ref.rsplit(", ", 1)[1]
        return reason if reason in wanted else None
    return None
