"""The /readyz probes for Odoo (reachable; set up for the hub) and the breaker state."""

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
        detail.update(
            breaker=client.breaker.state(), error=str(exc), transport=client.transport_name
        )
        return CheckResult(False, detail)
    detail.update(
        version=str(version.get("server_serie") or version.get("server_version") or "?"),
        breaker=client.breaker.state(),
        transport=client.transport_name,  # jsonrpc or json2, chosen at login
    )
    return CheckResult(True, detail)


SETUP_CACHE_SECONDS = 300
SETUP_RETRY_SECONDS = 60  # when Odoo could not be reached: try again sooner


def probe_odoo_setup() -> CheckResult:
    """The preflight (apps/odoo/preflight.py) summarised: how many items are missing.

    Not required for readiness. The result is cached in the shared cache for 5 minutes (1 when
    Odoo could not be reached), so /readyz costs the ~20 RPCs of the check once per period, and
    only one process runs it at a time (the others report the last result, or "pending").
    """
    from django.core.cache import cache

    from .gateway import OdooGateway
    from .preflight import collect_needs, run_preflight
    from .protection import connection_id

    client = get_client()
    key = f"odoo:setup:{connection_id(client.config.url, client.config.db)[0]}"
    cached = cache.get(key)
    if cached is None:
        if not cache.add(f"{key}:running", 1, 120):
            return CheckResult(True, {"pending": True})
        try:
            report = run_preflight(OdooGateway(client), needs=collect_needs())
            cached = {**report.summary(), "checked_at": _now_iso()}
            reached = not any(f.area == "connection" for f in report.missing)
            cache.set(key, cached, SETUP_CACHE_SECONDS if reached else SETUP_RETRY_SECONDS)
        finally:
            cache.delete(f"{key}:running")
    detail = {
        "missing": cached["missing"],
        "warnings": cached["warnings"],
        "checked_at": cached["checked_at"],
        "hint": "python manage.py odoo check",
    }
    if cached["missing"]:
        detail["missing_items"] = cached["missing_items"]
    return CheckResult(cached["missing"] == 0, detail)


def _now_iso() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
