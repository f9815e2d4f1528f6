"""Hot issues, typical cases and the month-on-month column (issue 12 item 7), on the April 2024 demo."""

import datetime as dt

import pytest
from django.urls import reverse

from reports import selectors
from reports.selectors import standout_terms

APRIL = dt.date(2024, 4, 1)
FILLER = {"办理", "需要", "哪些", "希望", "反映", "来电人", "问题", "准备"}


def test_standout_terms_prefer_what_is_new_over_what_is_always_said():
    # given: last months spoke of 停电; this month of 停水 — and every text says 需要/办理
    background = ["小区停电需要办理报修"] * 30 + ["路灯不亮需要维修"] * 10
    texts = ["小区停水需要办理报修"] * 12 + ["小区停电需要办理报修"] * 2
    # when
    terms = [t["term"] for t in standout_terms(texts, background)]
    # then
    assert terms[0] == "停水" and "停电" not in terms and not FILLER & set(terms)


def test_standout_terms_keep_nothing_when_nothing_stands_out():
    same = ["小区停水，自来水管道破裂"] * 10
    assert standout_terms(same, same) == []


@pytest.mark.django_db
def test_april_demo_hot_issues_typical_cases_and_month_change(client, demo_bulletin, editor):
    # given the April 2024 demo (March 2024 holds no data)
    # when
    hot = selectors.hot_issue_suggestions(month=APRIL)
    cases = selectors.typical_case_candidates(month=APRIL)
    change = selectors.month_change(month=APRIL)
    # then: standout terms, never filler; the water/power/gas matters name themselves
    by_code = {h["code"]: h for h in hot}
    for h in hot:
        assert h["terms"], h["category"]
        assert not FILLER & {t["term"] for t in h["terms"]}, h
        assert h["previous"] is None and h["change"] is None  # no "+1187" against an empty March
        assert h["compared_with"].startswith("本月其他分类")
    utility_terms = {t["term"] for t in by_code["0201"]["terms"]}
    assert utility_terms & {"停水", "停电", "供水", "自来水", "液化气", "燃气"}, utility_terms
    # typical cases come with the unit's answer
    assert cases and all(c["reply"] for c in cases)
    # month on month: March has no data, so no change is computed
    assert change["previous_has_data"] is False
    assert all(r["change"] is None and r["previous"] is None for r in change["rows"])
    # and the editor's page says so instead of "+8712"
    client.force_login(editor)
    client.post(reverse("reports:bulletin-edit", args=["2024-04"]), {"action": "unpublish"})
    html = client.get(reverse("reports:bulletin-edit", args=["2024-04"])).content.decode()
    assert "2024-03 没有工单和来电数据，不计算增减" in html and "+8712" not in html and "+1187" not in html
    assert "答复：</i>" in html and "答复：</i><" not in html


@pytest.mark.django_db
def test_month_change_is_computed_when_the_previous_month_has_data(new_ticket):
    from django.utils import timezone

    march = timezone.make_aware(dt.datetime(2024, 3, 10, 10))
    april = timezone.make_aware(dt.datetime(2024, 4, 10, 10))
    new_ticket(registered_at=march)
    new_ticket(registered_at=april)
    new_ticket(registered_at=april)
    change = selectors.month_change(month=APRIL)
    total = next(r for r in change["rows"] if r["name"] == "办理事项")
    assert change["previous_has_data"] and (total["previous"], total["change"]) == (1, 1)
    hot = selectors.hot_issue_suggestions(month=APRIL)
    assert (hot[0]["previous"], hot[0]["change"]) == (1, 1)


def test_a_month_of_identical_texts_and_no_background_suggests_nothing_and_does_not_fail():
    from reports.selectors import standout_terms

    # one term is the whole vocabulary: the log-odds had a zero denominator (a 500 on the editor's page)
    assert standout_terms(["测试诉求"] * 6, []) == []
    assert standout_terms(["测试诉求"] * 6, ["测试诉求"] * 3) == []
