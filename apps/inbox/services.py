"""Inbox writes: report failures (upsert by fingerprint), clear on success, triage actions.

Every operator action goes through here and is written to the audit log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from apps.core import workrow
from apps.core.audit import audit_record
from apps.core.errors import HubError

from .models import Category, Issue, IssueRow, Severity, Status

logger = logging.getLogger(__name__)

_UUID = re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b", re.I)
_HEX = re.compile(r"\b[0-9a-f]{16,}\b", re.I)
_DIGITS = re.compile(r"\d+")

SEVERITY = {
    Category.MAPPING_MISSING: Severity.HIGH,
    Category.VALIDATION: Severity.MEDIUM,
    Category.ODOO_UNAVAILABLE: Severity.CRITICAL,
    Category.CHANNEL_AUTH: Severity.CRITICAL,
    Category.RATE_LIMITED: Severity.LOW,
    Category.DATA_CONFLICT: Severity.HIGH,
    Category.ANOMALY: Severity.MEDIUM,
    Category.UNKNOWN: Severity.HIGH,
}

SUGGESTIONS = {
    Category.MAPPING_MISSING: "Map {subject} to an Odoo record (Mappings), then Retry all",
    Category.VALIDATION: "Correct the data at the source (or edit the payload), then Retry",
    Category.ODOO_UNAVAILABLE: "Check that Odoo is up and reachable, then Retry all",
    Category.CHANNEL_AUTH: "Renew the credentials of channel {channel}, then Retry all",
    Category.RATE_LIMITED: "Wait for the channel's rate limit to recover, then Retry all",
    Category.DATA_CONFLICT: "Compare the record in Odoo and on the channel, fix it, then Retry",
    Category.ANOMALY: "Read the evidence (series, baseline, threshold); it clears itself when the "
    "signal is back to normal",
    Category.UNKNOWN: "Unexpected error: read the error and tell the integration admin",
}


def normalise_reason(text: str) -> str:
    """Strip what varies between occurrences of one cause: uuids, long hex ids, numbers."""
    text = _UUID.sub("<uuid>", text)
    text = _HEX.sub("<hex>", text)
    return _DIGITS.sub("#", text).strip().lower()


def fingerprint_for(*, error_class: str, reason: str, key: str) -> str:
    raw = f"{error_class}\n{normalise_reason(reason)}\n{key}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _category(error: HubError) -> str:
    cat = getattr(error, "category", "unknown")
    return cat if cat in Category.values else Category.UNKNOWN


def suggested_action(
    *, category: str, sku: str, key: str, channel_code: str, error: HubError | None = None
) -> str:
    specific = _mapping_suggestion(error.context if error is not None else {}, channel_code)
    if specific:
        return specific
    if sku:
        subject = f"SKU {sku}"
    elif key:
        subject = key.split("@", 1)[0].replace(":", " ")
    else:
        subject = "the missing value"
    template = SUGGESTIONS.get(Category(category), SUGGESTIONS[Category.UNKNOWN])
    return template.format(subject=subject, channel=channel_code or "?")


def _mapping_suggestion(ctx: dict[str, Any], channel_code: str) -> str:
    """The setting or mapping to add, when the error says what is missing (the order push's
    MappingMissing for shipping and taxes carries ``missing``, ``channel`` and the rest)."""
    missing = ctx.get("missing")
    channel = ctx.get("channel") or channel_code or "?"
    method = ctx.get("shipping_method") or ""
    what = f"the shipping method '{method}' of channel {channel}"
    carrier_map = (
        "Mappings → value maps, kind carrier, Odoo model delivery.carrier, Odoo value = the "
        "carrier id"
    )
    if missing == "shipping_product":
        sku = ctx.get("sku") or "SHIP"
        if ctx.get("setting"):
            return (
                f"Map {what} to a delivery.carrier ({carrier_map}) or create a product with code "
                f"{sku} ({ctx['setting']}), then Retry all"
            )
        return (
            f"Create a product with code {sku} in Odoo, or map {what} to a delivery.carrier "
            f"instead ({carrier_map}), then Retry all"
        )
    if missing == "carrier":
        return (
            f"{what[0].upper()}{what[1:]} is mapped to delivery.carrier "
            f"{ctx.get('carrier_id') or '?'}, which Odoo does not have (or has archived): fix "
            f"the value map ({carrier_map}) or restore the carrier in Odoo, then Retry all"
        )
    if missing == "carrier_module":
        return (
            "Install the Odoo module stock_delivery (carriers), or map "
            f"{what} to a product instead (Mappings → value maps, kind carrier, Odoo value = a "
            "product code), then Retry all"
        )
    if ctx.get("tax") and ctx.get("channel"):
        return (
            f"Map the tax {ctx['tax']} of channel {channel} to an Odoo tax (Mappings → value "
            "maps, kind tax, Odoo model account.tax, Odoo value = the tax id), then Retry all"
        )
    return ""


def _row_label(row: models.Model) -> str:
    return f"{row._meta.verbose_name} #{row.pk}: {row}"[:255]


def issue_report(
    *,
    error: HubError,
    key: str,
    row: models.Model,
    channel_code: str = "",
    order_number: str = "",
    sku: str = "",
    customer: str = "",
    replay_task: str = "",
    replay_kwargs: dict[str, Any] | None = None,
) -> Issue:
    """Upsert the issue for this cause and attach `row` to it. Safe under concurrency: the issue
    row is locked while it is updated, and the unique fingerprint settles a creation race."""
    payload = error.as_dict()
    error_class = payload["class"]
    fp = fingerprint_for(error_class=error_class, reason=error.message, key=key)
    category = _category(error)
    now = timezone.now()
    ct = ContentType.objects.get_for_model(row)
    kwargs = replay_kwargs or {}
    with transaction.atomic():
        issue = Issue.objects.select_for_update().filter(fingerprint=fp).first()
        if issue is None:
            try:
                with transaction.atomic():
                    issue = Issue.objects.create(
                        fingerprint=fp,
                        key=key[:255],
                        title=error.message[:300],
                        error_class=error_class[:200],
                        category=category,
                        severity=SEVERITY.get(Category(category), Severity.MEDIUM),
                        first_seen=now,
                        last_seen=now,
                        suggested_action=suggested_action(
                            category=category,
                            sku=sku,
                            key=key,
                            channel_code=channel_code,
                            error=error,
                        ),
                    )
            except IntegrityError:
                # Another worker created it first; take its row (and its lock).
                issue = Issue.objects.select_for_update().get(fingerprint=fp)
        issue.occurrences += 1
        issue.last_seen = now
        issue.last_error = payload
        issue.channel_code = channel_code or issue.channel_code
        issue.order_number = order_number or issue.order_number
        issue.sku = sku or issue.sku
        issue.customer = customer or issue.customer
        issue.replay_task = replay_task or issue.replay_task
        issue.replay_kwargs = kwargs or issue.replay_kwargs
        if issue.status == Status.RESOLVED:
            # The cause is back: reopen rather than hide it behind an old resolution.
            issue.status = Status.OPEN
            issue.resolved_at = None
        issue.save()
        target, created = IssueRow.objects.get_or_create(
            issue=issue,
            content_type=ct,
            object_id=str(row.pk),
            defaults={
                "label": _row_label(row),
                "replay_task": replay_task,
                "replay_kwargs": kwargs,
                "first_seen": now,
                "last_seen": now,
                "last_error": payload,
            },
        )
        if not created:
            IssueRow.objects.filter(pk=target.pk).update(
                succeeded=False,
                occurrences=models.F("occurrences") + 1,
                last_seen=now,
                last_error=payload,
                replay_task=replay_task or target.replay_task,
                replay_kwargs=kwargs or target.replay_kwargs,
            )
    logger.info("inbox issue %s (%s) row %s #%s", issue.pk, category, ct.model, row.pk)
    return issue  # type: ignore[no-any-return]


def issue_row_succeeded(*, row: models.Model) -> list[Issue]:
    """`row` went through: mark it in every issue; resolve issues whose rows all succeeded."""
    ct = ContentType.objects.get_for_model(row)
    resolved: list[Issue] = []
    issue_ids = list(
        IssueRow.objects.filter(content_type=ct, object_id=str(row.pk), succeeded=False)
        .values_list("issue_id", flat=True)
        .distinct()
    )
    for issue_id in issue_ids:
        with transaction.atomic():
            # The issue lock serialises the "all rows succeeded?" check: two rows finishing at
            # once cannot each see the other as still failing and both leave the issue open.
            issue = Issue.objects.select_for_update().filter(pk=issue_id).first()
            if issue is None:
                continue
            IssueRow.objects.filter(issue=issue, content_type=ct, object_id=str(row.pk)).update(
                succeeded=True
            )
            remaining = issue.rows.filter(succeeded=False).exists()
            if not remaining and issue.status in (Status.OPEN, Status.SNOOZED):
                issue.status = Status.RESOLVED
                issue.resolved_at = timezone.now()
                issue.resolution_note = "Resolved automatically: every affected row succeeded."
                issue.save(update_fields=["status", "resolved_at", "resolution_note"])
                resolved.append(issue)
    return resolved


# --- operator actions -------------------------------------------------------------------------


def _send(task: str, kwargs: dict[str, Any]) -> None:
    try:
        current_app.send_task(
            task,
            kwargs=kwargs,
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.1},
        )
    except (BrokerError, OSError) as exc:
        # The row is pending in the database; the sweeper rings it once the broker is back.
        logger.warning("could not enqueue %s %s: %s", task, kwargs, exc)


def _is_work_row(model: type[models.Model] | None) -> bool:
    return model is not None and issubclass(model, workrow.WorkRow)


def issue_row_retry(*, issue_row: IssueRow, user: Any) -> bool:
    """Retry one affected row through its replay recipe (the same idempotent task)."""
    model = issue_row.content_type.model_class()
    requeued = True
    if model is not None and _is_work_row(model):
        requeued = workrow.requeue(model, pk=issue_row.object_id)  # type: ignore[arg-type]
    if not requeued:
        return False
    task, kwargs = issue_row.replay_task, dict(issue_row.replay_kwargs)
    if task:
        transaction.on_commit(lambda: _send(task, kwargs))
    audit_record(user=user, action="inbox.retry", obj=issue_row, reason=issue_row.label)
    return True


def issue_retry_all(*, issue: Issue, user: Any) -> int:
    """Retry every affected row that has not succeeded yet."""
    count = 0
    with transaction.atomic():
        for issue_row in issue.rows.filter(succeeded=False).select_related("content_type"):
            if issue_row_retry(issue_row=issue_row, user=None):
                count += 1
        audit_record(user=user, action="inbox.retry_all", obj=issue, after={"rows_retried": count})
    return count


def _set(issue: Issue, user: Any, action: str, reason: str = "", **values: Any) -> Issue:
    from apps.core.audit import snapshot

    with transaction.atomic():
        before = {k: snapshot(issue).get(k) for k in values}
        for key, value in values.items():
            setattr(issue, key, value)
        issue.save(update_fields=list(values))
        after = {k: snapshot(issue).get(k) for k in values}
        audit_record(user=user, action=action, obj=issue, before=before, after=after, reason=reason)
    return issue


def issue_ignore(*, issue: Issue, user: Any, reason: str) -> Issue:
    if not reason.strip():
        raise ValidationError("A reason is required to ignore an issue.")
    return _set(issue, user, "inbox.ignore", reason, status=Status.IGNORED, resolution_note=reason)


def issue_assign(*, issue: Issue, user: Any, owner: Any) -> Issue:
    return _set(issue, user, "inbox.assign", owner=owner)


def issue_snooze(*, issue: Issue, user: Any, seconds: int) -> Issue:
    until = timezone.now() + timedelta(seconds=seconds)
    return _set(issue, user, "inbox.snooze", status=Status.SNOOZED, snoozed_until=until)


def issue_resolve(*, issue: Issue, user: Any, note: str = "") -> Issue:
    return _set(
        issue,
        user,
        "inbox.resolve",
        note,
        status=Status.RESOLVED,
        resolved_at=timezone.now(),
        resolution_note=note or "Resolved by hand.",
    )


def issue_row_payload_edit(*, issue_row: IssueRow, user: Any, body: str) -> None:
    """Replace the recorded payload of the affected row, audited, then retry it.

    Needs `inbox.edit_payload`: payloads can carry prices and totals, so an edit is an approval.
    """
    if not user.has_perm("inbox.edit_payload"):
        raise PermissionDenied("inbox.edit_payload is required to edit a payload")
    row = issue_row.row
    if row is None or not hasattr(row, "body"):
        raise ValidationError("This row has no payload to edit.")
    before = bytes(row.body).decode("utf-8", errors="replace")
    try:
        json.loads(before)
    except ValueError:
        pass
    else:
        try:
            json.loads(body)
        except ValueError as exc:
            raise ValidationError(f"The payload must stay valid JSON: {exc}") from exc
    new = body.encode()
    with transaction.atomic():
        values: dict[str, Any] = {"body": new}
        if hasattr(row, "payload_hash"):
            values["payload_hash"] = hashlib.sha256(new).hexdigest()
        type(row)._default_manager.filter(pk=row.pk).update(**values)
        audit_record(
            user=user,
            action="inbox.edit_payload",
            obj=row,
            before={"body": before},
            after={"body": body},
            reason=f"issue {issue_row.issue_id}",
        )
        issue_row_retry(issue_row=issue_row, user=user)


def issues_purge(*, days: int | None = None) -> int:
    """Resolved and ignored issues older than the retention go; open ones always stay."""
    keep_days = days if days is not None else int(settings.HUB_RETENTION_DAYS)
    cutoff = timezone.now() - timedelta(days=keep_days)
    deleted, _ = Issue.objects.filter(
        status__in=(Status.RESOLVED, Status.IGNORED), last_seen__lt=cutoff
    ).delete()
    return int(deleted)
