"""The preflight (``manage.py odoo check``, the ``odoo_setup`` readiness check).

``test_preflight_reports_each_item`` runs on the sandbox and on a real Odoo 17 (``live_odoo``);
the others need the sandbox (other users, modules switched off, call counts) or the database.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import SettingsWrapper

from apps.odoo.gateway import OdooGateway
from apps.odoo.preflight import MISSING, OK, WARN, ChannelNeeds, ShippingNeed, run_preflight
from tests.fixtures.sandbox import http_json

from .conftest import OdooTarget, Recorder


def _by(report: Any, area: str, subject: str) -> list[Any]:
    return [f for f in report.findings if f.area == area and f.subject == subject]


def _needs(gateway: OdooGateway, unique: str) -> list[ChannelNeeds]:
    wh = gateway.client.call("stock.warehouse", "search", [[]], {"limit": 1, "order": "id"})[0]
    carrier = next(c for c in gateway.carriers_read().values() if c["active"])
    tax = gateway.client.call(
        "account.tax", "search", [[["type_tax_use", "=", "sale"]]], {"limit": 1, "order": "id"}
    )[0]
    return [
        # everything mapped and present
        ChannelNeeds(
            code="ready",
            warehouse_ids=(wh,),
            shipping=(ShippingNeed("Express", carrier_id=carrier["id"]),),
            tax_ids=(tax,),
        ),
        # a new channel: an unknown warehouse, a method without a map, a tax not mapped
        ChannelNeeds(
            code=f"new{unique[:4]}",
            warehouse_ids=(999999,),
            shipping=(ShippingNeed("Pickup"), ShippingNeed("Overnight", carrier_id=999999)),
            tax_ids=(tax,),
            taxes_unmapped=("VAT 20% (0.2)",),
        ),
        ChannelNeeds(code="bare"),
    ]


def test_preflight_reports_each_item(
    odoo: OdooTarget, gateway: OdooGateway, unique: str, recorder: Recorder
) -> None:
    recorder.start(
        "33_hub_preflight",
        "Hub: manage.py odoo check (modules, check_access_rights per model, warehouses, "
        "carriers, the fallback product, taxes)",
    )
    needs = _needs(gateway, unique)
    sku = f"SHIP-{unique}"  # a fallback product this Odoo does not have
    report = run_preflight(gateway, needs=needs, shipping_sku=sku)
    lines = [f.line() for f in report.findings]
    recorder.note("\n".join(lines))
    new = needs[1].code
    # connection, modules and rights (the administrator has every right)
    assert report.findings[0].status == OK and report.findings[0].area == "connection"
    modules = {f.subject: f.status for f in report.findings if f.area == "module"}
    assert modules == dict.fromkeys(
        ["sale_management", "sale_stock", "stock", "account", "stock_delivery", "base_automation"],
        OK,
    )
    access = {f.subject: f.status for f in report.findings if f.area == "access"}
    assert set(access.values()) == {OK}
    assert {"sale.order", "stock.picking", "delivery.carrier", "base.automation"} <= set(access)
    # the ready channel is all OK
    for area in ("warehouse", "shipping", "tax"):
        found = [f for f in report.findings if f.area == area and "ready" in f.subject]
        assert found and {f.status for f in found} == {OK}, found
    # the new channel: one clear MISSING line each, saying how to fix it
    [wh] = _by(report, "warehouse", f"channel {new}")
    assert wh.status == MISSING and "999999" in wh.message and "Warehouses" in wh.fix
    [carrier] = _by(report, "shipping", f"channel {new} 'Overnight'")
    assert carrier.status == MISSING and "does not exist" in carrier.message
    [fallback] = _by(report, "shipping", f"channel {new}")
    assert fallback.status == MISSING and sku in fallback.message and "'Pickup'" in fallback.message
    assert "delivery.carrier" in fallback.fix and "HUB_ORDER_SHIPPING_SKU" in fallback.fix
    [tax] = _by(report, "tax", f"channel {new}")
    assert tax.status == MISSING and "VAT 20% (0.2)" in tax.message and "kind tax" in tax.fix
    # a bare channel: no warehouse, and the fallback product is missing too
    assert {f.status for f in _by(report, "warehouse", "channel bare")} == {MISSING}
    assert {f.status for f in _by(report, "shipping", "channel bare")} == {MISSING}
    assert len(report.missing) == 6
    assert report.summary()["missing"] == 6


@pytest.fixture
def integration_user(odoo_sb: OdooTarget, settings: SettingsWrapper) -> OdooTarget:
    settings.ODOO_USER = "integration"
    settings.ODOO_PASSWORD = "integration"
    if odoo_sb.transport == "json2":
        # JSON-2 logs in by key, and the key says who the user is: the integration user's own
        # (the target's key is the admin's), made through the sandbox's control endpoint.
        made = http_json(
            "POST",
            f"{odoo_sb.url}/__sandbox__/apikeys",
            {"login": "integration", "name": "preflight test key"},
        )
        settings.ODOO_API_KEY = made["key"]
    return odoo_sb


def test_least_privilege_user_misses_only_the_installer_right(
    integration_user: OdooTarget, gateway: OdooGateway
) -> None:
    report = run_preflight(gateway, needs=[])
    access = {f.subject: f for f in report.findings if f.area == "access"}
    assert {s for s, f in access.items() if f.status != OK} == {"base.automation"}
    installer = access["base.automation"]
    assert installer.status == WARN and "administrator" in installer.fix
    assert report.missing == []


def test_missing_module_and_portal_rights(odoo_sb: OdooTarget, gateway: OdooGateway) -> None:
    sb = odoo_sb.sandbox
    assert sb is not None
    module = sb.execute("ir.module.module", "search", [["name", "=", "stock_delivery"]])
    sb.execute("ir.module.module", "write", module, {"state": "uninstalled"})
    report = run_preflight(gateway, needs=[ChannelNeeds("shop", warehouse_ids=(1,))])
    [mod] = [f for f in report.findings if f.area == "module" and f.subject == "stock_delivery"]
    assert mod.status == MISSING and "Apps" in mod.fix
    [carrier] = [
        f for f in report.findings if f.area == "access" and f.subject == "delivery.carrier"
    ]
    assert carrier.status == MISSING and "stock_delivery" in carrier.message


def test_unreachable_odoo_is_one_line(settings: SettingsWrapper, db: None) -> None:
    from apps.odoo.client import OdooClient, OdooConfig

    settings.ODOO_URL = "http://127.0.0.1:9"
    report = run_preflight(OdooGateway(OdooClient(OdooConfig.from_settings())), needs=[])
    assert [f.area for f in report.findings] == ["connection"]
    assert report.findings[0].status == MISSING and "ODOO_URL" in report.findings[0].fix


@pytest.mark.django_db
def test_check_command_prints_lines_and_fails_when_something_is_missing(
    odoo_sb: OdooTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    from apps.mappings.models import ValueMap
    from apps.sales_channels.models import ChannelWarehouse
    from apps.sales_channels.services import channel_create

    sb = odoo_sb.sandbox
    assert sb is not None
    channel, _ = channel_create(code="shop1", kind="shopify")
    wh = sb.execute("stock.warehouse", "search", [["code", "=", "WH"]])[0]
    ChannelWarehouse.objects.create(channel=channel, odoo_warehouse_id=wh)
    express = sb.execute("delivery.carrier", "search", [["name", "=", "Express Delivery"]])[0]
    ValueMap.objects.create(
        channel=channel,
        kind=ValueMap.Kind.CARRIER,
        channel_value="Express",
        odoo_model="delivery.carrier",
        odoo_value=str(express),
    )
    # a set-up channel: the command passes
    call_command("odoo", "check")
    out = capsys.readouterr().out
    assert "OK       warehouse  channel shop1: WH" in out
    assert "OK       shipping   channel shop1 'Express': carrier 'Express Delivery'" in out
    assert "0 missing" in out
    # its warehouse disappears from Odoo: MISSING, and the command fails
    ChannelWarehouse.objects.filter(channel=channel).update(odoo_warehouse_id=424242)
    with pytest.raises(CommandError, match="1 missing"):
        call_command("odoo", "check")
    out = capsys.readouterr().out
    assert "MISSING  warehouse  channel shop1: Odoo has no warehouse with id 424242" in out


@pytest.mark.django_db
def test_readyz_summarises_the_preflight_from_the_cache(odoo_sb: OdooTarget, client: Any) -> None:
    from apps.core.health import READINESS_CHECKS, run_checks
    from apps.sales_channels.services import channel_create

    sb = odoo_sb.sandbox
    assert sb is not None
    channel_create(code="nowh", kind="shopify")
    assert READINESS_CHECKS["odoo_setup"].required() is False
    _, report = run_checks()
    setup = report["odoo_setup"]
    assert setup["missing"] == 1 and setup["missing_items"] == ["warehouse channel nowh"]
    assert setup["status"] == "down" and setup["required"] is False
    # the next probe within 5 minutes costs Odoo nothing
    sb.reset_stats()
    _, again = run_checks()
    assert again["odoo_setup"]["checked_at"] == setup["checked_at"]
    calls = sb.stats()["calls"]
    assert not [k for k in calls if k.split(".")[-1] in ("check_access_rights", "search_read")]
