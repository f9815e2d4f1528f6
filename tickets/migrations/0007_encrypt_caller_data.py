"""Callers' names and numbers encrypted at rest (tickets/fields.py, HOTLINE_FIELD_ENCRYPTION_KEYS).

1. The three caller columns become ``text`` holding Fernet tokens.
2. Existing plaintext rows are encrypted in batches of 1000 (values that already are tokens and open
   with a configured key are left alone, so a re-run after a failure is harmless; a token that no key
   opens stops the migration). Backwards: decrypted again, then the columns shrink back.
3. Audit rows written before this migration that hold caller data are redacted, once: ``imported``
   events listed old and new caller names/numbers in ``data.changed``, and export log rows kept the
   query string with ``caller_phone=<number>``. On PostgreSQL the append-only triggers of 0005 are
   disabled for these UPDATEs and enabled again in the same transaction. Not reversible (the values
   are gone, which is the point); backwards it does nothing.
"""

import json
import re

from django.db import migrations

import tickets.fields
from tickets import encryption

ENCRYPTED = {"tickets_ticket": ["caller_name", "caller_phone"], "tickets_call": ["caller_phone"]}
CALLER_FIELDS = ("caller_name", "caller_phone", "caller_phone_digest")
REDACTED_EVENT = "[来电人信息不记入事件]"
CALLER_PHONE_PARAM = re.compile(r"(caller_phone=)[^&\s]+")
PHONE_DIGITS = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)")


def encrypt_rows(apps, schema_editor):
    for table, columns in ENCRYPTED.items():
        encryption.table_rewrite(schema_editor.connection, table=table, columns=columns,
                                 transform=encryption.encrypt_plain, atomic_batches=False)


def decrypt_rows(apps, schema_editor):
    for table, columns in ENCRYPTED.items():
        encryption.table_rewrite(schema_editor.connection, table=table, columns=columns,
                                 transform=encryption.decrypt_token, atomic_batches=False)


def _redacted_event(data):
    data = json.loads(data) if isinstance(data, str) else data
    changed = (data or {}).get("changed") if isinstance(data, dict) else None
    if not isinstance(changed, dict) or not any(name in changed for name in CALLER_FIELDS):
        return None
    for name in CALLER_FIELDS:
        if name in changed:
            changed[name] = [REDACTED_EVENT, REDACTED_EVENT]
    return json.dumps(data, ensure_ascii=False)


def _redacted_detail(detail):
    new = PHONE_DIGITS.sub("[已隐去]", CALLER_PHONE_PARAM.sub(r"\1[已隐去]", detail or ""))
    return new if new != detail else None


def redact_audit_rows(apps, schema_editor):
    connection = schema_editor.connection
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, data FROM tickets_ticketevent WHERE type = 'imported'")
        events = [(new, pk) for pk, data in cursor.fetchall() if (new := _redacted_event(data)) is not None]
        cursor.execute("SELECT id, detail FROM tickets_callerdataaccess WHERE detail <> ''")
        details = [(new, pk) for pk, detail in cursor.fetchall() if (new := _redacted_detail(detail)) is not None]
        for table, rows, sql in (
            ("tickets_ticketevent", events,
             "UPDATE tickets_ticketevent SET data = %s" + ("::jsonb" if postgres else "") + " WHERE id = %s"),
            ("tickets_callerdataaccess", details, "UPDATE tickets_callerdataaccess SET detail = %s WHERE id = %s"),
        ):
            if not rows:
                continue
            if postgres:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
            cursor.executemany(sql, rows)
            if postgres:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0006_notifications")]

    operations = [
        migrations.AlterField(
            model_name="ticket",
            name="caller_name",
            field=tickets.fields.EncryptedCharField(blank=True, max_length=50, verbose_name="来电人"),
        ),
        migrations.AlterField(
            model_name="ticket",
            name="caller_phone",
            field=tickets.fields.EncryptedCharField(blank=True, max_length=20, verbose_name="联系电话"),
        ),
        migrations.AlterField(
            model_name="call",
            name="caller_phone",
            field=tickets.fields.EncryptedCharField(blank=True, max_length=20, verbose_name="主叫号码"),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows),
        migrations.RunPython(redact_audit_rows, migrations.RunPython.noop),
    ]
