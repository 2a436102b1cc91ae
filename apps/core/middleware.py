"""Correlation id: taken from X-Request-ID or generated, echoed back, carried into tasks."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .context import correlation

_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class CorrelationIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        # An untrusted header goes into every log line: accept only a safe, bounded token.
        with correlation(incoming if _VALID.match(incoming) else None) as cid:
            request.correlation_id = cid  # type: ignore[attr-defined]
            response = self.get_response(request)
            response["X-Request-ID"] = cid
            return response
