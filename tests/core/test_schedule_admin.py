"""An operator's pause in the admin is audited and survives the schedule sync at beat start."""

from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask

from apps.core.models import AuditEntry
from apps.core.periodic import discover_jobs, sync_schedules

pytestmark = pytest.mark.django_db


def test_pause_in_admin_is_audited_and_survives_a_resync(admin_client) -> None:
    # given the code-defined schedules
    discover_jobs()
    sync_schedules()
    row = PeriodicTask.objects.get(name="core.heartbeat")
    assert row.enabled
    # when an operator disables the job through the admin's bulk action
    response = admin_client.post(
        "/admin/django_celery_beat/periodictask/",
        {"action": "disable_tasks", "_selected_action": [row.pk]},
    )
    assert response.status_code == 302
    # then the change is in the audit log with before and after
    entry = AuditEntry.objects.get(action="disable_tasks", object_id=str(row.pk))
    assert entry.before["enabled"] is True
    assert entry.after["enabled"] is False
    # and a restart's sync keeps the pause
    sync_schedules()
    assert PeriodicTask.objects.get(pk=row.pk).enabled is False
