"""Panels that apps above the inbox add to the issue page (fix in place, assistive triage).

The inbox sits below the domain apps, so it cannot import them; an app registers a callable from
its ``AppConfig.ready()`` instead. A panel gets the issue and the request and returns HTML (from
a template, already escaped) or "" when it has nothing to say about this issue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.utils.safestring import SafeString, mark_safe

logger = logging.getLogger(__name__)

Panel = Callable[[Any, Any], str]
_PANELS: list[Panel] = []


def register_panel(panel: Panel) -> None:
    if panel not in _PANELS:
        _PANELS.append(panel)


def render_panels(issue: Any, request: Any) -> list[SafeString]:
    out: list[SafeString] = []
    for panel in _PANELS:
        try:
            html = panel(issue, request)
        except Exception:  # a broken panel must not take the issue page down
            logger.exception("inbox panel %s failed for issue %s", panel, issue.pk)
            continue
        if html:
            out.append(mark_safe(html))  # noqa: S308  rendered by a template, already escaped
    return out
