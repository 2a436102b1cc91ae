from django.apps import AppConfig
from django.conf import settings


class OdooConfig(AppConfig):
    name = "apps.odoo"
    label = "odoo"
    verbose_name = "Odoo"

    def ready(self) -> None:
        from apps.core.health import register_readiness_check

        from .health import probe_odoo, probe_odoo_setup

        register_readiness_check(
            "odoo", probe_odoo, required=lambda: bool(settings.ODOO_REQUIRED_FOR_READY)
        )
        # The preflight's count of missing setup items (cached); informative, never required.
        register_readiness_check("odoo_setup", probe_odoo_setup, required=lambda: False)
