"""The order flow's fixtures (sandbox Odoo, channels, bindings) for the chaos regression tests."""

from __future__ import annotations

from tests.orders import conftest as orders_fixtures

sandbox_settings = orders_fixtures.sandbox_settings
gateway = orders_fixtures.gateway
make_channel = orders_fixtures.make_channel
bind_all = orders_fixtures.bind_all
