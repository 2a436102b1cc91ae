"""Log redaction (apps/core/logging.py, integration_hub/access_log.py): what the secrets scan found
in the suite's logs (the Odoo hint token in Django's 4xx log line and in gunicorn's access log)
and what must never be written (credentials, a customer's e-mail)."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from apps.core.logging import redact
from apps.core.secrets_scan import Needle, scan_logs

from .plugin import SessionLog


@pytest.fixture
def hub_log(tmp_path: Path) -> Any:
    """The records as the hub's handler writes them (its filters, the JSON formatter)."""
    handler = SessionLog(tmp_path / "hub.log")
    logging.getLogger().addHandler(handler)
    yield handler.path
    logging.getLogger().removeHandler(handler)
    handler.close()


@pytest.mark.django_db
def test_a_refused_odoo_hint_logs_its_path_without_the_token(settings: Any, hub_log: Path) -> None:
    token = "hint-" + secrets.token_urlsafe(24)
    settings.HUB_ODOO_WEBHOOK_TOKEN = token
    client = Client()
    # the right token with a body that is not JSON (400), and a wrong one (404): Django logs both
    assert client.post(f"/webhooks/odoo/{token}/", "{", "application/json").status_code == 400
    assert (
        client.post(f"/webhooks/odoo/{token}x/pickings/", {}, "application/json").status_code == 404
    )
    text = hub_log.read_text()
    assert "/webhooks/odoo/***/" in text  # the line is there, the token is not
    report = scan_logs([Needle(token, "Odoo webhook token", "test")], [hub_log])
    assert report.lines >= 2 and report.ok, report.summary()


def test_credentials_and_emails_are_masked_in_messages_extras_and_tracebacks(
    hub_log: Path,
) -> None:
    token = f"hub_0123456789ab_{secrets.token_urlsafe(32)}"
    logger = logging.getLogger("apps.security_test")
    logger.warning("calling with Authorization: Bearer %s", token)
    logger.warning(
        "customer %s", "jane.doe@customer.example", extra={"who": "jane@customer.example"}
    )
    try:
        raise ValueError(f"shop refused shpat_{secrets.token_hex(16)}")
    except ValueError:
        logger.exception("publish failed")
    report = scan_logs([Needle(token, "api token", "test")], [hub_log])
    assert report.lines == 3 and report.ok, report.summary()
    text = hub_log.read_text()
    assert "***@customer.example" in text and "shpat_***" in text and "Bearer ***" in text


def test_gunicorn_access_log_lines_are_redacted() -> None:
    from gunicorn.config import Config

    from integration_hub.access_log import RedactingLogger

    token = "hint-" + secrets.token_urlsafe(24)
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/webhooks/odoo/{token}/",
        "PATH_INFO": f"/webhooks/odoo/{token}/",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": "-",
        "HTTP_USER_AGENT": "Odoo",
    }
    resp = SimpleNamespace(status="202 Accepted", sent=12, headers=[], response_length=12)
    req = SimpleNamespace(headers=[("AUTHORIZATION", f"Bearer {token}")])
    atoms = RedactingLogger(Config()).atoms(resp, req, environ, dt.timedelta(milliseconds=3))
    line = Config().access_log_format % atoms
    assert token not in line and "/webhooks/odoo/***/" in line
    assert redact("GET /x?mail=jane@shop.example") == "GET /x?mail=***@shop.example"
