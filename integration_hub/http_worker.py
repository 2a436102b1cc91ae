"""gunicorn's thread worker, answering its own refusals with the API's JSON error body.

gunicorn refuses some requests before Django sees them: a request line over
`--limit-request-line` (the hub runs with gunicorn's maximum, 8190 bytes), a header over
`--limit-request-field-size`, a malformed line or header. Stock gunicorn answers each with an
HTML page and a 400. The API's contract (docs/api.md) is that every refusal is the JSON error
body, that an over-long URL is a 414 and over-large headers a 431: this worker says so.

Procfile and docker-compose.yml run it:
`--worker-class integration_hub.http_worker.JsonErrorThreadWorker --limit-request-line 8190`.
"""

from __future__ import annotations

import json
from typing import Any

from gunicorn import util
from gunicorn.http import errors
from gunicorn.workers.gthread import ThreadWorker

_ANSWERS: tuple[tuple[type[Exception], int, str, str], ...] = (
    (errors.LimitRequestLine, 414, "URI Too Long", "uri_too_long"),
    (errors.LimitRequestHeaders, 431, "Request Header Fields Too Large", "headers_too_large"),
    (errors.InvalidRequestLine, 400, "Bad Request", "invalid_request"),
    (errors.InvalidRequestMethod, 400, "Bad Request", "invalid_request"),
    (errors.InvalidHTTPVersion, 400, "Bad Request", "invalid_request"),
    (errors.InvalidHeader, 400, "Bad Request", "invalid_request"),
    (errors.InvalidHeaderName, 400, "Bad Request", "invalid_request"),
    (errors.ObsoleteFolding, 400, "Bad Request", "invalid_request"),
)


def error_answer(exc: Exception) -> bytes | None:
    """The whole HTTP answer to a request gunicorn refused, or None for the others."""
    for kind, status, reason, error in _ANSWERS:
        if isinstance(exc, kind):
            body = json.dumps({"error": error, "field": None, "reason": str(exc)}).encode()
            head = (
                f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            return head.encode("latin-1") + body
    return None


class JsonErrorThreadWorker(ThreadWorker):
    """gthread, with `error_answer` for the requests gunicorn itself refuses."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: Exception) -> None:
        answer = error_answer(exc)
        if answer is None:
            super().handle_error(req, client, addr, exc)
            return
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        try:
            util.write_nonblock(client, answer)
        except Exception:  # the client may be gone; nothing to tell it
            self.log.debug("Failed to send error message.")
