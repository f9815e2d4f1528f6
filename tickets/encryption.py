"""Encryption at rest of callers' names and numbers (Fernet from ``cryptography``).

Keys come from ``settings.FIELD_ENCRYPTION_KEYS`` (env ``HOTLINE_FIELD_ENCRYPTION_KEYS``): the first
encrypts, every key decrypts, so a new key can be put in front and old rows re-encrypted later
(``manage.py reencrypt_caller_data``). Fernet tokens are randomized (a fresh IV per value) and
authenticated: a wrong key or a damaged value is detected, never decrypted into garbage.

``table_rewrite`` rewrites encrypted columns in batches with plain SQL, bypassing the ORM: the
migration that encrypts existing rows and the re-encryption command both use it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

# Every Fernet token starts with these characters (version byte 0x80, then a time stamp whose high
# bytes stay zero until 2106); no normalised phone number or name does.
TOKEN_PREFIX = "gAAAAA"


class DecryptionError(Exception):
    """A stored value that none of the configured keys opens: a wrong or missing key, or a damaged value.
    The message names the column, never the value."""

    def __init__(self, where: str = ""):
        self.where = where
        super().__init__(
            f"来电人信息无法解密（{where or '加密字段'}）：加密密钥不对或数据已损坏，"
            "请检查 HOTLINE_FIELD_ENCRYPTION_KEYS 是否包含加密时使用的密钥。"
            f" Cannot decrypt {where or 'an encrypted field'}: wrong HOTLINE_FIELD_ENCRYPTION_KEYS or damaged data."
        )


@lru_cache(maxsize=8)
def _multi(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"HOTLINE_FIELD_ENCRYPTION_KEYS 的第{position}个密钥不是有效的 Fernet 密钥（应为 32 字节的 "
                f"URL-safe base64，用 docs/operations.md 中的命令生成）。Key #{position} of "
                "HOTLINE_FIELD_ENCRYPTION_KEYS is not a valid Fernet key."
            ) from None
    return MultiFernet(fernets), fernets[0]


def _keys() -> tuple[MultiFernet, Fernet]:
    keys = tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", ()) or ())
    if not keys:
        raise ImproperlyConfigured("未设置 HOTLINE_FIELD_ENCRYPTION_KEYS。HOTLINE_FIELD_ENCRYPTION_KEYS is not set.")
    return _multi(keys)


def keys_check() -> None:
    """Raise ``ImproperlyConfigured`` now if a configured key is malformed (called at start-up)."""
    _keys()


def is_token(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX)


def encrypt(text: str) -> str:
    return _keys()[0].encrypt(text.encode()).decode("ascii")


def decrypt(token: str, *, where: str = "") -> str:
    try:
        return _keys()[0].decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError, TypeError):
        raise DecryptionError(where) from None


def rotate(token: str, *, where: str = "") -> str | None:
    """``token`` encrypted with the newest key, or None when it already is."""
    multi, newest = _keys()
    try:
        newest.decrypt(token.encode("ascii"))
        return None
    except InvalidToken:
        pass
    except (UnicodeError, ValueError, TypeError):
        raise DecryptionError(where) from None
    try:
        return multi.rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError, ValueError, TypeError):
        raise DecryptionError(where) from None


def encrypt_plain(value: str, *, where: str = "") -> str | None:
    """Migration forward: a plaintext value encrypted; None for an empty or already encrypted one
    (a token that no key opens is an error, not something to encrypt twice)."""
    if not value:
        return None
    if is_token(value):
        decrypt(value, where=where)
        return None
    return encrypt(value)


def decrypt_token(value: str, *, where: str = "") -> str | None:
    """Migration backward: an encrypted value in plaintext; None for an empty or plaintext one."""
    if not value or not is_token(value):
        return None
    return decrypt(value, where=where)


def table_rewrite(connection, *, table: str, columns: list[str], transform: Callable[..., str | None],
                  batch_size: int = 1000, atomic_batches: bool = True) -> dict[str, int]:
    """Apply ``transform(value, where=...)`` to the non-empty values in ``columns`` of every row of
    ``table``, ``batch_size`` rows at a time in primary-key order; a value for which it returns None
    is left alone. Each batch is one transaction (``atomic_batches``; inside a migration the
    migration's own transaction) and locks its rows (PostgreSQL), so that a write made meanwhile by
    the running application is not overwritten. Returns ``{"rows": scanned, "rewritten": rows updated, "values": values changed}``."""
    qn = connection.ops.quote_name
    select = (f"SELECT {qn('id')}, {', '.join(qn(c) for c in columns)} FROM {qn(table)} "
              f"WHERE {qn('id')} > %s ORDER BY {qn('id')} LIMIT %s"
              + (" FOR UPDATE" if connection.features.has_select_for_update else ""))
    update = (f"UPDATE {qn(table)} SET {', '.join(f'{qn(c)} = %s' for c in columns)} "
              f"WHERE {qn('id')} = %s")
    counts = {"rows": 0, "rewritten": 0, "values": 0}
    last = 0
    while True:
        with transaction.atomic(using=connection.alias) if atomic_batches else nullcontext():
            with connection.cursor() as cursor:
                cursor.execute(select, [last, batch_size])
                rows = cursor.fetchall()
                last = rows[-1][0] if rows else last
                updates = []
                for pk, *values in rows:
                    new = [transform(value, where=f"{table}.{column} id={pk}") if value else None
                           for column, value in zip(columns, values, strict=True)]
                    if any(v is not None for v in new):
                        counts["values"] += sum(v is not None for v in new)
                        updates.append([o if n is None else n for o, n in zip(values, new, strict=True)] + [pk])
                if updates:
                    cursor.executemany(update, updates)
                counts["rows"] += len(rows)
                counts["rewritten"] += len(updates)
        if len(rows) < batch_size:
            return counts


def encrypted_columns() -> dict[str, list[str]]:
    """``{table: [column, …]}`` of every ``EncryptedCharField`` of the installed models."""
    from django.apps import apps

    from .fields import EncryptedCharField

    found: dict[str, list[str]] = {}
    for model in apps.get_models():
        columns = [f.column for f in model._meta.concrete_fields if isinstance(f, EncryptedCharField)]
        if columns and not model._meta.proxy:
            found.setdefault(model._meta.db_table, []).extend(columns)
    return found


def reencrypt_all(*, batch_size: int = 1000, using: str = "default") -> dict[str, dict[str, int]]:
    """Re-encrypt every encrypted value with the newest key (after a key was put in front), one
    transaction per batch; values already under the newest key are not rewritten, so it can be
    stopped and run again. Returns the counts per table."""
    from django.db import connections

    connection = connections[using]
    return {table: table_rewrite(connection, table=table, columns=columns, transform=rotate, batch_size=batch_size)
            for table, columns in sorted(encrypted_columns().items())}
