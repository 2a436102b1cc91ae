"""The /readyz probe for Odoo and the breaker state it reports."""

from __future__ import annotations

from apps.core.errors import HubError
from apps.core.health import CheckResult

from .client import get_client
from .protection import BreakerState

PROBE_TIMEOUT_SECONDS = 3.0


def odoo_breaker_state() -> BreakerState:
    """closed, open or half-open, as every hub process sees it (also sets the gauge)."""
    return get_client().breaker.state()


def probe_odoo() -> CheckResult:
    """``common.version`` with a short timeout, straight to Odoo.

    It bypasses the breaker's fail-fast on purpose: readiness must report whether Odoo answers
    now, not what the breaker concluded a while ago. It does not move the breaker either: a
    version call says little about whether real work (writes, a loaded database) succeeds.
    """
    client = get_client()
    detail: dict[str, object] = {"url": client.config.url, "db": client.config.db}
    try:
        version = client.probe(timeout=PROBE_TIMEOUT_SECONDS)
    except HubError as exc:
        detail.update(breaker=client.breaker.state(), error=str(exc))
        return CheckResult(False, detail)
    detail.update(
        version=str(version.get("server_serie") or version.get("server_version") or "?"),
        breaker=client.breaker.state(),
    )
    return CheckResult(True, detail)
