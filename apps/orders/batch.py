"""The per-batch lookup context shared by the push's building steps, and the batch's clock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class BatchContext:
    """Per-batch lookups, each done once for the whole batch."""

    gateway: Any
    # (channel, shipping method values) -> (product id, delivery.carrier id or None)
    shipping_products: dict[tuple[int, str], tuple[int, int | None]] = field(default_factory=dict)
    # delivery.carrier id -> the carrier (read once per batch, for every carrier value map)
    carriers: dict[int, dict[str, Any]] | None = None
    taxes: dict[int, dict[str, int]] = field(default_factory=dict)
    warehouses: dict[int, int | None] = field(default_factory=dict)
    order_warehouse: dict[int, int] = field(default_factory=dict)


@dataclass
class PushClock:
    """Where one push's wall time goes: the hub's own steps and each Odoo RPC.

    ``step`` times a hub step without the Odoo calls made inside it (those are counted under
    their ``model.method``), so the parts add up to the wall time. ``line`` is the
    ``push batch <token> done: key=value ...`` log line the benchmarks read.
    """

    t0: float = field(default_factory=time.time)
    started: float = field(default_factory=time.perf_counter)
    steps: dict[str, float] = field(default_factory=dict)
    rpcs: dict[str, list[float]] = field(default_factory=dict)  # model.method -> [calls, s]
    rpc_seconds: float = 0.0

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        began, in_rpc = time.perf_counter(), self.rpc_seconds
        try:
            yield
        finally:
            hub = time.perf_counter() - began - (self.rpc_seconds - in_rpc)
            self.steps[name] = self.steps.get(name, 0.0) + hub

    def add(self, name: str, seconds: float) -> None:
        """Record ``seconds`` of hub time spent outside any ``step`` (a wait, a sleep)."""
        self.steps[name] = self.steps.get(name, 0.0) + seconds

    def rpc(self, name: str, seconds: float) -> None:
        calls = self.rpcs.setdefault(name, [0, 0.0])
        calls[0] += 1
        calls[1] += seconds
        self.rpc_seconds += seconds

    def line(self, *, token: str, orders: int) -> str:
        wall = time.perf_counter() - self.started
        parts = [f"orders={orders}", f"t0={self.t0:.3f}", f"wall={wall:.3f}"]
        parts += [f"{k}={v:.3f}" for k, v in self.steps.items()]
        parts += [f"rpc:{k}={int(n)}/{s:.3f}" for k, (n, s) in self.rpcs.items()]
        return f"push batch {token[:8]} done: " + " ".join(parts)
