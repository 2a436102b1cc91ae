"""Where the Odoo tests point: the project's sandbox, or a real Odoo.

- ``odoo``: contract tests. Parametrized: ``[sandbox]`` always runs over HTTP against a sandbox
  process; ``[live]`` carries the ``live_odoo`` mark and runs against the real Odoo given by
  ODOO_URL, ODOO_DB, ODOO_USER and ODOO_PASSWORD (the root conftest skips it when they are unset).
  Such tests create their own records with unique references and assume no demo ids.
- ``odoo_sb``: tests that need the sandbox itself (fault injection, call counts).

``HUB_TEST_ODOO_TRANSPORT=json2`` runs the sandbox target against a sandbox started as Odoo 19
(``--odoo-version 19 --api-key ...``) with ``ODOO_TRANSPORT=json2``: the same contract tests over
the JSON-2 transport. For ``[live]``, ODOO_API_KEY and ODOO_TRANSPORT are passed through.

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
    api_key: str = ""
    transport: str = "auto"

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
    settings.ODOO_API_KEY = target.api_key
    settings.ODOO_TRANSPORT = target.transport
    settings.ODOO_TIMEOUT_READ = 30.0
    return target


SANDBOX_TRANSPORT = os.environ.get("HUB_TEST_ODOO_TRANSPORT", "jsonrpc")


def _sandbox_target(request: pytest.FixtureRequest) -> OdooTarget:
    if SANDBOX_TRANSPORT == "json2":
        sb = request.getfixturevalue("odoo_sandbox19")
        return OdooTarget(sb.url.rstrip("/"), sb.db, sb.user, sb.password, sb, sb.api_key, "json2")
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
            api_key=os.environ.get("ODOO_API_KEY", ""),
            transport=os.environ.get("ODOO_TRANSPORT", "auto"),
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


# --- recording transcripts from a live run -----------------------------------------------------
# ODOO_RECORD_TRANSCRIPTS=<dir> with the live_odoo run: each test that asks for ``recorder`` and
# calls ``recorder.start(name, title)`` writes every JSON-RPC exchange its client made to
# <dir>/<name>.json, in the format of tests/data/odoo/transcripts (replayed against the sandbox
# by tests/sandbox/test_transcript_replay.py). The password is written as "admin" (the sandbox's)
# so a key never lands in the repository; server tracebacks are redacted as in the originals.

RECORD_DIR = os.environ.get("ODOO_RECORD_TRANSCRIPTS", "")


class _RecordingSession:
    def __init__(self, real: Any, sink: list[dict[str, Any]], password: str) -> None:
        self._real, self._sink, self._password = real, sink, password

    def post(self, url: str, data: Any = None, **kw: Any) -> Any:
        import json
        import time as _time

        started = _time.perf_counter()
        response = self._real.post(url, data=data, **kw)
        elapsed = round((_time.perf_counter() - started) * 1000, 2)
        body = json.loads(data)
        params = body.get("params", {})
        args = params.get("args") or []
        if params.get("method") == "execute_kw" and len(args) > 2:
            args[2] = "admin" if args[2] == self._password else args[2]
            label = f"{args[3]} {args[4]}" if len(args) > 4 else "execute_kw"
        elif params.get("method") == "authenticate" and len(args) > 2:
            args[2] = "admin" if args[2] == self._password else args[2]
            label = "common authenticate"
        else:
            label = f"{params.get('service')} {params.get('method')}"
        answer = response.json()
        error = answer.get("error") if isinstance(answer, dict) else None
        if isinstance(error, dict) and isinstance(error.get("data"), dict):
            debug = str(error["data"].get("debug") or "")
            error["data"]["debug"] = (
                f"[REDACTED by recorder: {len(debug)}-char Python server traceback]"
            )
        self._sink.append(
            {
                "label": label,
                "request": {
                    "method": "POST",
                    "url": url,
                    "headers": {"Content-Type": "application/json"},
                    "body": body,
                },
                "response": {
                    "status": response.status_code,
                    "headers": {"Content-Type": response.headers.get("Content-Type", "")},
                    "body": answer,
                },
                "elapsed_ms": elapsed,
            }
        )
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class Recorder:
    def __init__(self, target: OdooTarget, client: OdooClient) -> None:
        self.target, self.client = target, client
        self.name = ""
        self.title = ""
        self.notes: list[str] = []
        self.exchanges: list[dict[str, Any]] = []

    def start(self, name: str, title: str) -> None:
        """Record this test's exchanges as transcript ``name`` (live run with the env var)."""
        if not (RECORD_DIR and self.target.live):
            return
        self.name, self.title = name, title
        transport: Any = self.client.transport
        real_http = transport._http
        sink, password = self.exchanges, self.target.password
        transport._http = lambda: _RecordingSession(real_http(), sink, password)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def save(self) -> None:
        if not self.name:
            return
        import datetime as dt
        import json
        from pathlib import Path

        version = next(
            (
                e["response"]["body"].get("result", {}).get("server_version")
                for e in self.exchanges
                if e["label"] == "common version"
            ),
            "",
        )
        for n, ex in enumerate(self.exchanges, 1):  # 1-based ids, as in the originals
            ex["request"]["body"]["id"] = n
            if isinstance(ex["response"]["body"], dict):
                ex["response"]["body"]["id"] = n
        out = {
            "name": self.title,
            "recorded_at": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
            "server": self.target.url,
            "db": self.target.db,
            "odoo_version": f"{version} (community)" if version else "",
            "standalone": True,
            "recorded_by": "tests/odoo live_odoo run with ODOO_RECORD_TRANSCRIPTS: the calls the "
            "hub's gateway makes, plus the warehouse's own steps",
            "notes": self.notes,
            "exchanges": self.exchanges,
        }
        path = Path(RECORD_DIR) / f"{self.name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]


@pytest.fixture
def recorder(request: pytest.FixtureRequest, client: OdooClient) -> Any:
    """Records the test's exchanges as a transcript (see RECORD_DIR); saved if it passed."""
    target = request.getfixturevalue("odoo_sb" if "odoo_sb" in request.fixturenames else "odoo")
    rec = Recorder(target, client)
    yield rec
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.passed:
        rec.save()
