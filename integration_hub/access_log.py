"""gunicorn's access log, redacted like every other log line (apps/core/logging.py).

The access log names each request's path, and the Odoo hint webhooks carry their token in the
path (`/webhooks/odoo/<token>/`): without this, every hint would write the token to the log.
Procfile and docker-compose.yml run `--logger-class integration_hub.access_log.RedactingLogger`.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from apps.core.logging import redact


class RedactingLogger(Logger):  # type: ignore[misc]
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}
