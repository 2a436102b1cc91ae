"""An optional language model that phrases an incident summary (``HUB_ASSIST_URL``, off by
default). The hub POSTs the summary (facts only: counts, channels, order numbers, delays) and
shows the ``text`` it answers as a draft beside the facts. It is never given a tool, never asked
to decide, and nothing it answers is executed: actions stay buttons a person presses."""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.conf import settings

logger = logging.getLogger(__name__)

INSTRUCTION = (
    "Summarise this integration incident for support staff in three sentences: impact, what "
    "is recovering by itself, what needs a person. Do not suggest running anything."
)


def enabled() -> bool:
    return bool(str(getattr(settings, "HUB_ASSIST_URL", "") or ""))


def phrase(summary: dict[str, Any]) -> str:
    """The model's prose for `summary`, or "" (off, unreachable, or no text)."""
    if not enabled():
        return ""
    facts = {k: v for k, v in summary.items() if k != "issue_ids"}
    try:
        resp = requests.post(
            settings.HUB_ASSIST_URL,
            json={"instruction": INSTRUCTION, "summary": facts},
            timeout=float(getattr(settings, "HUB_ASSIST_TIMEOUT_SECONDS", 10.0)),
        )
        resp.raise_for_status()
        text = resp.json().get("text", "")
    except (requests.RequestException, ValueError, AttributeError) as exc:
        logger.warning("assist hook failed: %s", exc)
        return ""
    return str(text)[:2000]
