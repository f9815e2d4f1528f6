"""Working-time arithmetic and the calendar table filled from chinese-calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickets.models import CalendarDay, CalendarYear
from tickets.workcalendar import WorkCalendar, get_calendar, invalidate, load_from_chinese_calendar

TZ = ZoneInfo("Asia/Shanghai")


def at(y, m, d, h=0, minute=0):
    return datetime(y, m, d, h, minute, tzinfo=TZ)


@pytest.fixture
def calendar(directory):
    invalidate()
    yield get_calendar()
    invalidate()


@pytest.mark.parametrize(
    "day,workday",
    [
        (date(2024, 4, 28), True),   # Sunday, make-up working day for May Day
        (date(2024, 4, 27), False),  # ordinary Saturday
        (date(2024, 5, 1), False),
        (date(2024, 5, 3), False),   # Friday inside the holiday
        (date(2024, 5, 6), True),
        (date(2024, 5, 11), True),   # Saturday, make-up working day
        (date(2024, 9, 29), True),   # Sunday, make-up working day for National Day
        (date(2024, 10, 7), False),  # Monday inside the holiday
        (date(2024, 10, 12), True),  # Saturday, make-up working day
        (date(2024, 10, 13), False),
        (date(2024, 2, 12), False),  # 春节 (Feb 10–17)
        (date(2024, 2, 18), True),   # Sunday, make-up working day for 春节
        (date(2027, 1, 1), True),    # no data for 2027: a Friday is a working day
        (date(2027, 1, 2), False),   # … and a Saturday is not
    ],
)
def test_is_workday_follows_the_official_calendar(calendar, day, workday):
    # when / then
    assert calendar.is_workday(day) is workday


def test_add_working_hours_from_a_holiday_starts_at_the_next_working_day(calendar):
    # when
    result = calendar.add_working_hours(at(2024, 5, 2, 13, 30), 1)
    # then
    assert result.value == at(2024, 5, 6, 1)
    assert result.warnings == []


def test_add_working_hours_ending_at_midnight_stays_on_the_working_day(calendar):
    # when: the whole of Sunday Apr 28 (a working day) is used
    result = calendar.add_working_hours(at(2024, 4, 28), 24)
    # then
    assert result.value == at(2024, 4, 29)


def test_add_zero_working_hours_is_the_start(calendar):
    # when / then
    assert calendar.add_working_hours(at(2024, 4, 29, 9), 0).value == at(2024, 4, 29, 9)


def test_input_in_another_timezone_is_counted_in_china_time(calendar):
    # given: Apr 30 02:00 UTC is Apr 30 10:00 in China
    start = datetime(2024, 4, 30, 2, 0, tzinfo=ZoneInfo("UTC"))
    # when
    result = calendar.add_working_hours(start, 24)
    # then
    assert result.value == at(2024, 5, 6, 10)


def test_working_hours_between_skips_holidays_and_is_signed(calendar):
    # when / then
    assert calendar.working_hours_between(at(2024, 4, 30, 12), at(2024, 5, 6, 10)) == 22
    assert calendar.working_hours_between(at(2024, 5, 6, 10), at(2024, 4, 30, 12)) == -22
    assert calendar.working_hours_between(at(2024, 5, 1), at(2024, 5, 5, 23)) == 0


def test_warning_names_each_missing_year_once():
    # given: only 2026 known, no exceptions
    cal = WorkCalendar({}, {2026})
    # when
    result = cal.add_working_days(at(2026, 12, 20, 9), 400)
    # then
    years = [w[:4] for w in result.warnings]
    assert years == ["2027", "2028"]


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2025, 12, 31)),
    hours=st.integers(min_value=1, max_value=24 * 15),
)
def test_adding_then_measuring_working_hours_round_trips(start, hours):
    # given: the 2024–2025 calendar loaded into memory (no database needed)
    import chinese_calendar

    exceptions = {d: False for d in chinese_calendar.holidays if d.weekday() < 5}
    exceptions.update({d: True for d in chinese_calendar.workdays if d.weekday() >= 5})
    cal = WorkCalendar(exceptions, {2024, 2025, 2026})
    begin = start.replace(tzinfo=TZ)
    # when
    end = cal.add_working_hours(begin, hours).value
    # then
    assert cal.working_hours_between(begin, end) == pytest.approx(hours)
    assert cal.is_workday(end.date()) or end.time() == datetime.min.time()
    # the end is never more than the hours stretched by weekends, plus the longest holiday (Spring Festival)
    assert end - begin <= timedelta(hours=hours) * 7 / 5 + timedelta(days=12)


def test_loading_the_calendar_twice_adds_nothing(directory):
    # given: ``migrate`` loaded 2004–2026 (and the conftest 2020–2026 after a flush)
    days, years = CalendarDay.objects.count(), CalendarYear.objects.count()
    # when
    result = load_from_chinese_calendar(first_year=2020)
    # then
    assert result == (0, 0)
    assert (CalendarDay.objects.count(), CalendarYear.objects.count()) == (days, years)
    assert set(range(2020, 2027)) <= set(CalendarYear.objects.values_list("year", flat=True))


def test_loader_keeps_an_administrators_edit(directory):
    # given: the administrator turned the Saturday May 11 make-up day into a day off
    CalendarDay.objects.filter(date=date(2024, 5, 11)).update(is_workday=False, name="本地调整")
    # when
    load_from_chinese_calendar(first_year=2024, last_year=2024)
    # then
    assert CalendarDay.objects.get(date=date(2024, 5, 11)).is_workday is False


def test_loader_stores_weekday_holidays_and_make_up_days_with_chinese_names(directory):
    # when
    rows = {d.date: d for d in CalendarDay.objects.filter(date__range=(date(2024, 4, 27), date(2024, 5, 12)))}
    # then: May 1–3 (Wed–Fri) are stored; the weekend May 4–5 is off anyway
    assert sorted(rows) == [date(2024, 4, 28), date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 3),
                            date(2024, 5, 11)]
    assert rows[date(2024, 5, 1)].name == "劳动节" and rows[date(2024, 5, 1)].is_workday is False
    assert rows[date(2024, 4, 28)].is_workday is True and "劳动节" in rows[date(2024, 4, 28)].name
