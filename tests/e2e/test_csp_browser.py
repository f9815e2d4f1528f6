"""Every main page under the enforced Content Security Policy, in a real browser: no violation
(``securitypolicyviolation`` events and chromium's console errors), and the charts, Swagger UI, the
admin's calendar and the htmx panels still work."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tickets.models import Unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MONTH = date(2024, 4, 1)

# Each violation is kept in the page and written to the console (which the session checks).
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  var line = e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "") + ":" + e.lineNumber;
  window.__csp.push(line);
  console.error("CSP violation: " + line);
});
"""


def watched(session, name, username=None):
    s = session(name)
    s.context.add_init_script(WATCH)
    if username:
        s.login(username)
    return s


def violations(s) -> list[str]:
    return s.page.evaluate("window.__csp || []")


def visit(s, path, ready, shot=None):
    s.goto(path)
    s.page.wait_for_selector(ready)
    s.page.wait_for_load_state("networkidle")
    assert violations(s) == [], f"{path}: {violations(s)}"
    if shot:
        s.shot(shot)


@pytest.fixture
def data(personas, new_ticket):
    """A ticket, the April 2024 assessment and a published bulletin (empty month: enough for pages)."""
    from assessment import services as assessment_services
    from reports import services as report_services

    ticket = new_ticket()
    assessment_services.assessment_compute(month=MONTH, actor=personas["assessor"])
    bulletin = report_services.bulletin_build(month=MONTH, actor=personas["editor"])
    report_services.bulletin_publish(bulletin=bulletin, actor=personas["editor"])
    return {"ticket": ticket, "unit": Unit.objects.get(short_name="纸坊镇")}


def test_the_detector_sees_a_violation(session, live_server, personas):
    # given a page under the policy / when something inline is injected / then it is reported
    s = watched(session, "probe")
    s.goto("/accounts/login/")
    s.expect_error("CSP violation")
    s.expect_error("Content Security Policy")
    s.page.evaluate("document.body.insertAdjacentHTML('beforeend', '<div style=\"color:red\">x</div>')")
    s.page.wait_for_function("window.__csp.length > 0")
    assert any("style-src" in v for v in violations(s))


def test_public_pages_and_api_docs(session, data):
    visitor = watched(session, "visitor")
    visit(visitor, "/bulletins/", "ul.archive a", "csp-01-public-archive")
    visit(visitor, "/bulletins/2024-04/", "article.bulletin .bulletin-title", "csp-02-public-bulletin")
    # the bulletin stylesheet applies (red title, centred), not only the text
    assert visitor.page.eval_on_selector(".bulletin-title", "e => getComputedStyle(e).color") == "rgb(204, 0, 0)"
    assert visitor.page.eval_on_selector(".public-top", "e => getComputedStyle(e).backgroundColor") == \
        "rgb(164, 0, 0)"
    visit(visitor, "/accounts/login/", "#id_username", "csp-03-login")
    visit(visitor, "/admin/login/", "#login-form")
    # Swagger UI renders from its separately served start-up script
    visit(visitor, "/api/docs/", ".swagger-ui .info .title", "csp-04-api-docs")
    assert "12345" in visitor.page.inner_text(".swagger-ui .info .title")
    assert visitor.page.locator(".opblock").count() > 20


def test_staff_pages_with_charts_and_htmx(session, data):
    op = watched(session, "operator", "op")
    visit(op, "/", "main h1, main .tiles, main table", "csp-05-operator-workbench")
    visit(op, "/calls/new/", "#id_caller_phone")
    op.page.click("#id_caller_phone")
    op.page.keyboard.type("13912345678")  # keyup triggers the htmx request
    op.page.wait_for_selector("#assist :text('首次来电')")  # the htmx panel loaded
    assert violations(op) == []
    op.shot("csp-06-operator-new-call")
    visit(op, f"/tickets/{data['ticket'].pk}/", "#ticket-status", "csp-07-ticket-detail")
    visit(op, "/tickets/", "main table")

    unit = watched(session, "unit", "handler_a")
    visit(unit, "/", "main", "csp-08-unit-inbox")

    leader = watched(session, "leader", "leader")
    visit(leader, "/dashboard/", "#chart-daily svg", "csp-09-dashboard")
    for chart in ("chart-daily", "chart-appeal", "chart-category", "chart-township"):
        assert leader.page.locator(f"#{chart} svg").count() == 1, chart
    visit(leader, "/assessment/2024-04/", ".groups table.grid", "csp-10-assessment-month")
    # the assessment stylesheet applies (sub-navigation as a flex row)
    assert leader.page.eval_on_selector(".asub", "e => getComputedStyle(e).display") == "flex"
    # the month picker works without the inline handler it had
    leader.page.fill("input[name=m]", "2024-03")
    leader.page.click(".inline-form button[type=submit]")
    leader.page.wait_for_url(re.compile(r".*/assessment/2024-03/$"))
    visit(leader, f"/assessment/units/{data['unit'].pk}/", "#trend canvas", "csp-11-assessment-unit-chart")
    assert leader.page.eval_on_selector("#trend", "e => e.getBoundingClientRect().height") == 320
    leader.page.select_option("select[name=u]", label="国网汝州市供电公司")
    leader.page.click(".inline-form button[type=submit]")
    other = Unit.objects.get(short_name="国网汝州市供电公司")
    leader.page.wait_for_url(re.compile(rf".*/assessment/units/{other.pk}/$"))
    for path in ("/assessment/rules/", "/assessment/stationing/", "/assessment/adjustments/"):
        visit(leader, path, "nav.asub")

    editor = watched(session, "editor", "editor")
    visit(editor, "/reports/bulletins/", "main table")
    visit(editor, "/reports/bulletins/2024-04/edit/", ".editor-grid", "csp-12-bulletin-editor")
    assert editor.page.eval_on_selector(".editor-grid", "e => getComputedStyle(e).display") == "grid"


def test_admin_pages_and_calendar_widget(session, data):
    admin = watched(session, "admin", "root")
    visit(admin, "/admin/", "#content-main", "csp-13-admin-index")
    visit(admin, "/admin/tickets/calendarday/", "#changelist", "csp-14-admin-changelist")
    visit(admin, f"/admin/tickets/unit/{data['unit'].pk}/change/", "#content-main form", "csp-15-admin-change")
    visit(admin, "/admin/tickets/calendarday/add/", "#content-main form")
    # the date widget's calendar opens (admin JavaScript under the policy)
    admin.page.click(".datetimeshortcuts a[id^=calendarlink]")
    admin.page.wait_for_selector(".calendarbox", state="visible")
    assert violations(admin) == []
    admin.shot("csp-16-admin-calendar")
