"""Endpoints and messages: create, change, rotate, disable, recover, resend, test, purge.

Every change an operator or partner makes is audited (apps.core.audit). Secrets are returned
once, at creation or rotation, and stored encrypted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from apps.core.audit import audit_record, snapshot
from apps.core.errors import ConfigurationError, PermanentError
from apps.core.workrow import WorkState
from apps.sales_channels.models import Channel

from . import metrics, outbound, signing
from .catalog import event_types
from .delivery import DELIVER_TASK, Outcome, deliver_ring, send_one
from .fanout import INTERNAL_TYPES, matches, message_for
from .models import (
    BusinessEvent,
    DeliveryAttempt,
    EndpointSecret,
    WebhookEndpoint,
    WebhookMessage,
)

logger = logging.getLogger(__name__)

DEFAULT_SECRET_OVERLAP = dt.timedelta(hours=24)
AUTO_DISABLE_AFTER = dt.timedelta(days=5)


class EndpointInvalid(PermanentError):
    """A field of an endpoint is not acceptable (the message names the field)."""


def _check_types(types: Sequence[str]) -> list[str]:
    known = set(event_types())
    wanted = sorted({str(t) for t in types})
    if not wanted:
        raise EndpointInvalid("at least one event type is required", field="event_types")
    internal = [t for t in wanted if t in INTERNAL_TYPES]
    if internal:
        # hub.ping is only ever sent by "send test event", to that one endpoint: a subscription
        # to it would never receive anything.
        raise EndpointInvalid(
            f"{', '.join(internal)} cannot be subscribed to (test events reach every endpoint)",
            field="event_types",
        )
    unknown = [t for t in wanted if t != "*" and t not in known]
    if unknown:
        raise EndpointInvalid(
            f"unknown event type(s) {', '.join(unknown)}; see /api/v1/events/types/",
            field="event_types",
        )
    return wanted


def _check_url(url: str) -> str:
    problem = outbound.url_problem(url)
    if problem:
        raise EndpointInvalid(f"url {problem}", field="url")
    return url


def endpoint_create(
    *,
    url: str,
    event_types: Sequence[str],
    channel: Channel | None = None,
    ordered: bool = False,
    description: str = "",
    max_in_flight: int = 4,
    actor: Any = None,
    secret: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its first secret (returned once)."""
    plaintext = secret or signing.secret_generate()
    with transaction.atomic():
        ep = WebhookEndpoint.objects.create(
            url=_check_url(url),
            event_types=_check_types(event_types),
            channel=channel,
            ordered=ordered,
            description=description[:200],
            max_in_flight=max(1, min(int(max_in_flight), 16)),
            created_by=str(actor or "")[:200],
        )
        EndpointSecret.objects.create(endpoint=ep, secret=plaintext)
        audit_record(user=actor, action="events.endpoint_create", obj=ep, after=snapshot(ep))
    return ep, plaintext


UPDATABLE = ("url", "event_types", "ordered", "description", "max_in_flight", "state")


def endpoint_update(*, endpoint: WebhookEndpoint, actor: Any, **changes: Any) -> WebhookEndpoint:
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise EndpointInvalid(f"cannot change {', '.join(sorted(unknown))}")
    if "url" in changes:
        _check_url(changes["url"])
    if "event_types" in changes:
        changes["event_types"] = _check_types(changes["event_types"])
    if "max_in_flight" in changes:
        changes["max_in_flight"] = max(1, min(int(changes["max_in_flight"]), 16))
    state = changes.pop("state", None)
    with transaction.atomic():
        ep = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        before = snapshot(ep)
        for key, value in changes.items():
            setattr(ep, key, value)
        if changes:
            ep.save()
        audit_record(
            user=actor, action="events.endpoint_update", obj=ep, before=before, after=snapshot(ep)
        )
    if state == ep.state:
        # Not a transition: re-sending the current state must not reset the breaker and the
        # failure clock (the auto-disable), nor fail an already disabled endpoint's messages again.
        state = None
    if state == WebhookEndpoint.State.DISABLED:
        endpoint_disable(endpoint=ep, reason="disabled by its owner", actor=actor)
    elif state == WebhookEndpoint.State.PAUSED:
        endpoint_pause(endpoint=ep, actor=actor)
    elif state == WebhookEndpoint.State.ACTIVE:
        endpoint_enable(endpoint=ep, actor=actor)
    ep.refresh_from_db()
    return ep


def endpoint_pause(*, endpoint: WebhookEndpoint, actor: Any) -> None:
    """Messages keep being created and wait; nothing is sent until it is active again."""
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            state=WebhookEndpoint.State.PAUSED, updated_at=timezone.now()
        )
        audit_record(user=actor, action="events.endpoint_pause", obj=endpoint)


def endpoint_enable(*, endpoint: WebhookEndpoint, actor: Any) -> None:
    """Active again, with a fresh breaker. What it missed while disabled is not resent by
    itself: `endpoint_recover` (admin "recover since", `manage.py events recover`) does that."""
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            state=WebhookEndpoint.State.ACTIVE,
            disabled_reason="",
            disabled_at=None,
            failing_since=None,
            consecutive_failures=0,
            blocked_until=None,
            updated_at=timezone.now(),
        )
        audit_record(user=actor, action="events.endpoint_enable", obj=endpoint)
        pk = endpoint.pk
        transaction.on_commit(lambda: deliver_ring(pk))


def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str, actor: Any) -> int:
    """Disable: no new messages; waiting ones are failed (recoverable). Returns how many."""
    now = timezone.now()
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            state=WebhookEndpoint.State.DISABLED,
            disabled_reason=reason[:300],
            disabled_at=now,
            updated_at=now,
        )
        failed = WebhookMessage.objects.filter(
            endpoint=endpoint, state__in=(WorkState.PENDING, WorkState.HELD)
        ).update(
            state=WorkState.FAILED,
            next_attempt_at=None,
            last_error={"class": "EndpointDisabled", "message": reason[:300]},
            updated_at=now,
        )
        audit_record(
            user=actor,
            action="events.endpoint_disable",
            obj=endpoint,
            after={"reason": reason, "messages_failed": failed},
        )
    endpoint.state = WebhookEndpoint.State.DISABLED
    logger.warning(
        "webhook endpoint %s disabled: %s (%d waiting messages failed)",
        endpoint.uid,
        reason,
        failed,
    )
    return failed


def endpoint_delete(*, endpoint: WebhookEndpoint, actor: Any) -> None:
    with transaction.atomic():
        audit_record(
            user=actor, action="events.endpoint_delete", obj=endpoint, before=snapshot(endpoint)
        )
        endpoint.delete()


def endpoint_secret_rotate(
    *, endpoint: WebhookEndpoint, actor: Any, overlap: dt.timedelta = DEFAULT_SECRET_OVERLAP
) -> str:
    """A new secret; the old ones keep signing (both signatures are sent) for `overlap`."""
    now = timezone.now()
    ends = now + overlap
    plaintext = signing.secret_generate()
    with transaction.atomic():
        EndpointSecret.objects.filter(endpoint=endpoint, valid_until__isnull=True).update(
            valid_until=ends
        )
        EndpointSecret.objects.filter(endpoint=endpoint, valid_until__gt=ends).update(
            valid_until=ends
        )
        EndpointSecret.objects.create(endpoint=endpoint, secret=plaintext, valid_from=now)
        audit_record(
            user=actor,
            action="events.secret_rotate",
            obj=endpoint,
            after={"old_secrets_valid_until": ends.isoformat()},
        )
    return plaintext


# --- replay -------------------------------------------------------------------------------------


def message_resend(*, message: WebhookMessage, actor: Any) -> Outcome:
    """Send one message again now, whatever its state or turn: one attempt, recorded."""
    with transaction.atomic():
        audit_record(user=actor, action="events.message_resend", obj=message)
    return send_one(message=message, trigger=DeliveryAttempt.Trigger.MANUAL)


@dataclass(frozen=True)
class Recovery:
    requeued: int  # failed messages since T, sent again
    created: int  # events since T the endpoint never got a message for (e.g. while disabled)


def endpoint_recover(
    *, endpoint: WebhookEndpoint, since: dt.datetime, actor: Any, dry_run: bool = False
) -> Recovery:
    """Send again every message since `since` that did not succeed, and the events it missed."""
    if endpoint.state == WebhookEndpoint.State.DISABLED and not dry_run:
        raise ConfigurationError(f"endpoint {endpoint.uid} is disabled: enable it first")
    failed = WebhookMessage.objects.filter(
        endpoint=endpoint, state=WorkState.FAILED, event__recorded_at__gte=since
    )
    has_message = WebhookMessage.objects.filter(endpoint=endpoint, event=OuterRef("pk"))
    missed_qs = (
        # Never events from before the endpoint existed: they were not meant for it.
        BusinessEvent.objects.filter(
            recorded_at__gte=max(since, endpoint.created_at), fanned_out_at__isnull=False
        )
        .exclude(type__in=("hub.ping",))
        .filter(~Exists(has_message))
        .order_by("seq")
    )
    if endpoint.channel_id is not None:
        missed_qs = missed_qs.filter(channel_id=endpoint.channel_id)
    missed = [e for e in missed_qs.iterator() if matches(endpoint, e)]
    if dry_run:
        return Recovery(requeued=failed.count(), created=len(missed))
    now = timezone.now()
    with transaction.atomic():
        requeued = failed.update(
            state=WorkState.PENDING,
            attempts=0,
            next_attempt_at=now,
            lease_token="",
            lease_until=None,
            rung_at=None,
            updated_at=now,
        )
        WebhookMessage.objects.bulk_create(
            [message_for(endpoint, e) for e in missed], ignore_conflicts=True
        )
        audit_record(
            user=actor,
            action="events.endpoint_recover",
            obj=endpoint,
            after={"since": since.isoformat(), "requeued": requeued, "created": len(missed)},
        )
        pk = endpoint.pk
        transaction.on_commit(lambda: deliver_ring(pk))
    return Recovery(requeued=requeued, created=len(missed))


def endpoint_send_test(*, endpoint: WebhookEndpoint, actor: Any) -> Outcome:
    """A `hub.ping` event to this endpoint only, sent now (not shown in the pull API)."""
    from .publish import event_publish

    with transaction.atomic():
        event = event_publish(
            type="hub.ping",
            entity_key=f"endpoint:{endpoint.uid}",
            payload={
                "endpoint": endpoint.uid,
                "url": endpoint.url,
                "sent_by": str(actor or "hub")[:200],
            },
            ring=False,
        )
        assert event is not None
        BusinessEvent.objects.filter(pk=event.pk).update(fanned_out_at=timezone.now())
        # Held: no delivery run takes it; send_one claims it below.
        message = WebhookMessage.objects.create(
            endpoint=endpoint, event=event, state=WorkState.HELD
        )
        audit_record(user=actor, action="events.endpoint_test", obj=endpoint)
    return send_one(message=message, trigger=DeliveryAttempt.Trigger.TEST)


# --- housekeeping -------------------------------------------------------------------------------


def endpoints_auto_disable(*, now: dt.datetime | None = None) -> list[str]:
    """Disable endpoints whose every attempt failed for 5 days; tell the owner (inbox)."""
    from apps.inbox.services import issue_report

    now = now or timezone.now()
    after = dt.timedelta(
        seconds=float(
            getattr(
                settings, "HUB_WEBHOOK_DISABLE_AFTER_SECONDS", AUTO_DISABLE_AFTER.total_seconds()
            )
        )
    )
    out = []
    for ep in WebhookEndpoint.objects.filter(
        state=WebhookEndpoint.State.ACTIVE, failing_since__lte=now - after
    ).select_related("channel"):
        reason = (
            f"every delivery failed since {ep.failing_since:%Y-%m-%d %H:%M} UTC "
            f"(last error: {ep.last_error or 'none'})"
        )
        endpoint_disable(endpoint=ep, reason=reason, actor="events.auto_disable")
        metrics.ENDPOINTS_DISABLED.labels("failing").inc()
        issue_report(
            error=ConfigurationError(
                f"webhook endpoint {ep.uid} ({ep.url}) was disabled: {reason}. Fix the "
                f"receiver, enable the endpoint, then recover what it missed",
                endpoint=ep.uid,
            ),
            key=f"webhook_endpoint:{ep.uid}",
            row=ep,
            channel_code=ep.channel.code if ep.channel else "",
        )
        out.append(ep.uid)
    return out


def message_exhausted_report(*, message: WebhookMessage) -> None:
    """A message that spent its schedule: one inbox item per endpoint, each message a row."""
    from apps.inbox.services import issue_report

    ep = message.endpoint
    event = message.event
    data = event.payload or {}
    order = data.get("order") or {}
    issue_report(
        error=PermanentError(
            f"webhook to {ep.url} failed after every retry "
            f"({(message.last_error or {}).get('class', 'error')})",
            endpoint=ep.uid,
        ),
        key=f"webhook_exhausted:{ep.uid}",
        row=message,
        channel_code=event.channel.code if event.channel else "",
        order_number=str(order.get("number") or ""),
        sku=str(data.get("sku") or ""),
        replay_task=DELIVER_TASK,
        replay_kwargs={"endpoint_id": ep.pk},
    )


def events_purge(*, days: int | None = None) -> int:
    """Retention: events (with their messages and attempts) older than HUB_EVENTS_RETENTION_DAYS."""
    days = days if days is not None else int(getattr(settings, "HUB_EVENTS_RETENTION_DAYS", 30))
    cutoff = timezone.now() - dt.timedelta(days=days)
    total = 0
    while True:
        ids = list(
            BusinessEvent.objects.filter(recorded_at__lt=cutoff)
            .exclude(messages__state__in=(WorkState.PENDING, WorkState.RUNNING))
            .values_list("pk", flat=True)[:1000]
        )
        if not ids:
            return total
        with transaction.atomic():
            DeliveryAttempt.objects.filter(message__event_id__in=ids).delete()
            WebhookMessage.objects.filter(event_id__in=ids).delete()
            total += (
                BusinessEvent.objects.filter(pk__in=ids)
                .delete()[1]
                .get(BusinessEvent._meta.label, 0)
            )


def endpoint_stats(endpoint: WebhookEndpoint, *, hours: int = 24) -> dict[str, Any]:
    """Success rate over the last `hours` and the backlog, for the admin and the API."""
    since = timezone.now() - dt.timedelta(hours=hours)
    attempts = DeliveryAttempt.objects.filter(endpoint=endpoint, started_at__gte=since)
    total = attempts.count()
    ok = attempts.filter(success=True).count()
    return {
        "attempts": total,
        "success_rate": round(ok / total, 4) if total else None,
        "backlog": WebhookMessage.objects.filter(
            Q(endpoint=endpoint) & Q(state__in=(WorkState.PENDING, WorkState.RUNNING))
        ).count(),
    }
