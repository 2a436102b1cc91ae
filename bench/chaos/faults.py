"""Runs the fault schedule (schedule.py) against the live processes: one timer thread per fault,
each recording when it really began and ended (the report prints both)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from bench.sandbox_proc import http

from .schedule import Fault
from .services import PrivatePostgres, PrivateRedis
from .topology import Supervisor

ODOO_ON = {
    "odoo_transient": {"transient_rate": 0.1, "transient_kind": "http503"},
    "odoo_down": {"down": True},
    "odoo_drop_creates": {"drop_rate": 0.5, "drop_methods": ["create"]},
}
ODOO_OFF = {
    "odoo_transient": {"transient_rate": 0.0},
    "odoo_down": {"down": False},
    "odoo_drop_creates": {"drop_rate": 0.0, "drop_methods": []},
}


@dataclass
class Applied:
    fault: Fault
    began: float = 0.0  # seconds after the start of sending
    ended: float = 0.0
    note: str = ""
    error: str = ""


class Injector:
    def __init__(
        self,
        faults: list[Fault],
        *,
        start: float,
        supervisor: Supervisor,
        postgres: PrivatePostgres | None,
        redis: PrivateRedis | None,
        odoo_url: str,
    ) -> None:
        self.faults, self.start = faults, start
        self.supervisor, self.postgres, self.redis = supervisor, postgres, redis
        self.odoo_url = odoo_url
        self.applied = [Applied(f) for f in faults]
        self._threads: list[threading.Thread] = []

    def _now(self) -> float:
        return time.monotonic() - self.start

    def _odoo(self, values: dict[str, Any]) -> None:
        http("POST", f"{self.odoo_url}/__sandbox__/faults", values)

    def _begin(self, a: Applied) -> None:
        f = a.fault
        if f.kind == "kill":
            a.note = f"pid {self.supervisor.kill(f.target)}"
        elif f.kind in ODOO_ON:
            self._odoo(ODOO_ON[f.kind])
        elif f.kind == "redis_stop":
            assert self.redis is not None
            self.redis.stop()
        elif f.kind == "pg_restart":
            assert self.postgres is not None
            a.note = f"unavailable {self.postgres.restart():.1f} s"

    def _end(self, a: Applied) -> None:
        f = a.fault
        if f.kind in ODOO_OFF:
            self._odoo(ODOO_OFF[f.kind])
        elif f.kind == "redis_stop":
            assert self.redis is not None
            self.redis.start()

    def _run(self, a: Applied) -> None:
        delay = a.fault.at - self._now()
        if delay > 0:
            time.sleep(delay)
        a.began = self._now()
        try:
            self._begin(a)
            if a.fault.seconds:
                time.sleep(max(0.0, a.fault.end - self._now()))
            self._end(a)
        except Exception as exc:  # recorded and reported: a fault that did not apply fails the run
            a.error = f"{type(exc).__name__}: {exc}"
        a.ended = self._now()

    def run(self) -> None:
        for a in self.applied:
            t = threading.Thread(target=self._run, args=(a,), name=f"fault-{a.fault.kind}")
            t.daemon = True
            t.start()
            self._threads.append(t)

    def join(self) -> None:
        for t in self._threads:
            t.join()

    def last_end(self) -> float:
        return max((a.ended for a in self.applied), default=0.0)

    def errors(self) -> list[str]:
        return [f"{a.fault.kind} at {a.fault.at:.0f} s: {a.error}" for a in self.applied if a.error]
