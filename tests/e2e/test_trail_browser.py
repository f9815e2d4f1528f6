"""The assessor reverses an adjustment and edits stationing; the editor sets the publication day and
holds the bulletin; both see the 变更记录 (issue 11 item 6, issue 12 item 9). Screenshots under
``artifacts/screenshots``."""

from __future__ import annotations

from datetime import date

import pytest

from assessment.models import Adjustment
from reports.models import Bulletin
from tickets.models import Unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MONTH = date(2024, 4, 1)


def test_assessor_and_editor_leave_a_trail(session, personas):
    from assessment import services as assessment_services
    from reports import services as report_services

    unit = Unit.objects.get(short_name="纸坊镇")
    adjustment = assessment_services.adjustment_create(unit=unit, month=MONTH, points="2", reason="典型案例",
                                                       actor=personas["assessor"])
    # the assessor reverses the adjustment on its page, then computes the month
    s = session("assessor").login("assessor")
    s.goto("/assessment/adjustments/?month=2024-04")
    row = s.page.locator("tr", has_text="典型案例")
    row.locator("input[name=reason]").fill("重复录入")
    row.get_by_role("button", name="冲销").click()
    s.page.wait_for_selector("text=已冲销该条加减分")
    assert Adjustment.objects.filter(reverses=adjustment).exists()
    s.shot("assessment-adjustment-reversed")
    s.goto("/assessment/2024-04/")
    s.page.get_by_role("button", name="计算本月考核").click()
    s.page.wait_for_selector("#changes")
    changes = s.page.locator("#changes").inner_text()
    assert "冲销加减分" in changes and "重复录入" in changes and "计算考核" in changes
    s.page.locator("#changes").scroll_into_view_if_needed()
    s.shot("assessment-month-changes")
    # the editor builds the draft, moves its publication day and holds it
    report_services.bulletin_build(month=MONTH, actor=personas["editor"])
    e = session("editor").login("editor")
    e.goto("/reports/bulletins/2024-04/edit/")
    e.page.fill("input[name=publish_on]", "2024-05-15")
    e.page.get_by_role("button", name="设定").click()
    e.page.wait_for_selector("text=计划发布日已设为2024-05-15")
    e.page.fill("input[aria-label='暂缓或取消暂缓的理由']", "等待领导审定")
    e.page.get_by_role("button", name="暂缓发布").click()
    e.page.wait_for_selector("text=已暂缓发布")
    bulletin = Bulletin.objects.get(month=MONTH)
    assert bulletin.held and bulletin.publish_on == date(2024, 5, 15)
    changes = e.page.locator("#changes").inner_text()
    assert "暂缓发布" in changes and "等待领导审定" in changes and "设定发布日" in changes
    e.shot("bulletin-edit-hold-and-changes")
