"""Delivering messages to one endpoint: claim, POST signed, record every attempt, schedule.

One `events.deliver(endpoint_id)` run owns an endpoint at a time (a cache lock), so each
endpoint has its own concurrency (`max_in_flight` threads) and a slow or dead endpoint only
ever occupies its own run: it never delays another endpoint's messages. The run loops over
due messages for a time budget, then rings itself again if more are due.

Retries follow Svix's schedule, stored as due times in the database (the sweeper rings them):
immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; after the last one the message is
failed. 2xx is success. 410 Gone disables the endpoint. 429 blocks the endpoint until its
Retry-After. Other statuses, timeouts, redirects and connection errors are failures.

Circuit breaker: after `HUB_WEBHOOK_BREAKER_THRESHOLD` consecutive failures the endpoint is
blocked (no attempts) for a cool-down that doubles up to 5 min; then one message probes it.
Messages waiting behind an open breaker keep their place and spend no attempt, including the
rest of the batch in which the breaker tripped (or a 429 or 410 came back).

A worker killed mid-delivery leaves its messages `running` with a lease; the lease expires,
the sweeper rings the endpoint, and the message is sent again with the same `webhook-id`:
a receiver that dedupes by it sees one message.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.claims import claim_pk, new_token
from apps.core.workrow import FINISHED, WorkState, claim_due, claimable_q

from . import metrics, outbound, signing
from .catalog import envelope
from .models import DeliveryAttempt, EndpointSecret, WebhookEndpoint, WebhookMessage

logger = logging.getLogger(__name__)

DELIVER_TASK = "events.deliver"
SVIX_SCHEDULE = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
MAX_BREAKER_SECONDS = 300.0
MAX_RETRY_AFTER_SECONDS = 3600.0


def schedule() -> tuple[float, ...]:
    """Delay before each attempt (the first is 0). Tests shorten it through settings."""
    return tuple(float(s) for s in getattr(settings, "HUB_WEBHOOK_RETRY_SCHEDULE", SVIX_SCHEDULE))


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def lock_key(endpoint_id: int) -> str:
    return f"events:deliver:{endpoint_id}"


@dataclass
class Outcome:
    message: WebhookMessage
    number: int
    started_at: dt.datetime
    latency_ms: int
    status: int | None = None
    excerpt: str = ""
    error_class: str = ""
    retry_after: float | None = None
    # Not sent: the run stopped sending (breaker tripped, throttled, gone, out of time) before
    # this message's turn. It goes back to waiting without spending an attempt.
    skipped: str = ""

    @property
    def success(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def body_for(message: WebhookMessage) -> bytes:
    ev = message.event
    doc = envelope(
        uid=ev.uid,
        name=ev.type,
        version=ev.version,
        timestamp=ev.occurred_at.isoformat().replace("+00:00", "Z"),
        channel=ev.channel.code if ev.channel_id and ev.channel else None,
        entity=ev.entity_key,
        data=ev.payload,
    )
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - timezone.now()).total_seconds())


def endpoint_secrets(endpoint: WebhookEndpoint) -> list[str]:
    now = timezone.now()
    return [
        s.secret for s in EndpointSecret.objects.filter(endpoint=endpoint) if s.is_valid_at(now)
    ]


class _Sender:
    """HTTP only (no database): one session per thread, shared by the run's attempts.

    A batch is sent by several threads at once, so the breaker is also applied inside it: once
    the batch's failures reach the threshold (or the receiver answers 429 or 410, or the run's
    deadline passes), the messages whose turn has not come are not sent (`Outcome.skipped`).
    Without this a dead receiver would cost every claimed message an attempt (a batch is up to
    `max(8 x threads, 16)` messages) before the breaker is looked at.
    """

    def __init__(
        self, endpoint: WebhookEndpoint, secrets_: list[str], *, deadline: float | None = None
    ) -> None:
        self.endpoint = endpoint
        self.secrets = secrets_
        self.deadline = deadline
        self._local = threading.local()
        self._lock = threading.Lock()
        self._threshold = int(_setting("HUB_WEBHOOK_BREAKER_THRESHOLD", 5))
        self._failures = 0
        self._stopped = ""
        self.batch_start()

    def batch_start(self) -> None:
        """Before each batch: the breaker state is the endpoint's, as recorded."""
        with self._lock:
            self._failures = int(self.endpoint.consecutive_failures or 0)
            self._stopped = ""

    def _skip_reason(self) -> str:
        with self._lock:
            if self._stopped:
                return self._stopped
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return "deadline"
        return ""

    def _note(self, out: Outcome) -> None:
        with self._lock:
            if out.success:
                self._failures = 0
                return
            self._failures += 1
            if out.status == 410:
                self._stopped = "gone"
            elif out.status == 429:
                self._stopped = "throttled"
            elif self._failures >= self._threshold:
                self._stopped = "breaker"

    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = outbound.session()
        return s

    def send(self, message: WebhookMessage, body: bytes) -> Outcome:
        skip = self._skip_reason()
        if skip:
            return Outcome(
                message=message,
                number=message.attempts,
                started_at=timezone.now(),
                latency_ms=0,
                skipped=skip,
            )
        out = self._send(message, body)
        self._note(out)
        return out

    def _send(self, message: WebhookMessage, body: bytes) -> Outcome:
        started = timezone.now()
        t0 = time.monotonic()
        out = Outcome(
            message=message, number=message.attempts + 1, started_at=started, latency_ms=0
        )
        heads = signing.headers(
            secrets_=self.secrets, msg_id=message.event.uid, timestamp=int(time.time()), body=body
        )
        heads["webhook-attempt"] = str(out.number)
        try:
            problem = outbound.url_problem(self.endpoint.url, resolve=False)
            if problem:
                raise outbound.RefusedAddress(problem)
            resp_status, excerpt, retry_after = _post(
                self._session(), self.endpoint.url, body, heads
            )
            out.status, out.excerpt, out.retry_after = resp_status, excerpt, retry_after
            if not out.success:
                out.error_class = "Redirect" if 300 <= resp_status < 400 else f"HTTP{resp_status}"
        except outbound.RefusedAddress as exc:
            out.error_class, out.excerpt = "RefusedAddress", str(exc)[:2048]
        except requests.Timeout as exc:
            out.error_class, out.excerpt = "Timeout", str(exc)[:2048]
        except requests.ConnectionError as exc:
            out.error_class, out.excerpt = "ConnectionError", str(exc)[:2048]
        except requests.RequestException as exc:
            out.error_class, out.excerpt = type(exc).__name__, str(exc)[:2048]
        out.latency_ms = int((time.monotonic() - t0) * 1000)
        metrics.DELIVERY_SECONDS.observe(out.latency_ms / 1000)
        return out


def _post(
    s: requests.Session, url: str, body: bytes, heads: dict[str, str]
) -> tuple[int, str, float | None]:
    status, excerpt, retry_after = outbound.post_with_headers(s, url, body=body, headers=heads)
    return status, excerpt, retry_after_seconds(retry_after)


# --- recording ------------------------------------------------------------------------------------


def _record(endpoint: WebhookEndpoint, outcomes: list[Outcome], trigger: str) -> None:
    """One transaction for a batch's bookkeeping: attempts, messages, the endpoint's health."""
    now = timezone.now()
    sched = schedule()
    skipped = [o for o in outcomes if o.skipped]
    outcomes = [o for o in outcomes if not o.skipped]
    with transaction.atomic():
        for o in skipped:
            # Never sent: back to waiting, in its place (same due time), no attempt spent.
            WebhookMessage.objects.filter(
                pk=o.message.pk, lease_token=o.message.lease_token, state=WorkState.RUNNING
            ).update(
                state=WorkState.PENDING,
                lease_until=None,
                lease_token="",
                rung_at=None,
                updated_at=now,
            )
        if not outcomes:
            return
        DeliveryAttempt.objects.bulk_create(
            DeliveryAttempt(
                message_id=o.message.pk,
                endpoint_id=endpoint.pk,
                number=o.number,
                trigger=trigger,
                started_at=o.started_at,
                latency_ms=o.latency_ms,
                status_code=o.status,
                success=o.success,
                error_class=o.error_class[:100],
                response_excerpt=outbound.excerpt(o.excerpt),
            )
            for o in outcomes
        )
        # Successes in one UPDATE per (attempt number, status, lease): a claimed batch shares
        # its lease token, so a batch of 32 costs one statement instead of 32.
        groups: dict[tuple[int, int | None, str], list[Outcome]] = {}
        for o in outcomes:
            if o.success:
                groups.setdefault((o.number, o.status, o.message.lease_token), []).append(o)
        for (number, status, token), group in groups.items():
            WebhookMessage.objects.filter(
                pk__in=[o.message.pk for o in group], lease_token=token, state=WorkState.RUNNING
            ).update(
                state=WorkState.DONE,
                attempts=number,
                last_status=status,
                delivered_at=now,
                lease_until=None,
                next_attempt_at=None,
                last_error=None,
                updated_at=now,
            )
            for o in group:
                metrics.DELIVERIES.labels("success").inc()
                if o.number == 1 or o.message.delivered_at is None:
                    metrics.COMMIT_TO_DELIVERY_SECONDS.observe(
                        max(0.0, (now - o.message.event.recorded_at).total_seconds())
                    )
        for o in outcomes:
            if o.success:
                continue
            m = o.message
            owned = WebhookMessage.objects.filter(
                pk=m.pk, lease_token=m.lease_token, state=WorkState.RUNNING
            )
            error = {"class": o.error_class, "status": o.status, "message": o.excerpt[:500]}
            if trigger != DeliveryAttempt.Trigger.SCHEDULED:
                # An operator's one-off send (resend, test): the outcome is shown to them.
                owned.update(
                    state=WorkState.FAILED,
                    attempts=o.number,
                    last_status=o.status,
                    lease_until=None,
                    next_attempt_at=None,
                    last_error={**error, "manual": True},
                    updated_at=now,
                )
            elif o.number >= len(sched) or o.status == 410:
                changed = owned.update(
                    state=WorkState.FAILED,
                    attempts=o.number,
                    last_status=o.status,
                    lease_until=None,
                    next_attempt_at=None,
                    last_error={**error, "exhausted": o.status != 410},
                    updated_at=now,
                )
                if changed and o.status != 410:
                    from .services import message_exhausted_report

                    m.endpoint = endpoint
                    m.last_error = error
                    message_exhausted_report(message=m)
            else:
                delay = sched[o.number]
                if o.status == 429 and o.retry_after is not None:
                    delay = max(delay, min(o.retry_after, MAX_RETRY_AFTER_SECONDS))
                owned.update(
                    state=WorkState.PENDING,
                    attempts=o.number,
                    last_status=o.status,
                    lease_until=None,
                    lease_token="",
                    rung_at=None,
                    next_attempt_at=now + dt.timedelta(seconds=delay),
                    last_error=error,
                    updated_at=now,
                )
            metrics.DELIVERIES.labels(_outcome_label(o)).inc()
        _endpoint_health(endpoint, outcomes, now)


def _outcome_label(o: Outcome) -> str:
    if o.status == 410:
        return "gone"
    if o.status == 429:
        return "throttled"
    if o.status is not None:
        return "http_error"
    return {"Timeout": "timeout", "RefusedAddress": "refused_address"}.get(o.error_class, "connect")


def _endpoint_health(endpoint: WebhookEndpoint, outcomes: list[Outcome], now: dt.datetime) -> None:
    ep = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    fields: dict[str, Any] = {}
    last_fail = next((o for o in reversed(outcomes) if not o.success), None)
    if any(o.success for o in outcomes):
        fields.update(
            consecutive_failures=0, failing_since=None, blocked_until=None, last_success_at=now
        )
        if last_fail is None:
            fields["last_error"] = ""
    fails_after_success = 0
    for o in outcomes:
        fails_after_success = 0 if o.success else fails_after_success + 1
    if last_fail is not None:
        if "consecutive_failures" not in fields:
            fails_after_success += ep.consecutive_failures
        fields["consecutive_failures"] = fails_after_success
        fields["last_error"] = (
            f"{last_fail.error_class}: {last_fail.excerpt}"[:500]
            if last_fail.error_class
            else f"HTTP {last_fail.status}"
        )
        if fails_after_success and ep.failing_since is None:
            fields["failing_since"] = now
        threshold = int(_setting("HUB_WEBHOOK_BREAKER_THRESHOLD", 5))
        if fails_after_success >= threshold:
            cool = _setting("HUB_WEBHOOK_BREAKER_SECONDS", 5.0) * 2 ** min(
                10, fails_after_success - threshold
            )
            fields["blocked_until"] = now + dt.timedelta(seconds=min(cool, MAX_BREAKER_SECONDS))
    throttled = [o for o in outcomes if o.status == 429]
    if throttled:
        wait = min(throttled[-1].retry_after or 5.0, MAX_RETRY_AFTER_SECONDS)
        until = now + dt.timedelta(seconds=wait)
        if fields.get("blocked_until") is None or fields["blocked_until"] < until:
            fields["blocked_until"] = until
    for key, value in fields.items():
        setattr(ep, key, value)
    if fields:
        ep.save(update_fields=[*fields, "updated_at"])
    gone = next((o for o in outcomes if o.status == 410), None)
    if gone is not None and ep.state != WebhookEndpoint.State.DISABLED:
        from .services import endpoint_disable

        endpoint_disable(endpoint=ep, reason="the receiver answered 410 Gone", actor="delivery")
        metrics.ENDPOINTS_DISABLED.labels("gone").inc()
    endpoint.__dict__.update({k: getattr(ep, k) for k in fields})
    endpoint.state = ep.state


# --- the run --------------------------------------------------------------------------------------


def deliver_endpoint(*, endpoint_id: int, budget_seconds: float | None = None) -> dict[str, int]:
    """Deliver what is due for one endpoint, for up to `budget_seconds`. Single run per endpoint."""
    token = uuid.uuid4().hex
    budget = (
        budget_seconds if budget_seconds is not None else _setting("HUB_WEBHOOK_RUN_SECONDS", 20)
    )
    timeout = outbound.timeout_seconds()
    # No send starts after the budget, and each ends within the timeout: the lease (of the run's
    # lock and of its claimed messages) outlasts the run however slow the receiver is.
    lease = int(max(timeout * 2 + 60, budget + timeout * 2 + 10))
    key = lock_key(endpoint_id)
    if not cache.add(key, token, timeout=lease):
        return {"busy": 1}
    done = failed = 0
    started = time.monotonic()
    try:
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
        if endpoint is None:
            return {"missing": 1}
        sender = _Sender(endpoint, endpoint_secrets(endpoint), deadline=started + budget)
        pool_size = 1 if endpoint.max_in_flight <= 1 else int(endpoint.max_in_flight)
        with ThreadPoolExecutor(max_workers=pool_size) as pool:
            while time.monotonic() - started < budget:
                if endpoint.state != WebhookEndpoint.State.ACTIVE:
                    break
                now = timezone.now()
                if endpoint.blocked_until and endpoint.blocked_until > now:
                    break
                probing = endpoint.consecutive_failures >= int(
                    _setting("HUB_WEBHOOK_BREAKER_THRESHOLD", 5)
                )
                limit = 1 if probing else max(pool_size * 8, 16)
                rows = claim_due(
                    WebhookMessage,
                    limit=limit,
                    lease_seconds=lease,
                    where=Q(endpoint_id=endpoint.pk),
                    select_related=("event", "event__channel"),
                )
                if not rows:
                    break
                cache.touch(key, lease)
                bodies = [body_for(m) for m in rows]
                sender.batch_start()
                if pool_size == 1:
                    outcomes = [sender.send(m, b) for m, b in zip(rows, bodies, strict=True)]
                else:
                    outcomes = list(pool.map(sender.send, rows, bodies))
                _record(endpoint, outcomes, DeliveryAttempt.Trigger.SCHEDULED)
                sent = [o for o in outcomes if not o.skipped]
                done += sum(o.success for o in sent)
                failed += sum(not o.success for o in sent)
                if not sent:
                    break  # out of time before the first send: the ring below continues
    finally:
        if cache.get(key) == token:
            cache.delete(key)
    if due_now(endpoint_id):
        deliver_ring(endpoint_id, countdown=_ring_delay(endpoint_id))
    return {"delivered": done, "failed": failed}


def due_now(endpoint_id: int) -> bool:
    """A message a run could claim now: due, and not waiting behind an older one of its entity
    (counting those would ring an ordered endpoint's run again and again while it waits)."""
    return WebhookMessage.objects.filter(
        claimable_q(WebhookMessage, timezone.now()), endpoint_id=endpoint_id
    ).exists()


def _ring_delay(endpoint_id: int) -> float | None:
    """Ring again at once, or after an open breaker / throttle, or not at all (the sweeper)."""
    ep = WebhookEndpoint.objects.filter(pk=endpoint_id).values("state", "blocked_until").first()
    if not ep or ep["state"] != WebhookEndpoint.State.ACTIVE:
        return -1.0
    if ep["blocked_until"] is None:
        return None
    wait = (ep["blocked_until"] - timezone.now()).total_seconds()
    return max(0.0, wait) if wait <= float(getattr(settings, "HUB_MAX_COUNTDOWN", 300)) else -1.0


def deliver_ring(endpoint_id: int, *, countdown: float | None = None) -> None:
    """Ring one endpoint's delivery run. A negative countdown means: leave it to the sweeper."""
    if countdown is not None and countdown < 0:
        return
    from celery import current_app
    from kombu.exceptions import OperationalError as BrokerError

    try:
        current_app.send_task(
            DELIVER_TASK, kwargs={"endpoint_id": endpoint_id}, countdown=countdown or None
        )
    except (BrokerError, OSError) as exc:
        logger.warning("could not ring delivery for endpoint %s (%s)", endpoint_id, exc)


def _claim_now(message_id: int) -> WebhookMessage | None:
    """Take one message for an operator's send, whatever its state or turn (not one that a
    run is sending right now): a resend or a test is an explicit, one-off attempt."""
    now = timezone.now()
    token = new_token()
    lease = int(outbound.timeout_seconds() * 2 + 60)
    cond = Q(state__in=(WorkState.PENDING, WorkState.HELD, *FINISHED)) | Q(
        state=WorkState.RUNNING, lease_until__lt=now
    )
    values = {
        "state": WorkState.RUNNING,
        "lease_token": token,
        "lease_until": now + dt.timedelta(seconds=lease),
        "updated_at": now,
    }
    if not claim_pk(WebhookMessage, pk=message_id, condition=cond, values=values):
        return None
    return (
        WebhookMessage.objects.select_related("event", "event__channel", "endpoint")
        .filter(pk=message_id, lease_token=token)
        .first()
    )


def send_one(*, message: WebhookMessage, trigger: str) -> Outcome:
    """Deliver one message now, outside the schedule (a resend or a test event), recorded.

    One attempt: success marks it delivered; a failure marks it failed (no retry schedule and
    no inbox item: the operator who asked sees the outcome)."""
    row = _claim_now(message.pk)
    if row is None:
        raise ValueError(f"message {message.pk} is being delivered right now")
    endpoint = row.endpoint
    outcome = _Sender(endpoint, endpoint_secrets(endpoint)).send(row, body_for(row))
    _record(endpoint, [outcome], trigger)
    return outcome
