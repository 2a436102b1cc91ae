"""Re-encrypt every encrypted field with the newest key in FIELD_ENCRYPTION_KEYS.

Rotation: prepend the new key to HUB_FIELD_ENCRYPTION_KEY (comma-separated, newest first), deploy,
run this command, then remove the old key.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.core.crypto import encrypted_fields_rotate


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields under the newest FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args: Any, **opts: Any) -> None:
        for label, count in encrypted_fields_rotate().items():
            self.stdout.write(f"{label}: {count} value(s) re-encrypted")
