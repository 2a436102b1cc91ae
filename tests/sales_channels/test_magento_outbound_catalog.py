"""The Magento catalog reader against the Magento stand-in over HTTP: searchCriteria pages,
configurable children included (also when the listing leaves them out), and automap binding
the children, not their parents, to the sandbox Odoo's products."""

from __future__ import annotations

import io
import math
from typing import Any

import pytest
from django.core.management import call_command

from apps.mappings.models import Binding
from apps.sales_channels import magento_catalog
from apps.sales_channels.clients import channel_catalog
from tests.fixtures.channel_standins import ChannelStandin

from .magento_outbound_helpers import magento_channel, search

pytestmark = pytest.mark.django_db


@pytest.fixture
def tees(magento_standin: ChannelStandin) -> dict[str, int]:
    """A configurable "Tee" with three children; SKU -> product id."""
    rows = magento_standin.add_products(
        [{"sku": f"TEE-{size}", "stock": 4, "group": "Tee"} for size in ("S", "M", "L")]
    )
    return {r["sku"]: int(r["variant_id"]) for r in rows}


def test_the_catalog_pages_and_includes_configurable_children(
    magento_standin: ChannelStandin, tees: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(magento_catalog, "PAGE", 4)
    listed = search(magento_standin, "products")
    [parent] = [p for p in listed if p["type_id"] == "configurable"]
    # when the hub reads the catalog, four products a page
    items = {i.sku: i for i in channel_catalog(channel=magento_channel(magento_standin))}
    # then every product but the configurable parent is a sellable item
    assert set(items) == {p["sku"] for p in listed} - {parent["sku"]}
    assert {s: items[s].external_id for s in tees} == {s: str(i) for s, i in tees.items()}
    assert {items[s].product_external_id for s in tees} == {str(parent["id"])}
    assert items["SKU-001"].product_external_id == items["SKU-001"].external_id
    calls = magento_standin.stats()["calls"]
    assert calls["products_search"] == 1 + math.ceil(len(listed) / 4)  # ours + the test's
    assert "configurable_children" not in calls


def test_children_the_listing_leaves_out_are_read_from_their_parent(
    magento_standin: ChannelStandin, tees: dict[str, int]
) -> None:
    magento_standin.set_config(products_list_children=False)
    assert not {p["sku"] for p in search(magento_standin, "products")} & set(tees)
    items = {i.sku: i for i in channel_catalog(channel=magento_channel(magento_standin))}
    assert set(tees) <= set(items)
    assert magento_standin.stats()["calls"]["configurable_children"] == 1


def test_automap_binds_configurable_children_to_odoo_products(
    magento_standin: ChannelStandin, odoo_sandbox: Any, settings: Any
) -> None:
    settings.ODOO_URL = odoo_sandbox.url
    rows = magento_standin.add_products(
        [{"sku": s, "stock": 2, "group": "Widget"} for s in ("WIDGET-RED", "WIDGET-BLUE")]
    )
    channel = magento_channel(magento_standin)
    out = io.StringIO()
    call_command("mappings", "automap", "--channel", channel.code, stdout=out)
    bound = dict(
        Binding.objects.filter(channel=channel).values_list("external_code", "external_id")
    )
    assert bound["WIDGET-RED"] == str(rows[0]["variant_id"])
    assert bound["WIDGET-BLUE"] == str(rows[1]["variant_id"])
    assert {"SKU-001", "SKU-003"} <= set(bound)
    assert "WIDGET" not in bound  # the configurable parent is not a sellable unit
    again = io.StringIO()
    call_command("mappings", "automap", "--channel", channel.code, stdout=again)
    assert f"bound 0, already bound {len(bound)}" in again.getvalue()
