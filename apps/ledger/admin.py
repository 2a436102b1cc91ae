"""InboundEvent admin: search the recorded deliveries and replay them through their handler."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.utils.html import format_html

from apps.core.audit import AuditedAdminMixin, audit_record

from . import services
from .models import InboundEvent


@admin.register(InboundEvent)
class InboundEventAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "channel_code",
        "topic",
        "external_ref",
        "state",
        "attempts",
        "received_at",
        "next_attempt_at",
    )
    # A date filter rather than date_hierarchy: the hierarchy aggregates over the whole table.
    list_filter = ("state", "channel_code", "topic", "received_at")
    search_fields = ("dedupe_key", "external_ref", "entity_key", "correlation_id")
    actions = ("action_replay", "action_replay_dry_run")
    exclude = ("body",)
    readonly_fields = (
        "channel_code",
        "topic",
        "dedupe_key",
        "external_ref",
        "entity_key",
        "state",
        "attempts",
        "received_at",
        "next_attempt_at",
        "lease_until",
        "payload_hash",
        "correlation_id",
        "note",
        "payload",
        "headers",
        "last_error",
        "history",
        "effects",
    )

    @admin.display(description="payload")
    def payload(self, obj):
        text = obj.body_text()
        try:
            text = json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False)
        except ValueError:
            pass
        return format_html("<pre>{}</pre>", text)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Viewing is enough to replay; editing a payload happens in the inbox, with its own
        # permission and audit.
        return False

    def has_delete_permission(self, request, obj=None):
        # The ledger is the record of what the hub accepted: retention purges it, nobody by hand.
        return False

    @admin.action(description="Replay through the handler", permissions=["view"])
    def action_replay(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        lines = services.events_replay(event_ids=ids)
        audit_record(
            user=request.user,
            action="ledger.replay",
            obj=None,
            after={"events": ids, "requeued": [ln.event_id for ln in lines if ln.requeued]},
        )
        n = sum(1 for ln in lines if ln.requeued)
        self.message_user(request, f"Replaying {n} of {len(ids)} event(s).", messages.SUCCESS)

    @admin.action(description="Replay (dry run)", permissions=["view"])
    def action_replay_dry_run(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        for line in services.events_replay(event_ids=ids, dry_run=True):
            self.message_user(request, f"#{line.event_id}: {line.text}", messages.INFO)
