"""Readiness checks registry. Edge apps register a probe for the part they own."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CheckResult:
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReadinessCheck:
    name: str
    probe: Callable[[], CheckResult]
    required: Callable[[], bool] = lambda: True


READINESS_CHECKS: dict[str, ReadinessCheck] = {}


def register_readiness_check(
    name: str, probe: Callable[[], CheckResult], *, required: Callable[[], bool] | None = None
) -> None:
    READINESS_CHECKS[name] = ReadinessCheck(name, probe, required or (lambda: True))


def run_checks() -> tuple[bool, dict[str, dict[str, Any]]]:
    """Run every probe; ready only if every required one is ok."""
    ready = True
    report: dict[str, dict[str, Any]] = {}
    for check in READINESS_CHECKS.values():
        started = time.perf_counter()
        try:
            result = check.probe()
        except Exception as exc:  # a probe must never take the endpoint down with it
            result = CheckResult(False, {"error": f"{type(exc).__name__}: {exc}"})
        required = check.required()
        report[check.name] = {
            "status": "ok" if result.ok else "down",
            "required": required,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            **result.detail,
        }
        if required and not result.ok:
            ready = False
    return ready, report
