"""Pacing the push into one Odoo: a bounded number of batches at a time, and a short linger.

Measured on a real Odoo 17 (docs/benchmarks.md, "Order push on a real Odoo"): a batch's time is
almost all ``action_confirm`` and ``create``, a fixed cost per call plus a cost per order, and
Odoo runs one batch no faster when a second one is pushed beside it. Two pushes at once only
split a burst into more, smaller batches, each paying the fixed cost again. So:

- **Push slots** (``HUB_ODOO_MAX_CONCURRENT_PUSHES`` per Odoo database, default a quarter of
  ``ODOO_MAX_CONCURRENCY`` and at least 1): a push holds a slot, shared by every worker process
  through the cache (``ConcurrencyCap``), from before its claim until Odoo has answered its
  last call; the bookkeeping afterwards runs without it. A push that finds every slot taken
  waits (up to ``HUB_ORDER_PUSH_SLOT_WAIT_SECONDS``) and claims only once it holds one, so
  everything that arrived meanwhile goes into its batch, and it starts the moment Odoo is free.
  The slot's lease is the Odoo call timeout plus a margin and is renewed before every call, so a
  killed worker blocks the others for at most that long. 0 turns the slots off.
- **Batch size** follows the measured cost: after each batch of at least
  ``MEASURED_BATCH`` orders the seconds per order of its longest Odoo call (``create`` or
  ``action_confirm``) are kept per Odoo database (an average with the previous value), and a
  push claims at most ``HUB_ORDER_PUSH_BATCH_SECONDS`` (default a third of the Odoo read
  timeout) worth of orders, between ``MIN_BATCH`` and ``HUB_ORDER_PUSH_BATCH``. A quiet Odoo
  never reaches that bound; a slow one gets smaller batches instead of calls that time out
  while Odoo still works on them.
- **Linger**: a push that got its slot at once (Odoo was idle) and finds fewer than
  ``HUB_ORDER_PUSH_LINGER_BATCH`` orders due waits while more are still arriving, up to
  ``HUB_ORDER_PUSH_LINGER_SECONDS``: the first batch of a burst is then a real batch instead of
  one order. It ends early when two looks in a row (100 ms) find nothing new: a lone order
  waits 100 ms.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from apps.odoo.protection import ConcurrencyCap, SlotLease, connection_id

from .batch import PushClock
from .conf import setting
from .models import ChannelOrder, OrderState

LINGER_LOOK_SECONDS = 0.05
LINGER_QUIET_LOOKS = 2  # no burst under way: two looks in a row (100 ms) found nothing new
MEASURED_BATCH = 10  # smaller batches say more about the fixed cost than about one order's
MIN_BATCH = 5
COST_TTL_SECONDS = 3600


def _pause(seconds: float) -> None:
    """The linger's wait between two looks (one seam, so tests can make orders arrive)."""
    time.sleep(seconds)


def max_concurrent_pushes() -> int:
    """Pushes one Odoo database takes at once (0: no limit)."""
    default = max(1, int(getattr(settings, "ODOO_MAX_CONCURRENCY", 4)) // 4)
    return int(setting("HUB_ODOO_MAX_CONCURRENT_PUSHES", default))


def _cost_key(client: Any) -> str:
    key, _ = connection_id(client.config.url, client.config.db)
    return f"odoo:{key}:push:seconds_per_order"


def batch_limit(client: Any) -> int:
    """Orders one push claims: HUB_ORDER_PUSH_BATCH, fewer when Odoo's measured cost per order
    would make a call of the batch longer than HUB_ORDER_PUSH_BATCH_SECONDS."""
    most = int(setting("HUB_ORDER_PUSH_BATCH", 100))
    budget = float(setting("HUB_ORDER_PUSH_BATCH_SECONDS", client.config.timeout_read / 3))
    per_order = cache.get(_cost_key(client))
    if budget <= 0 or not isinstance(per_order, (int, float)) or per_order <= 0:
        return most
    return max(min(MIN_BATCH, most), min(most, int(budget / per_order)))


def record_cost(client: Any, clock: PushClock, orders: int) -> None:
    """Keep the seconds per order of the batch's longest Odoo call (see the module doc)."""
    calls = [clock.rpcs.get(f"sale.order.{m}") for m in ("create", "action_confirm")]
    if orders < MEASURED_BATCH or any(c and c[0] != 1 for c in calls):
        return  # a small batch, or one split by a bad order: not one call for all of them
    longest = max((c[1] for c in calls if c), default=0.0)
    if longest <= 0:
        return
    now = longest / orders
    before = cache.get(_cost_key(client))
    if isinstance(before, (int, float)) and before > 0:
        now = (now + before) / 2
    cache.set(_cost_key(client), now, timeout=COST_TTL_SECONDS)


class PushSlot:
    """A push's hold on one of its Odoo's push slots (``hold`` waits, ``release`` frees)."""

    def __init__(self, client: Any, clock: PushClock) -> None:
        key, _ = connection_id(client.config.url, client.config.db)
        cfg = client.config
        self.cap = ConcurrencyCap(
            key=f"{key}:push",
            slots=max_concurrent_pushes(),
            lease_seconds=cfg.timeout_connect + cfg.timeout_read + 10.0,
            wait_seconds=float(setting("HUB_ORDER_PUSH_SLOT_WAIT_SECONDS", 30.0)),
            max_poll_seconds=0.05,
        )
        self.clock = clock
        self.lease: SlotLease | None = None
        self.waited = 0.0
        self.contended = False  # another push held the slots when this one asked

    def hold(self) -> bool:
        """Hold a slot (at once if already held); False when none freed in time."""
        if self.lease is not None or self.cap.slots <= 0:
            return True
        began = time.perf_counter()
        self.lease = self.cap.acquire(wait_seconds=0)
        if self.lease is None:
            self.contended = True
            self.lease = self.cap.acquire()
        waited = time.perf_counter() - began
        self.waited += waited
        self.clock.add("slot_wait", waited)
        return self.lease is not None

    def extend(self) -> None:
        if self.lease is not None:
            self.lease.extend()

    def release(self) -> None:
        if self.lease is not None:
            self.lease.release()
            self.lease = None


def due_rows(now: Any = None) -> Any:
    """READY orders whose due time has come."""
    now = now or timezone.now()
    return ChannelOrder.objects.filter(
        Q(state=OrderState.READY) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    )


def linger(*, limit: int, clock: PushClock) -> None:
    """Wait while orders are still arriving and the batch is small (see the module doc)."""
    cap = float(setting("HUB_ORDER_PUSH_LINGER_SECONDS", 0.3))
    enough = min(limit, int(setting("HUB_ORDER_PUSH_LINGER_BATCH", 10)))
    if cap <= 0:
        return
    began = time.perf_counter()
    seen, quiet = due_rows().count(), 0
    while 0 < seen < enough and quiet < LINGER_QUIET_LOOKS and time.perf_counter() - began < cap:
        _pause(LINGER_LOOK_SECONDS)
        now = due_rows().count()
        quiet = quiet + 1 if now <= seen else 0  # looks in a row that found nothing new
        seen = max(seen, now)
    clock.add("linger", time.perf_counter() - began)
