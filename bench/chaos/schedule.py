"""The fault schedule, scaled to the run: at full length (a sending phase of 1,300 s or more)

- SIGKILL of a random worker process group (``worker1``, ``worker2``, ``worker_odoo``) 10 times,
  spread over the run; the supervisor restarts it;
- the Odoo sandbox at 10 % transient errors for 60 s, then down for 30 s, then commit-then-drop
  on creates (half of the ``create`` answers lost after the commit) for 60 s;
- Redis stopped for 30 s (its queued messages are lost with it: no persistence);
- PostgreSQL restarted once, in immediate mode (a crash and recovery, not a clean stop).

A shorter run compresses the durations in proportion, never below a floor that still lets the
fault bite (a few seconds), and the moments keep their place as a share of the run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FULL_SECONDS = 1300.0  # a sending phase at least this long gets the full durations


@dataclass(frozen=True)
class Fault:
    at: float  # seconds after the start of sending
    kind: str
    seconds: float = 0.0  # 0: an instant fault
    target: str = ""

    @property
    def end(self) -> float:
        return self.at + self.seconds

    def describe(self) -> str:
        what = {
            "kill": f"SIGKILL {self.target} (supervisor restarts it)",
            "odoo_transient": "Odoo sandbox: 10 % transient errors (HTTP 503)",
            "odoo_down": "Odoo sandbox down (connections closed unanswered)",
            "odoo_drop_creates": "Odoo sandbox: commit-then-drop on creates (50 %)",
            "redis_stop": "Redis stopped (queued messages lost)",
            "pg_restart": "PostgreSQL restarted (immediate mode: crash recovery)",
        }[self.kind]
        return what if not self.seconds else f"{what} for {self.seconds:.0f} s"


@dataclass(frozen=True)
class Durations:
    odoo_transient: float = 60.0
    odoo_down: float = 30.0
    odoo_drop: float = 60.0
    redis: float = 30.0

    def scaled(self, factor: float, floor: float = 5.0) -> Durations:
        def s(v: float) -> float:
            return round(max(min(v, floor), v * factor), 1)

        return Durations(
            s(self.odoo_transient), s(self.odoo_down), s(self.odoo_drop), s(self.redis)
        )


KILL_TARGETS = ("worker1", "worker2", "worker_odoo")


def make_schedule(
    send_seconds: float,
    *,
    kills: int = 10,
    redis: bool = True,
    postgres: bool = True,
    odoo: bool = True,
    durations: Durations | None = None,
    seed: int = 17,
) -> list[Fault]:
    rng = random.Random(seed)
    span = max(send_seconds, 1.0)
    d = (durations or Durations()).scaled(min(1.0, span / FULL_SECONDS))
    faults: list[Fault] = []
    if odoo:
        t = round(0.15 * span, 1)
        faults.append(Fault(t, "odoo_transient", d.odoo_transient))
        t += d.odoo_transient
        faults.append(Fault(t, "odoo_down", d.odoo_down))
        t += d.odoo_down
        faults.append(Fault(t, "odoo_drop_creates", d.odoo_drop))
    if redis:
        faults.append(Fault(round(0.5 * span, 1), "redis_stop", d.redis))
    if postgres:
        faults.append(Fault(round(0.7 * span, 1), "pg_restart"))
    for i in range(kills):
        share = 0.05 + 0.85 * (i + rng.uniform(0.2, 0.8)) / max(kills, 1)
        faults.append(Fault(round(share * span, 1), "kill", target=rng.choice(KILL_TARGETS)))
    return sorted(faults, key=lambda f: f.at)


def last_fault_end(faults: list[Fault]) -> float:
    return max((f.end for f in faults), default=0.0)
