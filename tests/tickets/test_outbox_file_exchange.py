"""Upper platforms without a reply address are in file exchange: their results wait in the outbox
for an exported XLSX/CSV file (centre roles only, each export recorded), never in a retry loop."""

from __future__ import annotations

import csv
import io
import logging

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tickets.exceptions import InvalidTransition, PermissionDenied
from tickets.exchange.outbox import outbox_deliver, outbox_export, outbox_resend, outbox_sweep
from tickets.models import OutboxExport, OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def upper_ticket_in(ticket_in, upper_platform):
    def make(state, number="PDS-1"):
        return ticket_in(state, source="upper", platform=upper_platform, upstream_number=number, channel=None)
    return make


@pytest.fixture
def deliver_inline(monkeypatch):
    monkeypatch.setattr("tickets.exchange.outbox._enqueue", lambda pk: outbox_deliver(message_id=pk))


def test_results_of_a_platform_without_reply_address_wait_for_export_and_are_never_tried(
        upper_ticket_in, upper_platform, deliver_inline, caplog):
    # given: 平顶山市热线中心 has no reply address
    assert upper_platform.reply_url == "" and upper_platform.file_exchange
    # when: an upper ticket is replied and closed (deliveries run inline)
    with caplog.at_level(logging.INFO, logger="tickets.exchange.delivery"):
        ticket = upper_ticket_in("closed")
        swept = outbox_sweep()
    # then
    rows = list(OutboxMessage.objects.filter(ticket=ticket).values_list("status", "attempts", "last_error"))
    assert rows == [(OutboxStatus.AWAITING_EXPORT, 0, "")] * 2
    assert swept == 0
    assert not [r for r in caplog.records if "failed" in r.getMessage()]


def test_a_result_queued_before_the_address_was_removed_waits_for_export_instead_of_failing(
        upper_ticket_in, upper_platform):
    # given: queued while the platform had an address, then the address was removed
    upper_platform.reply_url = "http://127.0.0.1:9/refused"
    upper_platform.save()
    message = OutboxMessage.objects.get(ticket=upper_ticket_in("replied"))
    upper_platform.reply_url = ""
    upper_platform.save()
    # when
    row = outbox_deliver(message_id=message.pk, force=True)
    # then
    assert row.status == OutboxStatus.AWAITING_EXPORT and "文件交换" in row.last_error


def test_export_marks_the_results_exported_and_records_who_when_and_how_many(
        upper_ticket_in, upper_platform, dispatcher):
    # given
    upper_ticket_in("closed", "PDS-1")
    upper_ticket_in("replied", "PDS-2")
    # when
    export = outbox_export(platform=upper_platform, actor=dispatcher, format="csv")
    # then
    assert (export.platform, export.count, export.format, export.created_by) == (upper_platform, 3, "csv", dispatcher)
    assert set(OutboxMessage.objects.values_list("status", "export")) == {(OutboxStatus.EXPORTED, export.pk)}
    with pytest.raises(InvalidTransition) as nothing:
        outbox_export(platform=upper_platform, actor=dispatcher)
    assert nothing.value.code == "outbox_nothing_to_export" and OutboxExport.objects.count() == 1


def test_resend_of_a_file_exchange_result_is_refused_with_a_hint(upper_ticket_in, dispatcher):
    # given
    message = OutboxMessage.objects.get(ticket=upper_ticket_in("replied"))
    # when
    with pytest.raises(InvalidTransition) as caught:
        outbox_resend(message=message, actor=dispatcher)
    # then
    assert caught.value.code == "outbox_file_exchange" and "导出上报文件" in caught.value.message


@pytest.mark.parametrize("role", ["operator", "unit_handler", "assessor", "editor", "leader"])
def test_only_the_centre_exports(upper_ticket_in, upper_platform, personas, role):
    # given
    upper_ticket_in("replied")
    # when / then
    with pytest.raises(PermissionDenied):
        outbox_export(platform=upper_platform, actor=personas[role])
    assert OutboxMessage.objects.get().status == OutboxStatus.AWAITING_EXPORT


def rows_of(content: bytes, fmt: str) -> list[list]:
    if fmt == "xlsx":
        return [list(r) for r in load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)]
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_page_exports_a_file_for_upload_and_lists_the_export(client, upper_ticket_in, upper_platform,
                                                                   dispatcher, fmt):
    # given
    ticket = upper_ticket_in("closed", "PDS-9")
    client.force_login(dispatcher)
    page = client.get(reverse("exchange:outbox"))
    assert "文件交换（未配置回传地址）" in page.content.decode() and "导出上报文件" in page.content.decode()
    # when
    created = client.post(reverse("exchange:outbox-export-create"), {"platform": upper_platform.pk, "format": fmt})
    download = client.get(created["Location"])
    # then
    export = OutboxExport.objects.get()
    assert created.status_code == 302 and created["Location"] == reverse("exchange:outbox-export", args=[export.pk])
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    rows = rows_of(download.content, fmt)
    assert rows[0][:4] == ["上级工单编号", "工单编号", "类型", "状态"]
    assert [(r[0], r[1], r[2]) for r in rows[1:]] == [("PDS-9", ticket.number, "答复"), ("PDS-9", ticket.number, "办结")]
    assert rows[2][8:10] == ["满意", "是"]
    again = client.get(reverse("exchange:outbox-export", args=[export.pk]))
    assert rows_of(again.content, fmt) == rows  # the recorded export downloads the same rows again
    listed = client.get(reverse("exchange:outbox")).content.decode()
    assert "导出记录" in listed and reverse("exchange:outbox-export", args=[export.pk]) in listed


@pytest.mark.parametrize("role, expected", [
    ("operator", 403), ("unit_handler", 403), ("assessor", 403), ("editor", 403), ("leader", 403),
    ("dispatcher", 200), ("admin", 200), ("anonymous", 302),
])
def test_outbox_pages_per_role(client, upper_ticket_in, upper_platform, personas, dispatcher, role, expected):
    # given: one recorded export
    upper_ticket_in("replied")
    export = outbox_export(platform=upper_platform, actor=dispatcher)
    upper_ticket_in("replied", "PDS-2")
    if role != "anonymous":
        client.force_login(personas[role])
    # when
    page = client.get(reverse("exchange:outbox"))
    download = client.get(reverse("exchange:outbox-export", args=[export.pk]))
    created = client.post(reverse("exchange:outbox-export-create"), {"platform": upper_platform.pk, "format": "xlsx"})
    # then
    assert page.status_code == expected and download.status_code == expected
    assert created.status_code == (302 if expected == 200 else expected)
    if role == "anonymous":
        assert "/login" in page["Location"] or "login" in page["Location"]
    assert OutboxExport.objects.count() == (2 if expected == 200 else 1)


def test_export_form_errors_are_messages_not_500(client, upper_platform, dispatcher):
    # given
    client.force_login(dispatcher)
    # when: nothing waiting, an unknown platform, a bad format
    nothing = client.post(reverse("exchange:outbox-export-create"), {"platform": upper_platform.pk}, follow=True)
    unknown = client.post(reverse("exchange:outbox-export-create"), {"platform": "x"}, follow=True)
    # then
    assert "没有待导出上报的结果" in nothing.content.decode()
    assert "请选择上级平台" in unknown.content.decode()
    assert client.get(reverse("exchange:outbox-export", args=[999])).status_code == 404


def test_the_demo_receiver_answers_on_loopback_in_development_only(client, settings):
    # given
    url = reverse("exchange:demo-upper-platform")
    body = {"ticket_number": "RZ1", "event": "reply"}
    # when
    settings.DEBUG = False
    in_production = client.post(url, body, content_type="application/json")
    settings.DEBUG = True
    in_development = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1")
    from_afar = client.post(url, body, content_type="application/json", REMOTE_ADDR="10.0.0.8")
    # then
    assert in_production.status_code == 404 and from_afar.status_code == 404
    assert in_development.status_code == 200 and in_development.json() == {"received": "k1"}


@pytest.mark.parametrize("role, expected", [
    ("operator", 403), ("unit_handler", 403), ("assessor", 403), ("editor", 403), ("leader", 403),
    ("dispatcher", 201), ("admin", 201), ("anonymous", 401),
])
def test_the_api_exports_per_role(upper_ticket_in, upper_platform, personas, role, expected):
    from rest_framework.test import APIClient

    # given
    upper_ticket_in("closed")
    client = APIClient()
    if role != "anonymous":
        client.force_authenticate(personas[role])
    # when
    created = client.post("/api/outbox/exports/", {"platform": upper_platform.pk, "format": "csv"}, format="json")
    listed = client.get("/api/outbox/exports/")
    # then
    assert created.status_code == expected
    if expected != 201:
        assert listed.status_code == expected and created.json()["code"]
        assert OutboxExport.objects.count() == 0
        assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.AWAITING_EXPORT}
        return
    body = created.json()
    assert (body["count"], body["format"], body["platform_name"]) == (2, "csv", "平顶山市热线中心")
    assert [e["id"] for e in listed.json()] == [body["id"]]
    file = client.get(body["file"])
    assert file.status_code == 200 and file.content.decode("utf-8-sig").startswith("上级工单编号,工单编号")
    again = client.post("/api/outbox/exports/", {"platform": upper_platform.pk}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "outbox_nothing_to_export"
    bad = client.post("/api/outbox/exports/", {"platform": upper_platform.pk, "format": "pdf"}, format="json")
    assert bad.status_code == 400
