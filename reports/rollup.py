"""Daily roll-up of calls and tickets: what the leader dashboard reads for days that have ended.

A month of a prefecture city is ~80,000 tickets and ~140,000 calls; counting them again for every
dashboard view (calls and tickets by day, by appeal type, category and township, this month and the
month before) took ~250 ms at 10,000,000 tickets. Each ended local day is therefore counted once into
``DailyVolume`` rows (a few hundred a day), and the dashboard sums those rows for the days that have
them and counts the rest (today, a partial day, a day not rolled up yet) from the tables, with the
same queries (``volume_rows``) — so a rolled-up day and a counted day can never disagree by
definition, only by age.

How fresh: the beat job rolls up the days from the 1st of last month to yesterday every 10 minutes
(``HOTLINE_ROLLUP_RECENT_MINUTES``) and every day since the first ticket each night; an import of
tickets or calls drops the roll-up of the days it touched at commit (they are counted live until
rolled up again). A change to a ticket older than last month (a category corrected, a merge) reaches
the dashboard the next night. ``HOTLINE_DAILY_ROLLUP`` turns the reading off (default: on when
Celery has a broker, i.e. when the beat job runs); the bulletin and the assessment never read it.
"""

from __future__ import annotations

import functools
import operator
from collections import Counter
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from tickets.models import Call, HandlingMode, Ticket
from tickets.periods import day_bounds, month_first, month_next, month_previous
from tickets.workcalendar import local_tz

from .models import DailyVolume
from .models import VolumeDimension as D
from .selectors import registered_between

# Plain strings (the stored values), so that keys read back from the database match.
CALLS, TICKETS, COORDINATED, DISPATCHED, URGENT = (D.CALLS.value, D.TICKETS.value, D.COORDINATED.value,
                                                   D.DISPATCHED.value, D.URGENT.value)
TOTALS = (CALLS, TICKETS, COORDINATED, DISPATCHED, URGENT)
GROUPS = {D.APPEAL_TYPE.value: "appeal_type_id", D.CATEGORY.value: "category_id", D.TOWNSHIP.value: "township_id"}
LOCK_ID = 12345_0001  # PostgreSQL advisory lock: one roll-up writes at a time


def reading_enabled() -> bool:
    return settings.HOTLINE_DAILY_ROLLUP


def volume_rows(ranges: list[tuple[datetime, datetime]], *, groups: bool = True,
                group_days: bool = True) -> Counter:
    """Count calls and tickets of the time ``ranges`` by local day: ``{(day, dimension, key): n}``.
    Tickets are ``registered_between`` each range (one definition with the bulletin); calls by
    ``called_at``. ``groups=False`` counts the five totals only; ``group_days=False`` counts the
    groups over the whole ranges (day ``None``: what the dashboard shows, cheaper than by day)."""
    counts: Counter = Counter()
    if not ranges:
        return counts
    tz = local_tz()
    tickets = functools.reduce(operator.or_, (registered_between(s, e) for s, e in ranges)).order_by()
    tickets = tickets.annotate(day=TruncDate("registered_at", tzinfo=tz))
    for row in tickets.values("day").annotate(
        tickets=Count("registered_at"),
        coordinated=Count("registered_at", filter=Q(handling_mode=HandlingMode.COORDINATED)),
        dispatched=Count("registered_at", filter=Q(handling_mode=HandlingMode.DISPATCHED)),
        urgent=Count("registered_at", filter=Q(urgent=True)),
    ):
        for dimension in (TICKETS, COORDINATED, DISPATCHED, URGENT):
            counts[row["day"], dimension, 0] += row[dimension]
    if groups:
        for dimension, column in GROUPS.items():
            grouped = tickets.filter(**{f"{column}__isnull": False})
            if group_days:
                for day, key, n in grouped.values_list("day", column).annotate(n=Count("registered_at")):
                    counts[day, dimension, key] += n
            else:
                for key, n in grouped.values_list(column).annotate(n=Count("registered_at")):
                    counts[None, dimension, key] += n
    calls = Call.objects.filter(functools.reduce(
        operator.or_, (Q(called_at__gte=s, called_at__lt=e) for s, e in ranges))).order_by()
    for day, n in calls.annotate(day=TruncDate("called_at", tzinfo=tz)).values_list("day").annotate(n=Count("*")):
        counts[day, CALLS, 0] += n
    return counts


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_ID])


def rollup_days(first: date, last: date, *, today: date | None = None) -> int:
    """Count the ended days ``first``..``last`` again into ``DailyVolume``, a month per transaction
    (today and later are left out: a day is rolled up once it is over). Returns the days written."""
    today = today or timezone.localdate()
    last = min(last, today - timedelta(days=1))
    written = 0
    while first <= last:
        span_last = min(last, month_next(month_first(first)) - timedelta(days=1))
        written += _rollup_span(first, span_last)
        first = span_last + timedelta(days=1)
    return written


def _rollup_span(first: date, last: date) -> int:
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    with transaction.atomic():
        _lock()
        counts = volume_rows([(day_bounds(first)[0], day_bounds(last)[1])])
        for day in days:  # every day's totals, zeros included: the mark of a rolled-up day
            for dimension in TOTALS:
                counts[day, dimension, 0] += 0
        DailyVolume.objects.filter(day__gte=first, day__lte=last).delete()
        now = timezone.now()
        DailyVolume.objects.bulk_create(
            (DailyVolume(day=day, dimension=dimension, key=key, n=n, built_at=now)
             for (day, dimension, key), n in counts.items()), batch_size=2000)
    return len(days)


def rollup_recent(*, today: date | None = None) -> int:
    """The days from the 1st of last month to yesterday: those the centre still changes."""
    today = today or timezone.localdate()
    return rollup_days(month_previous(month_first(today)), today, today=today)


def rollup_all(*, today: date | None = None) -> int:
    """Every day from the first ticket or call to yesterday."""
    firsts = [value for value in (Ticket.objects.aggregate(lo=Min("registered_at"))["lo"],
                                  Call.objects.aggregate(lo=Min("called_at"))["lo"]) if value]
    if not firsts:
        return 0
    today = today or timezone.localdate()
    return rollup_days(timezone.localtime(min(firsts)).date(), today, today=today)


def rollup_forget(days: set[date]) -> None:
    """Drop the roll-up of ``days`` in the caller's transaction (an import changed them): they are
    counted live until rolled up again, by the task queued at commit or by the beat job."""
    if not days:
        return
    DailyVolume.objects.filter(day__in=sorted(days)).delete()
    if reading_enabled():
        from .tasks import volume_rollup_days_task

        first, last = min(days).isoformat(), max(days).isoformat()
        transaction.on_commit(lambda: volume_rollup_days_task.delay(first, last))


def window_volume(start: datetime, cut: datetime, *, groups: bool = True, today: date | None = None) -> dict:
    """Calls and tickets of ``[start, cut)``: the totals, by day, and (``groups``) by appeal type,
    category and township — from the roll-up for the whole days it holds, counted for the rest."""
    tz = local_tz()
    today = today or timezone.localdate()
    first = start.astimezone(tz).date()
    if day_bounds(first)[0] < start:
        first += timedelta(days=1)
    last = min((cut - timedelta(microseconds=1)).astimezone(tz).date(), today - timedelta(days=1))
    if day_bounds(last)[1] > cut:
        last -= timedelta(days=1)
    counts: Counter = Counter()
    rolled: set[date] = set()
    if reading_enabled() and first <= last:
        stored = DailyVolume.objects.filter(day__gte=first, day__lte=last)
        for day, dimension, n in stored.filter(dimension__in=TOTALS).values_list("day", "dimension", "n"):
            counts[day, dimension, 0] += n
            if dimension == TICKETS:
                rolled.add(day)
        if groups and rolled:
            for dimension, key, n in (stored.filter(day__in=sorted(rolled), dimension__in=list(GROUPS))
                                      .values_list("dimension", "key").annotate(n=Sum("n")).order_by()):
                counts[None, dimension, key] += n
    counts.update(volume_rows(_gaps(start, cut, rolled), groups=groups, group_days=False))
    return _shape(counts)


def _gaps(start: datetime, cut: datetime, rolled: set[date]) -> list[tuple[datetime, datetime]]:
    """``[start, cut)`` less the rolled-up days, as few ranges as possible."""
    ranges, begin = [], start
    for day in sorted(rolled):
        day_start, day_end = day_bounds(day)
        if day_start > begin:
            ranges.append((begin, day_start))
        begin = day_end
    if begin < cut:
        ranges.append((begin, cut))
    return ranges


def _shape(counts: Counter) -> dict:
    totals = dict.fromkeys(TOTALS, 0)
    daily: dict[date, dict] = {}
    grouped: dict[str, dict] = {dimension: {} for dimension in GROUPS}
    for (day, dimension, key), n in counts.items():
        if dimension in TOTALS:
            totals[dimension] += n
            if dimension in (TICKETS, CALLS):
                daily.setdefault(day, {"tickets": 0, "calls": 0})[dimension] += n
        else:
            grouped[dimension][key] = grouped[dimension].get(key, 0) + n
    return {**totals, "daily": daily, **grouped}
