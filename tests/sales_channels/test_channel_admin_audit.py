"""Channel changes in the admin are audited, and no credential reaches the audit log."""

from __future__ import annotations

import json

import pytest

from apps.core.models import AuditEntry
from apps.sales_channels.models import Channel

pytestmark = pytest.mark.django_db


def test_editing_a_channel_is_audited_without_its_credentials(admin_client) -> None:
    # given a WooCommerce channel with credentials
    channel = Channel.objects.create(
        code="woo-audit",
        name="Woo",
        kind="woocommerce",
        api_base_url="http://127.0.0.1:18098",
        consumer_key="ck_plaintext_key_123",
        consumer_secret="cs_plaintext_secret_456",
    )
    # when an admin pauses it through the admin page
    channel.state = "paused"
    channel.save()
    from django.contrib.admin.sites import site

    model_admin = site._registry[Channel]
    request = admin_client.get("/admin/").wsgi_request
    model_admin.log_change(request, channel, "paused")
    # then the change is audited, with every credential masked
    entry = AuditEntry.objects.filter(object_id=str(channel.pk)).latest("pk")
    dumped = json.dumps([entry.before, entry.after])
    assert "ck_plaintext_key_123" not in dumped
    assert "cs_plaintext_secret_456" not in dumped
    assert entry.after["consumer_key"] == "***"
