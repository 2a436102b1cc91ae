"""Encryption at rest: no plaintext in the database; rotation keeps data readable."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from apps.core.crypto import encrypted_fields_rotate, secret_decrypt, secret_encrypt
from apps.core.errors import ConfigurationError
from apps.sales_channels.models import Channel, ChannelSecret

pytestmark = pytest.mark.django_db


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


def test_credentials_and_secrets_are_not_stored_in_plaintext(shopify_channel: Any) -> None:
    # given a channel created with an access token and a webhook secret
    secret = ChannelSecret.objects.get(channel=shopify_channel)
    # when the raw columns are read
    token_raw = raw_column("sales_channels_channel", "access_token", shopify_channel.pk)
    secret_raw = raw_column("sales_channels_channelsecret", "secret", secret.pk)
    # then they are Fernet tokens, not the plaintext, and the model decrypts them
    assert "shpat_live_access_token_123" not in token_raw and token_raw.startswith("gAAAA")
    assert "shpss_test_secret" not in secret_raw
    assert Channel.objects.get(pk=shopify_channel.pk).access_token == "shpat_live_access_token_123"
    assert ChannelSecret.objects.get(pk=secret.pk).secret == "shpss_test_secret"


def test_key_rotation_old_data_still_decrypts_and_rotate_reencrypts(
    settings: Any, shopify_channel: Any
) -> None:
    # given data encrypted under the current (old) key
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    before = raw_column("sales_channels_channel", "access_token", shopify_channel.pk)
    newest = new_key()
    # when a new key is put first
    settings.FIELD_ENCRYPTION_KEYS = [newest, *old_keys]
    # then the old ciphertext still decrypts
    assert Channel.objects.get(pk=shopify_channel.pk).access_token == "shpat_live_access_token_123"
    # when rotating
    counts = encrypted_fields_rotate()
    # then every value is rewritten and readable with the newest key alone
    assert counts["sales_channels.Channel"] >= 1 and counts["sales_channels.ChannelSecret"] >= 1
    after = raw_column("sales_channels_channel", "access_token", shopify_channel.pk)
    assert after != before
    settings.FIELD_ENCRYPTION_KEYS = [newest]
    assert Channel.objects.get(pk=shopify_channel.pk).access_token == "shpat_live_access_token_123"
    assert ChannelSecret.objects.get(channel=shopify_channel).secret == "shpss_test_secret"


def test_unknown_key_is_a_configuration_error() -> None:
    token = secret_encrypt(plaintext="x")
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key()]), pytest.raises(ConfigurationError):
        secret_decrypt(token=token)
