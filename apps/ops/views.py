"""/ops/: the operations dashboard (staff only), and the fix-in-place action of inbox items."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.inbox.models import Issue

from . import dashboard, fixes, triage

# The dashboard shows channels, incidents and service levels read from the rollups: a role that
# sees them (Support, Approver, Integration admin), not any staff account.
DASHBOARD_PERMISSION = "ops.view_rollup"


@staff_member_required
@permission_required(DASHBOARD_PERMISSION, raise_exception=True)
def dashboard_view(request: HttpRequest) -> HttpResponse:
    days = 7
    try:
        days = max(1, min(31, int(request.GET.get("days", "7"))))
    except ValueError:
        pass
    ctx = {
        **admin.site.each_context(request),
        "title": "Operations",
        **dashboard.context(days=days),
        "incidents": triage.incidents(),
    }
    return TemplateResponse(request, "ops/dashboard.html", ctx)


@staff_member_required
@require_POST
def fix_view(request: HttpRequest, pk: int) -> HttpResponse:
    issue = get_object_or_404(Issue, pk=pk)
    raw = request.POST.get("odoo_id_manual") or request.POST.get("odoo_id") or "0"
    try:
        obj, retried = fixes.fix_and_retry(issue=issue, odoo_id=int(raw), user=request.user)
    except PermissionDenied:
        raise
    except (ValidationError, ValueError) as exc:
        text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text)
    else:
        messages.success(request, f"Mapped ({obj}); retrying {retried} row(s).")
    return HttpResponseRedirect(reverse("admin:inbox_issue_change", args=[issue.pk]))
