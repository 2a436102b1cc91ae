"""Claims: take ownership of rows with a conditional UPDATE that checks the row count.

A claim never trusts what it read a moment ago: the UPDATE repeats the condition that made a row
claimable, so two workers that read the same candidate cannot both win. The winner is whoever's
UPDATE matched the row; the loser's UPDATE matches nothing.

- PostgreSQL: candidates are picked with `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent
  claimers skip rows another claimer is busy with instead of queueing behind its lock.
- Other databases (SQLite): candidate ids are read, then one UPDATE sets a fresh lease token on
  those ids that still match the condition; only rows re-read with that token are ours. SQLite
  serialises writers (IMMEDIATE transactions), so the UPDATE sees the latest committed state.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from django.db import connections, models, transaction

M = TypeVar("M", bound=models.Model)


def new_token() -> str:
    return uuid.uuid4().hex


def claim_pk(
    model: type[M], *, pk: Any, condition: models.Q, values: dict[str, Any], using: str = "default"
) -> bool:
    """Apply `values` to row `pk` only if it still meets `condition`. True if we won it."""
    changed = model._default_manager.using(using).filter(condition, pk=pk).update(**values)
    # One row changed: we own it. Zero: someone else got there first (or it is not due).
    return changed == 1


def claim_batch(
    model: type[M],
    *,
    condition: models.Q,
    values: dict[str, Any],
    token_field: str,
    token: str,
    limit: int,
    order_by: tuple[str, ...] = ("pk",),
    using: str = "default",
    select_related: tuple[str, ...] = (),
) -> list[M]:
    """Claim up to `limit` rows meeting `condition`; `values` must set `token_field` to `token`.

    Returns the rows we own, re-read by the token (so the caller sees the values it wrote).
    """
    if limit <= 0:
        return []
    manager = model._default_manager.using(using)
    vendor = connections[using].vendor
    with transaction.atomic(using=using):
        candidates = manager.filter(condition).order_by(*order_by)
        if vendor == "postgresql":
            # Locked rows belong to a concurrent claimer: skip them rather than wait.
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        ids = list(candidates.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        # The condition is repeated in the UPDATE: a row claimed by someone else between our
        # SELECT and this UPDATE no longer matches and is left alone.
        manager.filter(condition, pk__in=ids).update(**values)
    # By id as well as token: the token has no index, the primary key has.
    owned = manager.filter(pk__in=ids, **{token_field: token}).order_by(*order_by)
    if select_related:
        owned = owned.select_related(*select_related)
    return list(owned)
