"""Request/response values and helpers shared by the platform modules."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, Protocol

from .store import Store


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: Message  # case-insensitive lookups, as HTTP requires
    body: bytes
    host: str  # "host:port" this stand-in was reached at
    raw_query: str = ""  # as sent: parse_qs drops blank values such as Magento's `searchCriteria=`

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        """Parsed body; raises ValueError on malformed JSON (callers answer 400)."""
        if not self.body:
            return None
        return json.loads(self.body)


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-serialisable; None with status 204 means "no body"
    headers: dict[str, str] = field(default_factory=dict)
    # Set by platforms for the received log: is this a write, and how is the call named in stats?
    write: bool = False
    op: str = ""


class Platform(Protocol):
    kind: str
    store: Store

    def handle(self, req: Request) -> Response: ...

    def configure(self, values: dict[str, Any]) -> dict[str, Any]: ...

    def config(self) -> dict[str, Any]: ...

    def reset_limits(self) -> None: ...

    def seed_order(self, data: dict[str, Any]) -> dict[str, Any]: ...

    def credentials(self) -> dict[str, str]: ...


def iso_utc(ts: float) -> str:
    """ISO 8601 UTC with a ``Z`` (Shopify GraphQL DateTime)."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_naive(ts: float) -> str:
    """ISO 8601 without zone (WooCommerce ``date_*`` / ``date_*_gmt``; site time = UTC here)."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def rfc2822(ts: float) -> str:
    """BigCommerce v2 dates: ``Tue, 14 Jan 2025 15:04:05 +0000``."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def int_or_none(value: Any) -> int | None:
    try:
        if isinstance(value, bool):
            return None
        return int(value)
    except (TypeError, ValueError):
        return None
