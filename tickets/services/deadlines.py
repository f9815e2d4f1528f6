"""Deadlines and traffic lights — the one place for every time-limit rule of a ticket.

- Computing deadlines from the time-limit rule (``TimeLimitRule``) and the working calendar
  (``tickets/workcalendar.py``, the only working-time arithmetic, imports included):
  ``deadlines_for_dispatch``, ``dispatch_deadline_for``, ``handle_deadline_from``,
  ``feedback_deadline_from`` (urgent tickets: first feedback N hours after signing),
  ``end_of_working_day`` (a date chosen on a form means 18:00 that day).
- Which limit a ticket runs against in each status: ``STATUS_LIMIT`` (the one status→deadline
  map; ``Ticket.current_deadline``, the queues' SQL and the unit's text messages read it).
- An urgent ticket's first feedback runs as its own limit from signing until the unit first reports
  back. No dedicated "first feedback" record exists yet, so the feedback counts as given when the unit
  records any of ``FEEDBACK_EVENT_TYPES`` since the ticket was dispatched to it (a reply, an extension
  or return request — and a ``first_feedback`` event once the lifecycle has one).
- Lights by the share of the limit left: red once a deadline has passed; yellow in the last
  ``TimeLimitRule.yellow_percent`` per cent of the limit's length (default 25); green before. The
  length is the rule's: dispatch hours, sign working hours (urgent: clock hours), the appeal type's
  working days, the urgent feedback hours. ``LightThresholds`` turns that into one moment per kind of
  limit ("yellow when the deadline is at or before this"), so a page, the queues' SQL (``overdue_q``,
  ``due_soon_q``) and the auto-urge beat job give the same colour without a query per ticket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from ..models import AppealType, EventType, Status, Ticket, TicketEvent, TimeLimitRule
from ..workcalendar import get_calendar, local_tz

DEFAULT_RULE = TimeLimitRule(valid_from=date(2000, 1, 1))
END_OF_WORKING_DAY = time(18, 0)


def time_limit_rule_for(day: date, *, rules: list[TimeLimitRule] | None = None) -> TimeLimitRule:
    """The rule in force on ``day``; ``rules`` (all rules, newest first) lets bulk work skip the query."""
    if rules is not None:
        return next((rule for rule in rules if rule.valid_from <= day), DEFAULT_RULE)
    cached = get_calendar().rules
    if cached is not None:
        return next((rule for rule in cached if rule.valid_from <= day), DEFAULT_RULE)
    rule = TimeLimitRule.objects.filter(valid_from__lte=day).order_by("-valid_from").first()
    return rule or DEFAULT_RULE


def _rule_at(moment: datetime, rules: list[TimeLimitRule] | None = None) -> TimeLimitRule:
    return time_limit_rule_for(moment.astimezone(local_tz()).date(), rules=rules)


# --------------------------------------------------------------------------------------------
# Computing deadlines
# --------------------------------------------------------------------------------------------


@dataclass
class DispatchDeadlines:
    sign: datetime
    handle: datetime
    feedback: datetime | None
    warnings: list[str]


def dispatch_deadline_for(registered_at: datetime, *, rules: list[TimeLimitRule] | None = None) -> datetime:
    return registered_at + timedelta(hours=_rule_at(registered_at, rules).dispatch_hours)


def feedback_deadline_from(start: datetime, *, rules: list[TimeLimitRule] | None = None) -> datetime:
    """紧急件: the first feedback is due ``urgent_feedback_hours`` (clock hours) after ``start`` — the
    sign deadline when dispatching, the actual signing once signed."""
    return start + timedelta(hours=_rule_at(start, rules).urgent_feedback_hours)


def deadlines_for_dispatch(*, ticket: Ticket, dispatched_at: datetime, calendar=None,
                           rules: list[TimeLimitRule] | None = None) -> DispatchDeadlines:
    """``calendar`` and ``rules`` (pre-loaded once) let bulk imports compute without queries."""
    calendar = calendar or get_calendar()
    rule = _rule_at(dispatched_at, rules)
    warnings: list[str] = []
    feedback = None
    if ticket.urgent:
        sign = dispatched_at + timedelta(hours=rule.urgent_sign_hours)
        feedback = feedback_deadline_from(sign, rules=rules)
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


def end_of_working_day(day: date | None) -> datetime | None:
    """A date chosen on a form (an extension "until 5 May") means the end of that working day, 18:00
    local time."""
    if not day:
        return None
    return datetime.combine(day, END_OF_WORKING_DAY, tzinfo=local_tz())


# --------------------------------------------------------------------------------------------
# Which limit runs in which status
# --------------------------------------------------------------------------------------------


class LimitKind:
    DISPATCH = "dispatch"
    SIGN = "sign"
    FEEDBACK = "feedback"
    HANDLE = "handle"


LIMIT_LABELS = {LimitKind.DISPATCH: "派单", LimitKind.SIGN: "签收", LimitKind.FEEDBACK: "首次反馈",
                LimitKind.HANDLE: "办理"}
LIMIT_FIELDS = {LimitKind.DISPATCH: "dispatch_deadline", LimitKind.SIGN: "sign_deadline",
                LimitKind.FEEDBACK: "feedback_deadline", LimitKind.HANDLE: "handle_deadline"}
# The one status → limit map. Other statuses (replied, callback, closed, merged) run against none.
STATUS_LIMIT = {
    Status.PENDING_DISPATCH: LimitKind.DISPATCH,
    Status.PENDING_SIGN: LimitKind.SIGN,
    Status.HANDLING: LimitKind.HANDLE,
    Status.RETURN_PENDING: LimitKind.HANDLE,
}
# An urgent ticket's first feedback runs alongside the handling limit in these statuses.
FEEDBACK_STATUSES = (Status.HANDLING,)
FEEDBACK_EVENT_TYPES = tuple(t for t in (
    EventType.REPLIED, EventType.EXTENSION_REQUESTED, EventType.RETURN_REQUESTED,
    getattr(EventType, "FIRST_FEEDBACK", None),  # the lifecycle's own 首次反馈 action, when it has one
) if t)


def current_limit(ticket: Ticket) -> str | None:
    return STATUS_LIMIT.get(ticket.status)


def current_deadline(ticket: Ticket) -> datetime | None:
    """The deadline of the limit the ticket's status runs against (``None`` when none runs)."""
    kind = current_limit(ticket)
    return getattr(ticket, LIMIT_FIELDS[kind]) if kind else None


def feedback_given_q() -> Exists:
    """SQL: the unit has reported back since the ticket was dispatched to it (``FEEDBACK_EVENT_TYPES``)."""
    return Exists(TicketEvent.objects.filter(ticket_id=OuterRef("pk"), type__in=FEEDBACK_EVENT_TYPES,
                                             created_at__gte=OuterRef("dispatched_at")))


def feedback_pending_q() -> Q:
    """SQL: an urgent ticket whose first-feedback limit is running."""
    return Q(status__in=FEEDBACK_STATUSES, urgent=True, feedback_deadline__isnull=False) & ~feedback_given_q()


def feedback_given_ids(tickets) -> set[int]:
    """Of ``tickets`` (objects), the urgent ones under way whose unit has reported back — one query."""
    candidates = [t for t in tickets if t.urgent and t.status in FEEDBACK_STATUSES and t.feedback_deadline]
    if not candidates:
        return set()
    since = {t.pk: t.dispatched_at for t in candidates}
    given = set()
    for ticket_id, at in TicketEvent.objects.filter(ticket_id__in=list(since), type__in=FEEDBACK_EVENT_TYPES
                                                     ).values_list("ticket_id", "created_at"):
        if since[ticket_id] is None or at >= since[ticket_id]:
            given.add(ticket_id)
    return given


def feedback_pending(ticket: Ticket, *, given: bool | None = None) -> bool:
    if not (ticket.urgent and ticket.status in FEEDBACK_STATUSES and ticket.feedback_deadline):
        return False
    if given is None:
        given = bool(feedback_given_ids([ticket]))
    return not given


# --------------------------------------------------------------------------------------------
# Lights
# --------------------------------------------------------------------------------------------


class Light:
    NONE = ""
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


LIGHT_ORDER = {Light.NONE: 0, Light.GREEN: 1, Light.YELLOW: 2, Light.RED: 3}
LIGHT_LABELS = {Light.GREEN: "时限内", Light.YELLOW: "即将超期", Light.RED: "已超期"}


@dataclass
class LightThresholds:
    """For one moment ``now`` and one rule: per kind of limit, the latest deadline that is yellow."""

    now: datetime
    rule: TimeLimitRule
    calendar: object
    _handle: dict[int, datetime] = field(default_factory=dict)

    @property
    def share(self) -> float:
        return self.rule.yellow_percent / 100

    def _clock(self, hours: float) -> datetime:
        return self.now + timedelta(hours=hours * self.share)

    def _working(self, hours: float) -> datetime:
        return self.calendar.add_working_hours(self.now, hours * self.share).value

    @property
    def dispatch(self) -> datetime:
        return self._clock(self.rule.dispatch_hours)

    @property
    def sign(self) -> datetime:
        return self._working(self.rule.sign_working_hours)

    @property
    def sign_urgent(self) -> datetime:
        return self._clock(self.rule.urgent_sign_hours)

    @property
    def feedback(self) -> datetime:
        return self._clock(self.rule.urgent_feedback_hours)

    def handle(self, handling_days: int) -> datetime:
        if handling_days not in self._handle:
            self._handle[handling_days] = self._working(24 * handling_days)
        return self._handle[handling_days]

    def yellow_from(self, ticket: Ticket, kind: str) -> datetime:
        if kind == LimitKind.DISPATCH:
            return self.dispatch
        if kind == LimitKind.SIGN:
            return self.sign_urgent if ticket.urgent else self.sign
        if kind == LimitKind.FEEDBACK:
            return self.feedback
        return self.handle(ticket.appeal_type.handling_days)


def light_thresholds(now: datetime | None = None, *, calendar=None, rule: TimeLimitRule | None = None
                     ) -> LightThresholds:
    now = now or timezone.now()
    return LightThresholds(now=now, rule=rule or _rule_at(now), calendar=calendar or get_calendar())


def deadline_light(deadline: datetime | None, *, yellow_from: datetime, now: datetime) -> str:
    if deadline is None:
        return Light.NONE
    if deadline < now:
        return Light.RED
    return Light.YELLOW if deadline <= yellow_from else Light.GREEN


@dataclass
class LimitLight:
    kind: str
    label: str
    deadline: datetime | None
    light: str

    @property
    def light_label(self) -> str:
        return LIGHT_LABELS.get(self.light, "")


def limit_lights(ticket: Ticket, *, thresholds: LightThresholds | None = None,
                 feedback_given: bool | None = None) -> list[LimitLight]:
    """The limits running now, each with its own light: the status's limit, and for an urgent ticket
    under way without feedback yet, the first feedback."""
    thresholds = thresholds or light_thresholds()
    out = []
    kinds = [current_limit(ticket)] if current_limit(ticket) else []
    if feedback_pending(ticket, given=feedback_given):
        kinds.insert(0, LimitKind.FEEDBACK)
    for kind in kinds:
        deadline = getattr(ticket, LIMIT_FIELDS[kind])
        light = deadline_light(deadline, yellow_from=thresholds.yellow_from(ticket, kind), now=thresholds.now)
        out.append(LimitLight(kind, LIMIT_LABELS[kind], deadline, light))
    return out


def worst(lights: list[LimitLight]) -> LimitLight | None:
    return max(lights, key=lambda item: LIGHT_ORDER[item.light], default=None)


def ticket_light(ticket: Ticket, *, now: datetime | None = None, calendar=None, rule: TimeLimitRule | None = None,
                 thresholds: LightThresholds | None = None, feedback_given: bool | None = None) -> str:
    """The ticket's light: the worst of its running limits' (red / yellow / green; "" when none runs).

    Lists pass ``thresholds`` (or ``calendar`` and ``rule``) and ``feedback_given`` so that no row
    costs a query."""
    thresholds = thresholds or light_thresholds(now, calendar=calendar, rule=rule)
    item = worst(limit_lights(ticket, thresholds=thresholds, feedback_given=feedback_given))
    return item.light if item else Light.NONE


def with_lights(tickets, *, now: datetime | None = None) -> list[Ticket]:
    """Set ``ticket.light`` (the worst), ``ticket.limit_lights`` and ``ticket.light_limit`` on each
    ticket: one threshold computation and at most one query for the whole page."""
    rows = list(tickets)
    thresholds = light_thresholds(now)
    given = feedback_given_ids(rows)
    for ticket in rows:
        ticket.limit_lights = limit_lights(ticket, thresholds=thresholds, feedback_given=ticket.pk in given)
        item = worst(ticket.limit_lights)
        ticket.light = item.light if item else Light.NONE
        ticket.light_limit = item
    return rows


# --------------------------------------------------------------------------------------------
# The same in SQL: queues, filters, the auto-urge job
# --------------------------------------------------------------------------------------------


def _limit_q(kind: str) -> Q:
    if kind == LimitKind.FEEDBACK:
        return feedback_pending_q()
    return Q(status__in=[s for s, k in STATUS_LIMIT.items() if k == kind])


def overdue_q(now: datetime, *, kinds: tuple[str, ...] | None = None) -> Q:
    """Red: a running limit's deadline has passed."""
    q = Q(pk__in=[])
    for kind in kinds or (LimitKind.DISPATCH, LimitKind.SIGN, LimitKind.HANDLE, LimitKind.FEEDBACK):
        q |= _limit_q(kind) & Q(**{f"{LIMIT_FIELDS[kind]}__lt": now})
    return q


def due_soon_q(now: datetime, *, thresholds: LightThresholds | None = None,
               kinds: tuple[str, ...] | None = None) -> Q:
    """Yellow: a running limit is in its last ``yellow_percent`` per cent and not past."""
    t = thresholds or light_thresholds(now)
    kinds = kinds or (LimitKind.DISPATCH, LimitKind.SIGN, LimitKind.HANDLE, LimitKind.FEEDBACK)
    q = Q(pk__in=[])
    if LimitKind.DISPATCH in kinds:
        q |= _limit_q(LimitKind.DISPATCH) & Q(dispatch_deadline__gte=now, dispatch_deadline__lte=t.dispatch)
    if LimitKind.SIGN in kinds:
        q |= _limit_q(LimitKind.SIGN) & Q(sign_deadline__gte=now) & (
            Q(urgent=True, sign_deadline__lte=t.sign_urgent) | Q(urgent=False, sign_deadline__lte=t.sign))
    if LimitKind.HANDLE in kinds:
        days = sorted(set(AppealType.objects.values_list("handling_days", flat=True)))
        by_days = Q(pk__in=[])
        for d in days:
            by_days |= Q(appeal_type__handling_days=d, handle_deadline__lte=t.handle(d))
        q |= _limit_q(LimitKind.HANDLE) & Q(handle_deadline__gte=now) & by_days
    if LimitKind.FEEDBACK in kinds:
        q |= _limit_q(LimitKind.FEEDBACK) & Q(feedback_deadline__gte=now, feedback_deadline__lte=t.feedback)
    return q
