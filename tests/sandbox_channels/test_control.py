"""Control endpoints shared by all stand-ins: reset, faults, products, stats, received."""

from __future__ import annotations

import time

from tests.fixtures.channel_standins import ChannelStandin, http_call


def test_health_and_credentials(woo_standin: ChannelStandin) -> None:
    assert http_call("GET", f"{woo_standin.url}/__standin__/health").body == {
        "status": "ok",
        "kind": "woocommerce",
    }
    assert woo_standin.consumer_key.startswith("ck_") and woo_standin.consumer_secret.startswith(
        "cs_"
    )


def test_add_products_and_reset_restores_seed(woo_standin: ChannelStandin) -> None:
    rows = woo_standin.add_products([{"sku": "NEW-1", "stock": 4}, {"sku": "SKU-001", "stock": 99}])
    assert rows[0]["sku"] == "NEW-1" and rows[0]["product_id"] > 0
    assert woo_standin.levels()["SKU-001"] == 99
    woo_standin.api("PUT", f"products/{rows[0]['product_id']}", {"stock_quantity": 1})
    woo_standin.set_config(rps=1)
    woo_standin.reset()
    levels = woo_standin.levels()
    assert "NEW-1" not in levels and levels["SKU-001"] == 12
    assert woo_standin.received() == [] and woo_standin.stats()["total_calls"] == 0
    assert woo_standin.set_config()["rps"] == 0


def test_down_latency_and_fail_next(bigcommerce_standin: ChannelStandin) -> None:
    bigcommerce_standin.set_config(down=True)
    assert bigcommerce_standin.api("GET", "v3/catalog/products").status == 503
    bigcommerce_standin.set_config(down=False, latency_ms=150)
    started = time.monotonic()
    assert bigcommerce_standin.api("GET", "v3/catalog/products").status == 200
    assert time.monotonic() - started >= 0.15
    bigcommerce_standin.set_config(
        latency_ms=0, fail_next=[{"path_contains": "adjustments", "status": 502}]
    )
    assert bigcommerce_standin.api("GET", "v3/catalog/products").status == 200
    body = {"items": [{"location_id": 1, "sku": "SKU-001", "quantity": 1}]}
    assert bigcommerce_standin.api("PUT", "v3/inventory/adjustments/absolute", body).status == 502
    assert bigcommerce_standin.api("PUT", "v3/inventory/adjustments/absolute", body).status == 200


def test_unknown_config_key_is_400(shopify_standin: ChannelStandin) -> None:
    answer = http_call("POST", f"{shopify_standin.url}/__standin__/config", {"rps": 3})
    assert answer.status == 400


def test_received_and_stats(bigcommerce_standin: ChannelStandin) -> None:
    bigcommerce_standin.api("GET", "v3/catalog/products")
    body = {"reason": "Odoo sync", "items": [{"location_id": 1, "sku": "SKU-001", "quantity": 5}]}
    bigcommerce_standin.api("PUT", "v3/inventory/adjustments/absolute", body)
    [write] = bigcommerce_standin.received()
    assert write["method"] == "PUT" and write["path"].endswith("/v3/inventory/adjustments/absolute")
    assert write["body"] == body and write["status"] == 200 and write["ts"] > 0
    stats = bigcommerce_standin.stats()
    assert stats["calls"]["GET v3/catalog/products"] == 1
    assert stats["calls"]["PUT v3/inventory/adjustments/absolute"] == 1
    assert stats["items_written"] == 1 and stats["max_batch"] == 1
