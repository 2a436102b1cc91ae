"""In a real browser (Chromium): the dashboard's charts with seeded data and their totals, and
the fix-in-place walk (a held order -> its inbox item -> pick the product -> the order goes
through). With HUB_WRITE_SCREENSHOTS=1 the dashboard test writes docs/img/ops-dashboard.png."""

from __future__ import annotations

import datetime as dt
import os
import random
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from apps.core.errors import MappingMissing, TransientError
from apps.core.models import AuditEntry
from apps.inbox import services as inbox
from apps.inbox.models import Issue, Status
from apps.mappings.models import Binding
from apps.ops import rollups, slo
from apps.ops.models import Rollup
from apps.orders.models import ChannelOrder, OrderState
from tests.orders.conftest import bind, product_ids, shopify_payload

from .helpers import channel, order, top_of_hour, transition

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "ops-dashboard.png"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page: Any, url: str, next_path: str) -> None:
    page.goto(f"{url}/admin/login/?next={next_path}")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")


def _browser(p: Any) -> Any:
    return p.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def seed_week() -> dict[str, dict[str, int]]:
    """A week of orders on two channels (daily shape, some held and failed), a few inbox items,
    and sampled gauges; returns the expected totals per channel."""
    rng = random.Random(3)
    expected: dict[str, dict[str, int]] = {}
    start = top_of_hour(7 * 24 - 1)
    n = 0
    for code, scale in (("shop", 1.0), ("portal", 0.4)):
        ch = channel(code, kind="shopify" if code == "shop" else "b2b_api")
        totals = {"received": 0, "pushed": 0, "held": 0, "failed": 0}
        for k in range(0, 7 * 24, 3):
            hour = start + dt.timedelta(hours=k)
            if hour > timezone.now():
                break
            busy = 1 + 3 * (9 <= hour.hour <= 18)
            for _ in range(int(rng.randint(1, 3) * busy * scale) or 1):
                n += 1
                received = hour + dt.timedelta(minutes=rng.randint(0, 50))
                roll = rng.random()
                if roll < 0.06:
                    row = order(ch, n, received=received, state="held")
                    transition(row, "held", received)
                    totals["held"] += 1
                elif roll < 0.09:
                    row = order(ch, n, received=received, state="failed")
                    transition(row, "failed", received + dt.timedelta(seconds=5), frm="pushing")
                    totals["failed"] += 1
                else:
                    secs = rng.choice([3, 5, 8, 12, 20, 45, 90])
                    if received + dt.timedelta(seconds=secs) >= timezone.now():
                        secs = 1
                    order(ch, n, received=received, pushed_after=secs)
                    totals["pushed"] += 1
                totals["received"] += 1
        expected[code] = totals
    for k in range(7 * 24):
        hour = start + dt.timedelta(hours=k)
        for queue, base in (("odoo", 5), ("intake", 2)):
            Rollup.objects.create(
                signal="queue.depth", scope=queue, hour=hour, value=base + rng.randint(0, 8)
            )
        Rollup.objects.create(signal="odoo.rpc_ms", hour=hour, value=40 + rng.randint(0, 60))
        Rollup.objects.create(signal="odoo.breaker_open", hour=hour, value=0)
    some = ChannelOrder.objects.filter(state="held")[:3]
    for row in some:
        inbox.issue_report(
            error=MappingMissing(f"SKU X-{row.pk} of channel {row.channel.code} is not mapped"),
            key=f"sku:X-{row.pk}@{row.channel.code}",
            row=row,
            channel_code=row.channel.code,
        )
    failed = ChannelOrder.objects.filter(state="failed").first()
    if failed is not None:
        inbox.issue_report(error=TransientError("Odoo is unavailable"), key="odoo", row=failed)
    rollups.rollup(hours=7 * 24 + 1, gauges=False)
    slo.evaluate_all()
    return expected


def test_dashboard_shows_the_charts_with_the_right_totals(live_server, django_user_model):
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Chromium")
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    django_user_model.objects.create_superuser("root", password="pw")
    expected = seed_week()
    open_items = Issue.objects.filter(status=Status.OPEN).count()
    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(20000)
        _login(page, live_server.url, "/admin/")
        # the admin index links to the dashboard
        page.click("#ops-link a")
        page.wait_for_selector("#ops-dashboard[data-ready='1']")
        for code, totals in expected.items():
            for key, n in totals.items():
                shown = page.inner_text(f"#totals-{code} .total-{key}")
                assert int(shown) == n, (code, key, shown, n)
            # the chart drawn in the browser carries the same totals, trace by trace
            drawn = page.evaluate(
                """(id) => {
                    const el = document.getElementById(id);
                    return el.data.map(t => [t.name, t.y.reduce((a, b) => a + b, 0)]);
                }""",
                f"chart-orders-{code}",
            )
            assert dict(drawn) == {k: float(v) for k, v in totals.items()}
            assert page.locator(f"#chart-orders-{code} svg.main-svg").count() >= 1
            bars = page.locator(f"#chart-orders-{code} g.trace.bars").count()
            assert bars == 4
        inbox_drawn = page.evaluate(
            "() => document.getElementById('chart-inbox').data[0].y.reduce((a, b) => a + b, 0)"
        )
        assert inbox_drawn == Issue.objects.count() and open_items >= 1
        assert page.locator("#slo-table tr[data-slo='orders_to_odoo']").count() == 1
        # the chart library is served by the hub itself
        scripts = page.evaluate("() => [...document.scripts].map(s => s.src).filter(Boolean)")
        assert all(s.startswith(live_server.url) for s in scripts), scripts
        assert any(s.endswith("/static/ops/vendor/plotly.min.js") for s in scripts)
        # every chart links to the admin list behind it
        link = page.get_attribute("#chart-orders-shop", "data-link")
        assert link.startswith("/admin/orders/channelorder/?channel__id__exact=")
        if os.environ.get("HUB_WRITE_SCREENSHOTS") == "1":
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        page.goto(live_server.url + link)
        page.wait_for_selector("#result_list")
        browser.close()


@pytest.fixture
def sandbox_settings(odoo_sandbox: Any, settings: Any) -> Any:
    settings.ODOO_URL = odoo_sandbox.url.rstrip("/")
    settings.ODOO_DB = odoo_sandbox.db
    settings.ODOO_USER = odoo_sandbox.user
    settings.ODOO_PASSWORD = odoo_sandbox.password
    settings.ODOO_TIMEOUT_READ = 30.0
    settings.ODOO_BREAKER_THRESHOLD = 1000
    from apps.orders import odoo_values

    odoo_values._PRODUCT_CACHE.clear()
    return odoo_sandbox


def test_fix_in_place_held_order_to_odoo(live_server, django_user_model, sandbox_settings):
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Chromium")
    from playwright.sync_api import sync_playwright

    from apps.orders.services import order_ingest, order_push_due
    from apps.sales_channels.translators import order_from_shopify

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    django_user_model.objects.create_superuser("root", password="pw")
    shop = channel("shop")
    ids = product_ids(sandbox_settings, ["SKU-001", "SKU-003"])
    bind(shop, "TSHIRT-BLU-M", ids["SKU-001"])
    # given an order held because its second line's SKU has no binding (Odoo has the product)
    payload = shopify_payload(4242)
    payload["line_items"][1]["sku"] = "SKU-003"
    payload["line_items"][1]["title"] = payload["line_items"][1]["name"] = "Desk Lamp"
    order_ingest(order=order_from_shopify(payload, channel="shop"))
    row = ChannelOrder.objects.get(external_id="4242")
    assert (row.state, row.hold_reason) == (OrderState.HELD, "unknown_sku")
    issue = Issue.objects.get(key="sku:SKU-003@shop")
    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page()
        page.set_default_timeout(20000)
        _login(page, live_server.url, "/admin/inbox/issue/")
        page.wait_for_selector("#result_list")
        page.click(f"#result_list a[href$='/inbox/issue/{issue.pk}/change/']")
        # the item offers the fix: Odoo's products, the best candidate pre-selected
        page.wait_for_selector("#fix-in-place")
        assert page.input_value("#id_fix_odoo_id") == str(ids["SKU-003"])
        assert "Desk Lamp" in page.inner_text("#id_fix_odoo_id")
        page.select_option("#id_fix_odoo_id", str(ids["SKU-003"]))
        page.click("#fix-and-retry")
        page.wait_for_selector(".messagelist")
        assert "retrying" in page.inner_text(".messagelist").lower()
        browser.close()
    binding = Binding.objects.get(channel=shop, external_code="SKU-003")
    assert binding.odoo_id == ids["SKU-003"]
    assert AuditEntry.objects.filter(action="ops.fix_and_retry").count() == 1
    row.refresh_from_db()
    assert row.state == OrderState.READY
    # the push (what the worker runs when rung) takes it to Odoo
    order_push_due()
    row.refresh_from_db()
    assert row.state == OrderState.IN_ODOO and row.odoo_id
    found = sandbox_settings.execute(
        "sale.order", "search_read", [["origin", "=", "shop:4242"]], fields=["name"]
    )
    assert len(found) == 1
    assert Issue.objects.get(pk=issue.pk).status == Status.RESOLVED
