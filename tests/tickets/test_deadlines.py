"""Deadlines and traffic lights on the real 2024 calendar (May Day and National Day with their
make-up working days), urgent and upper-level tickets, years without calendar data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from tickets import services
from tickets.models import AppealType, CalendarDay, Status, TimeLimitRule
from tickets.selectors import ticket_queue
from tickets.services.deadlines import Light, ticket_light
from tickets.workcalendar import get_calendar, invalidate

TZ = ZoneInfo("Asia/Shanghai")


def at(y, m, d, h=0, minute=0):
    return datetime(y, m, d, h, minute, tzinfo=TZ)


@pytest.fixture
def dispatched(new_ticket, dispatcher, unit_a):
    """``dispatched(when, appeal="problem", **ticket fields)`` — a ticket dispatched at ``when``."""

    def make(when, appeal="problem", **overrides):
        ticket = new_ticket(appeal_type=AppealType.objects.get(code=appeal), **overrides)
        return services.ticket_dispatch(ticket=ticket, unit=unit_a, actor=dispatcher, at=when)

    return make


@pytest.fixture(autouse=True)
def fresh_calendar(directory):
    invalidate()
    yield
    invalidate()  # a test's calendar edits are rolled back: drop the cached copy too


# --- sign deadline: 24 working hours -----------------------------------------------------------


@pytest.mark.parametrize(
    "dispatched_at,expected",
    [
        (at(2024, 4, 30, 10), at(2024, 5, 6, 10)),    # Tue before May Day: May 1–5 do not count
        (at(2024, 4, 27, 10), at(2024, 4, 29, 0)),    # Saturday off; Sunday Apr 28 is a working day
        (at(2024, 5, 10, 15), at(2024, 5, 11, 15)),   # Friday → Saturday May 11 (make-up working day)
        (at(2024, 9, 30, 10), at(2024, 10, 8, 10)),   # before National Day: Oct 1–7 do not count
        (at(2024, 9, 28, 10), at(2024, 9, 30, 0)),    # Saturday off; Sunday Sep 29 is a working day
        (at(2024, 10, 11, 15), at(2024, 10, 12, 15)),  # Friday → Saturday Oct 12 (make-up working day)
        (at(2024, 6, 7, 15), at(2024, 6, 11, 15)),    # Friday before 端午 (Mon Jun 10 off)
    ],
)
def test_sign_deadline_is_24_working_hours(dispatched, dispatched_at, expected):
    # when
    ticket = dispatched(dispatched_at)
    # then
    assert ticket.sign_deadline == expected
    assert ticket.feedback_deadline is None
    assert ticket.deadline_warning == ""


# --- handling deadline: 3 / 5 / 10 working days by appeal type ----------------------------------


@pytest.mark.parametrize(
    "appeal,dispatched_at,expected",
    [
        ("consult", at(2024, 4, 29, 9), at(2024, 5, 7, 9)),
        ("problem", at(2024, 4, 29, 9), at(2024, 5, 9, 9)),
        ("suggestion", at(2024, 4, 29, 9), at(2024, 5, 9, 9)),
        ("other", at(2024, 4, 29, 9), at(2024, 5, 9, 9)),
        ("complaint", at(2024, 4, 29, 9), at(2024, 5, 15, 9)),   # counts Saturday May 11
        ("consult", at(2024, 9, 27, 15), at(2024, 10, 8, 15)),   # counts Sunday Sep 29
        ("complaint", at(2024, 9, 27, 9), at(2024, 10, 16, 9)),  # Sep 29 and Oct 12 count, Oct 1–7 not
    ],
)
def test_handling_deadline_by_appeal_type(dispatched, appeal, dispatched_at, expected):
    # when
    ticket = dispatched(dispatched_at, appeal=appeal)
    # then
    assert ticket.handle_deadline == expected


def test_handling_days_are_configuration(dispatched):
    # given: the centre shortens 咨询 to 2 working days
    AppealType.objects.filter(code="consult").update(handling_days=2)
    # when
    ticket = dispatched(at(2024, 4, 29, 9), appeal="consult")
    # then
    assert ticket.handle_deadline == at(2024, 5, 6, 9)


def test_sign_hours_follow_the_rule_in_force(dispatched):
    # given: from June 2024 units must sign within 8 working hours
    TimeLimitRule.objects.create(valid_from=date(2024, 6, 1), sign_working_hours=8)
    # when
    before = dispatched(at(2024, 5, 31, 20))
    after = dispatched(at(2024, 6, 3, 20))
    # then
    assert before.sign_deadline == at(2024, 6, 1, 20) + timedelta(days=2)  # Sat/Sun Jun 1–2 off
    assert after.sign_deadline == at(2024, 6, 4, 4)


# --- urgent tickets ----------------------------------------------------------------------------


def test_urgent_ticket_signs_within_two_clock_hours_even_on_a_holiday(dispatched):
    # when
    ticket = dispatched(at(2024, 5, 1, 23), urgent=True)
    # then
    assert ticket.sign_deadline == at(2024, 5, 2, 1)
    assert ticket.feedback_deadline == at(2024, 5, 2, 3)


def test_urgent_feedback_is_due_two_hours_after_the_actual_signing(dispatched, unit_handler):
    # given
    ticket = dispatched(at(2024, 5, 1, 23), urgent=True)
    # when: signed 30 minutes after dispatch
    ticket = services.ticket_sign(ticket=ticket, actor=unit_handler, at=at(2024, 5, 1, 23, 30))
    # then
    ticket.refresh_from_db()
    assert ticket.feedback_deadline == at(2024, 5, 2, 1, 30)


def test_non_urgent_sign_sets_no_feedback_deadline(dispatched, unit_handler):
    # given
    ticket = dispatched(at(2024, 4, 29, 9))
    # when
    ticket = services.ticket_sign(ticket=ticket, actor=unit_handler, at=at(2024, 4, 29, 10))
    # then
    ticket.refresh_from_db()
    assert ticket.feedback_deadline is None


# --- upper-level tickets ------------------------------------------------------------------------


def _upper(upper_platform, deadline, number):
    return {"source": "upper", "platform": upper_platform, "channel": None, "upstream_number": number,
            "upstream_deadline": deadline}


def test_earlier_upstream_deadline_wins(dispatched, upper_platform):
    # given: computed limit would be May 9 09:00
    upstream = at(2024, 5, 6, 18)
    # when
    ticket = dispatched(at(2024, 4, 29, 9), **_upper(upper_platform, upstream, "PDS-001"))
    # then
    assert ticket.handle_deadline == upstream


def test_later_upstream_deadline_does_not_extend_the_limit(dispatched, upper_platform):
    # when
    ticket = dispatched(at(2024, 4, 29, 9), **_upper(upper_platform, at(2024, 5, 31, 18), "PDS-002"))
    # then
    assert ticket.handle_deadline == at(2024, 5, 9, 9)


# --- years without calendar data ----------------------------------------------------------------


def test_year_without_calendar_falls_back_to_weekends_and_warns(dispatched):
    # when: 2027 has no calendar rows (chinese-calendar stops at 2026)
    ticket = dispatched(at(2027, 3, 5, 9), appeal="complaint")  # a Friday
    # then: ten Monday–Friday days → Friday Mar 19 09:00
    assert ticket.handle_deadline == at(2027, 3, 19, 9)
    assert ticket.sign_deadline == at(2027, 3, 8, 9)
    assert "2027" in ticket.deadline_warning
    ticket.refresh_from_db()
    assert "2027" in ticket.deadline_warning


def test_deadline_running_into_a_year_without_data_warns(dispatched):
    # when: dispatched in a known year, the 10 working days end in 2027
    ticket = dispatched(at(2026, 12, 28, 9), appeal="complaint")
    # then
    assert ticket.handle_deadline.year == 2027
    assert "2027" in ticket.deadline_warning and "2026" not in ticket.deadline_warning


def test_known_year_has_no_warning(dispatched):
    # when
    ticket = dispatched(at(2024, 12, 2, 9), appeal="complaint")
    # then
    assert ticket.deadline_warning == ""


# --- administrator edits the calendar -------------------------------------------------------------


def test_admin_adding_a_holiday_changes_the_next_computation(dispatched, admin_user, client):
    # given: a computation has warmed the calendar cache
    first = dispatched(at(2024, 6, 17, 9))
    assert first.handle_deadline == at(2024, 6, 24, 9)
    # when: the administrator declares Wednesday Jun 19 a holiday in the admin
    client.force_login(admin_user)
    response = client.post(reverse("admin:tickets_calendarday_add"),
                           {"date": "2024-06-19", "is_workday": "", "name": "临时放假"})
    assert response.status_code == 302, response.content.decode()[:2000]
    # then
    assert CalendarDay.objects.filter(date=date(2024, 6, 19), is_workday=False).exists()
    second = dispatched(at(2024, 6, 17, 9))
    assert second.handle_deadline == at(2024, 6, 25, 9)


def test_calendar_is_cached_until_invalidated(dispatched):
    # given: a warm cache, then a row written behind the calendar's back (a bulk UPDATE sends no signal)
    day = CalendarDay.objects.create(date=date(2024, 6, 20), is_workday=True, name="临时")
    assert get_calendar().is_workday(date(2024, 6, 19)) is True
    CalendarDay.objects.filter(pk=day.pk).update(date=date(2024, 6, 19), is_workday=False)
    # when / then: the cache still answers from memory, until invalidated
    assert get_calendar().is_workday(date(2024, 6, 19)) is True
    invalidate()
    assert get_calendar().is_workday(date(2024, 6, 19)) is False


def test_every_saved_calendar_or_rule_row_reloads_the_cache(dispatched):
    # given: a warm cache
    assert get_calendar().is_workday(date(2024, 6, 19)) is True
    # when: an administrator (or any code) saves a calendar day or a time-limit rule
    CalendarDay.objects.create(date=date(2024, 6, 19), is_workday=False, name="临时放假")
    # then: the next read sees it, without an explicit invalidate()
    assert get_calendar().is_workday(date(2024, 6, 19)) is False
    rule = TimeLimitRule.objects.create(valid_from=date(2024, 6, 1), dispatch_hours=12)
    assert services.time_limit_rule_for(date(2024, 6, 19)).pk == rule.pk
    rule.delete()
    assert services.time_limit_rule_for(date(2024, 6, 19)).pk != rule.pk


# --- traffic lights -----------------------------------------------------------------------------


@pytest.fixture
def national_day_ticket(dispatched, unit_handler):
    """咨询 dispatched Friday Sep 27 15:00 → handling deadline Tuesday Oct 8 15:00."""
    ticket = dispatched(at(2024, 9, 27, 15), appeal="consult")
    ticket = services.ticket_sign(ticket=ticket, actor=unit_handler, at=at(2024, 9, 27, 16))
    assert ticket.handle_deadline == at(2024, 10, 8, 15)
    return ticket


@pytest.mark.parametrize(
    "now,light",
    [
        (at(2024, 9, 29, 16), Light.GREEN),   # 8 + 24 + 15 = 47 working hours left
        (at(2024, 9, 30, 12), Light.GREEN),   # 12 + 15 = 27 working hours left
        (at(2024, 9, 30, 16), Light.GREEN),   # 8 + 15 = 23 of 72 working hours left (32%)
        (at(2024, 9, 30, 22), Light.YELLOW),  # 2 + 15 = 17 of 72 (24%: the last quarter), though 8 calendar days
        (at(2024, 10, 4, 12), Light.YELLOW),  # during the holiday: 15 working hours left
        (at(2024, 10, 8, 15), Light.YELLOW),  # at the deadline
        (at(2024, 10, 8, 15, 1), Light.RED),
    ],
)
def test_traffic_light_counts_working_time_across_a_holiday(national_day_ticket, now, light):
    # when / then
    assert ticket_light(national_day_ticket, now=now) == light


def test_queues_agree_with_the_lights(national_day_ticket, dispatcher):
    # given
    ticket = national_day_ticket
    # when / then
    for now in (at(2024, 9, 30, 12), at(2024, 9, 30, 16), at(2024, 10, 8, 16)):
        light = ticket_light(ticket, now=now)
        due_soon = ticket_queue(user=dispatcher, queue="due_soon", now=now).filter(pk=ticket.pk).exists()
        overdue = ticket_queue(user=dispatcher, queue="overdue", now=now).filter(pk=ticket.pk).exists()
        assert (due_soon, overdue) == (light == Light.YELLOW, light == Light.RED), now


def test_closed_ticket_has_no_light(ticket_in):
    # given
    ticket = ticket_in("closed")
    # when / then
    assert ticket.status == Status.CLOSED
    assert ticket_light(ticket) == Light.NONE
