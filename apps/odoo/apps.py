from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage


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
        from django.core import checks

        checks.register(check_transport_settings)


def check_transport_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """ODOO_TRANSPORT / ODOO_API_KEY problems, at startup (``manage.py check`` and every command
    that runs the system checks)."""
    from django.core import checks

    from .json2 import settings_problems

    return [
        checks.Error(text, id="odoo.E001")
        for text in settings_problems(
            str(getattr(settings, "ODOO_TRANSPORT", "auto")), str(settings.ODOO_API_KEY or "")
        )
    ]
