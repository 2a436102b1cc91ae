"""Log filter and JSON formatter: context is attached automatically, payloads never are, and
what slips into a line anyway is redacted (docs/security.md).

Redaction is the last line of defence, applied to every record the hub's handler writes (its
message, its extras, its traceback) and to gunicorn's access log (integration_hub/access_log.py):
the token in an Odoo hint URL (`/webhooks/odoo/<token>/`, which Django logs on any 4xx and
gunicorn on every request), API tokens and other credentials by their format, `Authorization`
values, and e-mail addresses (a customer's is personal data; the domain is kept).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from .context import get_correlation_id, get_log_context

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

MASK = "***"
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(/webhooks/odoo/)[^/\s'\"?#]+"), rf"\g<1>{MASK}"),
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\g<1>\g<2>{MASK}"),
    (re.compile(r"\b(hub_[0-9a-f]{12}_)[A-Za-z0-9_-]+"), rf"\g<1>{MASK}"),
    (
        re.compile(
            r"\b(shp(?:at|ca|pa|ss)_|whsec_|[sr]k_(?:live|test)_|c[ks]_)[A-Za-z0-9+/_=-]{8,}"
        ),
        rf"\g<1>{MASK}",
    ),
    (
        re.compile(r"\b[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b"),
        rf"{MASK}@\g<1>",
    ),
)


def redact(text: str) -> str:
    """`text` without URL tokens, credentials or e-mail addresses."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def _redact_record(record: logging.LogRecord) -> None:
    message = record.getMessage()
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, ()
    for key, value in list(vars(record).items()):
        if key in _STANDARD or key.startswith("_"):
            continue
        if not isinstance(value, (int, float, bool, type(None))):
            text = str(value)
            if redact(text) != text:
                setattr(record, key, redact(text))
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)


class ContextFilter(logging.Filter):
    """Adds correlation_id and the business log context to every record, and redacts it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "correlation_id", None):
            record.correlation_id = get_correlation_id() or "-"
        for key, value in get_log_context().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        _redact_record(record)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = (
                    value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
                )
        if record.exc_info:
            out["exc"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(out, default=str)
