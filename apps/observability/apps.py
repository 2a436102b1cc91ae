from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "apps.observability"
    label = "observability"
    verbose_name = "Observability"

    def ready(self) -> None:
        from apps.core.health import register_readiness_check

        from . import signals  # noqa: F401  (task metrics from Celery signals)
        from .probes import probe_broker, probe_database

        register_readiness_check("database", probe_database)
        register_readiness_check("broker", probe_broker)
