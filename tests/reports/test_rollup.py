"""The dashboard's daily roll-up (reports/rollup.py): a rolled-up day reads exactly as the same day
counted from the tickets and calls (closed month, running month with a partial day on both sides,
merged tickets, local midnight); the roll-up is really what the dashboard reads (a change after it is
seen only once the day is rolled up again); today is never rolled up; an import drops the days it
touched and queues them again; the beat schedule keeps it current on the heavy queue."""

from __future__ import annotations

import itertools
import random
from datetime import date, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports import rollup
from reports.dashboard import dashboard_stats
from reports.models import DailyVolume
from tests.tickets.import_helpers import TICKET_HEADERS, csv_bytes, ticket_row
from tickets.imports import import_file
from tickets.models import AppealType, Call, Category, HandlingMode, Source, Status, Ticket, Unit
from tickets.workcalendar import local_tz

pytestmark = pytest.mark.django_db
TZ = local_tz()
APRIL, MARCH = date(2024, 4, 1), date(2024, 3, 1)
_numbers = itertools.count(1)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


@pytest.fixture
def two_months(directory):
    """Tickets and calls on every day from 1 March to 25 April 2024, varied in every counted
    dimension, some at 23:59 and 00:00 local time, some merged (never counted)."""
    rng = random.Random(14)
    appeals = list(AppealType.objects.all()[:4])
    categories = list(Category.objects.filter(parent__isnull=False)[:6])
    townships = list(Unit.objects.filter(group="township")[:5])
    unit = Unit.objects.filter(group="city").first()
    tickets, calls = [], []
    day = MARCH
    while day <= date(2024, 4, 25):
        for _ in range(rng.randint(0, 5)):
            at = local(day.year, day.month, day.day, rng.choice([0, 8, 13, 23]), rng.choice([0, 30, 59]))
            tickets.append(Ticket(
                number=f"RU{next(_numbers):08d}", appeal_type=rng.choice(appeals), category=rng.choice(categories),
                township=rng.choice([*townships, None]), unit=unit, content="测试诉求", source=Source.LOCAL,
                handling_mode=rng.choice([HandlingMode.COORDINATED, HandlingMode.DISPATCHED]),
                urgent=rng.random() < 0.2, status=rng.choice([Status.CLOSED, Status.CLOSED, Status.MERGED]),
                registered_at=at))
        for _ in range(rng.randint(0, 7)):
            calls.append(Call(called_at=local(day.year, day.month, day.day, rng.choice([0, 10, 23]),
                                              rng.choice([0, 59]))))
        day += timedelta(days=1)
    Ticket.objects.bulk_create(tickets)
    Call.objects.bulk_create(calls)


FIGURES = ("this", "last", "comparison", "daily", "appeal_types", "categories", "townships")


def figures(month: date, now: datetime) -> dict:
    stats = dashboard_stats(month=month, now=now)
    counts = {key: {k: v for k, v in stats[key].items() if k not in ("rates", "totals")}
              for key in ("this", "last")}
    return {**{key: stats[key] for key in FIGURES}, **counts}


@pytest.mark.parametrize("now", [local(2024, 5, 20, 9, 0), local(2024, 4, 20, 15, 30)],
                         ids=["closed_month", "running_month"])
def test_rolled_up_days_read_as_counted_days(settings, two_months, now):
    # given: the dashboard counted from the tables
    settings.HOTLINE_DAILY_ROLLUP = False
    counted = figures(APRIL, now)
    assert counted["this"]["tickets"] > 0 and counted["this"]["calls"] > 0
    # when: every ended day is rolled up and the dashboard reads the roll-up
    settings.HOTLINE_DAILY_ROLLUP = True
    written = rollup.rollup_all(today=now.date())
    # then: the same figures, to the last one
    assert written == (now.date() - MARCH).days
    assert figures(APRIL, now) == counted


def test_the_dashboard_reads_the_rollup_and_sees_a_change_once_rolled_up_again(settings, two_months):
    # given: February (empty) to yesterday rolled up, then a March ticket moved to another category
    # and a call added
    settings.HOTLINE_DAILY_ROLLUP = True
    now = local(2024, 5, 20, 9, 0)
    rollup.rollup_days(date(2024, 2, 1), now.date(), today=now.date())
    before = dashboard_stats(month=MARCH, now=now, top=100)
    ticket = (Ticket.objects.filter(registered_at__gte=local(2024, 3, 5), registered_at__lt=local(2024, 3, 25))
              .exclude(status=Status.MERGED).order_by("registered_at").first())
    day = ticket.registered_at.astimezone(TZ).date()
    other = Category.objects.exclude(pk=ticket.category_id).filter(parent__isnull=False).last()
    Ticket.objects.filter(pk=ticket.pk).update(category=other)
    Call.objects.create(called_at=local(day.year, day.month, day.day, 12, 0))
    # when / then: the roll-up is what the dashboard reads (no query counts the month's tickets)
    with CaptureQueriesContext(connection) as queries:
        stale = dashboard_stats(month=MARCH, now=now, top=100)
    assert stale["this"]["calls"] == before["this"]["calls"]
    assert stale["categories"] == before["categories"]
    assert not [q for q in queries if "tickets_ticket" in q["sql"] and "GROUP BY" in q["sql"]]
    # when: that day is rolled up again
    rollup.rollup_days(day, day, today=now.date())
    fresh = dashboard_stats(month=MARCH, now=now, top=100)
    # then: the change is counted
    assert fresh["this"]["calls"] == before["this"]["calls"] + 1
    name = f"{other.parent.name}—{other.name}"
    assert {c["name"]: c["n"] for c in fresh["categories"]}.get(name, 0) == 1 + {
        c["name"]: c["n"] for c in before["categories"]}.get(name, 0)


def test_today_is_never_rolled_up_and_empty_days_are_marked(settings, directory):
    # given: nothing registered, today 3 April
    # when
    written = rollup.rollup_days(APRIL, date(2024, 4, 30), today=date(2024, 4, 3))
    # then: 1 and 2 April rolled up with zero totals, today and later not
    assert written == 2
    assert sorted(set(DailyVolume.objects.values_list("day", flat=True))) == [APRIL, date(2024, 4, 2)]
    assert set(DailyVolume.objects.values_list("n", flat=True)) == {0}
    assert DailyVolume.objects.filter(day=APRIL).count() == len(rollup.TOTALS)


def test_rolling_up_again_replaces_the_days(settings, two_months):
    # given
    rollup.rollup_days(MARCH, date(2024, 3, 31), today=APRIL)
    rows = DailyVolume.objects.count()
    # when: the same days again
    rollup.rollup_days(MARCH, date(2024, 3, 31), today=APRIL)
    # then: replaced, not added
    assert DailyVolume.objects.count() == rows
    march_tickets = Ticket.objects.filter(registered_at__gte=local(2024, 3, 1), registered_at__lt=local(2024, 4, 1)
                                          ).exclude(status=Status.MERGED).count()
    assert sum(DailyVolume.objects.filter(dimension="tickets").values_list("n", flat=True)) == march_tickets


@pytest.mark.parametrize("kind", ["tickets", "calls"])
def test_an_import_drops_the_days_it_touched_and_queues_them(settings, two_months, tasks_in_process,
                                                             django_capture_on_commit_callbacks, kind):
    # given: everything rolled up
    settings.HOTLINE_DAILY_ROLLUP = True
    today = date(2024, 5, 20)
    rollup.rollup_all(today=today)
    before = DailyVolume.objects.get(day=date(2024, 4, 2), dimension=kind).n
    if kind == "tickets":
        data = csv_bytes(TICKET_HEADERS, [ticket_row(**{"工单编号": "RZ2024040299999", "登记时间": "2024-04-02 09:00",
                                                        "派单时间": "2024-04-02 10:00",
                                                        "签收时间": "2024-04-02 11:00"})])
    else:
        data = csv_bytes(["来电时间", "主叫号码", "坐席工号", "通话时长", "工单编号"],
                         [["2024-04-02 08:01", "13812345678", "1001", "95", ""]])
    # when: a file adds one to 2 April
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        import_file(kind=kind, data=data)
    # then: the day is no longer rolled up (counted live), and rolling it up again is queued
    assert not DailyVolume.objects.filter(day=date(2024, 4, 2)).exists()
    assert DailyVolume.objects.filter(day=date(2024, 4, 3)).exists()
    assert len(callbacks) == 1
    # when: the queued job runs
    callbacks[0]()
    # then: the day counts the imported row
    assert DailyVolume.objects.get(day=date(2024, 4, 2), dimension=kind).n == before + 1


def test_beat_keeps_the_rollup_current_on_the_heavy_queue():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"reports.tasks.volume_rollup_recent_task", "reports.tasks.volume_rollup_all_task"} <= tasks
    from hotline.celery import app

    assert app.amqp.router.route({}, "reports.tasks.volume_rollup_days_task")["queue"].name == "heavy"


def test_the_command_rolls_up_all_days_or_a_range_and_refuses_bad_dates(two_months):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("rollup_volume", "--from", "2024-03-01", "--to", "2024-03-31", stdout=out)
    assert out.getvalue().strip() == "已汇总 31 天。"
    assert set(DailyVolume.objects.values_list("day__month", flat=True)) == {3}
    call_command("rollup_volume", stdout=out)
    assert DailyVolume.objects.filter(dimension="tickets").count() == (timezone.localdate() - MARCH).days
    for args, message in ((["--from", "2024-03-01"], "须同时给出"), (["--from", "2024-3-1x", "--to", "2024-03-02"], "格式"),
                          (["--from", "2024-03-02", "--to", "2024-03-01"], "晚于")):
        with pytest.raises(CommandError, match=message):
            call_command("rollup_volume", *args)
