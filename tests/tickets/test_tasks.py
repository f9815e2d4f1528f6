"""系统自动催办: the beat task, in-process and on a real Redis broker with a real worker."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.result import AsyncResult
from django.conf import settings
from django.db import connection
from django.utils import timezone

from hotline.celery import app
from tickets import services
from tickets.models import AppealType, EventType, Status, TicketEvent, Urge
from tickets.tasks import ticket_auto_urge_task

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 5, 8, 12, 0, tzinfo=TZ)  # Wednesday after May Day
OVERDUE_NOTE = "工单已超期，请尽快办理。"
DUE_SOON_NOTE = "工单即将到期，请抓紧办理。"


@pytest.fixture
def make(new_ticket, dispatcher, unit_handler, unit_a):
    """``make(dispatched_at, appeal, sign=True)`` — a ticket at 纸坊镇, signed unless told."""

    def build(dispatched_at, appeal="problem", sign=True, **fields):
        ticket = new_ticket(appeal_type=AppealType.objects.get(code=appeal), **fields)
        ticket = services.ticket_dispatch(ticket=ticket, unit=unit_a, actor=dispatcher, at=dispatched_at)
        if sign:
            ticket = services.ticket_sign(ticket=ticket, actor=unit_handler, at=dispatched_at)
        return ticket

    return build


@pytest.fixture
def board(make, new_ticket, ticket_in):
    """One ticket per light at NOW (2024-05-08 12:00)."""
    return {
        # 5 working days from Apr 22 10:00 → Apr 28 10:00 (Sunday make-up day): overdue
        "overdue": make(datetime(2024, 4, 22, 10, tzinfo=TZ)),
        # from Apr 29 10:00 → May 9 10:00: 22 working hours left, yellow
        "due_soon": make(datetime(2024, 4, 29, 10, tzinfo=TZ)),
        # not signed: sign deadline May 8 15:00, 3 of 24 working hours left (in the last 25%), yellow
        "sign_due": make(datetime(2024, 5, 7, 15, tzinfo=TZ), sign=False),
        # not signed, dispatched an hour ago: 23 of 24 working hours left, green (was yellow when the
        # light meant "due within a working day")
        "sign_new": make(datetime(2024, 5, 8, 11, tzinfo=TZ), sign=False),
        # 10 working days from Apr 29 → May 15: green
        "green": make(datetime(2024, 4, 29, 10, tzinfo=TZ), appeal="complaint"),
        # waiting for dispatch long past its dispatch deadline: at no unit, nobody to urge
        "undispatched": new_ticket(registered_at=datetime(2024, 4, 1, 9, tzinfo=TZ)),
        # replied: the unit's part is done
        "replied": ticket_in("replied"),
    }


def run_task():
    """The task as the beat would run it, executed in this process whatever the broker."""
    return ticket_auto_urge_task.apply().get()


def test_auto_urge_urges_overdue_and_due_soon_tickets_once(board):
    # when
    with time_machine.travel(NOW, tick=False):
        count = run_task()
    # then
    urges = {u.ticket_id: u for u in Urge.objects.filter(automatic=True)}
    assert count == 3
    assert set(urges) == {board["overdue"].pk, board["due_soon"].pk, board["sign_due"].pk}
    assert urges[board["overdue"].pk].note == OVERDUE_NOTE
    assert urges[board["due_soon"].pk].note == DUE_SOON_NOTE
    assert urges[board["sign_due"].pk].note == DUE_SOON_NOTE
    for urge in urges.values():
        assert urge.actor_id is None and urge.unit_id == board["overdue"].unit_id
        event = TicketEvent.objects.filter(ticket_id=urge.ticket_id, type=EventType.URGED).get()
        assert event.actor_id is None and event.data["automatic"] is True


def test_auto_urge_runs_once_per_ticket_per_day(board):
    # given
    with time_machine.travel(NOW, tick=False):
        run_task()
    # when: the beat fires again later that day, and the next morning
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        again = run_task()
    with time_machine.travel(datetime(2024, 5, 9, 8, tzinfo=TZ), tick=False):
        next_day = run_task()
    # then
    assert again == 0
    assert next_day == 4  # the next morning the new ticket's sign limit is in its last quarter too
    per_ticket = Urge.objects.filter(ticket=board["overdue"], automatic=True).count()
    assert per_ticket == 2


def test_manual_urge_does_not_stop_the_automatic_one(board, dispatcher):
    # given
    services.ticket_urge(ticket=board["overdue"], actor=dispatcher, note="请尽快办理")
    # when
    with time_machine.travel(NOW, tick=False):
        run_task()
    # then
    assert Urge.objects.filter(ticket=board["overdue"], automatic=True).count() == 1


def test_auto_urge_in_eager_mode_through_delay(board, tasks_in_process):
    # given: the embedded default runs tasks in-process
    # when
    with time_machine.travel(NOW, tick=False):
        result = ticket_auto_urge_task.delay()
    # then
    assert result.get() == 3
    assert Urge.objects.filter(automatic=True).count() == 3


# --- a real broker and worker --------------------------------------------------------------------


@pytest.fixture
def real_broker(request):
    if settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("needs a real broker: set CELERY_BROKER_URL=redis://… (tasks run eagerly without one)")
    request.getfixturevalue("directory")  # transactional tests flush the tables: reload them


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_auto_urge_on_a_real_worker(real_broker, make):
    # given: one overdue, one due-soon and one green ticket, relative to the real clock
    now = timezone.now()
    overdue = make(now - timedelta(days=30))
    due_soon = make(now - timedelta(minutes=100), sign=False, urgent=True)  # 20 of 120 minutes left to sign
    green = make(now - timedelta(minutes=1), appeal="complaint")
    from celery.contrib.testing.worker import start_worker

    previous_backend = app.conf.result_backend
    app.conf.result_backend = settings.CELERY_BROKER_URL
    try:
        with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=30):
            # when
            sent = ticket_auto_urge_task.delay()
            # this thread's backend was built before the test set one: read the result through a new one
            count = AsyncResult(sent.id, app=app, backend=app._get_backend()).get(timeout=30)
    finally:
        app.conf.result_backend = previous_backend
    # then
    assert count == 2
    urges = dict(Urge.objects.filter(automatic=True).values_list("ticket_id", "note"))
    assert urges == {overdue.pk: OVERDUE_NOTE, due_soon.pk: DUE_SOON_NOTE}
    assert green.pk not in urges


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_runs_urge_each_ticket_once(request, make):
    # given: two workers fire the job at the same moment (an overlapping beat)
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks and concurrent connections: set DATABASE_URL=postgres://…")
    request.getfixturevalue("directory")
    now = timezone.now()
    tickets = [make(now - timedelta(days=30)) for _ in range(5)]
    barrier = threading.Barrier(2)
    results = []

    def worker():
        try:
            barrier.wait(10)
            results.append(ticket_auto_urge_task.apply().get())
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # then
    assert sum(results) == 5
    for ticket in tickets:
        assert Urge.objects.filter(ticket=ticket, automatic=True).count() == 1
    assert all(t.status == Status.HANDLING for t in tickets)
