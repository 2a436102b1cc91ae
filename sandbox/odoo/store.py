"""In-memory record storage with many2one indexes, an undo journal and optional SQLite
persistence.

Every mutation goes through ``Store.new``/``update``/``delete`` so that the indexes, the undo
journal (a failing RPC call must leave no trace, as a PostgreSQL rollback would) and the set
of rows to persist stay in step. The caller holds the server's single state lock.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from .schema import REGISTRY

Record = dict[str, Any]


def now_str() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def stamp_str() -> str:
    """create_date/write_date as PostgreSQL keeps them: UTC to the microsecond."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def today_str() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


class Store:
    def __init__(self) -> None:
        self.tables: dict[str, dict[int, Record]] = {m: {} for m in REGISTRY}
        self.next_ids: dict[str, int] = {}
        self.seq: dict[str, int] = {}
        # model -> many2one field -> target id -> ids pointing at it
        self.index: dict[str, dict[str, dict[int, set[int]]]] = {}
        self._m2o_fields: dict[str, list[str]] = {}
        for mname, model in REGISTRY.items():
            names = [n for n, f in model.fields.items() if f.type == "many2one" and f.store]
            self._m2o_fields[mname] = names
            self.index[mname] = {n: {} for n in names}
        self._journal: dict[tuple[str, int], Record | None] | None = None
        self._meta_backup: tuple[dict[str, int], dict[str, int]] | None = None
        self.dirty: set[tuple[str, int]] = set()
        self.db: sqlite3.Connection | None = None
        # Odoo stamps create_date/write_date with the transaction's start time (cr.now()),
        # to the microsecond; read() sends whole seconds (orm.Env.fmt).
        self._txn_stamp: str | None = None

    # -- transactions -------------------------------------------------------------------
    def begin(self) -> None:
        self._journal = {}
        self._txn_stamp = stamp_str()
        self._meta_backup = (dict(self.next_ids), dict(self.seq))

    def _remember(self, model: str, rid: int) -> None:
        if self._journal is not None and (model, rid) not in self._journal:
            old = self.tables[model].get(rid)
            self._journal[(model, rid)] = copy.deepcopy(old) if old is not None else None

    def rollback(self) -> None:
        if self._journal is None:
            return
        for (model, rid), old in self._journal.items():
            cur = self.tables[model].get(rid)
            if cur is not None:
                self._unindex(model, rid, cur)
                del self.tables[model][rid]
            if old is not None:
                self.tables[model][rid] = old
                self._index(model, rid, old)
            self.dirty.discard((model, rid))
        if self._meta_backup is not None:
            self.next_ids, self.seq = self._meta_backup
        self._journal = None
        self._meta_backup = None
        self._txn_stamp = None

    def commit(self) -> None:
        self._journal = None
        self._meta_backup = None
        self._txn_stamp = None
        self.flush()

    def stamp(self) -> str:
        return self._txn_stamp or stamp_str()

    # -- indexes ------------------------------------------------------------------------
    def _index(self, model: str, rid: int, rec: Record) -> None:
        idx = self.index[model]
        for fname in self._m2o_fields[model]:
            target = rec.get(fname)
            if target:
                idx[fname].setdefault(target, set()).add(rid)

    def _unindex(self, model: str, rid: int, rec: Record) -> None:
        idx = self.index[model]
        for fname in self._m2o_fields[model]:
            target = rec.get(fname)
            if target and target in idx[fname]:
                idx[fname][target].discard(rid)

    def referencing(self, model: str, fname: str, target: int) -> set[int]:
        """Ids of ``model`` records whose many2one ``fname`` points at ``target``."""
        return self.index[model].get(fname, {}).get(target, set())

    # -- mutations ----------------------------------------------------------------------
    def next_id(self, model: str) -> int:
        nid = self.next_ids.get(model, 1)
        self.next_ids[model] = nid + 1
        return nid

    def next_seq(self, key: str) -> int:
        n = self.seq.get(key, 0) + 1
        self.seq[key] = n
        return n

    def new(self, model: str, vals: Record, uid: int = 1) -> int:
        rid = self.next_id(model)
        self._remember(model, rid)
        stamp = self.stamp()
        rec: Record = {
            "id": rid,
            "create_date": stamp,
            "write_date": stamp,
            "create_uid": uid,
            "write_uid": uid,
        }
        rec.update(vals)
        rec["id"] = rid
        self.tables[model][rid] = rec
        self._index(model, rid, rec)
        self.dirty.add((model, rid))
        return rid

    def update(self, model: str, rid: int, vals: Record, uid: int | None = None) -> None:
        rec = self.tables[model][rid]
        self._remember(model, rid)
        self._unindex(model, rid, rec)
        rec.update(vals)
        rec["write_date"] = self.stamp()
        if uid is not None:
            rec["write_uid"] = uid
        self._index(model, rid, rec)
        self.dirty.add((model, rid))

    def delete(self, model: str, rid: int) -> None:
        rec = self.tables[model].get(rid)
        if rec is None:
            return
        self._remember(model, rid)
        self._unindex(model, rid, rec)
        del self.tables[model][rid]
        self.dirty.add((model, rid))

    def get(self, model: str, rid: int | None) -> Record | None:
        if not rid:
            return None
        return self.tables[model].get(rid)

    def reindex_all(self) -> None:
        for model, table in self.tables.items():
            self.index[model] = {n: {} for n in self._m2o_fields[model]}
            for rid, rec in table.items():
                self._index(model, rid, rec)

    # -- persistence --------------------------------------------------------------------
    def attach(self, path: str) -> bool:
        """Open (or create) the SQLite file; return True when it already held a database."""
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        # WAL + NORMAL keeps a commit per RPC call cheap while surviving a process kill.
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS records (model TEXT, id INTEGER, "
            "data TEXT, PRIMARY KEY (model, id))"
        )
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, data TEXT)")
        row = self.db.execute("SELECT data FROM meta WHERE key='counters'").fetchone()
        if row is None:
            return False
        meta = json.loads(row[0])
        self.next_ids = meta["next_ids"]
        self.seq = meta["seq"]
        self.tables = {m: {} for m in REGISTRY}
        for model, rid, data in self.db.execute("SELECT model, id, data FROM records"):
            if model in self.tables:
                self.tables[model][int(rid)] = json.loads(data)
        self.reindex_all()
        self.dirty.clear()
        return True

    def flush(self, full: bool = False) -> None:
        if self.db is None:
            self.dirty.clear()
            return
        cur = self.db.cursor()
        cur.execute("BEGIN")
        if full:
            cur.execute("DELETE FROM records")
            rows = [
                (m, rid, json.dumps(rec)) for m, t in self.tables.items() for rid, rec in t.items()
            ]
            cur.executemany("INSERT INTO records VALUES (?, ?, ?)", rows)
        else:
            for model, rid in self.dirty:
                rec = self.tables[model].get(rid)
                if rec is None:
                    cur.execute("DELETE FROM records WHERE model=? AND id=?", (model, rid))
                else:
                    cur.execute(
                        "INSERT OR REPLACE INTO records VALUES (?, ?, ?)",
                        (model, rid, json.dumps(rec)),
                    )
        cur.execute(
            "INSERT OR REPLACE INTO meta VALUES ('counters', ?)",
            (json.dumps({"next_ids": self.next_ids, "seq": self.seq}),),
        )
        cur.execute("COMMIT")
        self.dirty.clear()

    def clear(self) -> None:
        self.tables = {m: {} for m in REGISTRY}
        self.next_ids = {}
        self.seq = {}
        self.reindex_all()
        self.dirty.clear()
