"""Small helpers for talking about Odoo: an RPC counter around the gateway's client, and Odoo's
UTC "YYYY-MM-DD HH:MM:SS" datetimes."""

from __future__ import annotations

import datetime as dt
from typing import Any


class RpcCounter:
    """The gateway's client, counting the RPCs a run makes (the diff reports them)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls = 0

    def call(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self._client.call(*args, **kwargs)

    def fields_present(self, model: str, fields: Any) -> set[str]:
        before = len(getattr(self._client, "_fields", {}))
        found: set[str] = self._client.fields_present(model, fields)
        if len(getattr(self._client, "_fields", {})) != before:
            self.calls += 1  # one fields_get, once per process
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def odoo_time(value: dt.datetime) -> str:
    """An aware datetime as Odoo stores it: UTC, whole seconds."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_odoo_time(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(str(value)[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
