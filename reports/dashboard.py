"""The leader dashboard's statistics: this month against last month, daily volume, appeal types,
top categories and townships. Every figure is a database aggregation (a handful of queries,
whatever the number of tickets)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from tickets.models import CallbackResult, HandlingMode, Status, Ticket
from tickets.workcalendar import local_tz


def month_bounds(day: date) -> tuple[datetime, datetime]:
    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    tz = local_tz()
    return datetime.combine(first, time.min, tz), datetime.combine(nxt, time.min, tz)


def _rate(numerator, denominator) -> float | None:
    return round(100.0 * numerator / denominator, 1) if denominator else None


def month_figures(start: datetime, end: datetime, *, now: datetime) -> dict:
    """One month's headline figures in two queries. Merged tickets never count on their own.

    - 按时签收率 / 按时办结率: as in assessment.md (a deadline that has not passed yet and is not met
      yet does not count), over tickets dispatched in the month;
    - 满意率: (满意 + 0.9 × 基本满意) / callbacks with a result, over callbacks made in the month."""
    registered = Ticket.objects.filter(registered_at__gte=start, registered_at__lt=end).exclude(status=Status.MERGED)
    volume = registered.aggregate(
        tickets=Count("id"),
        coordinated=Count("id", filter=Q(handling_mode=HandlingMode.COORDINATED)),
        dispatched=Count("id", filter=Q(handling_mode=HandlingMode.DISPATCHED)),
        closed=Count("id", filter=Q(status=Status.CLOSED)),
        urgent=Count("id", filter=Q(urgent=True)),
    )
    dispatched = Ticket.objects.filter(dispatched_at__gte=start, dispatched_at__lt=end).exclude(status=Status.MERGED)
    sign_due = Q(signed_at__isnull=False) | Q(sign_deadline__lt=now)
    close_due = Q(replied_at__isnull=False) | Q(handle_deadline__lt=now)
    rates = dispatched.aggregate(
        sign_due=Count("id", filter=sign_due),
        sign_ok=Count("id", filter=Q(signed_at__isnull=False, signed_at__lte=F("sign_deadline"))),
        close_due=Count("id", filter=close_due),
        close_ok=Count("id", filter=Q(replied_at__isnull=False, replied_at__lte=F("handle_deadline"))),
    )
    callbacks = Ticket.objects.filter(callback_at__gte=start, callback_at__lt=end).exclude(
        callback_result="").aggregate(
        total=Count("id"),
        satisfied=Count("id", filter=Q(callback_result=CallbackResult.SATISFIED)),
        basic=Count("id", filter=Q(callback_result=CallbackResult.BASIC)),
        resolved=Count("id", filter=Q(callback_resolved=True)),
    )
    return {
        **volume,
        "sign_on_time": _rate(rates["sign_ok"], rates["sign_due"]),
        "close_on_time": _rate(rates["close_ok"], rates["close_due"]),
        "callbacks": callbacks["total"],
        "satisfied": _rate(callbacks["satisfied"] + 0.9 * callbacks["basic"], callbacks["total"]),
        "resolved": _rate(callbacks["resolved"], callbacks["total"]),
    }


def _delta(current, previous):
    if current is None or previous is None:
        return None
    return round(current - previous, 1)


CACHE_SECONDS = 300


def dashboard_stats_cached(*, today: date, top: int = 10) -> dict:
    """The dashboard is read often and changes slowly: its figures are cached for five minutes
    (Redis when configured, so every web worker shares them)."""
    from django.core.cache import cache

    key = f"reports:dashboard:{today.isoformat()}:{top}"
    stats = cache.get(key)
    if stats is None:
        stats = dashboard_stats(today=today, top=top)
        cache.set(key, stats, CACHE_SECONDS)
    return stats


def dashboard_stats(*, today: date, top: int = 10) -> dict:
    now = timezone.now()
    start, end = month_bounds(today)
    prev_start, prev_end = month_bounds(start.date() - timedelta(days=1))
    this, last = month_figures(start, end, now=now), month_figures(prev_start, prev_end, now=now)
    keys = [
        ("tickets", "工单总量", "件"), ("coordinated", "协调办理", "件"), ("dispatched", "交办处理", "件"),
        ("sign_on_time", "按时签收率", "%"), ("close_on_time", "按时办结率", "%"),
        ("satisfied", "满意率", "%"), ("resolved", "解决率", "%"),
    ]
    comparison = [{"key": k, "label": label, "unit": unit, "this": this[k], "last": last[k],
                   "delta": _delta(this[k], last[k])} for k, label, unit in keys]

    month = Ticket.objects.filter(registered_at__gte=start, registered_at__lt=end).exclude(status=Status.MERGED)
    daily_rows = {row["day"]: row["n"] for row in month.annotate(day=TruncDate("registered_at", tzinfo=local_tz()))
                  .values("day").annotate(n=Count("id")).order_by("day")}
    days, day = [], start.date()
    while day < end.date() and day <= today:
        days.append({"day": day.strftime("%m-%d"), "n": daily_rows.get(day, 0)})
        day += timedelta(days=1)
    appeal_types = list(month.values(name=F("appeal_type__name")).annotate(n=Count("id")).order_by("-n", "name"))
    categories = list(month.values(name=F("category__name"), parent=F("category__parent__name"))
                      .annotate(n=Count("id")).order_by("-n", "name")[:top])
    townships = list(month.filter(township__isnull=False).values(name=F("township__short_name"))
                     .annotate(n=Count("id")).order_by("-n", "name"))
    return {
        "month": start.date(),
        "last_month": prev_start.date(),
        "this": this,
        "last": last,
        "comparison": comparison,
        "daily": days,
        "appeal_types": appeal_types,
        "categories": [{"name": f"{c['parent']}—{c['name']}" if c["parent"] else c["name"], "n": c["n"]}
                       for c in categories],
        "townships": townships,
    }
