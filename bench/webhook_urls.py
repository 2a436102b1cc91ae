"""Bench-only routes: the production URLs plus two baselines for the webhook ingest.

B0: verify the Shopify signature, answer 202 (the floor: Django + HMAC).
B1: B0 + one plain INSERT into a bare table (the floor for "durable before 2xx").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

SECRET = os.environ.get("BENCH_SHOPIFY_SECRET", "bench-secret").encode()


def _verified(request: HttpRequest) -> bytes | None:
    body = request.read(1024 * 1024 + 1)
    expected = base64.b64encode(hmac.new(SECRET, body, hashlib.sha256).digest()).decode()
    given = request.headers.get("X-Shopify-Hmac-Sha256", "")
    return body if hmac.compare_digest(expected, given) else None


@csrf_exempt
def b0(request: HttpRequest) -> HttpResponse:
    if _verified(request) is None:
        return JsonResponse({"error": "signature_invalid"}, status=401)
    return JsonResponse({"status": "accepted"}, status=202)


@csrf_exempt
def b1(request: HttpRequest) -> HttpResponse:
    body = _verified(request)
    if body is None:
        return JsonResponse({"error": "signature_invalid"}, status=401)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_b1 (dedupe_key, body) VALUES (%s, %s) RETURNING id",
            [request.headers.get("X-Shopify-Webhook-Id", ""), body],
        )
        row = cursor.fetchone()
    return JsonResponse({"event_id": row[0] if row else None}, status=202)


class BareDrfView(APIView):
    """The DRF floor for the order API: parse the JSON body, answer 202. No auth, no database."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        return Response({"status": "accepted", "keys": len(request.data)}, status=202)


urlpatterns = [
    path("bench/b0/", b0),
    path("bench/b1/", b1),
    path("bench/drf/", BareDrfView.as_view()),
    path("", include("integration_hub.urls")),
]
