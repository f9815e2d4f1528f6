"""The leader dashboard's statistics for any month: calls and tickets, the four rates, daily volume,
appeal types, top categories and townships, and the month's rankings summary.

- Comparison: a running month (today inside it) is compared with the same stretch of the previous
  month (from the 1st to the same day and time, cut at that month's end); a closed month with the
  whole previous month. A figure with nothing to compare against shows no change (no ▼ against an
  empty month).
- The rates are the assessment's (``assessment/indicators.py``): the same tickets, grace minutes,
  missing-deadline rule and the rule set's own 基本满意 weight, judged at the stored run's
  evaluation time for a computed month — so a closed month reads exactly as its assessment.
- Every figure is a database aggregation (a handful of queries, whatever the number of tickets): the
  counts of ended days are summed from the daily roll-up (``reports/rollup.py``), the rest counted
  from the index ``ticket_registered_month`` alone on PostgreSQL; a scored closed month's rates are
  summed from its stored run (60-odd rows), not recounted.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction

from django.db.models import Sum
from django.utils import timezone

from assessment import indicators, scoring
from assessment.models import AssessmentRun
from tickets.models import AppealType, Category, Unit
from tickets.periods import month_bounds, month_first, month_previous, period_of
from tickets.workcalendar import local_tz

from .rollup import window_volume

RANKING_ROWS = 3  # top and bottom rows of each group in the rankings summary

COUNT_KEYS = [("calls", "话务量", "个"), ("tickets", "工单总量", "件"), ("coordinated", "协调办理", "件"),
              ("dispatched", "交办处理", "件"), ("urgent", "紧急件", "件")]
RATE_KEYS = [("sign_on_time", "按时签收率"), ("close_on_time", "按时办结率"), ("satisfied", "满意率"),
             ("resolved", "解决率")]


def _percent(value: Fraction | None) -> str | None:
    return scoring.format_fraction(value) if value is not None else None


def _evaluated_at(month: date, rule, *, cut: datetime, now: datetime, closed: bool) -> datetime:
    """A month without a stored run is judged as the assessment would judge it now; a running window
    never after its end."""
    evaluated_at = indicators.evaluation_time(month=month, rule=rule, now=now)
    return evaluated_at if closed else min(evaluated_at, cut)


def _stored_totals(run: AssessmentRun) -> dict:
    """The numerators and denominators of a stored assessment run, summed over its units (what
    ``indicators.assessed_totals`` counted when the run was computed)."""
    keys = ("tickets", *indicators.KEYS)
    sums = run.scores.aggregate(**{k: Sum(k) for k in keys})
    return {k: sums[k] or 0 for k in keys}


def window_figures(month: date, start: datetime, cut: datetime, *, now: datetime, closed: bool,
                   volume: dict | None = None) -> dict:
    """Calls, tickets and rates of ``[start, cut)`` — a whole month or its first days. The counts come
    from ``reports.rollup.window_volume`` (the daily roll-up for ended days, counted for the rest). A
    closed month that has been scored reads its rates from the stored run (the assessment's own
    figures, judged at its evaluation time under its rule set); any other window counts them from the
    tickets."""
    if volume is None:
        volume = window_volume(start, cut, groups=False, today=timezone.localtime(now).date())
    run = AssessmentRun.objects.select_related("rule_set").filter(month=month).first() if closed else None
    if run is not None:
        rule, evaluated_at, totals = run.rule_set, run.evaluated_at, _stored_totals(run)
    else:
        rule = indicators.rule_in_force(month)
        evaluated_at = _evaluated_at(month, rule, cut=cut, now=now, closed=closed)
        totals = indicators.assessed_totals(start=start, end=cut, evaluated_at=evaluated_at, rule=rule)
    rates = indicators.rates(totals, rule)
    return {
        **{key: volume[key] for key, _, _ in COUNT_KEYS}, "rates": rates, "totals": totals,
        "evaluated_at": evaluated_at, "rule_id": rule.pk, "basic_weight": rule.basic_weight,
        **{key: _percent(rates[key]) for key, _ in RATE_KEYS},
    }


def _count_delta(this: int, last: int) -> int | None:
    return this - last if last else None  # nothing (or an empty month) to compare with: no change shown


def _rate_delta(this: Fraction | None, last: Fraction | None) -> str | None:
    if this is None or last is None:
        return None
    return scoring.format_fraction(this - last)


def comparison(this: dict, last: dict) -> list[dict]:
    rows = [{"key": k, "label": label, "unit": unit, "this": this[k], "last": last[k],
             "delta": _count_delta(this[k], last[k])} for k, label, unit in COUNT_KEYS]
    for key, label in RATE_KEYS:
        delta = _rate_delta(this["rates"][key], last["rates"][key])
        rows.append({"key": key, "label": label, "unit": "%", "this": this[key], "last": last[key],
                     "delta": delta, "sign": 0 if delta is None else (this["rates"][key] > last["rates"][key])
                     - (this["rates"][key] < last["rates"][key])})
    for row in rows:
        if row["unit"] != "%":
            row["sign"] = 0 if row["delta"] is None else (row["delta"] > 0) - (row["delta"] < 0)
    return rows


def rankings(month: date) -> dict:
    """The month's stored scores: top and bottom ``RANKING_ROWS`` of each group (no query per row)."""
    from assessment.selectors import group_tables

    tables = group_tables(month=month)
    groups = []
    for group in tables["groups"]:
        rows = group["rows"]
        top = rows[:RANKING_ROWS]
        bottom = [r for r in rows[-RANKING_ROWS:] if r not in top]
        groups.append({"name": group["name"], "top": top, "bottom": bottom, "count": len(rows)})
    return {"computed": tables["run"] is not None, "groups": groups, "period": period_of(month)}


def dashboard_stats(*, month: date, now: datetime | None = None, top: int = 10) -> dict:
    now = now or timezone.now()
    month = month_first(month)
    start, end = month_bounds(month)
    previous = month_previous(month)
    prev_start, prev_end = month_bounds(previous)
    running = start <= now < end
    if running:
        cut, prev_cut = now, min(prev_start + (now - start), prev_end)
    else:
        cut, prev_cut = end, prev_end
    today = timezone.localtime(now).date()
    volume = window_volume(start, cut, today=today)
    this = window_figures(month, start, cut, now=now, closed=not running, volume=volume)
    last = window_figures(previous, prev_start, prev_cut, now=now, closed=not running)

    tz = local_tz()
    days, day, last_day = [], start.date(), (cut - timedelta(microseconds=1)).astimezone(tz).date()
    while day <= last_day:
        counted = volume["daily"].get(day, {})
        days.append({"day": day.strftime("%m-%d"), "n": counted.get("tickets", 0), "calls": counted.get("calls", 0)})
        day += timedelta(days=1)
    # Counted by id, named from the small directory tables.
    by_appeal, by_category, by_township = volume["appeal_type"], volume["category"], volume["township"]
    appeal_names = dict(AppealType.objects.filter(pk__in=list(by_appeal)).values_list("pk", "name"))
    appeal_types = sorted(({"name": appeal_names[pk], "n": n} for pk, n in by_appeal.items()),
                          key=lambda r: (-r["n"], r["name"]))
    named = {c.pk: c for c in Category.objects.filter(pk__in=list(by_category)).select_related("parent")}
    categories = sorted(({"name": named[pk].name, "parent": named[pk].parent.name if named[pk].parent_id else None,
                          "n": n} for pk, n in by_category.items()), key=lambda r: (-r["n"], r["name"]))[:top]
    township_names = dict(Unit.objects.filter(pk__in=list(by_township)).values_list("pk", "short_name"))
    townships = sorted(({"name": township_names[pk], "n": n} for pk, n in by_township.items()),
                       key=lambda r: (-r["n"], r["name"]))
    local_cut = timezone.localtime(cut)
    return {
        "month": month,
        "period": period_of(month),
        "last_month": previous,
        "running": running,
        "through": local_cut if running else None,
        "last_through": timezone.localtime(prev_cut) if running else None,
        "this": this,
        "last": last,
        "comparison": comparison(this, last),
        "daily": days,
        "appeal_types": appeal_types,
        "categories": [{"name": f"{c['parent']}—{c['name']}" if c["parent"] else c["name"], "n": c["n"]}
                       for c in categories],
        "townships": townships,
        "rankings": rankings(month),
    }


def dashboard_stats_cached(*, month: date, top: int = 10) -> dict:
    """The dashboard is read often and changes slowly: its figures are cached for
    ``HOTLINE_DASHBOARD_CACHE_SECONDS`` (default 5 minutes; Redis when configured, so every web worker
    shares them); 0 computes them at every view."""
    from django.conf import settings
    from django.core.cache import cache

    seconds = settings.HOTLINE_DASHBOARD_CACHE_SECONDS
    if seconds <= 0:
        return dashboard_stats(month=month, top=top)
    key = f"reports:dashboard:{period_of(month)}:{top}"
    stats = cache.get(key)
    if stats is None:
        stats = dashboard_stats(month=month, top=top)
        cache.set(key, stats, seconds)
    return stats
