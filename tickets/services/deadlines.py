"""Deadlines and traffic lights from the time-limit rules and the working calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from ..models import Status, Ticket, TimeLimitRule
from ..workcalendar import get_calendar, local_tz

DEFAULT_RULE = TimeLimitRule(valid_from=date(2000, 1, 1))


def time_limit_rule_for(day: date, *, rules: list[TimeLimitRule] | None = None) -> TimeLimitRule:
    """The rule in force on ``day``; ``rules`` (all rules, newest first) lets bulk work skip the query."""
    if rules is not None:
        return next((rule for rule in rules if rule.valid_from <= day), DEFAULT_RULE)
    cached = get_calendar().rules
    if cached is not None:
        return next((rule for rule in cached if rule.valid_from <= day), DEFAULT_RULE)
    rule = TimeLimitRule.objects.filter(valid_from__lte=day).order_by("-valid_from").first()
    return rule or DEFAULT_RULE


@dataclass
class DispatchDeadlines:
    sign: datetime
    handle: datetime
    feedback: datetime | None
    warnings: list[str]


def dispatch_deadline_for(registered_at: datetime, *, rules: list[TimeLimitRule] | None = None) -> datetime:
    rule = time_limit_rule_for(registered_at.astimezone(local_tz()).date(), rules=rules)
    return registered_at + timedelta(hours=rule.dispatch_hours)


def deadlines_for_dispatch(*, ticket: Ticket, dispatched_at: datetime, calendar=None,
                           rules: list[TimeLimitRule] | None = None) -> DispatchDeadlines:
    """``calendar`` and ``rules`` (pre-loaded once) let bulk imports compute without queries."""
    calendar = calendar or get_calendar()
    rule = time_limit_rule_for(dispatched_at.astimezone(local_tz()).date(), rules=rules)
    warnings: list[str] = []
    feedback = None
    if ticket.urgent:
        sign = dispatched_at + timedelta(hours=rule.urgent_sign_hours)
        feedback = sign + timedelta(hours=rule.urgent_feedback_hours)
    else:
        result = calendar.add_working_hours(dispatched_at, rule.sign_working_hours)
        sign, warnings = result.value, warnings + result.warnings
    result = calendar.add_working_days(dispatched_at, ticket.appeal_type.handling_days)
    handle = result.value
    warnings += [w for w in result.warnings if w not in warnings]
    if ticket.upstream_deadline and ticket.upstream_deadline < handle:
        handle = ticket.upstream_deadline
    return DispatchDeadlines(sign=sign, handle=handle, feedback=feedback, warnings=warnings)


def handle_deadline_from(*, ticket: Ticket, start: datetime) -> tuple[datetime, list[str]]:
    result = get_calendar().add_working_days(start, ticket.appeal_type.handling_days)
    return result.value, result.warnings


class Light:
    NONE = ""
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def ticket_light(ticket: Ticket, *, now: datetime | None = None, calendar=None,
                 rule: TimeLimitRule | None = None) -> str:
    """Green, yellow (within the warning margin — 1 working day by default) or red (overdue).

    Lists pass ``calendar`` and ``rule`` (loaded once per page) so that no row costs a query."""
    deadline = ticket.current_deadline
    if deadline is None or ticket.status in (Status.CLOSED, Status.MERGED):
        return Light.NONE
    now = now or timezone.now()
    if now > deadline:
        return Light.RED
    calendar = calendar or get_calendar()
    rule = rule or time_limit_rule_for(now.astimezone(local_tz()).date())
    margin_hours = 24 * rule.warning_working_days
    if calendar.working_hours_between(now, deadline) <= margin_hours:
        return Light.YELLOW
    return Light.GREEN


def due_soon_threshold(now: datetime | None = None) -> datetime:
    """Deadlines at or before this moment are yellow (or red when already past)."""
    now = now or timezone.now()
    margin = time_limit_rule_for(now.astimezone(local_tz()).date()).warning_working_days
    return get_calendar().add_working_days(now, margin).value
