"""Months and days — the one place for month arithmetic and month (and day) bounds.

Every monthly figure (dashboard, assessment, bulletin) counts rows in ``[start, end)`` of a calendar
month in the centre's time zone (``settings.TIME_ZONE``, Asia/Shanghai): a ticket registered at
23:30 on 30 April local time is April's, whatever the server's clock or UTC says.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from django.utils import timezone

from .inputs import YEAR_MESSAGE, YEAR_MIN, year_in_range
from .workcalendar import local_tz

PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
EARLIEST_YEAR = YEAR_MIN  # the month picker refuses anything earlier (no hotline data before)


def month_first(value: date | datetime | str) -> date:
    """The first day of the month of ``value`` (a date, a datetime — local time — or ``YYYY-MM``)."""
    if isinstance(value, str):
        from .exceptions import InvalidInput

        try:
            year, month = value.strip().split("-")[:2]
            parsed = date(int(year), int(month), 1)
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"月份格式应为 YYYY-MM：{value}", fields={"month": ["格式应为 YYYY-MM。"]}) from exc
        if not year_in_range(parsed.year):
            raise InvalidInput(YEAR_MESSAGE, fields={"month": [YEAR_MESSAGE]})
        return parsed
    if isinstance(value, datetime):
        value = value.astimezone(local_tz()).date() if timezone.is_aware(value) else value.date()
    return value.replace(day=1)


def month_next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_previous(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """``[start, end)`` of the calendar month of ``month``, aware, in the centre's time zone."""
    first = month_first(month)
    nxt = month_next(first)
    tz = local_tz()
    return datetime(first.year, first.month, 1, tzinfo=tz), datetime(nxt.year, nxt.month, 1, tzinfo=tz)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """``[start, end)`` of a local day (midnight to midnight in the centre's time zone)."""
    tz = local_tz()
    following = day + timedelta(days=1)
    return (datetime(day.year, day.month, day.day, tzinfo=tz),
            datetime(following.year, following.month, following.day, tzinfo=tz))


def period_of(month: date) -> str:
    """``date(2024, 4, 1)`` → ``"2024-04"``."""
    return f"{month.year:04d}-{month.month:02d}"


def period_parse(period: str) -> date:
    """Strictly ``"YYYY-MM"`` → the first of that month; ``ValueError`` on anything else."""
    match = PERIOD_RE.match(period or "")
    if not match:
        raise ValueError(f"期间格式应为 YYYY-MM：{period!r}")
    if not year_in_range(int(match.group(1))):
        raise ValueError(YEAR_MESSAGE)
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_choice(text: str | None, *, today: date) -> date:
    """A month chosen on a page (``?month=2024-04``, as ``<input type="month">`` sends it).

    Empty → the current month. Raises ``InvalidInput`` with a Chinese message for a malformed
    month, a month in the future, or one before ``EARLIEST_YEAR``."""
    from .exceptions import InvalidInput

    current = today.replace(day=1)
    text = (text or "").strip()
    if not text:
        return current
    match = PERIOD_RE.match(text)
    if not match:
        raise InvalidInput(f"月份“{text[:20]}”格式不对，应为“年-月”，例如 2024-04。",
                           fields={"month": ["格式应为 YYYY-MM。"]})
    month = date(int(match.group(1)), int(match.group(2)), 1)  # the range is said below, more precisely
    if month > current:
        raise InvalidInput(f"{month.year}年{month.month}月还没有到，不能查看未来的月份。",
                           fields={"month": ["不能选择未来的月份。"]})
    if month.year < EARLIEST_YEAR:
        raise InvalidInput(f"只能查看{EARLIEST_YEAR}年以后的月份。", fields={"month": ["月份太早。"]})
    return month


def month_is_running(month: date, *, now: datetime | None = None) -> bool:
    """Whether ``now`` falls inside ``month`` (the month is not over yet)."""
    now = now or timezone.now()
    start, end = month_bounds(month)
    return start <= now < end
