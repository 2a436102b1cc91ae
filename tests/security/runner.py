"""Runs the matrix: each row's request once per identity, through the whole Django stack (the test
client), each in a savepoint rolled back after it, with a fingerprint of the database before
and after. A cell is what happened: the status code, `*` when something changed, `L` for a
redirect to the login page that changed nothing, `LEAK` when another channel's token got the
own channel's data, `NOAUDIT(tables)` when an admin change left no audit entry.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.db import transaction

from .state import changed, fingerprint
from .world import IDENTITIES, Call, World

AUDIT_TABLE = "core_auditentry"


def _cell(identity: str, call: Call, resp: Any, tables: list[str], audited: bool) -> str:
    status = resp.status_code
    if status == 302 and "/admin/login/" in resp.get("Location", "") and not tables:
        return "L"
    body = b"".join(resp.streaming_content) if resp.streaming else resp.content
    if identity == "other" and status < 400 and any(m.encode() in body for m in call.markers):
        return "LEAK"
    if audited and tables and AUDIT_TABLE not in tables:
        return f"NOAUDIT({','.join(tables)})"
    return f"{status}{'*' if tables else ''}"


def observe(
    world: World, make: Callable[[World], Call], accepted: tuple[str, ...], audited: bool = False
) -> list[str]:
    """One row: the objects made once, then every identity's answer, each rolled back. With
    `audited`, a change without an audit entry is a cell of its own (NOAUDIT): every change
    made through the admin lands in the audit log."""
    cells: list[str] = []
    # Tokens are made before the row's savepoint, so that they outlive it.
    clients = {identity: world.client(identity, accepted) for identity in IDENTITIES}
    with transaction.atomic():
        call = make(world)
        for identity, client in clients.items():
            cookies = copy.deepcopy(client.cookies)
            sid = transaction.savepoint()
            try:
                before = fingerprint()
                resp = call.send(client)
                tables = changed(before, fingerprint())
                cells.append(_cell(identity, call, resp, tables, audited))
            finally:
                transaction.savepoint_rollback(sid)
                # The session row is back as it was: so is the cookie that names it (a
                # password change, for one, moves the signed-in session to a new key).
                client.cookies = cookies
        transaction.set_rollback(True)
    return cells


def differences(expected: dict[str, str], observed: dict[str, list[str]]) -> list[str]:
    """Every cell that differs, as "row · identity: expected X, got Y", then each such row as
    observed (a row missing from the table is all "?"): what to check, and what to write."""
    out, rows = [], []
    for row, cells in observed.items():
        want = expected.get(row, " ".join("?" for _ in IDENTITIES)).split()
        bad = [
            f"{row} · {identity}: expected {exp}, got {got}"
            for identity, exp, got in zip(IDENTITIES, want, cells, strict=True)
            if exp != got
        ]
        if bad:
            out += bad
            rows.append(f"    {row!r}: {' '.join(cells)!r}")
    return out + (["observed:", *rows] if rows else [])
