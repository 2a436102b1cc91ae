"""API tokens: hashed at rest, scopes, revocation, expiry, channel isolation, throttling."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from apps.sales_channels.models import ApiToken
from apps.sales_channels.services import api_token_revoke

pytestmark = pytest.mark.django_db


def get(client: Client, url: str, token: str | None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get(url, **headers)


def test_token_format_and_no_plaintext_in_database(b2b_channel: Any, make_token: Any) -> None:
    # given
    token, raw = make_token(b2b_channel, "orders:write,orders:read")
    # then the token is hub_<prefix>_<secret> and only its SHA-256 is stored
    assert raw.startswith(f"hub_{token.prefix}_") and len(raw) > 40
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM sales_channels_apitoken WHERE id = %s", [token.pk])
        row = cursor.fetchone()
    secret_part = raw.split("_", 2)[2]
    assert not any(isinstance(v, str) and (raw in v or secret_part in v) for v in row)
    assert len(token.token_hash) == 64


def test_own_channel_with_scope(client: Client, b2b_channel: Any, make_token: Any) -> None:
    _, raw = make_token(b2b_channel, "events:read")
    resp = get(client, "/api/v1/channel/", raw)
    assert resp.status_code == 200
    assert resp.json()["code"] == "acme-b2b" and resp.json()["warehouses"] == [1, 2]
    assert "access_token" not in resp.json()


def test_missing_scope_is_403(client: Client, b2b_channel: Any, make_token: Any) -> None:
    _, raw = make_token(b2b_channel, "orders:write")
    resp = get(client, "/api/v1/channel/", raw)
    assert resp.status_code == 403
    assert resp.json()["error"] == "forbidden" and "events:read" in resp.json()["reason"]


def test_missing_bad_revoked_and_expired_tokens_are_401(
    client: Client, b2b_channel: Any, make_token: Any
) -> None:
    assert get(client, "/api/v1/channel/", None).status_code == 401
    token, raw = make_token(b2b_channel, "events:read")
    tampered = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    assert get(client, "/api/v1/channel/", tampered).status_code == 401
    assert get(client, "/api/v1/channel/", "hub_unknownprefix_xyz").status_code == 401
    api_token_revoke(prefix=token.prefix)
    assert get(client, "/api/v1/channel/", raw).status_code == 401
    _, expiring = make_token(
        b2b_channel, "events:read", expires_at=timezone.now() + dt.timedelta(hours=1)
    )
    assert get(client, "/api/v1/channel/", expiring).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
        resp = get(client, "/api/v1/channel/", expiring)
    assert resp.status_code == 401 and "expired" in resp.json()["reason"]


def test_other_channels_answer_404(
    client: Client, b2b_channel: Any, make_channel: Any, make_token: Any
) -> None:
    other = make_channel("other-b2b", "b2b_api")
    _, raw = make_token(b2b_channel, "events:read")
    assert get(client, "/api/v1/channels/acme-b2b/", raw).status_code == 200
    assert get(client, f"/api/v1/channels/{other.code}/", raw).status_code == 404
    assert get(client, "/api/v1/channels/does-not-exist/", raw).status_code == 404


def test_last_used_is_written_at_most_once_a_minute(
    client: Client, b2b_channel: Any, make_token: Any
) -> None:
    token, raw = make_token(b2b_channel, "events:read")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        get(client, "/api/v1/channel/", raw)
        first = ApiToken.objects.get(pk=token.pk).last_used_at
        assert first is not None
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        get(client, "/api/v1/channel/", raw)
        assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        get(client, "/api/v1/channel/", raw)
        assert ApiToken.objects.get(pk=token.pk).last_used_at > first


def test_throttle_per_token(client: Client, b2b_channel: Any, make_token: Any) -> None:
    b2b_channel.api_rate = "3/min"
    b2b_channel.save()
    _, raw = make_token(b2b_channel, "events:read")
    _, other = make_token(b2b_channel, "events:read")
    codes = [get(client, "/api/v1/channel/", raw).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert get(client, "/api/v1/channel/", other).status_code == 200  # its own bucket


def test_unknown_scope_is_refused(b2b_channel: Any, make_token: Any) -> None:
    from apps.core.errors import PermanentError

    with pytest.raises(PermanentError, match="unknown scope"):
        make_token(b2b_channel, "orders:delete")
