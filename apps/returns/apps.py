from __future__ import annotations

from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "apps.returns"
    label = "returns"
    verbose_name = "Returns and refunds"
    default_auto_field = "django.db.models.BigAutoField"
