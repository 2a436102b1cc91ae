"""Fixtures for the price engine: the sandbox behind the hub's gateway, a clean engine cache."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pytest_django.fixtures import SettingsWrapper

from apps.odoo.client import OdooClient, OdooConfig
from apps.odoo.gateway import OdooGateway
from apps.pricing import services


@pytest.fixture
def sandbox_settings(odoo_sandbox: Any, settings: SettingsWrapper) -> Any:
    settings.ODOO_URL = odoo_sandbox.url.rstrip("/")
    settings.ODOO_DB = odoo_sandbox.db
    settings.ODOO_USER = odoo_sandbox.user
    settings.ODOO_PASSWORD = odoo_sandbox.password
    settings.ODOO_TIMEOUT_READ = 30.0
    settings.ODOO_BREAKER_THRESHOLD = 1000
    return odoo_sandbox


@pytest.fixture(autouse=True)
def fresh_engine() -> Iterator[None]:
    services.forget()
    yield
    services.forget()


@pytest.fixture
def gateway(sandbox_settings: Any, db: None) -> OdooGateway:
    return OdooGateway(OdooClient(OdooConfig.from_settings()))
