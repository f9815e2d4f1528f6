"""Callers' names and numbers are encrypted at rest: the database (and a dump of it) holds Fernet
tokens, the application sees plaintext, lookups go through the digest, keys rotate, a wrong key is a
clear error, and audit rows keep no caller data either."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tickets import services
from tickets.encryption import DecryptionError
from tickets.imports import import_file
from tickets.models import Call, CallerDataAccess, EventType, Ticket, TicketEvent
from tickets.privacy import phone_digest, query_redact
from tickets.selectors import ticket_duplicates

from .import_helpers import TICKET_HEADERS, csv_bytes, ticket_row

ROOT = Path(__file__).resolve().parents[2]
PHONE, NAME = "13812345678", "张三"  # tests/conftest.py ticket_kwargs
K1, K2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()

pytestmark = pytest.mark.django_db


def raw_rows(table: str, columns: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} ORDER BY id")
        return cursor.fetchall()


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- at rest ---------------------------------------------------------------------------------


def test_the_database_holds_tokens_and_the_orm_plaintext(new_ticket, operator):
    # given
    ticket = new_ticket()
    services.call_create(actor=operator, caller_phone="139-1234-5678", kind="new", ticket=ticket)
    # when
    stored = raw_rows("tickets_ticket", "caller_name, caller_phone") + raw_rows("tickets_call", "caller_phone, ''")
    # then: no name, no number, not even the number's last digits in any stored value
    text = repr(stored)
    assert NAME not in text and PHONE not in text and "5678" not in text and "13912345678" not in text
    assert all(value.startswith("gAAAAA") for row in stored for value in row if value)
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.caller_name, ticket.caller_phone) == (NAME, PHONE)
    assert Call.objects.get().caller_phone == "13912345678"
    assert list(Ticket.objects.values_list("caller_phone", flat=True)) == [PHONE]


def test_each_value_gets_its_own_ciphertext_and_empty_stays_empty(new_ticket):
    # given: two tickets from the same caller, one without a caller
    new_ticket(), new_ticket()
    new_ticket(caller_name="", caller_phone="")
    # when
    (name1, phone1), (name2, phone2), (name3, phone3) = raw_rows("tickets_ticket", "caller_name, caller_phone")
    # then: randomized ciphertext (equal plaintexts are not linkable), "" kept as ""
    assert phone1 != phone2 and name1 != name2
    assert (name3, phone3) == ("", "")
    assert Ticket.objects.exclude(caller_phone="").count() == 2
    assert Ticket.objects.filter(caller_name="").count() == 1


def test_max_length_is_checked_on_the_plaintext(new_ticket):
    # given / when
    with pytest.raises(Exception) as caught:
        new_ticket(caller_name="王" * 51)
    # then: the service's clear error, nothing written
    assert getattr(caught.value, "fields", {}).get("caller_name")
    assert Ticket.objects.count() == 0
    assert new_ticket(caller_name="王" * 50).caller_name == "王" * 50


def test_masked_views_still_mask(ticket_in, unit_handler, dispatcher):
    # given
    ticket = ticket_in("handling")
    # when
    handler_row = api(unit_handler).get("/api/tickets/").json()["results"][0]
    centre_row = api(dispatcher).get("/api/tickets/").json()["results"][0]
    detail = api(dispatcher).get(f"/api/tickets/{ticket.pk}/").json()
    # then
    assert (handler_row["caller_name"], handler_row["caller_phone"]) == ("张*", "138****5678")
    assert centre_row["caller_phone"] == "138****5678"
    assert (detail["caller_name"], detail["caller_phone"]) == (NAME, PHONE)


# --- lookups ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lookup", [
    {"caller_phone": PHONE}, {"caller_name": NAME}, {"caller_phone__in": [PHONE]},
    {"caller_name__icontains": "张"}, {"caller_phone__startswith": "138"}, {"caller_phone__lower": PHONE},
])
def test_a_lookup_on_an_encrypted_field_raises_a_clear_error(new_ticket, lookup):
    # given
    new_ticket()
    # when / then
    with pytest.raises(FieldError, match="加密字段不能按内容查询，请用 caller_phone_digest"):
        list(Ticket.objects.filter(**lookup))


def test_isnull_and_empty_lookups_work(new_ticket):
    # given
    new_ticket()
    # then
    assert Ticket.objects.filter(caller_phone__isnull=False).count() == 1
    assert not Ticket.objects.filter(caller_phone="").exists()


def test_repeat_callers_are_found_by_digest(client, new_ticket, operator, dispatcher):
    # given: an earlier ticket of the caller, registered with another spelling of the number
    earlier = new_ticket(caller_phone="+86 138-1234-5678")
    new_ticket(caller_phone="13900000000")
    # when
    found = ticket_duplicates(user=dispatcher, caller_phone="138 1234 5678")
    listed = api(dispatcher).get("/api/tickets/", {"caller_phone": "138-1234-5678"}).json()
    client.force_login(operator)
    assist = client.get(reverse("tickets:call-assist"), {"caller_phone": "13812345678"})
    # then
    assert earlier.pk in [t.pk for t in found]
    assert [row["id"] for row in listed["results"]] == [earlier.pk]
    assert assist.status_code == 200 and earlier.number in assist.content.decode()
    assert Ticket.objects.get(pk=earlier.pk).caller_phone_digest == phone_digest(PHONE)


# --- keys ------------------------------------------------------------------------------------


def test_rotation_reads_old_rows_and_the_command_moves_them_to_the_new_key(settings, new_ticket, operator):
    # given: rows written with K1
    settings.FIELD_ENCRYPTION_KEYS = [K1]
    ticket = new_ticket()
    services.call_create(actor=operator, caller_phone=PHONE, kind="new")
    new_ticket(caller_name="", caller_phone="")
    before = raw_rows("tickets_ticket", "caller_phone")
    # when: K2 is put in front
    settings.FIELD_ENCRYPTION_KEYS = [K2, K1]
    # then: old rows still read
    assert Ticket.objects.get(pk=ticket.pk).caller_phone == PHONE
    # when: re-encrypted, in batches of one row
    out = _call("reencrypt_caller_data", "--batch-size", "1")
    # then: counts reported, ciphertext changed, K2 alone reads everything
    assert "tickets_ticket：检查 2 行，重新加密 1 行（2 个值）" in out
    assert "tickets_call：检查 1 行，重新加密 1 行（1 个值）" in out
    assert raw_rows("tickets_ticket", "caller_phone") != before
    settings.FIELD_ENCRYPTION_KEYS = [K2]
    assert Ticket.objects.get(pk=ticket.pk).caller_phone == PHONE and Call.objects.get().caller_phone == PHONE
    # when: run again, nothing is left to do
    assert "共重新加密 0 行" in _call("reencrypt_caller_data")


def _call(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_a_wrong_key_is_a_clear_error_not_garbage(settings, new_ticket):
    # given
    new_ticket()
    settings.FIELD_ENCRYPTION_KEYS = [K2]
    # when / then
    with pytest.raises(DecryptionError, match="tickets_ticket.caller_name") as caught:
        Ticket.objects.get()
    assert "HOTLINE_FIELD_ENCRYPTION_KEYS" in str(caught.value) and "gAAAAA" not in str(caught.value)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="无法解密"):
        _call("reencrypt_caller_data")


def test_a_wrong_key_gives_a_500_with_a_code_and_no_data(settings, ticket_in, dispatcher):
    # given
    ticket = ticket_in("handling")
    settings.FIELD_ENCRYPTION_KEYS = [K2]
    browser = Client(raise_request_exception=False)
    browser.force_login(dispatcher)
    # when
    api_response = browser.get("/api/tickets/")
    page = browser.get(reverse("tickets:detail", args=[ticket.pk]))
    # then
    assert api_response.status_code == 500 and api_response.json()["code"] == "decryption_failed"
    assert page.status_code == 500 and "来电人信息无法解密" in page.content.decode()
    for body in (api_response.content, page.content):
        assert b"gAAAAA" not in body and PHONE.encode() not in body


def test_a_damaged_value_is_a_clear_error(new_ticket):
    # given: one character of the stored token changed
    ticket = new_ticket()
    (token,), = raw_rows("tickets_ticket", "caller_phone")
    damaged = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tickets_ticket SET caller_phone = %s WHERE id = %s", [damaged, ticket.pk])
    # when / then
    with pytest.raises(DecryptionError, match="tickets_ticket.caller_phone"):
        Ticket.objects.get(pk=ticket.pk)


def _settings_run(**env_overrides: str):
    drop = ("DJANGO_", "HOTLINE_", "AXES_", "CELERY_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"DJANGO_SETTINGS_MODULE": "hotline.settings.base", "DJANGO_ALLOWED_HOSTS": "x.example"},
               **env_overrides)
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(len(settings.FIELD_ENCRYPTION_KEYS), settings.FIELD_ENCRYPTION_KEYS[0][:6])")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def _skip_if_dot_env():
    if (ROOT / ".env").exists():
        pytest.skip("a local .env file exists and settings read it: production defaults cannot be checked")


def test_production_refuses_to_start_without_encryption_keys():
    _skip_if_dot_env()
    # when
    done = _settings_run(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 60, HOTLINE_FIELD_ENCRYPTION_KEYS="")
    # then
    assert done.returncode != 0 and "ImproperlyConfigured" in done.stderr
    assert "HOTLINE_FIELD_ENCRYPTION_KEYS is not set" in done.stderr and "来电人信息加密密钥" in done.stderr


def test_a_malformed_key_stops_the_start():
    _skip_if_dot_env()
    # when
    done = _settings_run(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 60,
                         HOTLINE_FIELD_ENCRYPTION_KEYS=f"{K1},not-a-key")
    # then: names the position, never echoes the key
    assert done.returncode != 0 and "第2个密钥不是有效的 Fernet 密钥" in done.stderr
    assert K1 not in done.stderr


def test_debug_derives_a_stable_key_and_production_takes_a_list():
    _skip_if_dot_env()
    # when
    first = _settings_run(DJANGO_DEBUG="1", DJANGO_SECRET_KEY="same-secret")
    second = _settings_run(DJANGO_DEBUG="1", DJANGO_SECRET_KEY="same-secret")
    listed = _settings_run(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 60, HOTLINE_FIELD_ENCRYPTION_KEYS=f"{K2}, {K1}")
    # then
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and first.stdout.startswith("1 ")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["2", K2[:6]]


# --- imports and audit rows ------------------------------------------------------------------


def test_imported_tickets_are_encrypted_and_their_events_keep_no_caller_data(directory, dispatcher):
    # given: imported (COPY on PostgreSQL, bulk_create elsewhere), then imported again with another caller
    import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, [ticket_row()]), actor=dispatcher)
    changed = ticket_row(**{"来电人": "李四", "联系电话": "13700001111"})
    # when
    summary = import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, [changed]), actor=dispatcher)
    # then
    assert summary["updated"] == 1
    ticket = Ticket.objects.get()
    assert (ticket.caller_name, ticket.caller_phone) == ("李四", "13700001111")
    stored = repr(raw_rows("tickets_ticket", "caller_name, caller_phone"))
    assert "李四" not in stored and "13700001111" not in stored
    event = ticket.events.filter(type=EventType.IMPORTED).last()
    assert set(event.data["changed"]) >= {"caller_name", "caller_phone", "caller_phone_digest"}
    events = repr(raw_rows("tickets_ticketevent", "data, note"))
    for secret in ("张三", "李四", PHONE, "13700001111", phone_digest(PHONE)):
        assert secret not in events


def test_imported_calls_are_encrypted(directory):
    # given
    data = csv_bytes(["来电时间", "主叫号码", "坐席工号", "通话时长", "工单编号"],
                     [["2024-04-01 08:01", "138-1234-5678", "1001", "95", ""]])
    # when
    import_file(kind="calls", data=data)
    # then
    (stored,), = raw_rows("tickets_call", "caller_phone")
    assert stored.startswith("gAAAAA") and "5678" not in stored
    assert Call.objects.get().caller_phone == PHONE


def test_the_export_log_keeps_no_searched_number(ticket_in, dispatcher):
    # given
    ticket_in("handling")
    # when
    response = api(dispatcher).get("/api/tickets/export.xlsx", {"caller_phone": "138-1234-5678", "status": "handling"})
    # then
    assert response.status_code == 200
    assert CallerDataAccess.objects.get().detail == "导出工单1件 caller_phone=[已隐去]&status=handling"
    # and a number typed into another filter is scrubbed too
    assert query_redact("q=%E6%A5%BC138%201234%205678&page=2") == "q=楼[电话已隐去]&page=2"


# --- the migration ---------------------------------------------------------------------------

BEFORE, AFTER = ("tickets", "0006_notifications"), ("tickets", "0007_encrypt_caller_data")


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_rows_redacts_audit_rows_and_reverses(dispatcher):
    # given: the schema before encryption, with plaintext rows and caller data in audit rows
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM tickets_ticket")
            assert cursor.fetchall() == []
        ticket_id = _insert_plain_ticket(dispatcher)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO tickets_ticketevent (ticket_id, type, from_status, to_status, note, data, created_at) "
                "VALUES (%s, 'imported', '', 'closed', '', %s, CURRENT_TIMESTAMP)",
                [ticket_id, '{"changed": {"caller_phone": ["13812345678", "13700001111"], "status": ["a", "b"]}}'])
            cursor.execute(
                "INSERT INTO tickets_callerdataaccess (user_id, action, detail, created_at) "
                "VALUES (%s, 'export', %s, CURRENT_TIMESTAMP)",
                [dispatcher.pk, "导出工单1件 status=handling&caller_phone=138-1234-5678"])
        # when
        executor = MigrationExecutor(connection)
        executor.migrate([AFTER])
        executor = MigrationExecutor(connection)  # and the later ones: the ORM reads the current schema
        executor.migrate(executor.loader.graph.leaf_nodes())
        # then: encrypted in place, readable through the ORM; audit rows redacted, the rest kept
        (name, phone), = raw_rows("tickets_ticket", "caller_name, caller_phone")
        assert name.startswith("gAAAAA") and phone.startswith("gAAAAA")
        ticket = Ticket.objects.get(pk=ticket_id)
        assert (ticket.caller_name, ticket.caller_phone) == (NAME, PHONE)
        event = TicketEvent.objects.get()
        assert event.data["changed"]["caller_phone"] == ["[来电人信息不记入事件]"] * 2
        assert event.data["changed"]["status"] == ["a", "b"]
        assert CallerDataAccess.objects.get().detail == "导出工单1件 status=handling&caller_phone=[已隐去]"
        # when: run again over encrypted rows (a re-run after a failure), nothing changes
        from tickets.encryption import encrypt_plain, table_rewrite

        counts = table_rewrite(connection, table="tickets_ticket", columns=["caller_name", "caller_phone"],
                               transform=encrypt_plain)
        assert counts == {"rows": 1, "rewritten": 0, "values": 0}
        # when: migrated back
        executor = MigrationExecutor(connection)
        executor.migrate([BEFORE])
        # then: plaintext again
        assert raw_rows("tickets_ticket", "caller_name, caller_phone") == [(NAME, PHONE)]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def _insert_plain_ticket(user) -> int:
    """A ticket row as the old schema stored it (plain SQL throughout: the models are the new ones,
    with columns the old schema does not have)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM tickets_appealtype WHERE code = 'problem'")
        (appeal_id,), = cursor.fetchall()
        cursor.execute("SELECT id FROM tickets_category WHERE code = '0201'")
        (category_id,), = cursor.fetchall()
        cursor.execute(
            "INSERT INTO tickets_ticket (number, source, upstream_number, handling_mode, appeal_type_id, "
            "category_id, title, content, caller_name, caller_phone, caller_phone_digest, address, urgent, "
            "confidential, contact_granted, status, registered_at, deadline_warning, reply_text, internal_note, "
            "return_count, extension_count, redo_count, callback_result, closed_by_judgement, created_at, "
            "updated_at) VALUES ('RZ-OLD-1', 'local', '', 'dispatched', %s, %s, '', '停水', %s, %s, %s, '', "
            "false, false, false, 'pending_dispatch', CURRENT_TIMESTAMP, '', '', '', 0, 0, 0, '', false, "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            [appeal_id, category_id, NAME, PHONE, phone_digest(PHONE)])
        cursor.execute("SELECT id FROM tickets_ticket WHERE number = 'RZ-OLD-1'")
        return cursor.fetchone()[0]


# --- a stolen dump ---------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_database_dump_contains_no_caller_name_or_number(ticket_in, new_ticket, operator, dispatcher,
                                                          directory, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump needs PostgreSQL: set DATABASE_URL=postgres://…")
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed (Debian postgresql-client; .ci/run installs it)")
    # given: committed tickets, calls, an imported-then-changed ticket and an export by number
    callers = [("张三", PHONE), ("欧阳娜娜", "13987654321"), ("李四", "13700001111"), ("王五", "03756012345")]
    ticket = ticket_in("handling")
    new_ticket(caller_name=callers[1][0], caller_phone=callers[1][1])
    services.call_create(actor=operator, caller_phone=callers[3][1], kind="new", ticket=ticket)
    import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, [ticket_row(**{"工单编号": "RZ2024040100009"})]),
                actor=dispatcher)
    import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, [ticket_row(
        **{"工单编号": "RZ2024040100009", "来电人": callers[2][0], "联系电话": callers[2][1]})]), actor=dispatcher)
    assert api(dispatcher).get("/api/tickets/export.xlsx", {"caller_phone": callers[1][1]}).status_code == 200
    settings_dict = connection.settings_dict
    url = (f"postgresql://{settings_dict.get('USER') or 'postgres'}@{settings_dict.get('HOST') or '127.0.0.1'}:"
           f"{settings_dict.get('PORT') or '5432'}/{settings_dict['NAME']}")
    env = {**os.environ}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    # when
    dump = subprocess.run(["pg_dump", "--data-only", url], check=True, capture_output=True, env=env,
                          timeout=300).stdout.decode()
    # then: the rows are in the dump (it is not empty), the callers are not
    assert ticket.number in dump and "RZ2024040100009" in dump
    assert dump.count("gAAAAA") >= 7
    for name, phone in callers:
        assert name not in dump, name
        assert phone not in dump, phone
        assert not re.search(r"(?<!\d)" + phone[:3] + r"\D?" + phone[3:7] + r"\D?" + phone[7:] + r"(?!\d)", dump)
