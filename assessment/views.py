"""Web pages of the assessment app (考核). Views parse input, call selectors and services, render.

Leaders and the other centre roles read everything; assessors (and administrators) also change
rules, stationing and adjustments and run a month; a unit handler sees their own unit's scores and a
month's full tables once its bulletin is published.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tickets.exceptions import ApplicationError, NotFound
from tickets.exceptions import PermissionDenied as AppPermissionDenied
from tickets.forms import form_add_service_error
from tickets.inputs import parse_ids
from tickets.models import Role, Unit
from tickets.permissions import ASSESS_ROLES, has_role

from . import selectors, services
from .exports import tables_xlsx
from .forms import AdjustmentForm, RuleSetForm, StationingForm
from .models import Adjustment, RuleSet
from .scoring import format_score
from .tasks import previous_month


def _can_assess(user) -> bool:
    return has_role(user, ASSESS_ROLES)


def _require_assess(user) -> None:
    if not _can_assess(user):
        raise DjangoPermissionDenied("只有考核员或管理员可以修改考核数据。")


def _require_centre(user) -> None:
    if not selectors.can_read_all(user):
        raise DjangoPermissionDenied("您的角色不能查看此页面。")


def _month_or_404(value: str) -> date:
    try:
        return services.month_first(value)
    except ApplicationError as exc:
        raise Http404("月份格式应为 YYYY-MM。") from exc


def _echarts_available() -> bool:
    return any((Path(d) / "vendor" / "echarts" / "echarts.min.js").exists() for d in settings.STATICFILES_DIRS)


# --------------------------------------------------------------------------------------------
# Tables of a month
# --------------------------------------------------------------------------------------------


@login_required
def index(request):
    """The latest month (a unit handler: their unit). The pickers on the month and unit pages submit
    here (``?m=YYYY-MM``, ``?u=<unit id>``) and are sent on; the target page checks the permission."""
    user = request.user
    if request.GET.get("m"):
        target = _month_or_404(request.GET["m"])
        return redirect("assessment:month", month=f"{target:%Y-%m}")
    if request.GET.get("u"):
        try:
            unit_id = int(request.GET["u"])
        except ValueError as exc:
            raise Http404("单位不存在。") from exc
        return redirect("assessment:unit", unit_id=unit_id)
    if user.role == Role.UNIT_HANDLER and user.unit_id:
        return redirect("assessment:unit", unit_id=user.unit_id)
    _require_centre(user)
    months = selectors.month_list()
    target = months[0] if months else previous_month()
    return redirect("assessment:month", month=f"{target:%Y-%m}")


@login_required
def month_tables(request, month: str):
    """Each group's table for a month: score, rank, N, good and poor, not assessed, stationing."""
    target = _month_or_404(month)
    try:
        selectors.require_month_tables(user=request.user, month=target)
    except AppPermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    tables = selectors.group_tables(month=target)
    published_only = not selectors.can_read_all(request.user)
    months = selectors.month_list()
    if published_only:
        months = [m for m in months if selectors.month_published(m)]
    context = {
        "month": target,
        "period": f"{target:%Y-%m}",
        "tables": tables,
        "run": tables["run"],
        "months": months,
        "stationing_incomplete": selectors.stationing_incomplete(month=target),
        "changes": selectors.change_records(month=target) if not published_only else [],
        "can_assess": _can_assess(request.user),
        "can_explain": not published_only,
        "own_unit_id": request.user.unit_id,
    }
    return render(request, "assessment/month.html", context)


@login_required
@require_POST
def month_compute(request, month: str):
    target = _month_or_404(month)
    _require_assess(request.user)
    try:
        run = services.assessment_compute(month=target, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, f"考核未完成：{exc.message}")
    else:
        messages.success(request, f"{target:%Y年%m月}考核已计算：计入工单{run.ticket_count}件，"
                                  f"规则版本{run.rule_set.valid_from:%Y-%m}起。")
    return redirect("assessment:month", month=f"{target:%Y-%m}")


@login_required
def month_export(request, month: str):
    target = _month_or_404(month)
    try:
        selectors.require_month_tables(user=request.user, month=target)
    except AppPermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    if selectors.run_for_month(target) is None:
        raise Http404("该月尚未计算考核。")
    response = HttpResponse(
        tables_xlsx(month=target),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    filename = f"assessment-{target:%Y-%m}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --------------------------------------------------------------------------------------------
# One score, its tickets; one unit over the months
# --------------------------------------------------------------------------------------------


def _score_or_404(user, pk) -> object:
    try:
        return selectors.score_get_for_user(user=user, score_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
def score_detail(request, pk: int):
    score = _score_or_404(request.user, pk)
    context = selectors.score_explain(score=score)
    context["drill_kinds"] = selectors.DRILL_KINDS
    return render(request, "assessment/score.html", context)


@login_required
def score_tickets(request, pk: int, kind: str):
    score = _score_or_404(request.user, pk)
    try:
        qs = selectors.score_tickets(score=score, kind=kind)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context = {"score": score, "score_text": format_score(score.score), "kind": kind,
               "kind_label": selectors.DRILL_KINDS[kind], "page": page}
    return render(request, "assessment/score_tickets.html", context)


@login_required
def unit_scores(request, unit_id: int):
    unit = get_object_or_404(Unit, pk=unit_id)
    try:
        selectors.require_unit_scores(user=request.user, unit=unit)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    rows = selectors.unit_history(unit=unit, months=24)
    chart = {
        "months": [f"{r.month:%Y-%m}" for r in rows],
        "scores": [str(r.score) if r.score is not None else None for r in rows],
        "ranks": [r.rank for r in rows],
    }
    context = {"unit": unit, "rows": list(reversed(rows)), "chart": chart,
               "echarts": _echarts_available(),
               "units": Unit.objects.exclude(group="none").order_by("group", "order", "pk")
               if selectors.can_read_all(request.user) else []}
    return render(request, "assessment/unit.html", context)


# --------------------------------------------------------------------------------------------
# Rules, stationing, adjustments (assessors edit; centre roles read)
# --------------------------------------------------------------------------------------------


@login_required
def rules(request):
    _require_centre(request.user)
    can_assess = _can_assess(request.user)
    form = RuleSetForm(request.POST or None) if can_assess else None
    status = 200
    if request.method == "POST":
        _require_assess(request.user)
        if form.is_valid():
            values = {k: v for k, v in form.cleaned_data.items() if k != "valid_from"}
            try:
                rule = services.ruleset_create(valid_from=form.cleaned_data["valid_from"], actor=request.user,
                                               **values)
            except ApplicationError as exc:
                form_add_service_error(form, exc)
                status = 400
            else:
                messages.success(request, f"已新建规则版本：{rule.valid_from:%Y-%m}起生效。")
                return redirect("assessment:rules")
        else:
            status = 400
    rule_list = list(RuleSet.objects.order_by("-valid_from"))
    used = set(RuleSet.objects.filter(runs__isnull=False).values_list("pk", flat=True))
    for rule in rule_list:
        rule.in_use = rule.pk in used
    return render(request, "assessment/rules.html",
                  {"rules": rule_list, "form": form, "can_assess": can_assess}, status=status)


@login_required
def rule_edit(request, pk: int):
    _require_assess(request.user)
    rule = get_object_or_404(RuleSet, pk=pk)
    form = RuleSetForm(request.POST or None, instance=rule)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.ruleset_update(rule_set=rule, actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                form_add_service_error(form, exc)
                status = exc.status_code
            else:
                messages.success(request, "规则版本已修改。")
                return redirect("assessment:rules")
        else:
            status = 400
    return render(request, "assessment/rule_edit.html", {"rule": rule, "form": form}, status=status)


def _month_from_query(request) -> date:
    value = request.GET.get("month") or request.POST.get("month")
    if value:
        return _month_or_404(value)
    return previous_month()


@login_required
def stationing(request):
    _require_centre(request.user)
    target = _month_from_query(request)
    can_assess = _can_assess(request.user)
    if request.method == "POST":
        _require_assess(request.user)
        unit_ids, complete = parse_ids(request.POST.getlist("unit")), parse_ids(request.POST.getlist("complete"))
        if unit_ids is None or complete is None:
            raise BadRequest("派驻情况未保存：输入的单位编号有误。")
        units = {u.pk: u for u in Unit.objects.filter(pk__in=unit_ids)}
        complete = set(complete)
        reason = request.POST.get("reason", "").strip()
        with transaction.atomic():
            for unit in units.values():
                services.stationing_set(unit=unit, month=target, complete=unit.pk in complete, actor=request.user,
                                        reason=reason)
        messages.success(request, f"{target:%Y-%m}派驻情况已保存（{len(units)}个单位）。")
        return redirect(f"{reverse('assessment:stationing')}?month={target:%Y-%m}")
    context = {"month": target, "period": f"{target:%Y-%m}", "rows": selectors.stationing_rows(month=target),
               "can_assess": can_assess, "form": StationingForm(initial={"month": f"{target:%Y-%m}"})}
    return render(request, "assessment/stationing.html", context)


@login_required
def adjustments(request):
    _require_centre(request.user)
    target = _month_from_query(request)
    can_assess = _can_assess(request.user)
    form = None
    status = 200
    if can_assess:
        form = AdjustmentForm(request.POST or None, initial={"month": f"{target:%Y-%m}"})
    if request.method == "POST":
        _require_assess(request.user)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.adjustment_create(unit=d["unit"], month=d["month"], points=d["points"],
                                           reason=d["reason"], actor=request.user)
            except ApplicationError as exc:
                form_add_service_error(form, exc)
                status = 400
            else:
                messages.success(request, f"已录入{d['unit'].short_name}的加减分{format_score(d['points'])}分。")
                return redirect(f"{reverse('assessment:adjustments')}?month={d['month']:%Y-%m}")
        else:
            status = 400
    context = {"month": target, "period": f"{target:%Y-%m}", "rows": selectors.adjustments_for(month=target),
               "form": form, "can_assess": can_assess}
    return render(request, "assessment/adjustments.html", context, status=status)


@login_required
@require_POST
def adjustment_reverse(request, pk: int):
    """Cancel an adjustment by a reversal record (the original stays, with its reversal)."""
    _require_assess(request.user)
    adjustment = get_object_or_404(Adjustment, pk=pk)
    try:
        services.adjustment_reverse(adjustment=adjustment, reason=request.POST.get("reason", ""),
                                    actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已冲销该条加减分（原记录保留）。")
    return redirect(f"{reverse('assessment:adjustments')}?month={adjustment.month:%Y-%m}")
