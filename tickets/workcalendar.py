"""Working-time arithmetic on the official Chinese calendar.

The calendar is a table (``CalendarYear`` + ``CalendarDay``), pre-filled from the
``chinese-calendar`` package and editable by an administrator. A day is a working day if it is a
make-up working day (调休), or a Monday–Friday that is not a holiday. In a year with no data the
calendar falls back to weekends only, and every computation that touched such a year reports a
warning.

"Working hours" count the clock hours that fall on working days: 24 working hours from Friday
15:00 end on Monday 15:00 when the weekend is off. "N working days" are 24·N working hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from .caching import VersionedProcessCache

CACHE_VERSION_KEY = "workcalendar:version"
PROCESS_TTL_SECONDS = 300
_MAX_DAYS = 3660  # never walk further than ten years

HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


@dataclass
class Result:
    value: datetime
    warnings: list[str] = field(default_factory=list)


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


class WorkCalendar:
    def __init__(self, exceptions: dict[date, bool], known_years: set[int], rules: list | None = None):
        self.exceptions = exceptions
        self.known_years = known_years
        # The time-limit rules, newest first: loaded and invalidated with the calendar.
        self.rules = rules

    def is_workday(self, day: date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def _warn(self, years: set[int]) -> list[str]:
        missing = sorted(y for y in years if y not in self.known_years)
        return [f"{y}年没有节假日数据，该年按周末休息计算，请管理员补充日历。" for y in missing]

    def add_working_hours(self, start: datetime, hours: float) -> Result:
        tz = local_tz()
        current = start.astimezone(tz)
        remaining = timedelta(hours=hours)
        years = {current.year}
        for _ in range(_MAX_DAYS):
            day = current.date()
            years.add(day.year)
            next_midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
            if self.is_workday(day):
                available = next_midnight - current
                if remaining <= available:
                    return Result(current + remaining, self._warn(years))
                remaining -= available
            current = next_midnight
        raise ValueError("时限超出可计算范围")

    def add_working_days(self, start: datetime, days: int) -> Result:
        return self.add_working_hours(start, 24 * days)

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours from ``start`` to ``end`` (negative if ``end`` is earlier)."""
        if end < start:
            return -self.working_hours_between(end, start)
        tz = local_tz()
        current, end = start.astimezone(tz), end.astimezone(tz)
        total = timedelta()
        for _ in range(_MAX_DAYS):
            if current >= end:
                break
            day = current.date()
            next_midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
            stop = min(next_midnight, end)
            if self.is_workday(day):
                total += stop - current
            current = stop
        return total.total_seconds() / 3600


class MemoCalendar:
    """The working calendar with its answers remembered, for bulk work (same results as the
    calendar it wraps: 24·N working hours from a working day at a time other than midnight end at
    that same time of day, so only the date needs computing; other starts depend on the date only)."""

    def __init__(self, calendar):
        self.calendar = calendar
        self._memo: dict = {}

    def __getattr__(self, name):
        return getattr(self.calendar, name)

    def add_working_hours(self, start: datetime, hours: float):
        local = start.astimezone(local_tz())
        day, clock = local.date(), local.timetz()
        whole_days = hours % 24 == 0
        if not whole_days:
            return self.calendar.add_working_hours(start, hours)
        if clock.hour or clock.minute or clock.second or clock.microsecond:
            if self.calendar.is_workday(day):
                key = (day, hours, "t")
                if key not in self._memo:
                    noon = datetime.combine(day, datetime.min.time(), tzinfo=local.tzinfo).replace(hour=12)
                    result = self.calendar.add_working_hours(noon, hours)
                    self._memo[key] = (result.value.date(), result.warnings)
                end_day, warnings = self._memo[key]
                return Result(datetime.combine(end_day, clock), list(warnings))
            # a non-working day counts from its end; the day itself is skipped by the calendar
            key = (day, hours, "skip")
            if key not in self._memo:
                self._memo[key] = self.calendar.add_working_hours(local, hours)
            result = self._memo[key]
            return Result(result.value, list(result.warnings))
        key = (day, hours, "0")
        if key not in self._memo:
            self._memo[key] = self.calendar.add_working_hours(local, hours)
        result = self._memo[key]
        return Result(result.value, list(result.warnings))

    def add_working_days(self, start: datetime, days: int):
        return self.add_working_hours(start, 24 * days)


def _load() -> WorkCalendar:
    from .models import CalendarDay, CalendarYear, TimeLimitRule

    exceptions = dict(CalendarDay.objects.values_list("date", "is_workday"))
    years = set(CalendarYear.objects.values_list("year", flat=True))
    rules = list(TimeLimitRule.objects.order_by("-valid_from"))
    return WorkCalendar(exceptions, years, rules)


# The calendar and the time-limit rules, kept per process and reloaded when a row changes
# (tickets/caching.py: receivers in tickets/apps.py, explicit calls after bulk writes).
_calendar = VersionedProcessCache(CACHE_VERSION_KEY, _load, ttl=PROCESS_TTL_SECONDS)
invalidate = _calendar.invalidate


def get_calendar() -> WorkCalendar:
    return _calendar.get()


def load_from_chinese_calendar(*, first_year: int = 2004, last_year: int | None = None, apps=None
                               ) -> tuple[int, int]:
    """Fill the calendar tables from the ``chinese-calendar`` package; returns (years, days).

    Existing rows are kept (an administrator's edits win); only missing dates and years are added.
    ``apps``: a migration's app registry (``migrate`` loads the calendar, see reference_data.py).
    """
    import chinese_calendar
    from django.apps import apps as global_apps

    CalendarDay = (apps or global_apps).get_model("tickets", "CalendarDay")
    CalendarYear = (apps or global_apps).get_model("tickets", "CalendarYear")

    known = sorted({d.year for d in chinese_calendar.holidays})
    last_year = min(last_year or known[-1], known[-1])
    existing_years = set(CalendarYear.objects.values_list("year", flat=True))
    existing_days = set(CalendarDay.objects.values_list("date", flat=True))
    new_days = []
    for day, name in chinese_calendar.holidays.items():
        if first_year <= day.year <= last_year and day not in existing_days and day.weekday() < 5:
            new_days.append(CalendarDay(date=day, is_workday=False, name=HOLIDAY_NAMES.get(name, name)))
    for day, name in chinese_calendar.workdays.items():
        if first_year <= day.year <= last_year and day not in existing_days:
            label = HOLIDAY_NAMES.get(name, name)
            new_days.append(CalendarDay(date=day, is_workday=True, name=f"{label}调休上班"))
    CalendarDay.objects.bulk_create(new_days, batch_size=500)
    new_years = [
        CalendarYear(year=y, source="chinese-calendar")
        for y in range(first_year, last_year + 1)
        if y not in existing_years
    ]
    CalendarYear.objects.bulk_create(new_years)
    invalidate()
    return len(new_years), len(new_days)
