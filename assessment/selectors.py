"""Every read of the assessment app that is more than a ``get``, permission-checked once here.

Who sees what: assessors, admins and leaders (and the other centre roles) read every month's tables;
a unit handler reads their own unit's scores, and the full tables of a month only once that month's
bulletin is published.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.apps import apps
from django.db.models import Q, QuerySet

from tickets.exceptions import NotFound, PermissionDenied
from tickets.models import AssessmentGroup, CallbackResult, Role, Ticket, Unit, User
from tickets.permissions import MANAGEMENT_READ_ROLES, has_role

from . import scoring
from .indicators import counted_tickets, indicator_conditions
from .models import Adjustment, AssessmentRun, RuleSet, Stationing, UnitScore
from .services import month_first

GROUPS = (AssessmentGroup.TOWNSHIP, AssessmentGroup.CITY)
DRILL_KINDS = {
    "late_sign": "超时签收（含逾期未签收）",
    "late_reply": "超时办结（含逾期未办结）",
    "unresolved": "回访未解决",
    "unsatisfied": "回访不满意",
    "basic": "回访基本满意",
}


# --------------------------------------------------------------------------------------------
# Access
# --------------------------------------------------------------------------------------------


def can_read_all(user: User) -> bool:
    return has_role(user, MANAGEMENT_READ_ROLES)


def can_open_assessment(user: User) -> bool:
    """The assessment pages open for the management roles, and for a unit handler on their own unit."""
    return can_read_all(user) or bool(user and user.is_authenticated and user.is_active
                                      and user.role == Role.UNIT_HANDLER and user.unit_id)


def month_published(month: date) -> bool:
    """Whether the bulletin of ``month`` is published (the reports app decides; absent → no)."""
    try:
        bulletin = apps.get_model("reports", "Bulletin")
    except LookupError:
        return False
    return bulletin.objects.filter(month=month_first(month), status="published").exists()


def require_month_tables(*, user: User, month: date) -> None:
    """Whole tables: centre roles always; a unit handler once the month's bulletin is published."""
    if can_read_all(user):
        return
    if user and user.is_authenticated and user.role == Role.UNIT_HANDLER and month_published(month):
        return
    raise PermissionDenied("本月考核结果尚未公布。")


def require_unit_scores(*, user: User, unit: Unit | int) -> None:
    unit_id = unit if isinstance(unit, int) else unit.pk
    if can_read_all(user):
        return
    if user and user.is_authenticated and user.role == Role.UNIT_HANDLER and user.unit_id == unit_id:
        return
    raise NotFound()


def score_queryset_for_user(*, user: User) -> QuerySet[UnitScore]:
    qs = UnitScore.objects.select_related("run", "unit")
    if can_read_all(user):
        return qs
    if user and user.is_authenticated and user.role == Role.UNIT_HANDLER and user.unit_id:
        return qs.filter(unit_id=user.unit_id)
    return qs.none()


def score_get_for_user(*, user: User, score_id: int) -> UnitScore:
    try:
        return score_queryset_for_user(user=user).select_related("run__rule_set").get(pk=int(score_id))
    except (UnitScore.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def run_for_month(month: date) -> AssessmentRun | None:
    return AssessmentRun.objects.select_related("rule_set").filter(month=month_first(month)).first()


def month_list() -> list[date]:
    return list(AssessmentRun.objects.order_by("-month").values_list("month", flat=True))


def group_tables(*, month: date) -> dict:
    """Each group's listed rows and its units not assessed, from the stored run (2 queries)."""
    month = month_first(month)
    run = run_for_month(month)
    groups = {g: {"key": g, "name": g.label, "rows": [], "not_assessed": []} for g in GROUPS}
    if run is not None:
        for row in run.scores.select_related("unit").order_by("group", "excluded", "position", "-tickets",
                                                             "unit__order", "unit_id"):
            if row.group not in groups:
                continue
            row.score_text = scoring.format_score(row.score)
            target = groups[row.group]["not_assessed" if row.excluded else "rows"]
            target.append(row)
    return {"month": month, "run": run, "groups": [groups[g] for g in GROUPS]}


def stationing_incomplete(*, month: date) -> list[str]:
    """Names (as in the month) of the units that lost points for their stationing in the stored run
    of ``month`` — frozen with the scores, so a later edit of stationing or a rename does not change
    what the month's tables and bulletin print. Empty while the month is not computed."""
    run = run_for_month(month)
    if run is None:
        return []
    return list(
        run.scores.filter(stationing_required=True).exclude(stationing_complete=True)
        .order_by("group", "unit_order", "unit_id").values_list("unit_name", flat=True)
    )


def assessment_tables(*, month: date) -> dict:
    """The bulletin's ``assessment`` part (exchange.md) plus ``good_units``, ``poor_units`` and
    ``stationing_incomplete`` (full names). Empty groups when the month has not been computed."""
    tables = group_tables(month=month)
    run = tables["run"]
    min_tickets = run.rule_set.min_tickets if run else _rule_min_tickets(tables["month"])
    groups, good, poor = [], [], []
    for group in tables["groups"]:
        rows = group["rows"]
        groups.append({
            "name": group["name"],
            "rows": [{"unit": r.unit_short_name, "score": r.score_text, "rank": r.rank, "tickets": r.tickets}
                     for r in rows],
            "not_assessed": [{"unit": r.unit_short_name, "tickets": r.tickets} for r in group["not_assessed"]],
        })
        good += [r.unit_name for r in rows if r.good]
        poor += [r.unit_name for r in rows if r.poor]
    return {
        "assessment": {"min_tickets": min_tickets, "groups": groups},
        "good_units": good,
        "poor_units": poor,
        "stationing_incomplete": stationing_incomplete(month=tables["month"]),
    }


def change_records(*, month: date):
    """The month's 变更记录 (with the changes of the rule version in force for it), newest first."""
    from .trail import records_for_month

    month = month_first(month)
    rule = RuleSet.objects.filter(valid_from__lte=month).order_by("-valid_from").first()
    return records_for_month(month, rule_from=rule.valid_from if rule else None)


def _rule_min_tickets(month: date) -> int:
    rule = RuleSet.objects.filter(valid_from__lte=month).order_by("-valid_from").first()
    return rule.min_tickets if rule else 9


def unit_history(*, unit: Unit, months: int = 12) -> list[UnitScore]:
    """A unit's stored scores, oldest first (the last ``months`` months computed)."""
    rows = list(UnitScore.objects.filter(unit=unit).select_related("run").order_by("-month")[:months])
    rows.reverse()
    for row in rows:
        row.score_text = scoring.format_score(row.score)
    return rows


# --------------------------------------------------------------------------------------------
# Explaining one score
# --------------------------------------------------------------------------------------------


def score_explain(*, score: UnitScore) -> dict:
    """Every line behind a stored score: indicator fractions, weights, deductions, adjustments."""
    rule = score.run.rule_set
    weights = scoring.Weights.from_rule(rule)
    counts = scoring.Counts(score.sign_num, score.sign_den, score.close_num, score.close_den, score.resolved_num,
                            score.satisfied, score.basic, score.unsatisfied)
    ind = scoring.indicators(counts, weights)
    sat_num = Decimal(score.satisfied) + rule.basic_weight * score.basic
    lines = [
        {"key": "sign_on_time", "name": "按时签收率", "numerator": str(score.sign_num),
         "denominator": score.sign_den, "weight": str(rule.weight_sign.normalize()),
         "percent": scoring.format_fraction(ind["sign_on_time"]), "drill": "late_sign"},
        {"key": "close_on_time", "name": "按时办结率", "numerator": str(score.close_num),
         "denominator": score.close_den, "weight": str(rule.weight_close.normalize()),
         "percent": scoring.format_fraction(ind["close_on_time"]), "drill": "late_reply"},
        {"key": "resolved", "name": "解决率", "numerator": str(score.resolved_num), "denominator": score.callbacks,
         "weight": str(rule.weight_resolved.normalize()), "percent": scoring.format_fraction(ind["resolved"]),
         "drill": "unresolved"},
        {"key": "satisfied", "name": "满意率",
         "numerator": f"{score.satisfied} + {rule.basic_weight.normalize()} × {score.basic} = {sat_num.normalize()}",
         "denominator": score.callbacks, "weight": str(rule.weight_satisfied.normalize()),
         "percent": scoring.format_fraction(ind["satisfied"]), "drill": "unsatisfied"},
    ]
    adjustments = list(Adjustment.objects.filter(unit_id=score.unit_id, month=score.month)
                       .select_related("created_by").order_by("created_at", "id"))
    return {
        "score": score,
        "score_text": scoring.format_score(score.score),
        "rule": rule,
        "lines": lines,
        "base": scoring.format_score(score.base_score) if score.base_score is not None else "",
        "adjustment_rows": adjustments,
    }


def score_tickets(*, score: UnitScore, kind: str) -> QuerySet[Ticket]:
    """The tickets of a stored score that cost it points: late or missing signs, late or missing
    replies, unresolved and unsatisfied callbacks — judged exactly as when the score was computed."""
    if kind not in DRILL_KINDS:
        raise NotFound("没有这一类工单。")
    rule = score.run.rule_set
    cond = indicator_conditions(evaluated_at=score.run.evaluated_at, rule=rule)
    qs = counted_tickets(score.month).filter(unit_id=score.unit_id)
    if kind == "late_sign":
        qs = qs.filter(cond["sign_den"]).exclude(cond["sign_num"])
    elif kind == "late_reply":
        qs = qs.filter(cond["close_den"]).exclude(cond["close_num"])
    elif kind == "unresolved":
        called = cond["satisfied"] | cond["basic"] | cond["unsatisfied"]
        qs = qs.filter(called).exclude(cond["resolved_num"])
    elif kind == "unsatisfied":
        qs = qs.filter(cond["unsatisfied"])
    elif kind == "basic":
        qs = qs.filter(cond["basic"], callback_result=CallbackResult.BASIC)
    return qs.select_related("appeal_type", "category", "category__parent").order_by("dispatched_at", "id")


def adjustments_for(*, month: date | None = None, unit: Unit | None = None) -> QuerySet[Adjustment]:
    qs = Adjustment.objects.select_related("unit", "created_by", "reverses", "reversal")
    if month:
        qs = qs.filter(month=month_first(month))
    if unit:
        qs = qs.filter(unit=unit)
    return qs.order_by("-month", "unit__group", "unit__order", "created_at")


def stationing_rows(*, month: date) -> list[dict]:
    """Every unit that must station staff, with its status for ``month`` (None = not recorded)."""
    month = month_first(month)
    status = {s.unit_id: s for s in Stationing.objects.filter(month=month).select_related("updated_by")}
    return [
        {"unit": u, "record": status.get(u.pk), "complete": status[u.pk].complete if u.pk in status else None}
        for u in Unit.objects.filter(Q(needs_stationing=True) | Q(pk__in=list(status)))
        .exclude(group=AssessmentGroup.NONE).order_by("group", "order", "pk")
    ]
