"""What each admin row of the matrix sends, enumerated from the registered ModelAdmins.

Operations of every ModelAdmin: `view` (GET the list), `add` and `change` (POST the form),
`delete` (POST the confirmation), every action the ModelAdmin has (`action:<name>`, a real POST
of the action form with a row selected and what the action's own form asks for) and every URL it
adds (`url:<name>`). A row acts on a fresh object, in the state its action needs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.urls import reverse

from .calls import _endpoint, _event, _issue_needing_a_product
from .world import Call, World, build


def model_admins() -> dict[str, admin.ModelAdmin[Any]]:
    return {m._meta.label_lower: ma for m, ma in admin.site._registry.items()}


def admin_operations() -> dict[str, list[str]]:
    """label -> its operations, as the admin site has them now."""
    out: dict[str, list[str]] = {}
    for label, ma in sorted(model_admins().items()):
        ops = ["view", "add", "change", "delete"]
        ops += [f"action:{name}" for _, name, _ in ma._get_base_actions()]
        info = f"{ma.opts.app_label}_{ma.opts.model_name}_"
        standard = {f"{info}{s}" for s in ("changelist", "add", "history", "delete", "change")}
        ops += [f"url:{p.name}" for p in ma.get_urls() if p.name and p.name not in standard]
        out[label] = ops
    return out


def _url(ma: admin.ModelAdmin[Any], view: str, *args: Any) -> str:
    return reverse(f"admin:{ma.opts.app_label}_{ma.opts.model_name}_{view}", args=args)


# --- objects in the state an action needs ---------------------------------------------------------

Recipe = Callable[[World], tuple[Any, dict[str, Any]]]


def _endpoint_in(state: str) -> Recipe:
    def make(w: World) -> tuple[Any, dict[str, Any]]:
        ep = _endpoint(w)
        type(ep).objects.filter(pk=ep.pk).update(state=state)
        return ep, {}

    return make


def _order_in(state: str, **values: Any) -> Recipe:
    def make(w: World) -> tuple[Any, dict[str, Any]]:
        from tests.fulfillment.conftest import make_order

        order = make_order(w.own, f"SEC-{state}-{uuid.uuid4().hex[:6]}", state=state)
        type(order).objects.filter(pk=order.pk).update(**values)
        return order, {}

    return make


def _failed_sync(shipment_side: bool) -> Recipe:
    def make(w: World) -> tuple[Any, dict[str, Any]]:
        from tests.fulfillment.conftest import make_order, make_shipment

        shipment = make_shipment(make_order(w.own, "SEC-SHIP"))
        sync = shipment.syncs.get()
        type(sync).objects.filter(pk=sync.pk).update(state="failed", attempts=3)
        return (shipment if shipment_side else sync), {}

    return make


def _message(w: World) -> tuple[Any, dict[str, Any]]:
    from apps.events.models import WebhookMessage

    from .calls import _events

    event_uid = _events(w)[0]
    from apps.events.models import BusinessEvent

    event = BusinessEvent.objects.get(uid=event_uid)
    return build(WebhookMessage, event=event, endpoint=_endpoint(w)), {}


def _periodic(enabled: bool) -> Recipe:
    def make(w: World) -> tuple[Any, dict[str, Any]]:
        from django_celery_beat.models import PeriodicTask

        return build(PeriodicTask, enabled=enabled), {}

    return make


def _of(model_path: str, **values: Any) -> Recipe:
    def make(w: World) -> tuple[Any, dict[str, Any]]:
        from django.apps import apps

        return build(apps.get_model(model_path), **values), {}

    return make


def _token(w: World) -> tuple[Any, dict[str, Any]]:
    from apps.sales_channels.services import api_token_create

    return api_token_create(channel=w.own, scopes=["orders:read"])[0], {}


def _failed_event(w: World) -> tuple[Any, dict[str, Any]]:
    event = _event(w)
    type(event).objects.filter(pk=event.pk).update(state="failed")
    return event, {}


def _payout(w: World) -> Any:
    from apps.finance.models import PaymentAccount, Payout

    account = build(PaymentAccount, adjustment_account_id=99)
    return build(Payout, account=account, state=Payout.State.DIFFERENCE)


DECIDE = {"reason": "checked with the customer", "decide": "1"}
ACTIONS: dict[tuple[str, str], Recipe] = {
    ("customers.b2baccount", "publish_now"): _of("customers.B2BAccount"),
    ("django_celery_beat.periodictask", "enable_tasks"): _periodic(False),
    ("django_celery_beat.periodictask", "disable_tasks"): _periodic(True),
    ("django_celery_beat.periodictask", "toggle_tasks"): _periodic(True),
    ("django_celery_beat.periodictask", "run_tasks"): _periodic(True),
    ("events.webhookendpoint", "send_test_event"): _endpoint_in("active"),
    ("events.webhookendpoint", "enable"): _endpoint_in("paused"),
    ("events.webhookendpoint", "pause"): _endpoint_in("active"),
    ("events.webhookendpoint", "disable"): _endpoint_in("active"),
    ("events.webhookendpoint", "rotate_secret"): _endpoint_in("active"),
    ("events.webhookendpoint", "recover_since"): lambda w: (
        _endpoint(w),
        {"_confirm": "1", "counted_since": "2020-01-01T00:00:00+00:00"},
    ),
    ("events.webhookmessage", "resend"): _message,
    ("finance.payout", "release"): lambda w: (_payout(w), DECIDE),
    ("fulfillment.shipment", "retry_sync"): _failed_sync(shipment_side=True),
    ("fulfillment.shipmentsync", "retry_sync"): _failed_sync(shipment_side=False),
    ("ledger.inboundevent", "action_replay"): _failed_event,
    ("ledger.inboundevent", "action_replay_dry_run"): _failed_event,
    ("orders.channelorder", "release_hold"): _order_in("held", hold_reason="credit"),
    ("orders.channelorder", "retry_failed"): _order_in("failed"),
    ("returns.refundrequest", "approve"): lambda w: (
        _of("returns.RefundRequest", state="awaiting_approval")(w)[0],
        DECIDE,
    ),
    ("returns.refundrequest", "reject"): lambda w: (
        _of("returns.RefundRequest", state="awaiting_approval")(w)[0],
        DECIDE,
    ),
    ("sales_channels.apitoken", "revoke"): _token,
}
for _name in ("action_retry_all", "action_assign_to_me", "action_snooze_1h", "action_resolve"):
    ACTIONS[("inbox.issue", _name)] = lambda w: (_issue_needing_a_product(w), {})


# --- the URLs the ModelAdmins add -----------------------------------------------------------------


def _issue_url(view: str, data: dict[str, Any], row: bool = False) -> Callable[[World], Call]:
    def make(w: World) -> Call:
        issue = _issue_needing_a_product(w)
        args = [issue.pk, issue.rows.get().pk] if row else [issue.pk]
        body = dict(data)
        if view == "assign":
            body["owner"] = str(w.users["support"].pk)
        return Call("POST", reverse(f"admin:inbox_issue_{view}", args=args), data=body)

    return make


def _privacy_export(w: World) -> Call:
    from apps.customers.models import PrivacyRequest
    from apps.customers.privacy import export_dir

    name = f"sec-{w.own.pk}.json"
    (export_dir() / name).write_text('{"customer": "sec"}')
    row = build(PrivacyRequest, export_file=name)
    return Call("GET", reverse("admin:customers_privacyrequest_export", args=[row.pk]))


def _import_csv(label: str) -> Callable[[World], Call]:
    def make(w: World) -> Call:
        csv = "record,kind,channel_value,odoo_model,odoo_value,external_code\n"
        csv += "binding,product,SEC-CSV,product.product,17,SEC-CSV\n"
        url = reverse(f"admin:{label.replace('.', '_')}_import_csv")
        return Call("POST", url, data={"channel": w.own.code, "text": csv, "confirm": "1"})

    return make


def _password(w: World) -> Call:
    from django.contrib.auth import get_user_model

    user = build(get_user_model(), username="sec-target", is_staff=True)
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    return Call("POST", url, data={"password1": "S3c-changed!pw", "password2": "S3c-changed!pw"})


URLS: dict[tuple[str, str], Callable[[World], Call]] = {
    ("auth.user", "auth_user_password_change"): _password,
    ("customers.privacyrequest", "customers_privacyrequest_export"): _privacy_export,
    ("inbox.issue", "inbox_issue_retry_all"): _issue_url("retry_all", {}),
    ("inbox.issue", "inbox_issue_retry_row"): _issue_url("retry_row", {}, row=True),
    ("inbox.issue", "inbox_issue_edit_payload"): _issue_url(
        "edit_payload", {"body": '{"sku": "SEC-FIXED"}'}, row=True
    ),
    ("inbox.issue", "inbox_issue_ignore"): _issue_url("ignore", {"reason": "known, harmless"}),
    ("inbox.issue", "inbox_issue_assign"): _issue_url("assign", {}),
    ("inbox.issue", "inbox_issue_snooze"): _issue_url("snooze", {"for": "1h"}),
    ("inbox.issue", "inbox_issue_resolve"): _issue_url("resolve", {"note": "done"}),
    ("mappings.binding", "mappings_binding_import_csv"): _import_csv("mappings.binding"),
    ("mappings.valuemap", "mappings_valuemap_import_csv"): _import_csv("mappings.valuemap"),
}


def admin_call(w: World, label: str, op: str) -> Call:
    """The request of one admin row, its objects made."""
    ma = model_admins()[label]
    model = ma.model
    if op == "view":
        return Call("GET", _url(ma, "changelist"))
    if op == "add":
        return Call("POST", _url(ma, "add"), data={})
    if op.startswith("url:"):
        make = URLS.get((label, op[4:]))
        assert make, f"{label} {op}: add the request it takes to admin_calls.URLS"
        return make(w)
    if op.startswith("action:"):
        name = op[7:]
        recipe = ACTIONS.get((label, name))
        obj, extra = recipe(w) if recipe else (build(model), {})
        data = {"action": name, "_selected_action": [str(obj.pk)], "index": "0", **extra}
        if name == "delete_selected":
            data["post"] = "yes"
        return Call("POST", _url(ma, "changelist"), data=data)
    obj = build(model)
    if op == "change":
        return Call("POST", _url(ma, "change", obj.pk), data={})
    assert op == "delete", op
    return Call("POST", _url(ma, "delete", obj.pk), data={"post": "yes"})
