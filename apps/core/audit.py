"""Audit log of every admin action that changes data: who, when, what, before and after.

`AuditedAdminMixin` replaces the admin's LogEntry hooks with snapshots of the object before and
after the change; custom admin actions call `audit_record` explicitly.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.forms.models import model_to_dict

SENSITIVE_MARKERS = ("secret", "password", "token", "credential", "api_key")


def _is_sensitive(field: Any, name: str) -> bool:
    """Masked by name, or by field class: an encrypted field is a secret whatever it is called
    (WooCommerce's `consumer_key` carries no marker in its name)."""
    if any(marker in name.lower() for marker in SENSITIVE_MARKERS):
        return True
    if field is None:
        return False
    # By class name, not isinstance: audit must not depend on the crypto module being loaded.
    encrypted = any(cls.__name__.startswith("Encrypted") for cls in type(field).__mro__)
    return encrypted or bool(getattr(field, "sensitive", False))


def snapshot(obj: models.Model | None) -> dict[str, Any]:
    """A JSON-safe copy of the object's fields; secrets are masked, bytes decoded."""
    if obj is None or obj.pk is None:
        return {}
    data = model_to_dict(obj)
    for field in obj._meta.concrete_fields:
        if field.name not in data:
            data[field.name] = getattr(obj, field.attname, None)
    fields = {f.name: f for f in obj._meta.concrete_fields}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if _is_sensitive(fields.get(key), key):
            out[key] = "***"
        elif isinstance(value, (bytes, memoryview)):
            out[key] = bytes(value).decode("utf-8", errors="replace")
        else:
            out[key] = value
    result: dict[str, Any] = json.loads(json.dumps(out, cls=DjangoJSONEncoder, default=str))
    return result


def audit_record(
    *,
    user: Any,
    action: str,
    obj: models.Model | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> Any:
    from .models import AuditEntry

    ct = ContentType.objects.get_for_model(obj) if obj is not None else None
    return AuditEntry.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        action=action[:64],
        content_type=ct,
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        before=before or {},
        after=after or {},
        reason=reason[:2000],
    )


class AuditedAdminMixin:
    """Mix into a ModelAdmin: every add, change and delete lands in the audit log.

    The object's state before a change is read from the database in `save_model` / the delete
    hooks, before the admin writes, and compared with what was saved.
    """

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        if change and obj.pk is not None:
            original = type(obj)._default_manager.filter(pk=obj.pk).first()
            request._audit_before = snapshot(original)
        super().save_model(request, obj, form, change)  # type: ignore[misc]

    def log_addition(self, request: Any, obj: Any, message: Any) -> Any:
        audit_record(user=request.user, action="add", obj=obj, after=snapshot(obj))
        return super().log_addition(request, obj, message)  # type: ignore[misc]

    def log_change(self, request: Any, obj: Any, message: Any) -> Any:
        before = getattr(request, "_audit_before", {})
        after = snapshot(obj)
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        audit_record(
            user=request.user,
            action="change",
            obj=obj,
            before={k: before.get(k) for k in changed},
            after=changed,
        )
        return super().log_change(request, obj, message)  # type: ignore[misc]

    def delete_model(self, request: Any, obj: Any) -> None:
        audit_record(user=request.user, action="delete", obj=obj, before=snapshot(obj))
        super().delete_model(request, obj)  # type: ignore[misc]

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        for obj in queryset:
            audit_record(user=request.user, action="delete", obj=obj, before=snapshot(obj))
        super().delete_queryset(request, queryset)  # type: ignore[misc]


class ReadOnlyAuditedAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """A ModelAdmin to look, not to touch: rows its app's flows write (states, cursors, sync
    rows). Nobody adds, changes or deletes them by hand; custom actions are audited."""

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
