"""Reads for the bulletin: the month's statistics (database aggregations only), issue numbers,
and the editor's suggestions.

Every count here comes from aggregate queries over the month's rows (the month's tickets are read
once, grouped: ``month_ticket_counts``); nothing loops over tickets in Python. The text suggestions
(``hot_issue_suggestions``) segment a bounded sample of texts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, Q

from tickets.models import (
    AppealType,
    Call,
    CallbackResult,
    Category,
    HandlingMode,
    Source,
    Status,
    Ticket,
    Unit,
    UpperPlatform,
)
from tickets.periods import month_bounds, month_next, month_previous, period_of, period_parse  # noqa: F401

from .models import Bulletin, BulletinStatus

CHINESE_MONTHS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"]


# --------------------------------------------------------------------------------------------
# Periods and formatting
# --------------------------------------------------------------------------------------------


def percent(count: int, total: int) -> str:
    """Share as printed: 2 decimals, half-up, computed exactly (1045/4998 → "20.91")."""
    if not total:
        return "0.00"
    value = (Decimal(count) * 100 / Decimal(total)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value:.2f}"


def calls_printed(total: int) -> str:
    """话务量 rounded half-up to the nearest hundred: 8712 → "约8700"."""
    rounded = int((Decimal(total) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * 100
    return f"约{rounded}"


def bulletin_title(month: dt.date) -> str:
    return f"{settings.HOTLINE_CENTRE_NAME}{CHINESE_MONTHS[month.month - 1]}月份工作简报"


def bulletin_issue_numbers(month: dt.date) -> tuple[int, int]:
    """(年第N期, 总第N期). One issue a month: N in the year is the month; the running number counts
    months from the configured starting point ``HOTLINE_BULLETIN_START`` = "YYYY-MM:number"."""
    start_period, _, start_number = settings.HOTLINE_BULLETIN_START.partition(":")
    start = period_parse(start_period.strip())
    months = (month.year - start.year) * 12 + (month.month - start.month)
    return month.month, max(1, int(start_number) + months)


# --------------------------------------------------------------------------------------------
# Statistics (sections 一 and 二)
# --------------------------------------------------------------------------------------------


def registered_between(start: dt.datetime, end: dt.datetime):
    """The tickets registered in ``[start, end)``; a ticket merged into another (并单) is the same
    matter and is not counted twice. Count them with ``Count("*")`` (or a column of the index, never
    the id) and group them by columns of the index ``ticket_registered_month``: PostgreSQL then
    reads the index alone (the bulletin and the dashboard)."""
    return Ticket.objects.filter(registered_at__gte=start, registered_at__lt=end).exclude(status=Status.MERGED)


def month_tickets(month: dt.date):
    """The month's tickets (``registered_between`` the month's bounds)."""
    return registered_between(*month_bounds(month))


def calls_stats(month: dt.date) -> dict:
    start, end = month_bounds(month)
    total = Call.objects.filter(called_at__gte=start, called_at__lt=end).count()
    return {"total": total, "printed": calls_printed(total)}


def month_ticket_counts(month: dt.date) -> list[dict]:
    """The month's tickets counted in one grouped scan: one row per (source, handling mode, platform,
    appeal type, category) with its count. Every ticket figure of the bulletin's sections 一 and 二 is
    a sum over these rows (``tickets_stats``, ``appeal_types_stats``, ``hot_topics_stats``), so
    building a bulletin reads the month's tickets once."""
    return list(
        month_tickets(month)
        .values("source", "handling_mode", "platform_id", "appeal_type_id", "category_id")
        .annotate(count=Count("*"))
        .order_by()
    )


def tickets_stats(month: dt.date, counts: list[dict] | None = None) -> dict:
    counts = month_ticket_counts(month) if counts is None else counts
    local = [r for r in counts if r["source"] == Source.LOCAL]
    upper = [r for r in counts if r["source"] == Source.UPPER]
    by_platform: Counter[int | None] = Counter()
    for row in upper:
        by_platform[row["platform_id"]] += row["count"]
    platforms = {p.id: p for p in UpperPlatform.objects.filter(id__in=[k for k in by_platform if k is not None])}

    def platform_key(item):
        platform = platforms.get(item[0])
        return (-item[1], platform.order if platform else float("inf"), item[0] or 0)

    return {
        "total": sum(r["count"] for r in counts),
        "local": {
            "total": sum(r["count"] for r in local),
            "coordinated": sum(r["count"] for r in local if r["handling_mode"] == HandlingMode.COORDINATED),
            "dispatched": sum(r["count"] for r in local if r["handling_mode"] == HandlingMode.DISPATCHED),
        },
        "upper": {
            "total": sum(r["count"] for r in upper),
            "platforms": [
                {"name": platforms[pid].name if pid in platforms else None, "count": n}
                for pid, n in sorted(by_platform.items(), key=platform_key)
            ],
        },
    }


def appeal_types_stats(month: dt.date, total: int, counts: list[dict] | None = None) -> dict:
    counts = month_ticket_counts(month) if counts is None else counts
    by_type: Counter[int] = Counter()
    for row in counts:
        by_type[row["appeal_type_id"]] += row["count"]
    rows = [
        {"name": at.name, "count": by_type.get(at.id, 0), "percent": percent(by_type.get(at.id, 0), total)}
        for at in AppealType.objects.order_by("order", "id")
    ]
    count = sum(r["count"] for r in rows)
    return {"rows": rows, "total": {"count": count, "percent": percent(count, total)}}


def hot_topics_stats(month: dt.date, total: int, limit: int = 10, counts: list[dict] | None = None) -> dict:
    """The ten second-level categories with the most tickets; equal counts in category code order."""
    counts = month_ticket_counts(month) if counts is None else counts
    by_category: Counter[int] = Counter()
    for row in counts:
        by_category[row["category_id"]] += row["count"]
    categories = {c.id: c for c in Category.objects.filter(id__in=list(by_category)).select_related("parent")}
    top = sorted(by_category.items(), key=lambda item: (-item[1], categories[item[0]].code))[:limit]
    rows = []
    for category_id, n in top:
        category = categories[category_id]
        name = f"{category.parent.name}—{category.name}" if category.parent_id else category.name
        rows.append({"name": name, "code": category.code, "count": n, "percent": percent(n, total)})
    count = sum(r["count"] for r in rows)
    return {"rows": rows, "total": {"count": count, "percent": percent(count, total)}}


def assessment_stats(month: dt.date) -> dict:
    """The two assessment tables, good/poor units and incomplete stationing, from the assessment
    app (``assessment.selectors.assessment_tables``); empty when the month is not scored yet."""
    empty = {
        "assessment": {"min_tickets": 9, "groups": []},
        "good_units": [],
        "poor_units": [],
        "stationing_incomplete": [],
    }
    try:
        from assessment.selectors import assessment_tables
    except ImportError:  # the assessment app is not installed in this build
        return empty
    tables = assessment_tables(month=month) or {}
    result = dict(empty)
    if "assessment" in tables:
        result["assessment"] = tables["assessment"]
    else:
        result["assessment"] = {
            "min_tickets": tables.get("min_tickets", 9),
            "groups": tables.get("groups", []),
        }
    # A unit that received no ticket was not "left out" of the assessment: only units with some
    # tickets but fewer than the threshold are printed as 未计入考核.
    groups = []
    for group in result["assessment"].get("groups", []):
        group = dict(group)
        group["not_assessed"] = [x for x in group.get("not_assessed", []) if x.get("tickets")]
        groups.append(group)
    result["assessment"] = {**result["assessment"], "groups": groups}
    for key in ("good_units", "poor_units", "stationing_incomplete"):
        result[key] = list(tables.get(key, []))
    return result


def bulletin_statistics(*, month: dt.date) -> dict:
    """Every computed figure of the bulletin JSON for the month."""
    counts = month_ticket_counts(month)
    tickets = tickets_stats(month, counts)
    total = tickets["total"]
    data = {
        "period": period_of(month),
        "calls": calls_stats(month),
        "tickets": tickets,
        "appeal_types": appeal_types_stats(month, total, counts),
        "hot_topics": hot_topics_stats(month, total, counts=counts),
    }
    data.update(assessment_stats(month))
    return data


# --------------------------------------------------------------------------------------------
# Bulletins
# --------------------------------------------------------------------------------------------


def bulletin_list_published():
    return Bulletin.objects.filter(status=BulletinStatus.PUBLISHED).order_by("-month")


def bulletin_get_published(*, period: str) -> Bulletin | None:
    return Bulletin.objects.filter(period=period, status=BulletinStatus.PUBLISHED).first()


# --------------------------------------------------------------------------------------------
# Editor's suggestions
# --------------------------------------------------------------------------------------------

STOPWORDS = set(
    "来电 来电人 反映 市民 群众 希望 要求 相关 部门 尽快 处理 解决 问题 情况 目前 现在 没有 进行 一直 多次 "
    "附近 存在 造成 影响 这个 那个 已经 还是 可以 不能 我们 他们 自己 是否 如何 什么 怎么 请求 咨询 诉求 "
    "投诉 建议 举报 帮助 协调 核实 落实 一个 一些 以及 导致 由于 因为 所以 但是 而且 并且 其中 本人 家中 "
    "村民 居民 汝州 汝州市 有关 给予 表示 联系 工作人员 单位 时间 目前为止 至今 "
    # filler of every kind of request: never a hot issue by itself
    "办理 需要 哪些 准备 能否 是否 多少 为什么 怎么办 需要 要求 希望 请问 一下 一直 还是 比较 非常 特别 "
    "严重 经常 长期 多次 反复 很多 很大 不够 不到 不了 不再 以前 以后 之前 之后 现在 今天 昨天 明天 "
    "已经 不是 就是 还有 而且 或者 以及 通过 按照 根据 关于 对于 进行 开始 结束 出现 发生 得到 无法 "
    "相关部门 有关部门 职能部门 政府 工作 服务 人员 方面 情况 事项 事情 东西 地方 时候 问题 迟迟 "
    "某村 某小区 某社区 某路口 某街 某组 某公司 某学校 某工地 村里 小区 社区 附近 路段 周边 "
    "一个多月 两天 三天 一周 每天 晚上 白天 上午 下午 "
    "中心 公司 使用 正常 组织 提高 补充 未到 无果 多人 调查 介入 收取 稳定 拒绝 比例 流程 政策 方面".split()
)
COMPARE_MONTHS = 3


def _text_terms(text: str) -> set[str]:
    """A text's terms (once each): jieba words of 2+ characters, no stop words, no numbers, no
    place names of the directory (a township's name is where, not what)."""
    import jieba

    jieba.setLogLevel(60)
    return {w for w in jieba.lcut(text or "") if len(w) >= 2 and w not in STOPWORDS and not w.isdigit()
            and not w.endswith(("镇", "乡", "街道", "村", "路", "小区"))}


def _segment_terms(texts: list[str], top: int = 8) -> list[tuple[str, int]]:
    """The commonest terms of ``texts`` (counted once per text)."""
    counter: Counter[str] = Counter()
    for text in texts:
        counter.update(_text_terms(text))
    return counter.most_common(top)


def standout_terms(texts: list[str], background: list[str], *, top: int = 8, min_count: int = 2,
                   z_min: float = 1.96) -> list[dict]:
    """Terms of ``texts`` that stand out against ``background``: the weighted log-odds ratio with an
    informative Dirichlet prior (Monroe, Colaresi & Quinn 2008) over document frequencies; a term
    is kept when its z-score is at least ``z_min`` and it occurs in ``min_count`` texts."""
    import math

    target: Counter[str] = Counter()
    for text in texts:
        target.update(_text_terms(text))
    base: Counter[str] = Counter()
    for text in background:
        base.update(_text_terms(text))
    prior = target + base
    a0 = sum(prior.values()) or 1
    n_t, n_b = sum(target.values()), sum(base.values())
    scored = []
    for term, y_t in target.items():
        if y_t < min_count:
            continue
        a_w = prior[term] * 0.5 + 0.01  # a mild prior, proportional to the term's overall frequency
        a_all = a0 * 0.5 + 0.01 * len(prior)
        y_b = base.get(term, 0)
        rest_t, rest_b = n_t + a_all - y_t - a_w, n_b + a_all - y_b - a_w
        if rest_t <= 0 or rest_b <= 0:  # one term is the whole vocabulary: nothing stands out against it
            continue
        delta = math.log((y_t + a_w) / rest_t) - math.log((y_b + a_w) / rest_b)
        variance = 1 / (y_t + a_w) + 1 / (y_b + a_w)
        z = delta / math.sqrt(variance)
        if z >= z_min:
            scored.append({"term": term, "count": y_t, "previous": y_b, "z": round(z, 2)})
    scored.sort(key=lambda r: (-r["z"], -r["count"], r["term"]))
    return scored[:top]


def _months_before(month: dt.date, n: int) -> list[dt.date]:
    months, current = [], month
    for _ in range(n):
        current = month_previous(current)
        months.append(current)
    return months


def hot_issue_suggestions(*, month: dt.date, categories: int = 8, sample: int = 300) -> list[dict]:
    """Hot issues found in the month's tickets: the busiest categories, their change against the
    previous month (only where that month has tickets), the townships where they concentrate,
    terms that stand out against the previous ``COMPARE_MONTHS`` months' texts of the category
    (or, without those, against the month's other categories), and example tickets to open."""
    qs = month_tickets(month)
    prev = month_tickets(month_previous(month))
    previous_has_data = prev.exists()
    top = list(
        qs.values("category_id", "category__code", "category__name", "category__parent__name")
        .annotate(count=Count("id"))
        .order_by("-count", "category__code")[:categories]
    )
    ids = [row["category_id"] for row in top]
    prev_counts = dict(
        prev.filter(category_id__in=ids).values_list("category_id").annotate(n=Count("id")).order_by()
    )
    townships: dict[int, list[dict]] = {}
    for row in (
        qs.filter(category_id__in=ids, township__isnull=False)
        .values("category_id", "township__short_name")
        .annotate(count=Count("id"))
        .order_by("category_id", "-count", "township__short_name")
    ):
        townships.setdefault(row["category_id"], [])
        if len(townships[row["category_id"]]) < 3:
            townships[row["category_id"]].append({"name": row["township__short_name"], "count": row["count"]})
    earlier = _months_before(month, COMPARE_MONTHS)
    earlier_qs = Ticket.objects.none()
    for m in earlier:
        earlier_qs = earlier_qs | month_tickets(m)
    result = []
    for row in top:
        cid = row["category_id"]
        sample_rows = list(qs.filter(category_id=cid).order_by("-registered_at").values_list("id", "content")[:sample])
        texts = [text for _, text in sample_rows]
        background = list(earlier_qs.filter(category_id=cid).order_by("-registered_at")
                          .values_list("content", flat=True)[:sample * COMPARE_MONTHS])
        if len(background) >= 20:
            compared = f"前{COMPARE_MONTHS}个月同类工单"
        else:
            background = list(qs.exclude(category_id=cid).order_by("-registered_at")
                              .values_list("content", flat=True)[:sample * 3])
            compared = "本月其他分类（前几个月同类工单太少）"
        terms = standout_terms(texts, background)
        examples = []
        for term in terms[:3]:
            for tid, text in sample_rows:
                if term["term"] in text and tid not in [e["id"] for e in examples]:
                    examples.append({"id": tid, "term": term["term"]})
                    break
        parent = row["category__parent__name"]
        previous = prev_counts.get(cid, 0) if previous_has_data else None
        result.append(
            {
                "category": f"{parent}—{row['category__name']}" if parent else row["category__name"],
                "code": row["category__code"],
                "count": row["count"],
                "previous": previous,
                "change": None if previous is None else row["count"] - previous,
                "townships": townships.get(cid, []),
                "terms": terms,
                "compared_with": compared,
                "examples": examples,
            }
        )
    return result


def typical_case_candidates(*, month: dt.date, limit: int = 20) -> list[dict]:
    """Well-handled tickets of the month: dispatched, closed, replied on time with a public answer,
    callback 满意 and resolved; upper-platform and urgent ones first. Only public fields (no caller
    data)."""
    from django.db.models import F

    start, end = month_bounds(month)
    qs = (
        Ticket.objects.filter(
            unit__isnull=False,
            status=Status.CLOSED,
            callback_result=CallbackResult.SATISFIED,
            callback_resolved=True,
            closed_at__gte=start,
            closed_at__lt=end + dt.timedelta(days=15),
            registered_at__gte=start,
            registered_at__lt=end,
        )
        .filter(Q(handle_deadline__isnull=True) | Q(replied_at__lte=F("handle_deadline")))
        .exclude(reply_text="")  # a case is shown with its answer; tickets without one are no example
        .select_related("unit", "category", "category__parent")
        .order_by("-urgent", "-source", "-registered_at")[:limit]
    )
    return [
        {
            "id": t.id,
            "number": t.number,
            "unit": t.unit.name,
            "unit_short": t.unit.short_name,
            "category": t.category.full_name,
            "title": t.title or t.content[:30],
            "content": t.content[:200],
            "reply": t.reply_text[:200],
        }
        for t in qs
    ]


def month_change(*, month: dt.date) -> dict:
    """The month against the previous one: totals, appeal types and units' ticket counts."""
    prev_month = month_previous(month)
    now = tickets_stats(month)
    before = tickets_stats(prev_month)
    keys = [("total", "办理事项"), ("local.total", "本级登记"), ("local.coordinated", "协调办理"),
            ("local.dispatched", "交办处理"), ("upper.total", "上级交办")]

    def pick(d, key):
        for part in key.split("."):
            d = d[part]
        return d

    calls_now, calls_before = calls_stats(month)["total"], calls_stats(prev_month)["total"]
    # A month without any ticket or call is a month without data (before the system, or not
    # imported), not a month of zeros: no change is computed against it.
    has_data = bool(before["total"] or calls_before)

    def row(label, a, b):
        if not has_data:
            return {"name": label, "count": a, "previous": None, "change": None, "percent": None}
        return {"name": label, "count": a, "previous": b, "change": a - b, "percent": percent(a - b, b) if b else None}

    rows = [row("话务量", calls_now, calls_before)]
    rows += [row(label, pick(now, key), pick(before, key)) for key, label in keys]
    return {"previous_period": period_of(prev_month), "previous_has_data": has_data, "rows": rows}


def unit_full_names(short_names: list[str]) -> list[str]:
    names = dict(Unit.objects.filter(short_name__in=short_names).values_list("short_name", "name"))
    return [names.get(s, s) for s in short_names]


def bulletin_tasks(*, today: dt.date) -> list[dict]:
    """The editor's 工作台: last month's bulletin to build, edit or publish, and any older drafts."""
    month = month_previous(today.replace(day=1))
    period = period_of(month)
    current = Bulletin.objects.filter(month=month).first()
    if current is None:
        tasks = [{"period": period, "step": "build", "label": f"生成{month.year}年{month.month}月简报草稿"}]
    elif current.status == BulletinStatus.DRAFT:
        tasks = [{"period": period, "step": "edit", "label": f"编辑并发布{month.year}年{month.month}月简报（草稿）"}]
    else:
        tasks = []
    for draft in Bulletin.objects.filter(status=BulletinStatus.DRAFT).exclude(month=month).order_by("-month"):
        tasks.append({"period": draft.period, "step": "edit",
                      "label": f"发布{draft.month.year}年{draft.month.month}月简报（草稿）"})
    return tasks
