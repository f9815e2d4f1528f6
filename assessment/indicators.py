"""The indicators — the one place where "on time", "resolved" and "satisfied" are defined.

The monthly assessment (per unit, ``assessment.services.assessment_compute``), its drill-down lists
(``assessment.selectors.score_tickets``) and the leader dashboard (centre-wide, ``reports.dashboard``)
all count with the conditions below, so a closed month's rates on the dashboard are the assessment's
rates of the same month under the same rule set:

- which tickets count for a month: ``counted_tickets`` (交办处理 local tickets and every upper
  ticket, at a unit, dispatched — else registered — in the month, never a merged one);
- 按时签收 / 按时办结: signed (replied) by the deadline plus the rule's grace minutes; a ticket with no
  sign (handle) deadline counts as on time; a deadline that has not passed yet (grace included) and is
  not met yet is not judged; everything is judged at the evaluation time (``evaluation_time``);
- 解决率: callbacks with a result that say resolved, over callbacks with a result;
- 满意率: (满意 + ``rule.basic_weight`` × 基本满意) / callbacks with a result — the weight is the rule
  set's own field, never a constant (``scoring.indicators``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from tickets.models import COUNTED_AT, AssessmentGroup, HandlingMode, Source, Status, Ticket
from tickets.periods import month_bounds, month_first, month_next
from tickets.workcalendar import local_tz

from . import scoring
from .models import RuleSet

KEYS = ("sign_num", "sign_den", "close_num", "close_den", "resolved_num", "satisfied", "basic", "unsatisfied")


def tickets_counted_between(start: datetime, end: datetime) -> QuerySet[Ticket]:
    """The tickets that count for the window ``[start, end)`` (a month, or the first days of one): those
    whose counting moment — dispatched, else registered — falls in it. The moment is the expression
    ``COUNTED_AT`` that the index ``ticket_counted_at`` holds, so a month is one index range however
    many years the table keeps."""
    return (
        Ticket.objects.alias(counted_at=COUNTED_AT)
        .filter(counted_at__gte=start, counted_at__lt=end)
        .filter(unit__isnull=False, merged_into__isnull=True)
        .exclude(status=Status.MERGED)
        .filter(Q(source=Source.UPPER) | Q(source=Source.LOCAL, handling_mode=HandlingMode.DISPATCHED))
    )


def counted_tickets(month: date) -> QuerySet[Ticket]:
    """The tickets that count for ``month``: dispatched (交办处理) local tickets and every upper
    ticket, with a unit, dispatched (else registered) in the month, not merged away. ``unit`` and
    ``dispatched_at`` are those of the last dispatch: a ticket moved by 退单, 改派 (redispatch) or 撤回
    (recall) counts for the unit that finally handled it, in the month of that last dispatch. Its
    callback is its latest (``callback_result``; a 重办 clears it until the next callback)."""
    return tickets_counted_between(*month_bounds(month_first(month)))


def indicator_conditions(*, evaluated_at: datetime, rule: RuleSet) -> dict[str, Q]:
    """The conditions of every numerator and denominator, judged at ``evaluated_at``."""
    sign_grace = timedelta(minutes=rule.sign_grace_minutes)
    close_grace = timedelta(minutes=rule.close_grace_minutes)
    signed = Q(signed_at__isnull=False, signed_at__lte=evaluated_at)
    replied = Q(replied_at__isnull=False, replied_at__lte=evaluated_at)
    sign_limit = F("sign_deadline") + sign_grace if sign_grace else F("sign_deadline")
    close_limit = F("handle_deadline") + close_grace if close_grace else F("handle_deadline")
    sign_ok = Q(sign_deadline__isnull=True) | Q(signed_at__lte=sign_limit)
    close_ok = Q(handle_deadline__isnull=True) | Q(replied_at__lte=close_limit)
    called_back = Q(callback_at__isnull=True) | Q(callback_at__lte=evaluated_at)
    return {
        "sign_num": signed & sign_ok,
        "sign_den": signed | Q(sign_deadline__lt=evaluated_at - sign_grace),
        "close_num": replied & close_ok,
        "close_den": replied | Q(handle_deadline__lt=evaluated_at - close_grace),
        "resolved_num": Q(callback_result__in=["satisfied", "basic", "unsatisfied"], callback_resolved=True)
        & called_back,
        "satisfied": Q(callback_result="satisfied") & called_back,
        "basic": Q(callback_result="basic") & called_back,
        "unsatisfied": Q(callback_result="unsatisfied") & called_back,
    }


def _annotations(*, evaluated_at: datetime, rule: RuleSet) -> dict:
    conditions = indicator_conditions(evaluated_at=evaluated_at, rule=rule)
    return {key: Count("pk", filter=cond) for key, cond in conditions.items()}


def month_counts(*, month: date, evaluated_at: datetime, rule: RuleSet) -> dict[int, dict]:
    """One aggregate query: per unit, N and every numerator/denominator (conditional counts)."""
    rows = counted_tickets(month).values("unit_id").order_by("unit_id").annotate(
        tickets=Count("pk"), **_annotations(evaluated_at=evaluated_at, rule=rule))
    return {row.pop("unit_id"): row for row in rows}


def assessed_totals(*, start: datetime, end: datetime, evaluated_at: datetime, rule: RuleSet) -> dict:
    """One aggregate query: the numerators and denominators summed over every assessed unit (a unit
    in an assessment group) — what the stored scores of the month add up to."""
    qs = tickets_counted_between(start, end).exclude(unit__group=AssessmentGroup.NONE)
    return qs.aggregate(tickets=Count("pk"), **_annotations(evaluated_at=evaluated_at, rule=rule))


def rates(totals: dict, rule: RuleSet) -> dict[str, Fraction | None]:
    """The four indicators of ``totals`` exactly; ``None`` where there is nothing to judge (the
    assessment scores such a unit as 100%, a dashboard shows "—")."""
    counts = scoring.Counts(*(totals[k] or 0 for k in KEYS))
    values = scoring.indicators(counts, scoring.Weights.from_rule(rule))
    dens = {"sign_on_time": counts.sign_den, "close_on_time": counts.close_den, "resolved": counts.callbacks,
            "satisfied": counts.callbacks}
    return {key: (value if dens[key] else None) for key, value in values.items()}


def rule_in_force(month: date) -> RuleSet:
    """The rule set that scores ``month`` (read-only: the model defaults when none is stored yet)."""
    month = month_first(month)
    return RuleSet.objects.filter(valid_from__lte=month).order_by("-valid_from").first() or RuleSet(
        valid_from=month)


def evaluation_time(*, month: date, rule: RuleSet, now: datetime | None = None) -> datetime:
    """When "has passed" is judged: now (the default), or the rule's cut-off in the next month if
    that has already come."""
    now = now or timezone.now()
    if rule.evaluation_day:
        nm = month_next(month_first(month))
        cutoff = datetime(nm.year, nm.month, rule.evaluation_day, tzinfo=local_tz())
        return min(now, cutoff)
    return now
