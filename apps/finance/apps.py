from __future__ import annotations

from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "apps.finance"
    label = "finance"
    verbose_name = "Finance: invoices, payments and payouts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.inbox.roles import APPROVER, APPROVER_ONLY, ROLE_PERMISSIONS, SUPPORT
        from apps.ledger import services as ledger

        from . import handlers, tasks  # noqa: F401  register the tasks and the periodic jobs
        from .models import FinanceSync

        views = {
            "finance.view_orderinvoice",
            "finance.view_channelpayment",
            "finance.view_payout",
            "finance.view_payoutline",
            "finance.view_financesync",
        }
        # Support sees invoices, payments and payouts; only an Approver releases a payout
        # with a difference. Payment accounts (a Stripe secret) stay with integration admins.
        ROLE_PERMISSIONS[SUPPORT] |= views
        ROLE_PERMISSIONS[APPROVER] |= views | {"finance.release_payout"}
        APPROVER_ONLY.add("finance.release_payout")
        ledger.register_work_kind(FinanceSync, "finance.sync", kwarg="sync_id")
        handlers.register(ledger.register_event_handler)
