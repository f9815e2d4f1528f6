"""Every write of the assessment app: rule versions, stationing, adjustments, and computing a month.

Services are keyword-only and atomic. ``actor=None`` means the system (management commands, beat
jobs, imports) and skips the role check; a user must have an assessment role (考核员 or 管理员).
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from tickets.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from tickets.models import AssessmentGroup, Unit, UnitName, User
from tickets.periods import month_bounds, month_first  # noqa: F401  (re-exported: one place, tickets/periods.py)
from tickets.periods import month_next as next_month
from tickets.permissions import ASSESS_ROLES, has_role

from . import scoring, trail
from .indicators import (  # noqa: F401  (re-exported: the one place is assessment/indicators.py)
    counted_tickets,
    evaluation_time,
    indicator_conditions,
    month_counts,
)
from .models import Adjustment, AssessmentRun, ChangeKind, RuleSet, RunStatus, Stationing, UnitScore

DEFAULT_RULE_FROM = date(2000, 1, 1)
RULE_FIELDS = (
    "name", "weight_sign", "weight_close", "weight_resolved", "weight_satisfied", "basic_weight", "min_tickets",
    "stationing_deduction", "sign_grace_minutes", "close_grace_minutes", "evaluation_day", "note",
)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def require_assessor(actor: User | None) -> None:
    if actor is not None and not has_role(actor, ASSESS_ROLES):
        raise PermissionDenied("只有考核员或管理员可以修改考核数据。")


def _validate(obj) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise InvalidInput("输入有误。", fields=exc.message_dict) from exc


def _decimal(value, field: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise InvalidInput(f"{field} 不是数字。", fields={field: ["请输入数字。"]}) from exc


# --------------------------------------------------------------------------------------------
# Stationing and adjustments
# --------------------------------------------------------------------------------------------


@transaction.atomic
def stationing_set(*, unit: Unit, month: date, complete: bool, actor: User | None, reason: str = "") -> Stationing:
    """Record whether ``unit``'s stationing for ``month`` is complete (idempotent upsert). Each real
    change is kept in the trail with the value before it."""
    require_assessor(actor)
    month = month_first(month)
    complete = bool(complete)
    stationing, created = Stationing.objects.select_for_update().get_or_create(
        unit=unit, month=month, defaults={"complete": complete, "updated_by": actor, "updated_at": timezone.now()}
    )
    if created:
        before = None
    elif stationing.complete != complete:
        before = {"complete": stationing.complete}
        stationing.complete = complete
        stationing.updated_by = actor
        stationing.updated_at = timezone.now()
        _validate(stationing)
        stationing.save(update_fields=["complete", "updated_by", "updated_at"])
    else:
        return stationing
    trail.record(kind=ChangeKind.STATIONING, month=month, actor=actor, target=unit.name, reason=reason,
                 before=before, after={"complete": complete})
    return stationing


def _adjustment_values(adjustment: Adjustment) -> dict:
    return {"id": adjustment.pk, "points": f"{adjustment.points:.2f}", "reason": adjustment.reason}


@transaction.atomic
def adjustment_create(*, unit: Unit, month: date, points, reason: str, actor: User) -> Adjustment:
    """A manual adjustment (加减分) with a reason and an author; points may be negative."""
    if actor is None:
        raise InvalidInput("加减分必须有录入人。", fields={"actor": ["必填。"]})
    require_assessor(actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写加减分理由。", fields={"reason": ["请填写理由。"]})
    points = _decimal(points, "points")
    if points == 0:
        raise InvalidInput("分值不能为0。", fields={"points": ["分值不能为0。"]})
    adjustment = Adjustment(unit=unit, month=month_first(month), points=points, reason=reason, created_by=actor)
    _validate(adjustment)
    adjustment.save()
    trail.record(kind=ChangeKind.ADJUSTMENT, month=adjustment.month, actor=actor, target=unit.name,
                 reason=reason, after=_adjustment_values(adjustment))
    return adjustment


@transaction.atomic
def adjustment_reverse(*, adjustment: Adjustment, reason: str, actor: User) -> Adjustment:
    """Cancel an adjustment by a new one of the opposite points that ``reverses`` it; nothing is
    deleted. A reversal cannot itself be reversed, and an adjustment is reversed at most once."""
    if actor is None:
        raise InvalidInput("冲销必须有操作人。", fields={"actor": ["必填。"]})
    require_assessor(actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写冲销理由。", fields={"reason": ["请填写理由。"]})
    original = Adjustment.objects.select_for_update().select_related("unit").get(pk=adjustment.pk)
    if original.reverses_id is not None:
        raise Conflict("这是一条冲销记录，不能再冲销；如需恢复请重新录入加减分。", code="adjustment_is_reversal")
    if Adjustment.objects.filter(reverses=original).exists():
        raise Conflict("该条加减分已冲销。", code="adjustment_already_reversed")
    reversal = Adjustment(unit=original.unit, month=original.month, points=-original.points,
                          reason=reason, created_by=actor, reverses=original)
    _validate(reversal)
    reversal.save()
    trail.record(kind=ChangeKind.ADJUSTMENT_REVERSE, month=original.month, actor=actor, target=original.unit.name,
                 reason=reason, before=_adjustment_values(original), after=_adjustment_values(reversal))
    return reversal


# --------------------------------------------------------------------------------------------
# Rule sets
# --------------------------------------------------------------------------------------------


@transaction.atomic
def ruleset_ensure_default() -> RuleSet:
    """The default rule of assessment.md, in force from 2000-01 unless some version exists."""
    rule = RuleSet.objects.order_by("valid_from").first()
    if rule is None:
        rule = RuleSet.objects.create(valid_from=DEFAULT_RULE_FROM, name="默认规则（assessment.md）")
    return rule


def ruleset_for_month(month: date) -> RuleSet:
    month = month_first(month)
    rule = RuleSet.objects.filter(valid_from__lte=month).order_by("-valid_from").first()
    if rule is None:
        if not RuleSet.objects.exists():
            return ruleset_ensure_default()
        raise NotFound(f"{month:%Y-%m}没有生效的考核规则。")
    return rule


@transaction.atomic
def ruleset_create(*, valid_from: date, actor: User | None, **values) -> RuleSet:
    """A new rule version in force from the month ``valid_from`` on. Earlier months keep theirs."""
    require_assessor(actor)
    valid_from = month_first(valid_from)
    if RuleSet.objects.filter(valid_from=valid_from).exists():
        raise Conflict(f"{valid_from:%Y-%m}起的规则版本已存在，请修改它或选择其他月份。",
                       fields={"valid_from": ["该月份已有规则版本。"]})
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise InvalidInput("未知的规则字段。", fields={k: ["未知字段。"] for k in sorted(unknown)})
    rule = RuleSet(valid_from=valid_from, created_by=actor, **values)
    _validate(rule)
    rule.save()
    trail.record(kind=ChangeKind.RULE_CREATE, month=valid_from, actor=actor, target=str(rule),
                 reason=rule.note, after=_rule_values(rule))
    return rule


def _rule_values(rule: RuleSet, fields=RULE_FIELDS + ("valid_from",)) -> dict:
    return {f: getattr(rule, f) for f in fields}


@transaction.atomic
def ruleset_update(*, rule_set: RuleSet, actor: User | None, **values) -> RuleSet:
    """Edit a version that has not scored any month yet. A version already used is frozen, so that
    stored months stay explainable: add a new version instead."""
    require_assessor(actor)
    rule_set = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
    if rule_set.runs.exists():
        raise Conflict("该规则版本已用于考核结果，不能修改；请新建一个版本。", code="rule_set_in_use")
    unknown = set(values) - set(RULE_FIELDS) - {"valid_from"}
    if unknown:
        raise InvalidInput("未知的规则字段。", fields={k: ["未知字段。"] for k in sorted(unknown)})
    if "valid_from" in values:
        values["valid_from"] = month_first(values["valid_from"])
        if RuleSet.objects.filter(valid_from=values["valid_from"]).exclude(pk=rule_set.pk).exists():
            raise Conflict("该月份已有规则版本。", fields={"valid_from": ["该月份已有规则版本。"]})
    before = _rule_values(rule_set)
    for key, value in values.items():
        setattr(rule_set, key, value)
    _validate(rule_set)
    rule_set.save()
    after = _rule_values(rule_set)
    changed = [f for f in after if after[f] != before[f]]
    if changed:
        trail.record(kind=ChangeKind.RULE_UPDATE, month=rule_set.valid_from, actor=actor, target=str(rule_set),
                     before={f: before[f] for f in changed}, after={f: after[f] for f in changed})
    return rule_set


# --------------------------------------------------------------------------------------------
# Computing a month
# --------------------------------------------------------------------------------------------


def unit_names_for_month(month: date) -> dict[int, tuple[str, str]]:
    """The names units had in ``month`` (renames keep history); the current name otherwise."""
    end = next_month(month) - timedelta(days=1)
    names: dict[int, tuple[str, str]] = {}
    for row in UnitName.objects.filter(valid_from__lte=end).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=end)
    ).order_by("valid_from").values("unit_id", "name", "short_name"):
        names[row["unit_id"]] = (row["name"], row["short_name"])
    return names


@transaction.atomic
def assessment_compute(*, month: date | str, actor: User | None = None,
                       evaluated_at: datetime | None = None) -> AssessmentRun:
    """Score ``month`` by the rule version in force for it and store the result, replacing any
    earlier result of that month. Running it again with the same data gives the same rows."""
    require_assessor(actor)
    started = time.perf_counter()
    month = month_first(month)
    rule = ruleset_for_month(month)
    evaluated_at = evaluated_at or evaluation_time(month=month, rule=rule)
    weights = scoring.Weights.from_rule(rule)

    # Serialise concurrent runs of the same month on the run row.
    run, created = AssessmentRun.objects.select_for_update().get_or_create(
        month=month, defaults={"rule_set": rule, "evaluated_at": evaluated_at, "status": RunStatus.RUNNING}
    )
    # What the run replaces, for the trail: its summary and every unit's score and rank.
    previous = None if created else _run_summary(run, list(run.scores.all()))
    run.scores.all().delete()

    counts = month_counts(month=month, evaluated_at=evaluated_at, rule=rule)
    stationing = dict(Stationing.objects.filter(month=month).values_list("unit_id", "complete"))
    adjustments = {
        row["unit_id"]: row["total"]
        for row in Adjustment.objects.filter(month=month).values("unit_id").order_by("unit_id")
        .annotate(total=Sum("points"))
    }
    names = unit_names_for_month(month)
    units = Unit.objects.exclude(group=AssessmentGroup.NONE).filter(
        Q(active=True) | Q(pk__in=list(counts)) | Q(pk__in=list(adjustments))
    )

    empty = dict.fromkeys(("tickets", "sign_num", "sign_den", "close_num", "close_den", "resolved_num",
                           "satisfied", "basic", "unsatisfied"), 0)
    scores: list[UnitScore] = []
    by_group: dict[str, list[scoring.RankEntry]] = {}
    for unit in units:
        c = counts.get(unit.pk, empty)
        name, short_name = names.get(unit.pk, (unit.name, unit.short_name))
        row = UnitScore(
            run=run, month=month, unit=unit, group=unit.group, unit_name=name, unit_short_name=short_name,
            tickets=c["tickets"], sign_num=c["sign_num"], sign_den=c["sign_den"], close_num=c["close_num"],
            close_den=c["close_den"], resolved_num=c["resolved_num"],
            callbacks=c["satisfied"] + c["basic"] + c["unsatisfied"], satisfied=c["satisfied"], basic=c["basic"],
            unsatisfied=c["unsatisfied"], unit_order=unit.order, stationing_required=unit.needs_stationing,
            stationing_complete=stationing.get(unit.pk),
            adjustments=adjustments.get(unit.pk) or Decimal(0),
        )
        if unit.needs_stationing and not stationing.get(unit.pk, False):
            row.stationing_deduction = rule.stationing_deduction
        if row.tickets < rule.min_tickets:
            row.excluded = True
        else:
            base = scoring.base_score(scoring.Counts(
                row.sign_num, row.sign_den, row.close_num, row.close_den, row.resolved_num, row.satisfied,
                row.basic, row.unsatisfied), weights)
            row.base_score = scoring.round_half_up(base, 8)
            row.score = scoring.final_score(base, deduction=row.stationing_deduction, adjustments=row.adjustments)
            by_group.setdefault(unit.group, []).append(
                scoring.RankEntry(unit.pk, row.score, row.tickets, unit.order))
        scores.append(row)

    placed: dict[int, scoring.Ranked] = {}
    good: set[int] = set()
    poor: set[int] = set()
    for entries in by_group.values():
        ranked = scoring.rank(entries)
        placed.update({r.key: r for r in ranked})
        g, p = scoring.good_and_poor(ranked)
        good.add(g)
        if p is not None:
            poor.add(p)
    for row in scores:
        if row.unit_id in placed:
            row.rank = placed[row.unit_id].rank
            row.position = placed[row.unit_id].position
            row.good = row.unit_id in good
            row.poor = row.unit_id in poor
    UnitScore.objects.bulk_create(scores)

    run.rule_set = rule
    run.evaluated_at = evaluated_at
    run.computed_at = timezone.now()
    run.computed_by = actor
    run.status = RunStatus.DONE
    run.ticket_count = sum(c["tickets"] for uid, c in counts.items())
    run.duration_ms = int((time.perf_counter() - started) * 1000)
    run.save()
    after = _run_summary(run, scores)
    before = None
    if previous is not None:
        # Only the units whose score or rank moved are listed, on both sides.
        moved = {name for name in set(previous["scores"]) | set(after["scores"])
                 if previous["scores"].get(name) != after["scores"].get(name)}
        before = {**previous, "scores": {n: v for n, v in previous["scores"].items() if n in moved}}
        after = {**after, "scores": {n: v for n, v in after["scores"].items() if n in moved}}
    trail.record(kind=ChangeKind.COMPUTE, month=month, actor=actor, target=str(run), before=before, after=after)
    return run


def _run_summary(run: AssessmentRun, scores: list[UnitScore]) -> dict:
    """A run as the trail keeps it: rule, evaluation time, counts, stationing, adjustments, and each
    listed unit's "score（第rank名）"."""
    return {
        "rule_set": f"{run.rule_set.valid_from:%Y-%m}", "evaluated_at": run.evaluated_at,
        "ticket_count": run.ticket_count if run.status == RunStatus.DONE else sum(s.tickets for s in scores),
        "scored": sum(1 for row in scores if not row.excluded),
        "stationing_incomplete": [row.unit_name for row in scores if row.stationing_deduction],
        "adjustments": {row.unit_name: f"{row.adjustments:.2f}" for row in scores if row.adjustments},
        "scores": {row.unit_short_name: f"{scoring.format_score(row.score)}（第{row.rank}名）"
                   for row in scores if not row.excluded},
    }


def exact_indicators(score: UnitScore, rule: RuleSet) -> dict[str, Fraction]:
    """The four indicators of a stored row, exactly (for explanations)."""
    return scoring.indicators(
        scoring.Counts(score.sign_num, score.sign_den, score.close_num, score.close_den, score.resolved_num,
                       score.satisfied, score.basic, score.unsatisfied),
        scoring.Weights.from_rule(rule),
    )
