"""Keys of the hub's Odoo-side cursors (stock, done pickings, return receipts): one per Odoo
server and database.

A cursor holds a ``write_date`` (and an id) of ONE Odoo database. Kept under one global key,
a hub pointed at another Odoo (an upgrade onto a new server, a restored copy, a test server)
would carry the old server's watermark: rows of the new server stamped before it are never
read, and the ids mean other records. Keyed by ``connection_id(url, db)`` instead, each server
starts its own cursor, and the old server's stays as it was should the hub go back to it.
"""

from __future__ import annotations

from .client import OdooConfig
from .protection import connection_id


def server_cursor(base: str, config: OdooConfig | None = None) -> tuple[str, str]:
    """(cursor key, server label) of ``base`` (e.g. "odoo.stock") for the configured Odoo:
    ``"<base>@<16 hex digits of url|db>"`` and ``"<db>@<host:port>"`` for people."""
    cfg = config or OdooConfig.from_settings()
    digest, label = connection_id(cfg.url, cfg.db)
    return f"{base}@{digest}", label


def other_servers(base: str, key: str, keys: list[str]) -> bool:
    """Whether ``keys`` (the stored cursor keys) hold a cursor of ``base`` for another server
    than ``key``, including the single unkeyed one of hubs before per-server cursors."""
    return any(k != key and (k == base or k.startswith(f"{base}@")) for k in keys)
