from __future__ import annotations

from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "apps.customers"
    label = "customers"
    verbose_name = "Customers and privacy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.inbox.roles import APPROVER, APPROVER_ONLY, ROLE_PERMISSIONS, SUPPORT
        from apps.ledger import services as ledger

        from . import handlers, tasks  # noqa: F401  register the tasks and the periodic jobs

        views = {
            "customers.view_b2baccount",
            "customers.view_customeraccount",
            "customers.view_privacyrequest",
        }
        ROLE_PERMISSIONS[SUPPORT] |= views
        # A data export holds a person's data: only an Approver downloads it.
        ROLE_PERMISSIONS[APPROVER] |= views | {"customers.download_export"}
        APPROVER_ONLY.add("customers.download_export")
        handlers.register(ledger.register_event_handler)
