from typing import Any

from django.core.management.base import BaseCommand

from apps.core.periodic import discover_jobs, sync_schedules


class Command(BaseCommand):
    help = "Create or update the beat rows for the periodic jobs defined in code."

    def handle(self, *args: Any, **options: Any) -> None:
        discover_jobs()
        self.stdout.write(f"schedules: {sync_schedules()}")
