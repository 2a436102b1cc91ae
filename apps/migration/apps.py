from __future__ import annotations

from django.apps import AppConfig


class MigrationConfig(AppConfig):
    name = "apps.migration"
    label = "migration"
    verbose_name = "Migration from a legacy connector: dual run, cutover, adoption"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.inbox.roles import ROLE_PERMISSIONS, SUPPORT

        from . import tasks  # noqa: F401  register the tasks the channel command calls

        # Support reads the dual-run report; the moves themselves are integration admins'.
        ROLE_PERMISSIONS[SUPPORT] |= {
            "migration.view_diffrun",
            "migration.view_shadowdiff",
            "migration.view_cutover",
            "migration.view_adoption",
        }
