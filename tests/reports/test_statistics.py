"""Statistics of sections 一 and 二: database aggregations, percent formatting, issue numbers."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from reports import selectors
from tickets import services
from tickets.models import AppealType, Call, Category, Ticket

TZ = ZoneInfo("Asia/Shanghai")


def test_percent_is_two_decimals_half_up_and_exact():
    # given / when / then: 1045/4998 = 20.9084 → 20.91 (the seed's misprint is 20.90)
    assert selectors.percent(1045, 4998) == "20.91"
    assert selectors.percent(1, 8) == "12.50"  # 12.5 exactly
    assert selectors.percent(1, 800) == "0.13"  # 0.125 → half-up, not banker's 0.12
    assert selectors.percent(4998, 4998) == "100.00"
    assert selectors.percent(0, 0) == "0.00"


def test_calls_printed_rounds_to_the_hundred():
    assert selectors.calls_printed(8712) == "约8700"
    assert selectors.calls_printed(8650) == "约8700"
    assert selectors.calls_printed(8649) == "约8600"


def test_issue_numbers_follow_the_configured_start():
    # given the default start 2024-04 = 总第280期
    assert selectors.bulletin_issue_numbers(dt.date(2024, 4, 1)) == (4, 280)
    assert selectors.bulletin_issue_numbers(dt.date(2025, 1, 1)) == (1, 289)
    # when another start is configured / then the running number moves with it
    with override_settings(HOTLINE_BULLETIN_START="2020-01:1"):
        assert selectors.bulletin_issue_numbers(dt.date(2020, 3, 1)) == (3, 3)


def test_title_names_the_month_in_chinese():
    assert selectors.bulletin_title(dt.date(2024, 4, 1)) == "汝州市12345政务服务便民热线四月份工作简报"
    assert selectors.bulletin_title(dt.date(2024, 12, 1)).endswith("十二月份工作简报")


def _ticket(new_ticket, at, **kw):
    ticket = new_ticket(**kw)
    Ticket.objects.filter(pk=ticket.pk).update(registered_at=at)
    return ticket


@pytest.mark.django_db
def test_appeal_types_all_five_in_fixed_order_with_zeros(new_ticket):
    # given two 投诉举报 tickets and one 咨询 in April (Shanghai time)
    at = dt.datetime(2024, 4, 10, 9, tzinfo=TZ)
    complaint = AppealType.objects.get(code="complaint")
    _ticket(new_ticket, at, appeal_type=complaint)
    _ticket(new_ticket, at, appeal_type=complaint)
    _ticket(new_ticket, at, appeal_type=AppealType.objects.get(code="consult"))
    # when
    data = selectors.bulletin_statistics(month=dt.date(2024, 4, 1))
    # then
    rows = data["appeal_types"]["rows"]
    assert [r["name"] for r in rows] == ["咨询", "问题处理", "投诉举报", "建议", "其他"]
    assert [r["count"] for r in rows] == [1, 0, 2, 0, 0]
    assert [r["percent"] for r in rows] == ["33.33", "0.00", "66.67", "0.00", "0.00"]
    assert data["appeal_types"]["total"] == {"count": 3, "percent": "100.00"}


@pytest.mark.django_db
def test_month_is_calendar_month_in_shanghai_and_merged_tickets_do_not_count(new_ticket, dispatcher):
    # given tickets just inside and just outside April in Asia/Shanghai, and a merged one
    _ticket(new_ticket, dt.datetime(2024, 4, 1, 0, 0, tzinfo=TZ))
    _ticket(new_ticket, dt.datetime(2024, 4, 30, 23, 59, tzinfo=TZ))
    _ticket(new_ticket, dt.datetime(2024, 3, 31, 23, 59, tzinfo=TZ))
    _ticket(new_ticket, dt.datetime(2024, 5, 1, 0, 0, tzinfo=TZ))
    into = _ticket(new_ticket, dt.datetime(2024, 4, 5, 10, 0, tzinfo=TZ))
    dup = _ticket(new_ticket, dt.datetime(2024, 4, 5, 11, 0, tzinfo=TZ))
    services.ticket_merge(ticket=dup, into=into, actor=dispatcher)
    Call.objects.create(called_at=dt.datetime(2024, 4, 30, 23, 0, tzinfo=TZ))
    Call.objects.create(called_at=dt.datetime(2024, 5, 1, 0, 0, tzinfo=TZ))
    # when
    data = selectors.bulletin_statistics(month=dt.date(2024, 4, 1))
    # then
    assert data["tickets"]["total"] == 3
    assert data["calls"] == {"total": 1, "printed": "约0"}


@pytest.mark.django_db
def test_hot_topics_top_ten_most_first_ties_by_category_code(new_ticket):
    # given 12 categories: counts 3 for 0201 and 0101 (tie), 1 for ten others
    at = dt.datetime(2024, 4, 10, 9, tzinfo=TZ)
    codes = list(Category.objects.filter(parent__isnull=False).order_by("code").values_list("code", flat=True))
    for code in ("0201", "0101"):
        for _ in range(3):
            _ticket(new_ticket, at, category=Category.objects.get(code=code))
    singles = [c for c in codes if c not in ("0101", "0201")][-10:]
    for code in singles:
        _ticket(new_ticket, at, category=Category.objects.get(code=code))
    # when
    data = selectors.bulletin_statistics(month=dt.date(2024, 4, 1))
    # then: ties in code order; only ten rows; total sums the ten
    rows = data["hot_topics"]["rows"]
    assert [r["name"] for r in rows[:2]] == ["政务服务—网点服务", "公共服务—水电气暖"]
    assert len(rows) == 10
    assert [r["code"] for r in rows[2:]] == sorted(singles)[:8]
    assert data["hot_topics"]["total"] == {"count": 14, "percent": selectors.percent(14, 16)}


@pytest.mark.django_db
def test_tickets_by_source_mode_and_platform(new_ticket, upper_platform):
    # given one coordinated, one dispatched, two upper (pds) tickets in April
    from tickets.models import UpperPlatform

    at = dt.datetime(2024, 4, 10, 9, tzinfo=TZ)
    _ticket(new_ticket, at, handling_mode="coordinated", reply_text="已当场答复。")
    _ticket(new_ticket, at)
    henan = UpperPlatform.objects.get(code="henan")
    for i, platform in enumerate([upper_platform, upper_platform, henan]):
        _ticket(new_ticket, at, source="upper", channel=None, platform=platform, upstream_number=f"UP{i}")
    # when
    tickets = selectors.bulletin_statistics(month=dt.date(2024, 4, 1))["tickets"]
    # then
    assert tickets["local"] == {"total": 2, "coordinated": 1, "dispatched": 1}
    assert tickets["upper"] == {"total": 3, "platforms": [{"name": "平顶山市热线中心", "count": 2},
                                                          {"name": "河南政务服务平台", "count": 1}]}


@pytest.mark.django_db
def test_statistics_are_a_handful_of_queries(new_ticket, django_assert_max_num_queries):
    # given some tickets
    at = dt.datetime(2024, 4, 10, 9, tzinfo=TZ)
    for _ in range(5):
        _ticket(new_ticket, at)
    # when / then: aggregation, not a loop over tickets
    with django_assert_max_num_queries(12):
        selectors.bulletin_statistics(month=dt.date(2024, 4, 1))
