from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "apps.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from apps.inbox.panels import register_panel
        from apps.inbox.roles import APPROVER, ROLE_PERMISSIONS, SUPPORT

        from . import tasks  # noqa: F401  register the periodic jobs
        from .panels import fix_panel, triage_panel

        register_panel(fix_panel)
        register_panel(triage_panel)
        seeing = {"ops.view_alert", "ops.view_orderreview", "ops.view_rollup"}
        ROLE_PERMISSIONS[SUPPORT] |= seeing | {"ops.change_orderreview"}
        ROLE_PERMISSIONS[APPROVER] |= seeing | {"ops.change_orderreview"}
