"""Field encryption at rest: MultiFernet over settings.FIELD_ENCRYPTION_KEYS (newest first).

Values are encrypted with the newest key and decrypted with any listed key, so rotating a key is:
put the new key first, keep the old ones, run `manage.py rotate_field_keys` (which re-encrypts
every EncryptedTextField row with the newest key), then drop the old key from the list.

The plaintext never reaches the database: `get_prep_value` encrypts and `from_db_value` decrypts,
so querysets, `values_list` and the admin all see plaintext in Python and ciphertext in SQL.
Lookups other than isnull/empty on an encrypted column cannot work (Fernet is randomised) and
are refused.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models, transaction

from .errors import ConfigurationError

logger = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ConfigurationError("FIELD_ENCRYPTION_KEYS is empty; cannot encrypt fields")
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def _current() -> MultiFernet:
    # Keyed on the tuple of keys so that a settings override (tests, a reloaded config) is seen.
    return _multifernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def secret_encrypt(*, plaintext: str) -> str:
    """Encrypt with the newest key. The token is ASCII (urlsafe base64)."""
    return _current().encrypt(plaintext.encode("utf-8")).decode("ascii")


def secret_decrypt(*, token: str) -> str:
    """Decrypt with whichever configured key made the token."""
    try:
        return _current().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError) as exc:
        # Never include the token: it is not secret by itself, but it is noise in the inbox.
        raise ConfigurationError(
            "cannot decrypt a stored secret: its key is not in FIELD_ENCRYPTION_KEYS"
        ) from exc


def secret_rotate(*, token: str) -> str:
    """Re-encrypt an existing token under the newest key (keeps the plaintext unchanged)."""
    try:
        return _current().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError) as exc:
        raise ConfigurationError(
            "cannot rotate a stored secret: its key is not in FIELD_ENCRYPTION_KEYS"
        ) from exc


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A TextField stored encrypted. Empty strings are stored as empty (nothing to hide).

    Not indexable and not searchable; look rows up by another column.
    """

    description = "Text encrypted at rest with MultiFernet"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value  # type: ignore[no-any-return]
        return secret_decrypt(token=value)

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return secret_encrypt(plaintext=str(value))

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in ("isnull", "exact"):
            raise ConfigurationError(f"encrypted fields do not support __{lookup_name} lookups")
        return super().get_lookup(lookup_name)


def encrypted_fields() -> Iterator[tuple[type[models.Model], list[str]]]:
    """Every installed model with encrypted fields, and the names of those fields."""
    from django.apps import apps

    for model in apps.get_models():
        names = [
            f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)
        ]
        if names:
            yield model, names


def encrypted_fields_rotate(*, batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt every encrypted column of every row under the newest key.

    Works on the raw column values (plain SQL, bypassing the field's decoding): MultiFernet.rotate
    keeps the plaintext byte-exact and never hands it to model code.
    Idempotent; safe to re-run after an interruption.
    Returns the number of values rewritten per model label.
    """
    from django.db import connection

    done: dict[str, int] = {}
    for model, names in encrypted_fields():
        table = connection.ops.quote_name(model._meta.db_table)
        pk = model._meta.pk
        assert pk is not None
        pk_col = connection.ops.quote_name(pk.column)
        cols = [
            connection.ops.quote_name(f.column)
            for f in model._meta.concrete_fields
            if f.attname in names and f.column
        ]
        count = 0
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {pk_col}, {', '.join(cols)} FROM {table}")  # noqa: S608
            rows: Sequence[Any] = cursor.fetchall()
        for start in range(0, len(rows), batch_size):
            with transaction.atomic(), connection.cursor() as cursor:
                for row in rows[start : start + batch_size]:
                    for col, token in zip(cols, row[1:], strict=True):
                        if not token:
                            continue
                        # Compare-and-set on the old token: a concurrent save in between wins and
                        # is already under the newest key.
                        cursor.execute(
                            f"UPDATE {table} SET {col} = %s "  # noqa: S608
                            f"WHERE {pk_col} = %s AND {col} = %s",
                            [secret_rotate(token=token), row[0], token],
                        )
                        count += cursor.rowcount
        done[model._meta.label] = count
        logger.info("re-encrypted %d rows of %s", count, model._meta.label)
    return done
