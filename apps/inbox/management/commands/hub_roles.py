"""Create or update the Support, Integration admin and Approver groups (idempotent)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand

from apps.inbox.roles import (
    ADMIN_FORBIDDEN_APPS,
    APPROVER_ONLY,
    ROLE_PERMISSIONS,
    SUPPORT,
    SUPPORT_FORBIDDEN_APPS,
)


class Command(BaseCommand):
    help = "Create the hub's groups and give them their permissions (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        for name, codes in ROLE_PERMISSIONS.items():
            group, _ = Group.objects.get_or_create(name=name)
            if "*" in codes:
                perms = [
                    p
                    for p in Permission.objects.select_related("content_type")
                    if p.content_type.app_label not in ADMIN_FORBIDDEN_APPS
                    and f"{p.content_type.app_label}.{p.codename}" not in APPROVER_ONLY
                ]
            else:
                perms = []
                for code in sorted(codes):
                    app_label, _, codename = code.partition(".")
                    perm = Permission.objects.filter(
                        content_type__app_label=app_label, codename=codename
                    ).first()
                    if perm is None:
                        self.stdout.write(f"  {name}: {code} does not exist (yet), skipped")
                        continue
                    perms.append(perm)
            if name == SUPPORT:
                perms = [p for p in perms if p.content_type.app_label not in SUPPORT_FORBIDDEN_APPS]
            group.permissions.set(perms)
            self.stdout.write(f"{name}: {len(perms)} permissions")
