"""Where the Odoo tests point: the project's sandbox, or a real Odoo.

- ``odoo``: contract tests. Parametrized: ``[sandbox]`` always runs over HTTP against a sandbox
  process; ``[live]`` carries the ``live_odoo`` mark and runs against the real Odoo given by
  ODOO_URL, ODOO_DB, ODOO_USER and ODOO_PASSWORD (the root conftest skips it when they are unset).
  Such tests create their own records with unique references and assume no demo ids.
- ``odoo_sb``: tests that need the sandbox itself (fault injection, call counts).

``client`` and ``gateway`` follow whichever of the two the test asked for.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from pytest_django.fixtures import SettingsWrapper

from apps.odoo.client import OdooClient, OdooConfig
from apps.odoo.gateway import OdooGateway

LIVE_VARS = ("ODOO_URL", "ODOO_DB", "ODOO_USER", "ODOO_PASSWORD")


@dataclass
class OdooTarget:
    url: str
    db: str
    user: str
    password: str
    sandbox: Any | None  # the odoo_sandbox fixture object, None against a real Odoo

    @property
    def live(self) -> bool:
        return self.sandbox is None

    def calls(self) -> dict[str, int]:
        """Per "model.method" call counts so far (sandbox only)."""
        assert self.sandbox is not None, "call counts need the sandbox"
        return dict(self.sandbox.stats()["calls"])


def live_odoo_configured() -> bool:
    return all(os.environ.get(v) for v in LIVE_VARS)


def _point_settings(target: OdooTarget, settings: SettingsWrapper) -> OdooTarget:
    settings.ODOO_URL = target.url
    settings.ODOO_DB = target.db
    settings.ODOO_USER = target.user
    settings.ODOO_PASSWORD = target.password
    settings.ODOO_TIMEOUT_READ = 30.0
    return target


def _sandbox_target(request: pytest.FixtureRequest) -> OdooTarget:
    sb = request.getfixturevalue("odoo_sandbox")
    return OdooTarget(sb.url.rstrip("/"), sb.db, sb.user, sb.password, sb)


@pytest.fixture(params=["sandbox", pytest.param("live", marks=pytest.mark.live_odoo)])
def odoo(request: pytest.FixtureRequest, settings: SettingsWrapper) -> OdooTarget:
    """The Odoo under test (sandbox, or a real one for the live_odoo parameter)."""
    if request.param == "live":
        if not live_odoo_configured():
            pytest.skip("live_odoo: set ODOO_URL, ODOO_DB, ODOO_USER, ODOO_PASSWORD")
        target = OdooTarget(
            url=os.environ["ODOO_URL"].rstrip("/"),
            db=os.environ["ODOO_DB"],
            user=os.environ["ODOO_USER"],
            password=os.environ["ODOO_PASSWORD"],
            sandbox=None,
        )
    else:
        target = _sandbox_target(request)
    return _point_settings(target, settings)


@pytest.fixture
def odoo_sb(request: pytest.FixtureRequest, settings: SettingsWrapper) -> OdooTarget:
    """The sandbox only: for fault injection and call counting."""
    return _point_settings(_sandbox_target(request), settings)


@pytest.fixture
def client(request: pytest.FixtureRequest, db: None, settings: SettingsWrapper) -> OdooClient:
    """A fresh client (no cached uid/version) on the test's target.

    ``db``: the breaker and the cap live in the Django cache, which may be the database.
    """
    request.getfixturevalue("odoo_sb" if "odoo_sb" in request.fixturenames else "odoo")
    return OdooClient(OdooConfig.from_settings())


@pytest.fixture
def gateway(client: OdooClient) -> OdooGateway:
    return OdooGateway(client)


@pytest.fixture
def unique() -> str:
    """A short unique tag for records a test creates (live Odoo keeps them)."""
    return uuid.uuid4().hex[:10]


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Calls made between two sandbox stats snapshots, zero entries dropped."""
    keys = set(before) | set(after)
    return {
        k: after.get(k, 0) - before.get(k, 0) for k in keys if after.get(k, 0) != before.get(k, 0)
    }


class BreakerClock:
    """Moves the circuit breaker's clock forward without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def breaker_clock(monkeypatch: pytest.MonkeyPatch) -> BreakerClock:
    import time

    from apps.odoo import protection

    clock = BreakerClock()
    monkeypatch.setattr(protection, "_now", lambda: time.time() + clock.offset)
    return clock
