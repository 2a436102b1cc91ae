"""Operator endpoints: an end-to-end pipeline check (web → broker → worker → database)."""

from __future__ import annotations

from django.db import transaction
from rest_framework import status
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.context import get_correlation_id
from apps.core.models import JobRun
from apps.core.tasks import ping


@api_view(["POST"])
@authentication_classes([SessionAuthentication, BasicAuthentication])
@permission_classes([IsAdminUser])
def pipeline_check(request: Request) -> Response:
    cid = get_correlation_id() or ""
    transaction.on_commit(ping.delay)
    return Response(
        {"correlation_id": cid, "status_url": f"/ops/pipeline-check/{cid}"},
        status=status.HTTP_202_ACCEPTED,
    )


@api_view(["GET"])
@authentication_classes([SessionAuthentication, BasicAuthentication])
@permission_classes([IsAdminUser])
def pipeline_check_status(request: Request, correlation_id: str) -> Response:
    run = JobRun.objects.filter(name="core.ping", correlation_id=correlation_id).first()
    if run is None:
        return Response({"correlation_id": correlation_id, "status": "pending"})
    return Response(
        {"correlation_id": correlation_id, "status": "done", "finished_at": run.finished_at}
    )
