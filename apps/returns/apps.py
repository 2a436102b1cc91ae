from __future__ import annotations

from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "apps.returns"
    label = "returns"
    verbose_name = "Returns and refunds"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.inbox.roles import APPROVER, APPROVER_ONLY, ROLE_PERMISSIONS, SUPPORT
        from apps.ledger import services as ledger

        from . import handlers, tasks  # noqa: F401  register the tasks and the periodic jobs
        from .models import ReturnSync

        views = {
            "returns.view_channelreturn",
            "returns.view_returnline",
            "returns.view_channelrefund",
            "returns.view_refundline",
            "returns.view_refundrequest",
            "returns.view_returnsync",
        }
        # Support sees returns and refunds; only an Approver decides a refund request.
        ROLE_PERMISSIONS[SUPPORT] |= views
        ROLE_PERMISSIONS[APPROVER] |= views | {"returns.approve_refund"}
        APPROVER_ONLY.add("returns.approve_refund")
        ledger.register_work_kind(ReturnSync, "returns.sync", kwarg="sync_id")
        handlers.register(ledger.register_event_handler)
