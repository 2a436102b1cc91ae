"""Finance: invoices built from sale lines (invoicing.py), payments through the register wizard,
and a channel payout settled against them (bank statement line, settlement entry,
reconciliation), each found again by the hub's deterministic ref before anything is created.

Odoo calls (besides invoicing.py's): account.move: search_read, create, action_post, read;
account.payment: search_read, read; account.payment.register: create,
action_create_payments; account.journal: search_read, read; account.account: search_read;
res.users: read; res.company: read; account.move.line: search_read, read, write, reconcile;
account.bank.statement.line: search_read, create.

Bank statement lines (and the write of their journal item) need a user in
``account.group_account_user`` ("Technical / Show Full Accounting Features"); the integration
user should not have it, so the payout flow runs on ``get_accounting_gateway()``.
The payout is matched the only way that works over RPC in Community (EXTERNAL_API.md section
16): the statement line's suspense item is moved to the clearing (Outstanding Receipts)
account, then reconciled with the payments' items and the settlement entry's clearing item.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ..errors import OdooPermanentError
from .accounting import money
from .base import CHUNK, _num, _unique, chunked, falsy_none, m2o_id
from .invoicing import InvoicingGateway

logger = logging.getLogger(__name__)

# Read with the version's ref field (adapter.payment_ref_field: "ref" up to 17, "memo" on 18+).
PAYMENT_FIELDS = [
    "name",
    "state",
    "amount",
    "date",
    "journal_id",
    "move_id",
    "partner_id",
    "is_reconciled",
    "is_matched",
    "reconciled_invoice_ids",
]
LINE_FIELDS = [
    "move_id",
    "account_id",
    "account_type",
    "name",
    "balance",
    "amount_residual",
    "reconciled",
    "partner_id",
]
STATEMENT_LINE_FIELDS = [
    "move_id",
    "journal_id",
    "date",
    "amount",
    "amount_residual",
    "payment_ref",
    "partner_id",
    "is_reconciled",
]


def _payment_dict(row: Mapping[str, Any], ref_field: str) -> dict[str, Any]:
    """A payment as the hub uses it; ``ref`` is read from the version's ``ref_field``."""
    return {
        "id": row["id"],
        "name": falsy_none(row.get("name")),
        "state": row.get("state"),
        "amount": money(row.get("amount")),
        "date": falsy_none(row.get("date")),
        "ref": falsy_none(row.get(ref_field)),
        "journal_id": m2o_id(row.get("journal_id")),
        "move_id": m2o_id(row.get("move_id")),
        "partner_id": m2o_id(row.get("partner_id")),
        "is_reconciled": bool(row.get("is_reconciled")),
        "is_matched": bool(row.get("is_matched")),
        "reconciled_invoice_ids": list(row.get("reconciled_invoice_ids") or []),
    }


def _line_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    """A journal item: balance is debit positive, credit negative (Decimal)."""
    return {
        "id": row["id"],
        "move_id": m2o_id(row.get("move_id")),
        "account_id": m2o_id(row.get("account_id")),
        "account_type": falsy_none(row.get("account_type")),
        "name": falsy_none(row.get("name")),
        "balance": money(row.get("balance")),
        "amount_residual": money(row.get("amount_residual")),
        "reconciled": bool(row.get("reconciled")),
        "partner_id": m2o_id(row.get("partner_id")),
    }


class SettlementGateway(InvoicingGateway):
    """Invoices (invoicing.py), payments and payouts keyed by the hub's deterministic refs."""

    # -- payments --------------------------------------------------------------------------------

    def _payment_fields(self) -> tuple[str, list[str]]:
        ref_field = self.client.adapter.payment_ref_field
        return ref_field, [*PAYMENT_FIELDS, ref_field]

    def payments_find(self, *, refs: Sequence[str]) -> dict[str, dict[str, Any]]:
        """ref -> inbound customer payment whose ref (the register wizard's ``communication``,
        stored in ``ref`` up to Odoo 17 and ``memo`` from 18) is the hub's; a live one wins
        over a cancelled one. One search_read per 1,000 refs."""
        ref_field, fields = self._payment_fields()
        found: dict[str, dict[str, Any]] = {}
        for part in chunked(_unique(r for r in refs if r)):
            rows = self.client.call(
                "account.payment",
                "search_read",
                [[["payment_type", "=", "inbound"], [ref_field, "in", part]]],
                {"fields": fields, "order": "id"},
            )
            dead = self.client.adapter.payment_cancel_states
            for row in rows:
                pay = _payment_dict(row, ref_field)
                old = found.get(pay["ref"])
                if old is None or (old["state"] in dead and pay["state"] not in dead):
                    found[pay["ref"]] = pay
        return found

    def payments_register(
        self, *, payments: Sequence[Mapping[str, Any]]
    ) -> dict[str, tuple[dict[str, Any], bool]]:
        """ref -> (payment, created) for ``{ref, invoice_id, amount, date, journal_id}``.

        One search for all refs; for each missing one the register wizard (transcripts 08, 15:
        ``account.payment.register.create`` with ``communication`` = ref and
        ``payment_difference_handling`` "open", then ``action_create_payments``), so a partial
        amount leaves the invoice ``partial``. One read of the new payments at the end.
        Calls: 2 + 2 per new payment; 1 when all are found.
        """
        refs = [p["ref"] for p in payments]
        if len(set(refs)) != len(refs) or not all(refs):
            raise ValueError("every payment needs a distinct, non-empty ref")
        found = self.payments_find(refs=refs)
        new_ids: dict[str, int] = {}
        for p in payments:
            if p["ref"] in found:
                continue
            ctx = {
                "active_model": "account.move",
                "active_ids": [p["invoice_id"]],
                "active_id": p["invoice_id"],
            }
            vals: dict[str, Any] = {
                "amount": _num(Decimal(p["amount"])),
                "communication": p["ref"],
                "payment_difference_handling": "open",
            }
            if p.get("date"):
                vals["payment_date"] = p["date"]
            if p.get("journal_id"):
                vals["journal_id"] = p["journal_id"]
            wiz = self.client.call("account.payment.register", "create", [vals], context=ctx)
            action = self.client.call(
                "account.payment.register", "action_create_payments", [[wiz]], context=ctx
            )
            if not isinstance(action, dict) or not action.get("res_id"):
                raise OdooPermanentError(
                    "The payment wizard did not answer with one payment",
                    model="account.payment.register",
                    method="action_create_payments",
                    ref=p["ref"],
                )
            new_ids[p["ref"]] = int(action["res_id"])
        ref_field, fields = self._payment_fields()
        rows: dict[int, dict[str, Any]] = {}
        for part in chunked(list(new_ids.values())):
            for row in self.client.call("account.payment", "read", [part, fields]):
                rows[row["id"]] = _payment_dict(row, ref_field)
        out: dict[str, tuple[dict[str, Any], bool]] = {}
        for ref in refs:
            if ref in new_ids:
                out[ref] = (rows[new_ids[ref]], True)
            else:
                out[ref] = (found[ref], False)
        return out

    # -- accounts and journals -------------------------------------------------------------------

    def journals_find(self, *, types: Sequence[str] = ("bank",)) -> list[dict[str, Any]]:
        """Journals of ``types`` (id order): id, name, code, type, default_account_id,
        suspense_account_id, currency_id. One search_read."""
        rows = self.client.call(
            "account.journal",
            "search_read",
            [[["type", "in", list(types)]]],
            {
                "fields": [
                    "name",
                    "code",
                    "type",
                    "default_account_id",
                    "suspense_account_id",
                    "currency_id",
                ],
                "order": "id",
            },
        )
        return [
            {
                "id": r["id"],
                "name": r["name"],
                "code": r["code"],
                "type": r["type"],
                "default_account_id": m2o_id(r.get("default_account_id")),
                "suspense_account_id": m2o_id(r.get("suspense_account_id")),
                "currency_id": m2o_id(r.get("currency_id")),
            }
            for r in rows
        ]

    def accounts_find(self, *, codes: Sequence[str]) -> dict[str, int]:
        """account code -> ``account.account`` id (codes Odoo lacks are left out). One call."""
        out: dict[str, int] = {}
        for part in chunked(_unique(c for c in codes if c)):
            for row in self.client.call(
                "account.account",
                "search_read",
                [[["code", "in", part]]],
                {"fields": ["code"], "order": "id"},
            ):
                out.setdefault(row["code"], row["id"])
        return out

    def clearing_account_id(self) -> int:
        """The user's company's Outstanding Receipts account, where a payment's journal item
        waits for the bank: ``res.company.account_journal_payment_debit_account_id`` up to Odoo
        17; from 18 the chart's external id (``ir.model.data.check_object_reference``, which
        any user who can read the account may call). Two calls, once per gateway."""
        cached = getattr(self, "_clearing_account", None)
        if cached:
            return int(cached)
        adapter = self.client.adapter
        user = self.client.call("res.users", "read", [[self.client.uid()], ["company_id"]])
        company = m2o_id(user[0]["company_id"]) if user else None
        account: int | None = None
        if adapter.clearing_account_xmlid:
            module, _, name = adapter.clearing_account_xmlid.format(company=company).partition(".")
            # No such external id (a company without a chart) is Odoo's ValueError: a
            # configuration error, as the missing account is.
            ref = self.client.call("ir.model.data", "check_object_reference", [module, name])
            if isinstance(ref, list) and len(ref) == 2 and ref[0] == "account.account":
                account = m2o_id(ref[1])
        elif adapter.clearing_account_company_field:
            field = adapter.clearing_account_company_field
            rows = self.client.call("res.company", "read", [[company], [field]])
            account = m2o_id(rows[0][field]) if rows else None
        if account is None:
            raise OdooPermanentError(
                "The company has no Outstanding Receipts account",
                model="res.company",
                id=company,
            )
        self._clearing_account = account
        return account

    # -- journal items ---------------------------------------------------------------------------

    def payment_lines(
        self, *, payment_ids: Sequence[int], account_id: int
    ) -> dict[int, dict[str, Any]]:
        """payment id -> its journal item on ``account_id`` (e.g. the clearing account).
        One search_read per 1,000 payments."""
        out: dict[int, dict[str, Any]] = {}
        for part in chunked(_unique(payment_ids)):
            for row in self.client.call(
                "account.move.line",
                "search_read",
                [[["payment_id", "in", part], ["account_id", "=", account_id]]],
                {"fields": [*LINE_FIELDS, "payment_id"], "order": "id"},
            ):
                pid = m2o_id(row.get("payment_id"))
                if pid is not None:
                    out.setdefault(pid, _line_dict(row))
        return out

    def move_lines_of(
        self, *, move_ids: Sequence[int], account_id: int | None = None
    ) -> dict[int, list[dict[str, Any]]]:
        """move id -> its journal items (id order), optionally only those on ``account_id``.
        One search_read per 1,000 moves."""
        out: dict[int, list[dict[str, Any]]] = {}
        for part in chunked(_unique(move_ids)):
            domain: list[Any] = [["move_id", "in", part]]
            if account_id is not None:
                domain.append(["account_id", "=", account_id])
            for row in self.client.call(
                "account.move.line", "search_read", [domain], {"fields": LINE_FIELDS, "order": "id"}
            ):
                line = _line_dict(row)
                out.setdefault(line["move_id"] or 0, []).append(line)
        return out

    def lines_reconcile(self, *, line_ids: Sequence[int], open_known: bool = False) -> None:
        """``account.move.line.reconcile`` of the items not reconciled yet (one read first),
        so a retry is harmless. Odoo returns None (no ``result`` key, transcript 15 #38).

        ``open_known``: the caller read these items in this same run and knows every one is
        still open, so the read is skipped (one call instead of two; for a payout's thousands
        of items the read is as costly as the reconcile)."""
        ids = _unique(int(i) for i in line_ids)
        if not ids:
            return
        if open_known:
            self.client.call("account.move.line", "reconcile", [ids])
            return
        rows = self.client.call("account.move.line", "read", [ids, ["reconciled"]])
        if len(rows) != len(ids):
            raise OdooPermanentError(
                "Journal items to reconcile are missing", model="account.move.line", ids=ids
            )
        todo = [r["id"] for r in rows if not r["reconciled"]]
        if todo:
            self.client.call("account.move.line", "reconcile", [todo])

    # -- bank statement lines --------------------------------------------------------------------

    def _journal_accounts(self, journal_ids: Sequence[int]) -> dict[int, dict[str, int | None]]:
        cache: dict[int, dict[str, int | None]] = self.__dict__.setdefault("_journal_acc", {})
        unknown = [j for j in _unique(journal_ids) if j not in cache]
        if unknown:
            for row in self.client.call(
                "account.journal", "read", [unknown, ["default_account_id", "suspense_account_id"]]
            ):
                cache[row["id"]] = {
                    "default": m2o_id(row.get("default_account_id")),
                    "suspense": m2o_id(row.get("suspense_account_id")),
                }
        return cache

    def _statement_lines(self, domain: list[Any]) -> list[dict[str, Any]]:
        rows = self.client.call(
            "account.bank.statement.line",
            "search_read",
            [domain],
            {"fields": STATEMENT_LINE_FIELDS, "order": "id"},
        )
        if not rows:
            return []
        journals = self._journal_accounts([m2o_id(r["journal_id"]) or 0 for r in rows])
        items = self.move_lines_of(move_ids=[m2o_id(r["move_id"]) or 0 for r in rows])
        out = []
        for r in rows:
            journal = m2o_id(r["journal_id"]) or 0
            accounts = journals.get(journal, {})
            lines = items.get(m2o_id(r["move_id"]) or 0, [])
            # The counterpart of the bank (liquidity) item: on the suspense account until the
            # line is matched, then on whatever account the matching moved it to.
            suspense = next(
                (ln for ln in lines if ln["account_id"] == accounts.get("suspense")),
                next((ln for ln in lines if ln["account_id"] != accounts.get("default")), None),
            )
            out.append(
                {
                    "id": r["id"],
                    "move_id": m2o_id(r["move_id"]),
                    "journal_id": journal,
                    "date": falsy_none(r.get("date")),
                    "amount": money(r.get("amount")),
                    "amount_residual": money(r.get("amount_residual")),
                    "payment_ref": falsy_none(r.get("payment_ref")),
                    "partner_id": m2o_id(r.get("partner_id")),
                    "is_reconciled": bool(r.get("is_reconciled")),
                    "suspense_line_id": suspense["id"] if suspense else None,
                    "lines": [
                        {"id": ln["id"], "account_id": ln["account_id"], "balance": ln["balance"]}
                        for ln in lines
                    ],
                }
            )
        return out

    def statement_lines_find(self, *, refs: Sequence[str]) -> dict[str, dict[str, Any]]:
        """ref -> bank statement line whose ``payment_ref`` is the hub's (the oldest), with
        ``suspense_line_id`` and its journal items. Three calls (the journal read is cached)."""
        found: dict[str, dict[str, Any]] = {}
        for part in chunked(_unique(r for r in refs if r), CHUNK):
            for line in self._statement_lines([["payment_ref", "in", part]]):
                found.setdefault(line["payment_ref"], line)
        return found

    def statement_line_ensure(
        self,
        *,
        ref: str,
        journal_id: int,
        date: str,
        amount: Decimal,
        partner_id: int | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """The bank statement line of a payout (``payment_ref`` = ref, no statement needed;
        posted at once, transcript 15 #31), found by ref first. Returns (line, created).
        Needs ``account.group_account_user``: anyone else gets OdooAccessError."""
        if not ref:
            raise ValueError("a statement line needs a ref")
        found = self.statement_lines_find(refs=[ref]).get(ref)
        if found is not None:
            return found, False
        vals: dict[str, Any] = {
            "journal_id": journal_id,
            "date": date,
            "payment_ref": ref,
            "amount": _num(Decimal(amount)),
        }
        if partner_id:
            vals["partner_id"] = partner_id
        new_id = int(self.client.call("account.bank.statement.line", "create", [vals]))
        [line] = self._statement_lines([["id", "=", new_id]])
        return line, True

    def statement_line_reconcile(
        self,
        *,
        statement_line: Mapping[str, Any],
        clearing_account_id: int,
        line_ids: Sequence[int],
        open_known: bool = False,
    ) -> dict[str, Any]:
        """Match a payout's statement line with clearing-account items (the payments', the
        settlement entry's) the way that works over RPC (transcript 15 #36-#39): write its
        suspense item to ``clearing_account_id`` (unless it is there already), reconcile it with
        ``line_ids``. Returns the statement line read again (``is_reconciled``,
        ``amount_residual``). A retry only reads.

        ``open_known``: ``line_ids`` were read open in this run, so the suspense item is open
        too (one reconcile matches them all at once, or none): no read before the reconcile.
        No ``line_ids``: nothing to match, no reconcile."""
        suspense_id = statement_line.get("suspense_line_id")
        if not suspense_id:
            raise OdooPermanentError(
                "The statement line has no suspense item",
                model="account.bank.statement.line",
                id=statement_line.get("id"),
            )
        current = next(
            (ln["account_id"] for ln in statement_line.get("lines", ()) if ln["id"] == suspense_id),
            None,
        )
        if current != clearing_account_id and not statement_line.get("is_reconciled"):
            self.client.call(
                "account.move.line", "write", [[suspense_id], {"account_id": clearing_account_id}]
            )
        if line_ids:
            self.lines_reconcile(line_ids=[suspense_id, *line_ids], open_known=open_known)
        [line] = self._statement_lines([["id", "=", statement_line["id"]]])
        return line

    # -- settlement entries ----------------------------------------------------------------------

    def settlement_entry_ensure(
        self, *, ref: str, journal_id: int, date: str, lines: Sequence[Mapping[str, Any]]
    ) -> tuple[dict[str, Any], bool]:
        """One posted journal entry (``move_type`` "entry", ``ref`` = the hub's) for a payout's
        fees, refunds and adjustments against the clearing account; found by ref first.

        ``lines``: ``account_id``, ``amount`` (Decimal; positive debit, negative credit),
        ``name``, optional ``partner_id``; they must balance (ValueError before any call).
        Returns ({id, name, state, lines: [{id, account_id, balance, partner_id, reconciled,
        ...}]}, created). Calls: 2 found (find, items), 5 made (find, create, post, read,
        items).
        """
        if not ref:
            raise ValueError("a settlement entry needs a ref")
        amounts = [Decimal(ln["amount"]) for ln in lines]
        if len(amounts) < 2 or sum(amounts, Decimal(0)) != 0 or any(a == 0 for a in amounts):
            raise ValueError(f"settlement entry {ref}: lines must be non-zero and balance")
        rows = self.client.call(
            "account.move",
            "search_read",
            [
                [
                    ["move_type", "=", "entry"],
                    ["ref", "=", ref],
                    [self.client.adapter.move_payment_field, "=", False],
                    ["statement_line_id", "=", False],
                ]
            ],
            {"fields": ["name", "state"], "order": "id"},
        )
        live = [r for r in rows if r["state"] != "cancel"]
        created = not live
        if live:
            row = live[0]
            if row["state"] == "draft":
                self.client.call("account.move", "action_post", [[row["id"]]])
                [row] = self.client.call("account.move", "read", [[row["id"]], ["name", "state"]])
        else:
            line_vals = []
            for ln, amount in zip(lines, amounts, strict=True):
                vals: dict[str, Any] = {
                    "account_id": ln["account_id"],
                    "name": ln.get("name") or ref,
                    "debit": _num(amount) if amount > 0 else 0.0,
                    "credit": _num(-amount) if amount < 0 else 0.0,
                }
                if ln.get("partner_id"):
                    vals["partner_id"] = ln["partner_id"]
                line_vals.append([0, 0, vals])
            move_id = self.client.call(
                "account.move",
                "create",
                [
                    {
                        "move_type": "entry",
                        "ref": ref,
                        "journal_id": journal_id,
                        "date": date,
                        "line_ids": line_vals,
                    }
                ],
            )
            self.client.call("account.move", "action_post", [[int(move_id)]])
            [row] = self.client.call("account.move", "read", [[int(move_id)], ["name", "state"]])
        items = self.move_lines_of(move_ids=[row["id"]]).get(row["id"], [])
        entry = {"id": row["id"], "name": row["name"], "state": row["state"], "lines": items}
        return entry, created
