from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "apps.ledger"
    label = "ledger"
    verbose_name = "Work ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import registry
        from .models import InboundEvent

        # InboundEvent is the first kind of work the sweeper watches; other apps register theirs.
        registry.register_work_kind(
            InboundEvent, "ledger.process_event", kwarg="event_id", doorbell=True
        )
