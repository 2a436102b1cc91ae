from django.contrib import admin

from .audit import AuditedAdminMixin
from .models import JobRun


@admin.register(JobRun)
class JobRunAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "status", "started_at", "finished_at", "correlation_id")
    list_filter = ("status", "name")
    search_fields = ("name", "correlation_id", "detail")
    date_hierarchy = "started_at"

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


# --- Beat schedules: operators pause and resume jobs here, so every change is audited -----------
from django_celery_beat.admin import PeriodicTaskAdmin  # noqa: E402
from django_celery_beat.models import PeriodicTask  # noqa: E402

from .audit import audit_record, snapshot  # noqa: E402


def _audited_bulk(action_name: str):  # type: ignore[no-untyped-def]
    """Wrap a bulk admin action (a queryset.update) so each row's before/after is recorded."""
    parent = getattr(PeriodicTaskAdmin, action_name)

    def action(self, request, queryset):  # type: ignore[no-untyped-def]
        rows = list(queryset)
        before = {row.pk: snapshot(row) for row in rows}
        result = parent(self, request, queryset)
        for row in PeriodicTask.objects.filter(pk__in=list(before)):
            audit_record(
                user=request.user,
                action=action_name,
                obj=row,
                before=before[row.pk],
                after=snapshot(row),
            )
        return result

    action.short_description = getattr(parent, "short_description", action_name)  # type: ignore[attr-defined]
    action.__name__ = action_name
    return action


class AuditedPeriodicTaskAdmin(AuditedAdminMixin, PeriodicTaskAdmin):  # type: ignore[misc]
    enable_tasks = _audited_bulk("enable_tasks")
    disable_tasks = _audited_bulk("disable_tasks")
    toggle_tasks = _audited_bulk("toggle_tasks")
    run_tasks = _audited_bulk("run_tasks")


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, AuditedPeriodicTaskAdmin)


# --- Django's and Celery beat's own admins: their changes are audited like ours ------------------
# (users and groups are a superuser's, and who was given which role belongs in the audit log).
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django_celery_beat.models import (  # noqa: E402
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    SolarSchedule,
)

for _model in (
    get_user_model(),
    Group,
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    SolarSchedule,
):
    _base = type(admin.site._registry[_model])
    if not issubclass(_base, AuditedAdminMixin):
        admin.site.unregister(_model)
        admin.site.register(
            _model, type(f"Audited{_base.__name__}", (AuditedAdminMixin, _base), {})
        )
