"""Imports respect the lifecycle: a row that moves an existing ticket goes through the transitions
of ``ALLOWED_TRANSITIONS`` (one event per step, marked as imported) or is refused with a row error;
an older file never moves a ticket back or reopens a closed one."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from tickets import services
from tickets.imports import ImportFailed, import_file
from tickets.models import EventType, Status, Ticket, TicketEvent

from .import_helpers import TICKET_HEADERS, csv_bytes, errors_of, ticket_row

TZ = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db
NUMBER = "RZ2024040100001"
OPEN = {"办结时间": "", "回访结果": "", "是否解决": ""}
UNSIGNED = {**OPEN, "签收时间": ""}
UNDISPATCHED = {**UNSIGNED, "承办单位": "", "派单时间": ""}


def load(**values):
    return import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, [ticket_row(**values)]), name="f.csv")


def state():
    ticket = Ticket.objects.get(number=NUMBER)
    return (Ticket.objects.filter(pk=ticket.pk).values().get(),
            list(TicketEvent.objects.filter(ticket=ticket).order_by("pk").values_list("pk", flat=True)))


def refused(**values) -> list[tuple[int, str, str]]:
    before = state()
    with pytest.raises(ImportFailed) as caught:
        load(**values)
    assert state() == before  # nothing written
    return errors_of(caught.value)


def test_a_later_file_moves_the_ticket_step_by_step_with_imported_events(directory, dispatcher):
    # given: the ticket imported while it waited for signing
    load(**UNSIGNED)
    first = TicketEvent.objects.order_by("-pk").first().pk
    # when: the next export has it signed and closed with a callback
    summary = import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, [ticket_row()]), name="later.csv",
                          actor=dispatcher)
    # then: each step of the lifecycle is an event, at the file's times, marked as imported
    ticket = Ticket.objects.get(number=NUMBER)
    assert summary["updated"] == 1 and ticket.status == Status.CLOSED
    events = list(ticket.events.filter(pk__gt=first).order_by("pk"))
    assert [(e.type, e.from_status, e.to_status) for e in events] == [
        (EventType.SIGNED, Status.PENDING_SIGN, Status.HANDLING),
        (EventType.CALLBACK, Status.HANDLING, Status.CLOSED),
        (EventType.IMPORTED, Status.PENDING_SIGN, Status.CLOSED),
    ]
    assert events[0].created_at == datetime(2024, 4, 1, 11, 0, tzinfo=TZ)
    assert events[1].created_at == datetime(2024, 4, 3, 16, 30, tzinfo=TZ)
    assert events[1].data["result"] == "satisfied"
    assert all(e.data["imported"] is True and e.data["row"] == 2 and e.data["file"] == "later.csv"
               for e in events[:2])
    assert all(e.actor_id == dispatcher.pk for e in events)


def test_an_older_file_does_not_reopen_a_closed_ticket(directory):
    # given
    load()
    # when: an older export, from before it was closed
    errors = refused(**OPEN)
    # then
    assert errors == [(2, "工单编号", f"工单{NUMBER}在系统中已是“已办结”，文件中为“办理中”：导入不能重开已办结或已并单的工单。")]


def test_an_older_file_does_not_move_a_signed_ticket_back(directory):
    # given
    load(**OPEN)
    # when
    errors = refused(**UNSIGNED)
    # then
    assert errors == [(2, "工单编号", f"工单{NUMBER}在系统中为“办理中”，文件中为“待签收”：文件早于系统中的记录，导入不能使工单回退。")]


def test_the_original_file_does_not_undo_work_done_in_the_system(directory, unit_handler):
    # given: imported for 纸坊镇, then signed in the system
    load(**{**UNSIGNED, "承办单位": "纸坊镇"})
    services.ticket_sign(ticket=Ticket.objects.get(number=NUMBER), actor=unit_handler)
    # when: the same file again
    errors = refused(**{**UNSIGNED, "承办单位": "纸坊镇"})
    # then
    assert [(row, column) for row, column, _ in errors] == [(2, "工单编号")]
    assert Ticket.objects.get(number=NUMBER).status == Status.HANDLING


def test_a_move_the_lifecycle_forbids_is_refused(directory, dispatcher, new_ticket):
    # given: imported undispatched, then merged into another ticket in the system
    load(**UNDISPATCHED)
    services.ticket_merge(ticket=Ticket.objects.get(number=NUMBER), into=new_ticket(), actor=dispatcher)
    # when: a file says it was handled and closed
    errors = refused()
    # then
    assert errors == [(2, "工单编号", f"工单{NUMBER}在系统中已是“已并单”，文件中为“已办结”：导入不能重开已办结或已并单的工单。")]


def test_a_step_dated_before_the_tickets_current_state_is_refused(directory, unit_handler):
    # given: signed in the system on 2 April
    load(**{**UNSIGNED, "承办单位": "纸坊镇"})
    services.ticket_sign(ticket=Ticket.objects.get(number=NUMBER), actor=unit_handler,
                         at=datetime(2024, 4, 2, 9, 0, tzinfo=TZ))
    # when: the old system's file closes it on 1 April, before that
    errors = refused(**{"承办单位": "纸坊镇", "签收时间": "", "办结时间": "2024-04-01 12:00"})
    # then
    assert errors == [(2, "办结时间", "办结时间2024-04-01 12:00早于系统中该工单最近一步的时间2024-04-02 09:00："
                                      "文件早于系统中的记录，导入不能使工单回退。")]


def test_a_ticket_waiting_for_callback_in_the_system_can_be_closed_by_a_file(directory, ticket_in):
    # given: worked through the services up to 待回访
    ticket = ticket_in("pending_callback")
    Ticket.objects.filter(pk=ticket.pk).update(number=NUMBER)
    last = TicketEvent.objects.order_by("-pk").first().pk
    # when: a later file has its callback and close
    load(**{"承办单位": "纸坊镇", "登记时间": "2024-04-01 09:00", "派单时间": "2024-04-01 10:00",
            "签收时间": "2024-04-01 11:00", "办结时间": "2099-01-01 10:00"})
    # then: one step, pending_callback → closed, allowed by the transition table
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    steps = list(ticket.events.filter(pk__gt=last).exclude(type=EventType.IMPORTED)
                 .values_list("type", "from_status", "to_status"))
    assert steps == [(EventType.CALLBACK, Status.PENDING_CALLBACK, Status.CLOSED)]


def test_a_row_that_changes_no_status_still_updates_the_fields(directory):
    # given
    load(**OPEN)
    # when: a corrected content and caller number
    summary = load(**{**OPEN, "诉求内容": "小区停水三天。", "联系电话": "13900001111"})
    # then
    ticket = Ticket.objects.get(number=NUMBER)
    assert summary["updated"] == 1 and ticket.content == "小区停水三天。" and ticket.status == Status.HANDLING
    assert ticket.caller_phone == "13900001111"  # written encrypted, read back
    with connection.cursor() as cursor:
        cursor.execute("SELECT caller_phone FROM tickets_ticket WHERE id = %s", [ticket.pk])
        assert "13900001111" not in cursor.fetchone()[0]
    last = ticket.events.order_by("pk").last()
    assert last.type == EventType.IMPORTED and last.data["changed"]["content"] == ["小区停水两天。", "小区停水三天。"]
    assert set(last.data["changed"]) == {"content", "caller_phone", "caller_phone_digest"}
