from __future__ import annotations

from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "apps.events"
    label = "events"
    verbose_name = "Business events and partner webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Roles (hub_roles): support staff see events, endpoints, messages and every attempt,
        # and may resend a message (change_webhookmessage); managing endpoints (URLs, secrets,
        # enabling, recovering) stays with the Integration admin.
        from apps.inbox.roles import ROLE_PERMISSIONS, SUPPORT

        ROLE_PERMISSIONS[SUPPORT] |= {
            "events.view_businessevent",
            "events.view_webhookendpoint",
            "events.view_webhookmessage",
            "events.change_webhookmessage",
            "events.view_deliveryattempt",
        }
