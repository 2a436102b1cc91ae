"""Assistive triage: similar resolved items ranked with what worked, incident summaries from
the data, and the optional language-model hook (off by default, never acting)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from apps.core.errors import MappingMissing, TransientError
from apps.inbox import services as inbox
from apps.inbox.models import Issue, Status
from apps.ops import assist, triage

from .helpers import channel, order

pytestmark = pytest.mark.django_db


def _issue(error, key, row, **kw) -> Issue:
    return inbox.issue_report(error=error, key=key, row=row, **kw)


def test_similar_resolved_items_are_ranked_with_how_and_by_whom(django_user_model):
    shop = channel("shop")
    user = django_user_model.objects.create_superuser("ana", password="pw")
    rows = [order(shop, i, received=timezone.now(), state="held") for i in range(5)]
    # three past SKU items: two fixed by mapping + retry all, one resolved by hand
    for i, sku in enumerate(("A-1", "B-2", "C-3")):
        old = _issue(
            MappingMissing(f"SKU {sku} of channel shop is not mapped to an Odoo product"),
            f"sku:{sku}@shop",
            rows[i],
            channel_code="shop",
            sku=sku,
        )
        if i < 2:
            inbox.issue_retry_all(issue=old, user=user)
            inbox.issue_row_succeeded(row=rows[i])
        else:
            inbox.issue_resolve(issue=old, user=user, note="duplicate listing")
    unrelated = _issue(TransientError("Odoo timed out"), "odoo:x", rows[3])
    inbox.issue_resolve(issue=unrelated, user=user)
    current = _issue(
        MappingMissing("SKU D-4 of channel shop is not mapped to an Odoo product"),
        "sku:D-4@shop",
        rows[4],
        channel_code="shop",
        sku="D-4",
    )
    found = triage.similar_resolved(current)
    titles = [s["issue"].key for s in found["items"]]
    assert set(titles) == {"sku:A-1@shop", "sku:B-2@shop", "sku:C-3@shop"}
    assert "odoo:x" not in titles
    assert found["actions"][0] == {"action": "Retry all", "times": 2, "by": ["ana"]}
    assert found["actions"][1]["action"] == "Resolve by hand"


def test_incident_summary_counts_channels_orders_delay_and_who_must_act():
    shop, other = channel("shop"), channel("other")
    now = timezone.now()
    a = order(shop, 1, received=now, state="ready", attempts=2)
    b = order(other, 2, received=now, state="ready", attempts=1)
    c = order(other, 3, received=now, state="failed")
    for row in (a, b, c):
        _issue(
            TransientError("Odoo is unavailable: connection refused"),
            f"order_push:{row.odoo_ref}",
            row,
            channel_code=row.channel.code,
            order_number=row.number,
        )
    Issue.objects.update(first_seen=now - timezone.timedelta(minutes=30))
    [incident] = triage.incidents()
    assert incident["category"] == "odoo_unavailable" and incident["items"] == 3
    assert incident["channels"] == ["other", "shop"]
    assert incident["orders"] == 3 and incident["needs_a_person"] == 1
    assert incident["retrying_on_its_own"] >= 2
    assert 1700 < incident["oldest_delay_seconds"] < 1900
    assert triage.incident_for(Issue.objects.first())["items"] == 3


class _Model(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Model.received.append(body)
        out = json.dumps({"text": f"{body['summary']['items']} items are affected."}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def test_assist_hook_is_off_by_default_and_only_phrases_when_set(settings):
    summary = {"items": 3, "channels": ["shop"], "issue_ids": [1, 2, 3]}
    settings.HUB_ASSIST_URL = ""
    assert not assist.enabled() and assist.phrase(summary) == ""
    server = HTTPServer(("127.0.0.1", 0), _Model)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.HUB_ASSIST_URL = f"http://127.0.0.1:{server.server_port}/"
        assert assist.phrase(summary) == "3 items are affected."
        sent = _Model.received[-1]
        assert "issue_ids" not in sent["summary"] and "Do not suggest" in sent["instruction"]
    finally:
        server.shutdown()
    # unreachable: no prose, no error for the page
    settings.HUB_ASSIST_URL = "http://127.0.0.1:9/"
    assert assist.phrase(summary) == ""
    assert Issue.objects.filter(status=Status.OPEN).count() == 0  # it never acted
