"""Fault injection settings and call statistics (both thread-safe)."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Faults:
    latency_ms: float = 0.0
    per_record_ms: float = 0.0
    transient_rate: float = 0.0
    transient_kind: str = "http503"
    drop_after_commit: int = 0
    # Commit-then-drop for a while, not for a count: each qualifying write's answer is lost
    # with this probability. ``drop_methods`` limits both drop switches to these methods
    # (e.g. ["create"]); empty means every write.
    drop_rate: float = 0.0
    drop_methods: list[str] = field(default_factory=list)
    down: bool = False
    fail_next: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


KINDS = ("http503", "serialization")


def _share(values: dict[str, Any], key: str) -> float:
    share = float(values[key] or 0)
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"{key} must be between 0 and 1")
    return share


class FaultState:
    """Current faults plus the baseline (from the command line) that a reset returns to."""

    def __init__(self, baseline: Faults) -> None:
        self._lock = threading.Lock()
        self.baseline = baseline
        self.current = self._fresh(baseline)
        self._rng = random.Random()

    def get(self) -> dict[str, Any]:
        with self._lock:
            return self.current.to_dict()

    @staticmethod
    def _fresh(baseline: Faults) -> Faults:
        return Faults(**{**baseline.to_dict(), "fail_next": [], "drop_methods": []})

    def reset(self) -> None:
        with self._lock:
            self.current = self._fresh(self.baseline)

    def update(self, values: dict[str, Any]) -> dict[str, Any]:
        """Apply a partial update; raise ValueError on unknown keys or bad values."""
        allowed = set(Faults.__dataclass_fields__)
        unknown = set(values) - allowed - {"seed"}
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        with self._lock:
            cur = self.current
            if "seed" in values:
                self._rng.seed(values["seed"])
            if "latency_ms" in values:
                cur.latency_ms = max(0.0, float(values["latency_ms"] or 0))
            if "per_record_ms" in values:
                cur.per_record_ms = max(0.0, float(values["per_record_ms"] or 0))
            if "transient_rate" in values:
                cur.transient_rate = _share(values, "transient_rate")
            if "transient_kind" in values:
                if values["transient_kind"] not in KINDS:
                    raise ValueError(f"transient_kind must be one of {KINDS}")
                cur.transient_kind = str(values["transient_kind"])
            if "drop_after_commit" in values:
                cur.drop_after_commit = max(0, int(values["drop_after_commit"] or 0))
            if "drop_rate" in values:
                cur.drop_rate = _share(values, "drop_rate")
            if "drop_methods" in values:
                methods = values["drop_methods"] or []
                if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
                    raise ValueError("drop_methods must be a list of method names")
                cur.drop_methods = list(methods)
            if "down" in values:
                cur.down = bool(values["down"])
            if "fail_next" in values:
                items = values["fail_next"] or []
                if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                    raise ValueError("fail_next must be a list of objects")
                cur.fail_next = [dict(i) for i in items]
            return cur.to_dict()

    def is_down(self) -> bool:
        with self._lock:
            return self.current.down

    def latency(self, records: int) -> float:
        with self._lock:
            return (self.current.latency_ms + self.current.per_record_ms * records) / 1000.0

    def roll_transient(self) -> str | None:
        with self._lock:
            if self.current.transient_rate and self._rng.random() < self.current.transient_rate:
                return self.current.transient_kind
            return None

    def take_fail_next(self, model: str | None, method: str | None) -> dict[str, Any] | None:
        with self._lock:
            for i, item in enumerate(self.current.fail_next):
                if item.get("model") not in (None, model):
                    continue
                if item.get("method") not in (None, method):
                    continue
                return self.current.fail_next.pop(i)
            return None

    def take_drop(self, method: str | None = None) -> bool:
        """Whether the answer of this committed write is lost (``method``: the ORM method)."""
        with self._lock:
            cur = self.current
            if cur.drop_methods and method not in cur.drop_methods:
                return False
            if cur.drop_after_commit > 0:
                cur.drop_after_commit -= 1
                return True
            return bool(cur.drop_rate) and self._rng.random() < cur.drop_rate


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: dict[str, int] = {}

    def count(self, key: str) -> None:
        with self._lock:
            self.calls[key] = self.calls.get(key, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"calls": dict(sorted(self.calls.items())), "total": sum(self.calls.values())}

    def reset(self) -> None:
        with self._lock:
            self.calls = {}
