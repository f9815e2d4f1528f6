"""Concurrency on PostgreSQL: ticket numbers, racing sign/reply/decide/merge, calendar cache.

Each test runs real threads with their own database connections (transactional tests), released
together by a barrier. On SQLite (one writer, no row locks) these tests are skipped.
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from tests.conftest import make_user, ticket_kwargs
from tickets import services
from tickets.exceptions import InvalidTransition
from tickets.models import CalendarDay, EventType, Role, Status, Ticket, TicketEvent
from tickets.workcalendar import get_calendar, invalidate

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def postgres_only(request):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks and concurrent connections: set DATABASE_URL=postgres://…")
    request.getfixturevalue("directory")  # transactional tests flush the tables: reload them


def race(n: int, work, timeout: float = 60) -> list:
    """Run ``work(i)`` in ``n`` threads released at once; returns each result or exception."""
    barrier = threading.Barrier(n, timeout=timeout)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # collected and asserted by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return results


def split(results):
    ok = [r for r in results if not isinstance(r, Exception)]
    errors = [r for r in results if isinstance(r, Exception)]
    return ok, errors


def test_twenty_registrations_at_once_get_twenty_unique_numbers(operator):
    # given
    kwargs = ticket_kwargs()
    # when
    results = race(20, lambda i: services.ticket_create(actor=operator, **{**kwargs, "content": f"诉求{i}"}))
    # then
    ok, errors = split(results)
    assert errors == []
    numbers = [t.number for t in ok]
    assert len(set(numbers)) == 20
    assert Ticket.objects.filter(number__in=numbers).count() == 20
    serials = sorted(int(n[-5:]) for n in numbers)
    assert serials == list(range(1, 21))


@pytest.fixture
def second_handler(unit_a):
    return make_user("handler_a2", Role.UNIT_HANDLER, unit_a)


def test_two_handlers_racing_to_sign_one_wins(ticket_in, unit_handler, second_handler):
    # given
    ticket = ticket_in("pending_sign")
    handlers = [unit_handler, second_handler]
    # when
    results = race(2, lambda i: services.ticket_sign(ticket=Ticket.objects.get(pk=ticket.pk), actor=handlers[i]))
    # then
    ok, errors = split(results)
    assert len(ok) == 1 and len(errors) == 1
    assert isinstance(errors[0], InvalidTransition), repr(errors[0])
    assert Ticket.objects.get(pk=ticket.pk).status == Status.HANDLING
    signed = TicketEvent.objects.filter(ticket_id=ticket.pk, type=EventType.SIGNED)
    assert signed.count() == 1
    assert signed.get().actor_id == ok[0].events.get(type=EventType.SIGNED).actor_id


def test_two_handlers_racing_to_reply_one_wins(ticket_in, unit_handler, second_handler):
    # given
    ticket = ticket_in("handling")
    handlers = [unit_handler, second_handler]
    # when
    results = race(2, lambda i: services.ticket_reply(
        ticket=Ticket.objects.get(pk=ticket.pk), actor=handlers[i], reply_text=f"答复{i}"))
    # then
    ok, errors = split(results)
    assert len(ok) == 1 and len(errors) == 1
    assert isinstance(errors[0], InvalidTransition), repr(errors[0])
    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.status == Status.REPLIED and stored.reply_text == ok[0].reply_text
    assert TicketEvent.objects.filter(ticket_id=ticket.pk, type=EventType.REPLIED).count() == 1


def test_two_dispatchers_deciding_one_return_counts_once(ticket_in, dispatcher):
    # given
    ticket = ticket_in("return_pending")
    other = make_user("disp2", Role.DISPATCHER)
    actors = [dispatcher, other]
    # when
    results = race(2, lambda i: services.ticket_return_decide(
        ticket=Ticket.objects.get(pk=ticket.pk), actor=actors[i], approve=True))
    # then
    ok, errors = split(results)
    assert len(ok) == 1 and isinstance(errors[0], InvalidTransition), results
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.status, stored.return_count) == (Status.PENDING_DISPATCH, 1)


def test_crosswise_merges_do_not_deadlock(new_ticket, dispatcher):
    # given: A into B and B into A at the same moment
    a, b = new_ticket(content="甲"), new_ticket(content="乙")
    pairs = [(a, b), (b, a)]
    # when
    results = race(2, lambda i: services.ticket_merge(ticket=pairs[i][0], into=pairs[i][1], actor=dispatcher))
    # then: one merge, the other refused (its target is merged now, or itself is)
    ok, errors = split(results)
    assert len(ok) == 1 and len(errors) == 1
    assert isinstance(errors[0], InvalidTransition), repr(errors[0])
    statuses = sorted(Ticket.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True))
    assert statuses == [Status.MERGED, Status.PENDING_DISPATCH]


def test_calendar_edit_is_seen_after_commit_even_if_read_meanwhile(new_ticket):
    # given: a warm calendar
    invalidate()
    day = date(2024, 6, 19)
    assert get_calendar().is_workday(day) is True
    edited, read = threading.Event(), threading.Event()

    def admin():
        try:
            with transaction.atomic():
                CalendarDay.objects.create(date=day, is_workday=False, name="临时放假")
                invalidate()  # what the admin does after saving, still inside the request's transaction
                edited.set()
                read.wait(10)
        finally:
            connection.close()

    def reader():
        try:
            edited.wait(10)
            get_calendar()  # another request reloads before the admin's transaction commits
            read.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=admin), threading.Thread(target=reader)]
    # when
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    # then: once committed, the holiday counts
    assert CalendarDay.objects.filter(date=day).exists()
    assert get_calendar().is_workday(day) is False
    invalidate()


def test_handle_deadline_uses_the_calendar_after_a_concurrent_edit(new_ticket, dispatcher, unit_a):
    # given: Wednesday Jun 19 2024 becomes a holiday while a ticket is being dispatched elsewhere
    invalidate()
    CalendarDay.objects.create(date=date(2024, 6, 19), is_workday=False, name="临时放假")
    invalidate()
    # when
    ticket = services.ticket_dispatch(ticket=new_ticket(), unit=unit_a, actor=dispatcher,
                                      at=datetime(2024, 6, 17, 9, tzinfo=TZ))
    # then
    assert ticket.handle_deadline == datetime(2024, 6, 25, 9, tzinfo=TZ)
    invalidate()
