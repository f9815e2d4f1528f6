"""In chromium: the lights of a new and an aging ticket (list and ticket page), an urgent ticket's
first-feedback light, and the leader dashboard for the demo's April 2024 with its month picker.
Screenshots under ``artifacts/screenshots/lights-*`` and ``dashboard-*``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from reports import demo
from tickets import services
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_lights_of_a_new_and_an_aging_ticket(session, personas, new_ticket, unit_a):
    # given: a ticket dispatched just now, one whose sign deadline is two hours away, and an urgent
    # one signed 100 minutes ago (first feedback due in 20 minutes)
    dispatcher, handler = personas["dispatcher"], personas["unit_handler"]
    now = timezone.now()
    fresh = services.ticket_dispatch(ticket=new_ticket(content="新派的工单：路灯不亮"), unit=unit_a,
                                     actor=dispatcher)
    aging = services.ticket_dispatch(ticket=new_ticket(content="快到签收时限的工单：井盖缺失"), unit=unit_a,
                                     actor=dispatcher, at=now - timedelta(days=3))
    Ticket.objects.filter(pk=aging.pk).update(sign_deadline=now + timedelta(hours=2))
    urgent = services.ticket_dispatch(ticket=new_ticket(content="紧急件：燃气泄漏", urgent=True), unit=unit_a,
                                      actor=dispatcher, at=now - timedelta(minutes=130))
    services.ticket_sign(ticket=urgent, actor=handler, at=now - timedelta(minutes=100))
    s = session("dispatcher").login("disp")
    # when: the dispatcher lists the tickets waiting for signature
    s.goto("/tickets/?status=pending_sign")
    page = s.page
    # then: the new one green, the aging one yellow
    fresh_row = page.locator("tr", has=page.locator(f"text={fresh.number}"))
    aging_row = page.locator("tr", has=page.locator(f"text={aging.number}"))
    assert fresh_row.locator(".light").get_attribute("class") == "light green"
    assert aging_row.locator(".light").get_attribute("class") == "light yellow"
    assert aging_row.locator(".light").get_attribute("title") == "签收即将超期"
    s.shot("lights-01-list")
    # and on each ticket's page
    s.goto(f"/tickets/{fresh.pk}/")
    assert page.locator('[data-limit="sign"]').get_attribute("data-light") == "green"
    assert "签收时限内" in page.locator(".pagehead").inner_text()
    s.shot("lights-02-new-ticket")
    s.goto(f"/tickets/{aging.pk}/")
    assert page.locator('[data-limit="sign"]').get_attribute("data-light") == "yellow"
    assert "签收即将超期" in page.locator(".pagehead").inner_text()
    s.shot("lights-03-aging-ticket")
    s.goto(f"/tickets/{urgent.pk}/")
    assert page.locator('[data-limit="feedback"]').get_attribute("data-light") == "yellow"
    assert page.locator('[data-limit="handle"]').get_attribute("data-light") == "green"
    assert "首次反馈即将超期" in page.locator(".pagehead").inner_text()
    assert page.locator("#feedback-deadline").is_visible()
    s.shot("lights-04-urgent-first-feedback")


def test_dashboard_for_april_2024(session, personas, tmp_path):
    # given: the Ruzhou April 2024 demo, loaded through the imports, assessed and published
    bulletin = demo.demo_load(demo.demo_generate(tmp_path / "files")["units"].parent)
    tickets, calls = bulletin.data["tickets"]["total"], bulletin.data["calls"]["total"]
    s = session("leader").login("leader")
    page = s.page
    # when: the leader opens the dashboard and picks April 2024
    s.goto("/dashboard/")
    page.fill("#id_month", "2024-04")
    page.click("#month-picker button")
    page.wait_for_url("**/dashboard/?month=2024-04")
    page.wait_for_selector("#chart-daily svg")
    # then: a closed month against the whole of March (no data: no arrows), calls and tickets
    assert "2024年4月（全月）与 2024年3月（全月）对比" in page.locator("#dashboard-scope").inner_text()
    kpis = {el.get_attribute("data-kpi"): el.inner_text() for el in page.locator(".kpi").all()}
    assert f"{tickets}件" in kpis["tickets"] and f"{calls}个" in kpis["calls"]  # the bulletin's figures
    assert "▼" not in page.locator("#kpis").inner_text() and "▲" not in page.locator("#kpis").inner_text()
    # and the rankings summary links to the assessment pages
    rankings = page.locator("#rankings")
    assert rankings.locator(".ranking-group").count() == 2
    assert rankings.locator("a[href='/assessment/2024-04/']").count() == 1
    s.shot("dashboard-01-april-2024")
    rankings.locator(".rank-top a").first.click()
    page.wait_for_url("**/assessment/scores/*/")
    s.shot("dashboard-02-first-unit-score")
    # when: a month that has not come yet
    s.expect_error("400")
    s.goto("/dashboard/?month=2999-01")
    # then: a Chinese message, nothing computed
    assert "不能查看未来的月份" in page.locator("#month-error").inner_text()
    s.shot("dashboard-03-bad-month")
