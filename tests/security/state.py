"""Did a request change anything? So the authorization matrix can say "refused, and nothing
changed" for each cell.

On PostgreSQL, the transaction's own write counters (`pg_stat_xact_user_tables`: rows inserted,
updated, deleted per table), read in one query: any write counts, even one that sets a row to
what it was. Elsewhere (SQLite), a digest of every table of every installed model, read in one
query.

Left out: what merely being signed in touches (the session, the user's last login, a token's
last use), which is not a change a request is authorized to make.
"""

from __future__ import annotations

from django.apps import apps
from django.db import connection

IGNORED_TABLES = {"django_session"}
IGNORED_COLUMNS = {("auth_user", "last_login"), ("sales_channels_apitoken", "last_used_at")}

_sql: str | None = None
_tables: list[str] = []


def _statement() -> tuple[str, list[str]]:
    global _sql, _tables
    if _sql is None:
        q = connection.ops.quote_name
        tables: dict[str, list[str]] = {}
        for model in apps.get_models(include_auto_created=True):
            table = model._meta.db_table
            if table in IGNORED_TABLES or model._meta.proxy or not model._meta.managed:
                continue
            cols = [
                f.column
                for f in model._meta.concrete_fields
                if f.column and (table, f.column) not in IGNORED_COLUMNS
            ]
            tables[table] = cols
        _tables = sorted(tables)
        parts = []
        for table in _tables:
            cols = tables[table]
            if connection.vendor == "postgresql":
                row = "ROW(" + ", ".join(q(c) for c in cols) + ")::text"
                parts.append(
                    f"(SELECT md5(coalesce(string_agg(x, '|' ORDER BY x), '')) "
                    f"FROM (SELECT {row} AS x FROM {q(table)}) s)"
                )
            else:  # SQLite
                row = " || ',' || ".join(f"quote({q(c)})" for c in cols)
                parts.append(
                    f"(SELECT group_concat(x, '|') FROM "
                    f"(SELECT {row} AS x FROM {q(table)} ORDER BY 1))"
                )
        _sql = "SELECT " + ", ".join(parts)
    return _sql, _tables


WRITES = """
    SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables
"""


def fingerprint() -> dict[str, str]:
    """table -> a digest of its rows, or the transaction's count of writes to it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(WRITES)
            return {t: str(n) for t, n in cursor.fetchall() if t not in IGNORED_TABLES}
    sql, tables = _statement()
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return {t: str(v or "") for t, v in zip(tables, row, strict=True)}


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(t for t in after if before.get(t, "0") != after[t])
