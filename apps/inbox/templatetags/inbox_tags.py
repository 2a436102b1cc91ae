from __future__ import annotations

from typing import Any

from django import template

from apps.inbox.selectors import inbox_summary as _summary

register = template.Library()


@register.simple_tag
def inbox_summary() -> dict[str, Any]:
    return _summary()
