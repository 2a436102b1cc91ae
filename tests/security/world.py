"""The authorization matrix's world: two channels and the ten identities (tests/security/
matrix.py), a request (`Call`), and `build`, which makes a row of any model for the admin rows.
The requests of the rows are in calls.py (API and other URLs) and admin_calls.py (the admin).

Every identity's request for a row hits the same objects: those of the *own* channel. The
token of the *other* channel holds every scope; it must get nothing of the own channel.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import models
from django.test import Client
from django.utils import timezone

from apps.inbox.roles import APPROVER, INTEGRATION_ADMIN, SUPPORT
from apps.sales_channels.models import Channel, Scope
from apps.sales_channels.services import api_token_create, api_token_revoke, channel_create

from .matrix import IDENTITIES, TITLES

__all__ = ["IDENTITIES", "TITLES", "Call", "World", "build"]

OWN, OTHER = "sec-own", "sec-other"
ROLES = {"support": SUPPORT, "ia": INTEGRATION_ADMIN, "approver": APPROVER, "staff": None}
ALL_SCOPES = tuple(Scope.values)
# A loopback port nothing listens on: channel and partner calls fail fast, and say so.
DEAD_URL = "http://127.0.0.1:9"


@dataclass
class Call:
    """One request. `data` is form-encoded unless `json`."""

    method: str
    path: str
    data: Any = None
    json: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    markers: tuple[str, ...] = ()  # texts of the own channel another channel must never see

    def send(self, client: Client) -> Any:
        kwargs: dict[str, Any] = {"headers": self.headers}
        if self.json:
            kwargs.update(data=json.dumps(self.data), content_type="application/json")
        elif self.data is not None:
            kwargs["data"] = self.data
        return getattr(client, self.method.lower())(self.path, **kwargs)


class World:
    """The channels, the staff users and the tokens; built once per test."""

    def __init__(self) -> None:
        call_command("hub_roles", verbosity=0)
        self.own, _ = channel_create(code=OWN, kind="b2b_api", warehouse_ids=[1])
        self.other, _ = channel_create(code=OTHER, kind="b2b_api", warehouse_ids=[1])
        self.users: dict[str, Any] = {}
        self.sessions: dict[str, Client] = {}
        from django.contrib.auth import get_user_model

        for identity, role in ROLES.items():
            user = get_user_model().objects.create_user(f"sec-{identity}", is_staff=True)
            if role:
                user.groups.add(Group.objects.get(name=role))
            self.users[identity] = get_user_model().objects.get(pk=user.pk)
            client = Client()
            client.force_login(self.users[identity])
            self.sessions[identity] = client
        past = timezone.now() - dt.timedelta(days=1)
        self.fixed = {
            "other": self._bearer(self.other, ALL_SCOPES),
            "expired": self._bearer(self.own, ALL_SCOPES, expires_at=past),
            "revoked": self._bearer(self.own, ALL_SCOPES, revoke=True),
        }
        self._by_scopes: dict[tuple[str, ...], Client] = {}

    @staticmethod
    def _bearer(
        channel: Channel, scopes: tuple[str, ...], revoke: bool = False, **kw: Any
    ) -> Client:
        token, raw = api_token_create(channel=channel, scopes=list(scopes), **kw)
        if revoke:
            api_token_revoke(prefix=token.prefix)
        # Used "just now" for the rest of the test: a call does not record its use, which is
        # not a change the call is authorized to make (and would hide one that is).
        later = timezone.now() + dt.timedelta(hours=1)
        type(token).objects.filter(pk=token.pk).update(last_used_at=later)
        return Client(headers={"Authorization": f"Bearer {raw}"})

    def _scoped(self, scopes: tuple[str, ...]) -> Client:
        if scopes not in self._by_scopes:
            self._by_scopes[scopes] = self._bearer(self.own, scopes)
        return self._by_scopes[scopes]

    def client(self, identity: str, accepted: tuple[str, ...]) -> Client:
        """The identity's client for an operation that accepts any of `accepted` scopes: the own
        token holds just the first of them, the wrong-scope token every other scope."""
        if identity == "anon":
            return Client()
        if identity in self.sessions:
            return self.sessions[identity]
        if identity in self.fixed:
            return self.fixed[identity]
        if identity == "own":
            return self._scoped(accepted[:1] or ALL_SCOPES)
        wrong = tuple(s for s in ALL_SCOPES if s not in accepted) or ("inventory:read",)
        return self._scoped(wrong)


# --- any model, generically (the admin rows' objects) ---------------------------------------------

_seq = itertools.count(1)


def _value(f: models.Field[Any, Any]) -> Any:
    n = next(_seq)
    if f.choices:
        return f.choices[0][0]
    if isinstance(f, models.ForeignKey):
        return build(f.related_model)  # type: ignore[arg-type]
    if isinstance(f, models.EmailField):
        return f"sec{n}@example.org"
    if isinstance(f, models.URLField):
        return f"{DEAD_URL}/{n}"
    if isinstance(f, (models.CharField, models.TextField)):
        return f"sec{n}"[: f.max_length or 64]
    if isinstance(f, models.BooleanField):
        return False
    if isinstance(f, models.DecimalField):
        return Decimal("1")
    if isinstance(f, (models.IntegerField, models.FloatField)):
        return n
    if isinstance(f, models.DateTimeField):
        return timezone.now()
    if isinstance(f, models.DateField):
        return timezone.now().date()
    if isinstance(f, models.DurationField):
        return dt.timedelta(seconds=1)
    if isinstance(f, models.JSONField):
        return {}
    if isinstance(f, models.BinaryField):
        return b"sec"
    if isinstance(f, models.UUIDField):
        return uuid.uuid4()
    if isinstance(f, models.TimeField):
        return dt.time(1)
    raise TypeError(f"no generic value for {f!r}")


# Models whose rows need more than their required fields.
SPECIAL: dict[str, Callable[[], dict[str, Any]]] = {}


def build(model: type[models.Model], **values: Any) -> Any:
    """A row of `model` with every required field filled (foreign keys built too)."""
    kw: dict[str, Any] = dict(SPECIAL.get(model._meta.label_lower, dict)())
    for f in model._meta.concrete_fields:
        if f.name in kw or f.name in values or f.primary_key:
            continue
        if f.has_default() or f.null or getattr(f, "auto_now", False):
            continue
        if getattr(f, "auto_now_add", False):
            continue
        if f.blank and not isinstance(f, models.ForeignKey):
            continue
        kw[f.name] = _value(f)
    kw.update(values)
    return model._default_manager.create(**kw)


def _periodic() -> dict[str, Any]:
    from django_celery_beat.models import IntervalSchedule

    every = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
    return {"interval": every, "task": "core.ping", "name": f"sec-{next(_seq)}"}


SPECIAL["django_celery_beat.periodictask"] = _periodic
