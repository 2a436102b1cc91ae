"""Operator endpoints: an end-to-end pipeline check (web → broker → worker → database).

Staff only (Basic or the admin session); they answer like the API does (docs/api.md): the error
body, a 405 for another method before the credentials are looked at.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.context import get_correlation_id
from apps.core.models import JobRun
from apps.core.tasks import ping
from apps.sales_channels.api.base import ContractMixin, errors

# The session comes first, so a request without credentials is a 403 (no Basic challenge).
STAFF = errors(403, d403="No or wrong staff credentials, or the user is not staff")


class CanCheckPipeline(BasePermission):
    """Staff who see job runs (Support, Integration admin; docs/security.md): the check sends a
    task and reads its job run. A staff account without a role may not."""

    def has_permission(self, request: Request, view: object) -> bool:
        user = request.user
        return bool(user and user.is_staff and user.has_perm("core.view_jobrun"))


class _StaffView(ContractMixin, APIView):
    authentication_classes = [SessionAuthentication, BasicAuthentication]
    permission_classes = [CanCheckPipeline]


class PipelineCheckView(_StaffView):
    @extend_schema(
        summary="Send one task through broker and worker",
        request=None,
        responses={
            202: inline_serializer(
                "PipelineCheckStarted",
                {"correlation_id": serializers.CharField(), "status_url": serializers.CharField()},
            ),
            **STAFF,
        },
    )
    def post(self, request: Request) -> Response:
        cid = get_correlation_id() or ""
        transaction.on_commit(ping.delay)
        return Response(
            {"correlation_id": cid, "status_url": f"/ops/pipeline-check/{cid}"},
            status=status.HTTP_202_ACCEPTED,
        )


class PipelineCheckStatusView(_StaffView):
    @extend_schema(
        summary="Whether the pipeline check's task ran",
        responses={
            200: OpenApiResponse(
                inline_serializer(
                    "PipelineCheckStatus",
                    {
                        "correlation_id": serializers.CharField(),
                        "status": serializers.ChoiceField(choices=["pending", "done"]),
                        "finished_at": serializers.DateTimeField(required=False, allow_null=True),
                    },
                )
            ),
            **STAFF,
        },
    )
    def get(self, request: Request, correlation_id: str, **kwargs: Any) -> Response:
        run = JobRun.objects.filter(name="core.ping", correlation_id=correlation_id).first()
        if run is None:
            return Response({"correlation_id": correlation_id, "status": "pending"})
        return Response(
            {"correlation_id": correlation_id, "status": "done", "finished_at": run.finished_at}
        )


pipeline_check = PipelineCheckView.as_view()
pipeline_check_status = PipelineCheckStatusView.as_view()
