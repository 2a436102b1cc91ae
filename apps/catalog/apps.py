from __future__ import annotations

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "apps.catalog"
    label = "catalog"
    verbose_name = "Catalog and prices"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  register the tasks and periodic jobs
