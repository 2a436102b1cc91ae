"""The secrets and personal data scan (apps/core/secrets_scan.py, docs/security.md).

- End to end: secrets planted through the real flows (the `channel` command, the admin, the
  token command, the API, Odoo's password and API key, the Odoo webhook token) and a customer
  e-mail in a Shopify order that a real worker pushes to the Odoo sandbox; then the scan of the
  whole database and of every log line of the web process and the worker finds nothing.
- Negative: the same scan reports a planted secret written in plaintext to a log line and to a
  database column, and secrets and e-mails by their pattern; the command exits 1.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client

from apps.core.secrets_scan import planted_record, scan
from apps.orders.models import ChannelOrder, OrderState
from tests.fixtures.channels import shopify_headers
from tests.fixtures.sandbox import OdooSandbox, start_sandbox
from tests.fixtures.worker import wait_for
from tests.orders.conftest import SKU_MAP, bind, product_ids, shopify_payload
from tests.orders.test_worker_e2e import worker_env

from .plugin import SessionLog


class Plant:
    """Planted secrets: recorded in a JSON-lines file, as a chaos run records its own."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.values: list[str] = []

    def __call__(self, kind: str, value: str) -> str:
        planted_record(self.path, kind=kind, value=value, source="test_secrets_scan")
        self.values.append(value)
        return value


@pytest.fixture
def plant(tmp_path: Path) -> Plant:
    return Plant(tmp_path / "planted.jsonl")


@pytest.fixture
def web_log(tmp_path: Path) -> Iterator[Path]:
    """Every log line of this process, as production writes them (JSON, extras included)."""
    handler = SessionLog(tmp_path / "web.log")
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler.path
    root.removeHandler(handler)
    handler.close()


@pytest.fixture
def planted_odoo(plant: Plant, settings: Any) -> Iterator[OdooSandbox]:
    """A sandbox whose admin logs in with planted API keys only: the hub must use them."""
    password = plant("odoo_password", secrets.token_hex(20))
    api_key = plant("odoo_api_key", secrets.token_hex(20))
    server = start_sandbox("--api-key", password, "--api-key", api_key)
    sandbox = OdooSandbox(server.url, password=password, api_key=api_key)
    settings.ODOO_URL = server.url
    settings.ODOO_PASSWORD = password
    settings.ODOO_API_KEY = api_key
    settings.ODOO_TIMEOUT_READ = 30.0
    try:
        yield sandbox
    finally:
        server.stop()


def admin_add_form(model: Any, user: Any, **values: Any) -> dict[str, Any]:
    """The admin's add form of `model` as a browser would post it: every field's initial value,
    `values` typed in, and empty inline formsets."""
    from django.contrib import admin
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    model_admin = admin.site._registry[model]
    form = model_admin.get_form(request)()
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        if value is True:
            data[name] = "on"
        elif value is not None and value is not False and value != [] and value != "":
            data[name] = value
    data.update(values)
    for formset, _ in model_admin.get_formsets_with_inlines(request):
        prefix = formset.get_default_prefix()
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    return data


def _form_errors(resp: Any) -> str:
    ctx = resp.context or {}
    errors = [ctx["adminform"].form.errors] if "adminform" in ctx else []
    errors += [fs.formset.errors for fs in ctx.get("inline_admin_formsets", [])]
    return f"{resp.status_code}: {errors}"


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _shown(output: str, label: str) -> str:
    """The secret a command shows once, after `label`."""
    match = re.search(re.escape(label) + r"\s*(\S+)", output)
    assert match, output
    return match.group(1)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_secrets_planted_through_the_real_flows_are_found_nowhere(
    celery_worker_factory: Any,
    planted_odoo: OdooSandbox,
    plant: Plant,
    web_log: Path,
    settings: Any,
    django_user_model: Any,
) -> None:
    settings.HUB_OUTBOUND_ALLOW_PRIVATE = True
    settings.HUB_WEBHOOK_REQUIRE_HTTPS = False
    hint_token = plant("odoo_webhook_token", secrets.token_urlsafe(24))
    settings.HUB_ODOO_WEBHOOK_TOKEN = hint_token
    env = worker_env(planted_odoo) | {
        "ODOO_API_KEY": planted_odoo.api_key,
        "HUB_ODOO_WEBHOOK_TOKEN": hint_token,
    }
    worker = celery_worker_factory(queues="intake,odoo,maintenance", concurrency=2, **env)

    # Channel credentials and a webhook secret, through `manage.py channel add`.
    shop_secret = plant("webhook_secret", "shpss_" + secrets.token_hex(16))
    access_token = plant("channel_access_token", "shpat_" + secrets.token_hex(16))
    _run(
        "channel", "add", "sec-shop", "--kind", "shopify", "--secret", shop_secret,
        "--access-token", access_token, "--api-base-url", "http://127.0.0.1:9", "--warehouse", "1",
    )  # fmt: skip
    ids = product_ids(planted_odoo, list(SKU_MAP.values()))
    from apps.sales_channels.models import Channel

    shop = Channel.objects.get(code="sec-shop")
    shop.secrets.update(valid_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    for sku, code in SKU_MAP.items():
        bind(shop, sku, ids[code])

    # WooCommerce keys and a Stripe key, through the admin's forms, by an Integration admin.
    call_command("hub_roles", verbosity=0)
    from django.contrib.auth.models import Group

    admin_user = django_user_model.objects.create_user("sec-ia", is_staff=True)
    admin_user.groups.add(Group.objects.get(name="Integration admin"))
    browser = Client()
    browser.force_login(admin_user)
    ck = plant("woocommerce_consumer_key", "ck_" + secrets.token_hex(20))
    cs = plant("woocommerce_consumer_secret", "cs_" + secrets.token_hex(20))
    form = admin_add_form(
        Channel,
        admin_user,
        code="sec-woo",
        name="Woo",
        kind="woocommerce",
        api_base_url="https://woo.example",
        consumer_key=ck,
        consumer_secret=cs,
    )
    resp = browser.post("/admin/sales_channels/channel/add/", form)
    assert Channel.objects.filter(code="sec-woo").exists(), _form_errors(resp)
    assert Channel.objects.get(code="sec-woo").consumer_secret == cs
    stripe = plant("stripe_secret_key", "sk_test_" + secrets.token_hex(16))
    from apps.finance.models import PaymentAccount

    woo = Channel.objects.get(code="sec-woo")
    form = admin_add_form(
        PaymentAccount,
        admin_user,
        code="sec-stripe",
        provider="stripe",
        channel=str(woo.pk),
        secret_key=stripe,
    )
    resp = browser.post("/admin/finance/paymentaccount/add/", form)
    assert PaymentAccount.objects.filter(code="sec-stripe").exists(), _form_errors(resp)
    assert PaymentAccount.objects.get(code="sec-stripe").secret_key == stripe

    # An API token (shown once by the command), used, and a partner endpoint made and rotated.
    raw = plant(
        "api_token",
        _shown(
            _run(
                "channel", "token", "create", "sec-shop", "--scopes",
                "orders:read,events:manage",
            ),
            "(shown once):",
        ),
    )  # fmt: skip
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    assert api.get("/api/v1/orders/").status_code == 200
    assert (
        Client(headers={"Authorization": f"Bearer {raw}x"}).get("/api/v1/orders/").status_code
        == 401
    )
    made = api.post(
        "/api/v1/webhook-endpoints/",
        {"url": "http://127.0.0.1:9/hook", "event_types": ["order.accepted"]},
        content_type="application/json",
    ).json()
    plant("endpoint_secret", made["secret"])
    rotated = api.post(
        f"/api/v1/webhook-endpoints/{made['id']}/rotate-secret/", {}, "application/json"
    )
    plant("endpoint_secret", rotated.json()["secret"])

    # Odoo's stock hint with the right token, and with a wrong one.
    hook = Client()
    assert (
        hook.post(
            f"/webhooks/odoo/{hint_token}/", {"product_ids": [1]}, "application/json"
        ).status_code
        < 300
    )
    assert hook.post("/webhooks/odoo/wrong-token/", {}, "application/json").status_code == 404

    # A customer's e-mail in an order a real worker pushes to Odoo, and one that fails.
    email = plant("customer_email", f"sec.{uuid.uuid4().hex[:10]}@customer.example")
    for number, sku in ((7701, "TSHIRT-BLU-M"), (7702, "UNMAPPED-SKU")):
        payload = shopify_payload(number)
        payload["line_items"][0]["sku"] = sku
        body = json.dumps(payload).replace("maria.lopez@example.com", email).encode()
        resp = hook.generic(
            "POST", "/webhooks/shopify/sec-shop/", body, content_type="application/json",
            **shopify_headers(
                body, secret=shop_secret, webhook_id=f"sec-{number}", shop="127.0.0.1:9"
            ),
        )  # fmt: skip
        assert resp.status_code in (200, 202), resp.content
    try:
        wait_for(
            lambda: ChannelOrder.objects.filter(
                external_id="7701", state=OrderState.IN_ODOO
            ).exists(),
            timeout=90,
        )
    except AssertionError:
        from apps.ledger.models import InboundEvent

        states = list(
            ChannelOrder.objects.values_list("external_id", "state", "hold_reason", "last_error")
        )
        events = list(InboundEvent.objects.values_list("topic", "state", "last_error"))
        raise AssertionError(f"{states}\n{events}\n{worker.log()[-3000:]}")
    wait_for(
        lambda: ChannelOrder.objects.filter(external_id="7702").exclude(state="received").exists()
    )
    assert ChannelOrder.objects.get(external_id="7701").customer_email == email
    worker.stop()  # every line written

    assert f"created for channel {shop.code}" in web_log.read_text()  # the capture works
    report = scan(logs=[web_log, worker.log_path], planted=[plant.path])
    assert report.needles >= len(set(plant.values)), report.summary()
    assert report.rows > 0 and report.lines > 0 and report.files == 2, report.summary()
    assert report.ok, report.summary()
    # and the command says the same (it would exit 1 otherwise)
    assert "0 finding(s)" in _run(
        "secrets_scan", "--logs", str(web_log), "--logs", str(worker.log_path),
        "--planted", str(plant.path),
    )  # fmt: skip


@pytest.mark.django_db
def test_the_scan_finds_a_planted_secret_in_a_log_line_and_a_database_column(
    tmp_path: Path, plant: Plant
) -> None:
    from apps.core.models import JobRun

    secret = plant("webhook_secret", "sec-" + secrets.token_urlsafe(24))
    token = plant("api_token", f"hub_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}")
    log = tmp_path / "hub.log"
    log.write_text(
        '{"message": "all good"}\n'
        f'{{"message": "verifying with {secret}"}}\n'
        '{"message": "headers", "authorization": "Bearer '
        + "hub_0123456789ab_"
        + secrets.token_urlsafe(30)
        + '"}\n'
        '{"message": "order for jane.doe@customer.example"}\n'
        '{"message": "shop token shpat_' + secrets.token_hex(16) + '"}\n'
    )
    with transaction.atomic():
        JobRun.objects.create(name="sec.test", detail=f"note: token {token}")
        report = scan(logs=[log], planted=[plant.path])
        transaction.set_rollback(True)  # nothing planted outlives the test
    found = {(f.kind, f.where.split(" (row")[0]) for f in report.findings}
    assert ("planted webhook_secret", f"log {log}:2") in found
    assert ("planted api_token", "db core_jobrun.detail") in found
    assert ("pattern hub API token", "db core_jobrun.detail") in found
    assert ("pattern Authorization header", f"log {log}:3") in found
    assert ("e-mail", f"log {log}:4") in found
    assert ("pattern Shopify token", f"log {log}:5") in found
    assert not [f for f in report.findings if f.where == f"log {log}:1"]
    assert all(secret not in str(f) and token not in str(f) for f in report.findings)
    with pytest.raises(CommandError, match="found"):
        call_command(
            "secrets_scan", "--no-db", "--logs", str(tmp_path), "--planted", str(plant.path),
            stdout=io.StringIO(),
        )  # fmt: skip


def test_stored_and_configured_secrets_are_known_without_being_planted(settings: Any) -> None:
    """The scan decrypts what the database holds and reads the settings: a credential leaked
    from there is found even when nobody planted it."""
    from apps.core.secrets_scan import known_secrets

    settings.ODOO_PASSWORD = "odoo-" + secrets.token_hex(8)
    needles, report = known_secrets(using=None)
    assert settings.ODOO_PASSWORD in {n.value for n in needles}
    assert "Odoo password" not in report.not_searched
    settings.ODOO_PASSWORD = "admin"  # a plain word is not searched, and the report says so
    needles, report = known_secrets(using=None)
    assert "Odoo password" in report.not_searched
