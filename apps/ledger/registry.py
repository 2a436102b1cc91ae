"""Dispatch table (topic pattern -> handler) and the kinds of work the sweeper watches."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from apps.core.workrow import WorkRow


class EventHandler(Protocol):
    def __call__(self, event: Any, /) -> None: ...


_HANDLERS: dict[str, Callable[[Any], None]] = {}


def register_event_handler(topic_pattern: str, handler: Callable[[Any], None]) -> None:
    """Route events whose topic matches `topic_pattern` (fnmatch) to `handler(event)`.

    The handler may carry a `dry_run(event) -> str` attribute, used by `replay --dry-run`.
    Registering the same pattern again replaces the handler (modules may be imported twice).
    """
    _HANDLERS[topic_pattern] = handler


def handler_for(topic: str) -> Callable[[Any], None] | None:
    """The exact pattern wins; otherwise the longest matching pattern (the most specific)."""
    if topic in _HANDLERS:
        return _HANDLERS[topic]
    matches = [p for p in _HANDLERS if fnmatch.fnmatchcase(topic, p)]
    if not matches:
        return None
    return _HANDLERS[max(matches, key=len)]


def handler_name(handler: Callable[[Any], None]) -> str:
    module = getattr(handler, "__module__", "")
    name = getattr(handler, "__qualname__", None) or type(handler).__name__
    return f"{module}.{name}" if module else str(name)


@dataclass(frozen=True)
class WorkKind:
    """A kind of work the sweeper watches, with its retry policy (None: the settings default).

    base_seconds/cap_seconds shape the backoff (full jitter); waits longer than a few minutes
    are stored as due times and rung by the sweeper, never held as Celery countdowns.
    """

    model: type[WorkRow]
    task_name: str
    kwarg: str
    max_attempts: int | None = None
    base_seconds: float | None = None
    cap_seconds: float | None = None
    # Rows rung by a coalesced doorbell (recorded with rung_at NULL): the sweeper gives a
    # never-rung row the same grace as a rung one before it steps in.
    doorbell: bool = False

    @property
    def label(self) -> str:
        return self.model._meta.label_lower


_KINDS: dict[str, WorkKind] = {}


def register_work_kind(
    model: type[WorkRow],
    task_name: str,
    *,
    kwarg: str = "pk",
    max_attempts: int | None = None,
    base_seconds: float | None = None,
    cap_seconds: float | None = None,
    doorbell: bool = False,
) -> None:
    """Let the sweeper re-ring rows of `model` by sending `task_name(**{kwarg: pk})`."""
    kind = WorkKind(model, task_name, kwarg, max_attempts, base_seconds, cap_seconds, doorbell)
    _KINDS[kind.label] = kind


def work_kinds() -> list[WorkKind]:
    return list(_KINDS.values())


def work_kind_for(model: type[Any]) -> WorkKind | None:
    return _KINDS.get(model._meta.label_lower)
