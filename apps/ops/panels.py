"""The panels the inbox item page shows (registered in apps.py): fix in place and triage."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from apps.inbox.models import Issue
from apps.odoo.gateway import get_gateway

from . import assist, fixes, triage


def fix_panel(issue: Issue, request: Any) -> str:
    need = fixes.need_for(issue)
    if need is None or issue.status == "resolved":
        return ""
    allowed = fixes.can_fix(request.user, need)
    if allowed:
        fixes.candidates(need, get_gateway())
    return render_to_string(
        "ops/fix_panel.html", {"issue": issue, "need": need, "allowed": allowed}, request=request
    )


def triage_panel(issue: Issue, request: Any) -> str:
    similar = triage.similar_resolved(issue)
    incident = triage.incident_for(issue)
    prose = assist.phrase(incident) if incident else ""
    if not similar["items"] and incident is None:
        return ""
    return render_to_string(
        "ops/triage_panel.html",
        {"issue": issue, "similar": similar, "incident": incident, "prose": prose},
        request=request,
    )
