"""The secrets scan inside the test suite (loaded by tests/conftest.py; docs/security.md).

- **Planted**: every secret the suite creates is recorded: the plaintext of every encrypted
  field saved (channel credentials, webhook and endpoint secrets, payment keys), every API
  token `api_token_create` hands out, and the secrets of the settings a test runs with (an
  Odoo password or API key, the Odoo webhook token). They go to
  `$HUB_VAR_DIR/secrets-scan/planted.jsonl`, so `manage.py secrets_scan --planted` can reuse
  them.
- **Logged**: every log record of the session is written, as the production JSON formatter
  writes it (extras included) and tagged with the running test, to
  `$HUB_VAR_DIR/secrets-scan/session.log`.
- **Scanned**: after each test that used the database, before its data is rolled back or
  flushed, every non-empty table: a finding is an error of that test. At the end of the
  session, every log line of the session and of the Celery workers the tests started: a
  finding fails the session (exit status 1) and is listed in the summary.
"""

from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from apps.core import secrets_scan as scan

# Filled by migrations only: nothing a test does can put a secret there.
STATIC_TABLES = {"django_migrations", "django_content_type", "auth_permission"}
DB_FIXTURES = {"_django_db_helper", "db", "transactional_db"}
# What tests/fixtures/worker.py names a worker's log (in the test's tmp_path).
WORKER_LOGS = "worker*.log"


class Planted:
    """The secrets this session created, in memory and in a JSON-lines file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.values: dict[str, scan.Needle] = {}

    def add(self, kind: str, value: Any, source: str) -> None:
        text = str(value or "")
        if not text or text in self.values:
            return
        self.values[text] = scan.Needle(
            text, f"planted {kind}", source, personal=kind in scan.PERSONAL
        )
        scan.planted_record(self.path, kind=kind, value=text, source=source)

    def needles(self) -> list[scan.Needle]:
        return list(self.values.values())


class SessionLog(logging.Handler):
    """Every record, as the production formatter and filters write it, with the running test."""

    def __init__(self, path: Path) -> None:
        super().__init__(level=logging.NOTSET)
        from apps.core.logging import JsonFormatter

        self.path = path
        self.stream = path.open("a", encoding="utf-8")
        self.setFormatter(JsonFormatter())
        for handler in logging.getLogger().handlers:
            if handler.get_name() == "default":  # the hub's handler: its filters (context)
                for f in handler.filters:
                    self.addFilter(f)
        self.test = "-"

    def emit(self, record: logging.LogRecord) -> None:
        try:
            record.test = self.test
            line = self.format(record)
            self.acquire()
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            finally:
                self.release()
        except Exception:  # a log line must never break a test
            self.handleError(record)

    def close(self) -> None:
        self.stream.close()
        super().close()


class SecretsWatch:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.planted: Planted | None = None
        self.log: SessionLog | None = None
        self.report = scan.ScanReport()
        self.db_findings: list[tuple[str, scan.Finding]] = []
        self.configured_db = ""

    # --- the session --------------------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from django.conf import settings
        from django.db import connection
        from django.db.models.signals import post_save

        self.configured_db = str(connection.settings_dict["NAME"])
        folder = Path(settings.VAR_DIR) / "secrets-scan"
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("planted.jsonl", "session.log"):
            (folder / name).unlink(missing_ok=True)
        self.planted = Planted(folder / "planted.jsonl")
        self.log = SessionLog(folder / "session.log")
        logging.getLogger().addHandler(self.log)
        post_save.connect(self._saved, dispatch_uid="tests.security.plugin")
        self._wrap_token_create()

    def _saved(self, sender: Any, instance: Any, **kwargs: Any) -> None:
        from apps.core.crypto import EncryptedTextField

        assert self.planted is not None
        for f in sender._meta.concrete_fields:
            if isinstance(f, EncryptedTextField):
                value = getattr(instance, f.attname, "")
                self.planted.add(f"{sender._meta.label}.{f.name}", value, "saved")

    def _wrap_token_create(self) -> None:
        """Record the plaintext of every API token (only its hash is stored): the wrapper
        replaces the function wherever a module imported it by name."""
        from apps.sales_channels import services

        original = services.api_token_create
        planted = self.planted
        assert planted is not None

        @functools.wraps(original)
        def api_token_create(*args: Any, **kwargs: Any) -> Any:
            token, raw = original(*args, **kwargs)
            planted.add("api_token", raw, "api_token_create")
            return token, raw

        for module in list(sys.modules.values()):
            if getattr(module, "api_token_create", None) is original:
                module.api_token_create = api_token_create  # type: ignore[attr-defined]

    # --- each test ----------------------------------------------------------------------------

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if self.log is not None:
            self.log.test = item.nodeid

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> Any:
        """Before the test's fixtures go (its rows, its settings): scan what it left."""
        findings: list[scan.Finding] = []
        if self.planted is not None:
            for n in scan.settings_secrets():  # a test's own settings: its Odoo password, ...
                self.planted.add(n.kind, n.value, f"settings of {item.nodeid}")
            uses_db = item.get_closest_marker("django_db") is not None
            if uses_db or DB_FIXTURES & set(getattr(item, "fixturenames", ())):
                try:
                    findings = self._scan_database()
                except Exception as exc:  # never in the way of the test's own teardown
                    self.report.notes.append(f"{item.nodeid}: database not scanned: {exc}")
        yield
        if self.log is not None:
            self.log.test = "-"
        if findings:
            self.db_findings += [(item.nodeid, f) for f in findings]
            text = "\n".join(f"  {f}" for f in findings)
            raise AssertionError(f"plaintext secret(s) in the database after the test:\n{text}")

    def _scan_database(self) -> list[scan.Finding]:
        from django.db import connection
        from django.db.backends.base.base import BaseDatabaseWrapper

        # Only the test database, once pytest-django made it, open to this test (not a test
        # skipped before its fixtures ran), and only a usable transaction.
        blocked = BaseDatabaseWrapper.ensure_connection.__name__ == "_blocking_wrapper"
        made = str(connection.settings_dict["NAME"]) != self.configured_db
        if blocked or not made or connection.needs_rollback:
            return []
        assert self.planted is not None
        needles, report = scan.known_secrets(planted=self.planted.needles())
        tables = [t for t in scan.nonempty_tables() if t not in STATIC_TABLES]
        result = scan.scan_database(needles, tables=tables)
        self.report.tables += result.tables
        self.report.rows += result.rows
        return result.findings

    # --- the end ------------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.log is None or self.planted is None:
            return
        logging.getLogger().removeHandler(self.log)
        self.log.close()
        paths = [self.log.path]
        factory = getattr(session.config, "_tmp_path_factory", None)
        basetemp = getattr(factory, "_basetemp", None)
        if basetemp is not None:  # the logs of the Celery workers the tests started
            paths += sorted(Path(basetemp).rglob(WORKER_LOGS))
        needles, known = scan.known_secrets(planted=self.planted.needles(), using=None)
        self.report.needles = known.needles
        self.report.not_searched = known.not_searched
        self.report.merge(scan.scan_logs(needles, paths))
        if self.report.findings and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.log is None:
            return
        r = self.report
        terminalreporter.write_sep("-", "secrets scan")
        terminalreporter.write_line(
            f"{r.needles} planted secret(s) searched in {r.tables} table scan(s) / {r.rows} "
            f"row(s) and {r.files} log file(s) / {r.lines} line(s): "
            f"{len(r.findings) + len(self.db_findings)} finding(s)"
        )
        for nodeid, f in self.db_findings:
            terminalreporter.write_line(f"  {nodeid}: {f}", red=True)
        for f in r.findings:
            terminalreporter.write_line(f"  {f}", red=True)
        for note in r.notes[:20]:
            terminalreporter.write_line(f"  note: {note}")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SecretsWatch(config), "secrets-watch")
