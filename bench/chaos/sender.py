"""The channel's side: every delivery of the plan, signed like Shopify signs, sent on time by a
pool of threads, and retried like a platform retries (any answer but 2xx, or no answer, is sent
again later with a growing delay) until the hub accepts it.

The Shopify stand-in holds the channel's truth (what the hub's polling backstop and fulfilments
read): at the moment an event happens, the order is written there first, with the same
``updated_at`` the webhook carries.
"""

from __future__ import annotations

import heapq
import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sandbox.channels.sender import compact_json, sign_shopify

from .plan import Delivery, Plan, payload, version_ts

GIVE_UP_4XX = 5  # a refusal (4xx) is a defect, not an outage: stop after a few tries


@dataclass(order=True)
class _Item:
    due: float
    seq: int
    kind: str = field(compare=False)  # "webhook" or "truth"
    delivery: Delivery = field(compare=False)
    attempts: int = field(default=0, compare=False)


@dataclass
class Outcome:
    accepted: bool = False
    attempts: int = 0
    statuses: list[str] = field(default_factory=list)
    accepted_at: float = 0.0  # monotonic


class Sender:
    def __init__(
        self,
        plan: Plan,
        *,
        t0: int,
        start: float,
        web_port: int,
        shop_url: str,
        channel: str,
        secret: str,
        shop_domain: str,
        run_id: str,
        threads: int = 16,
    ) -> None:
        self.plan, self.t0, self.start = plan, t0, start
        self.web_port, self.shop_url = web_port, shop_url
        self.path = f"/webhooks/shopify/{channel}/"
        self.secret, self.shop_domain, self.run_id = secret, shop_domain, run_id
        self.threads = threads
        self.outcomes: dict[Delivery, Outcome] = {}
        self.truth_failures: Counter[str] = Counter()
        self.status_counts: Counter[str] = Counter()
        self.max_retry_wait = 0.0
        self._heap: list[_Item] = []
        self._lock = threading.Lock()
        self._seq = 0
        self._pending = 0
        self.deadline = float("inf")
        for d in plan.deliveries:
            if d.copy == 0:  # the channel's state changes once per event, before its deliveries
                happens = plan.orders[d.order].event_times()[d.version]
                self._push(_Item(happens, 0, "truth", d))
            self._push(_Item(d.due, 0, "webhook", d))

    def _push(self, item: _Item) -> None:
        with self._lock:
            self._seq += 1
            item.seq = self._seq
            if item.attempts == 0:
                self._pending += 1
            heapq.heappush(self._heap, item)

    def _take(self) -> _Item | None:
        while True:
            with self._lock:
                if self._pending == 0:
                    return None
                now = time.monotonic() - self.start
                if self._heap and self._heap[0].due <= now:
                    return heapq.heappop(self._heap)
                wait = (self._heap[0].due - now) if self._heap else 0.05
            time.sleep(min(max(wait, 0.001), 0.05))

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1

    # -- one attempt ------------------------------------------------------------------------------
    def _webhook(self, conn: http.client.HTTPConnection, d: Delivery) -> str:
        order = self.plan.orders[d.order]
        body = compact_json(payload(order, d.version, self.t0))
        headers = {"Content-Type": "application/json"}
        headers.update(
            sign_shopify(
                body,
                self.secret,
                topic=d.topic,
                shop_domain=self.shop_domain,
                webhook_id=d.webhook_id(self.run_id),
                event_id=d.event_id(self.run_id),
            )
        )
        conn.request("POST", self.path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return str(resp.status)

    def _truth(self, d: Delivery) -> str:
        order = self.plan.orders[d.order]
        data: dict[str, Any] = payload(order, d.version, self.t0)
        data["updated_at_ts"] = version_ts(order, d.version, self.t0)
        host = self.shop_url.split("//", 1)[1]
        conn = http.client.HTTPConnection(host, timeout=30)
        try:
            conn.request(
                "POST",
                "/__standin__/orders",
                body=json.dumps(data),
                headers={"Content-Type": "application/json"},
            )
            resp = conn.getresponse()
            resp.read()
            return str(resp.status)
        finally:
            conn.close()

    def _loop(self) -> None:
        while (item := self._take()) is not None:
            item.attempts += 1
            # A connection per delivery, as a platform's sender does (no stale keep-alive).
            conn = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=30)
            try:
                if item.kind == "truth":
                    status = self._truth(item.delivery)
                else:
                    status = self._webhook(conn, item.delivery)
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
            finally:
                conn.close()
            ok = status in ("200", "202")
            self._record(item, status, ok)
            now = time.monotonic() - self.start
            refused = status.startswith("4") and item.attempts >= GIVE_UP_4XX
            if ok or refused or now > self.deadline:
                self._done()
                continue
            wait = min(30.0, 0.5 * 2 ** (item.attempts - 1))
            self.max_retry_wait = max(self.max_retry_wait, wait)
            item.due = now + wait
            self._push(item)

    def _record(self, item: _Item, status: str, ok: bool) -> None:
        with self._lock:
            if item.kind == "truth":
                if not ok:
                    self.truth_failures[status] += 1
                return
            self.status_counts[status] += 1
            out = self.outcomes.setdefault(item.delivery, Outcome())
            out.attempts += 1
            out.statuses.append(status)
            if ok and not out.accepted:
                out.accepted, out.accepted_at = True, time.monotonic()

    # -- the run ----------------------------------------------------------------------------------
    def run(self, give_up_after: float) -> None:
        """Send everything; retries stop ``give_up_after`` seconds after the last planned send."""
        self.deadline = self.plan.send_seconds + give_up_after
        pool = [
            threading.Thread(target=self._loop, name=f"sender-{i}", daemon=True)
            for i in range(self.threads)
        ]
        for t in pool:
            t.start()
        for t in pool:
            t.join()

    def accepted_versions(self) -> dict[int, set[int]]:
        out: dict[int, set[int]] = {}
        for d, o in self.outcomes.items():
            if o.accepted:
                out.setdefault(d.order, set()).add(d.version)
        return out

    def summary(self) -> dict[str, Any]:
        outs = list(self.outcomes.values())
        return {
            "deliveries": len(self.plan.deliveries),
            "accepted": sum(o.accepted for o in outs),
            "never_accepted": sum(not o.accepted for o in outs),
            "http_attempts": sum(o.attempts for o in outs),
            "retried": sum(o.attempts > 1 for o in outs),
            "statuses": dict(sorted(self.status_counts.items())),
            "max_retry_wait_s": self.max_retry_wait,
            "truth_failures": dict(self.truth_failures),
        }
