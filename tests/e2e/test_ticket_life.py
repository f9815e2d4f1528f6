"""The whole life of a ticket through the pages, in a real browser, and the rules around it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tickets.models import Call, Status, Ticket, TicketEvent, Unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def press(page, key, times=1):
    for _ in range(times):
        page.keyboard.press(key)


def select_by_keyboard(page, selector, label):
    """Move a focused <select> with the arrow keys until it shows ``label``."""
    for _ in range(60):
        if page.eval_on_selector(selector, "el => el.options[el.selectedIndex].text") == label:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{label} not reachable in {selector}")


def test_whole_life_of_a_ticket(session, personas):
    # given: the operator at a seat, on the new-call page
    op = session("operator").login("op")
    op.page.keyboard.press("Alt+n")
    op.page.wait_for_url(re.compile(r".*/calls/new/$"))
    page = op.page
    assert page.evaluate("document.activeElement.id") == "id_caller_phone"

    # when: the operator registers the call with the keyboard only
    page.keyboard.type("13912345678")
    page.wait_for_selector("#assist :text('首次来电')")
    press(page, "Enter")                                   # → 来电人
    page.keyboard.type("王女士")
    press(page, "Enter")                                   # → 来源渠道 (电话)
    press(page, "Enter")                                   # → 诉求类型
    select_by_keyboard(page, "#id_appeal_type", "问题处理")
    press(page, "Enter")                                   # → 问题分类
    assert page.evaluate("document.activeElement.id") == "category_search"
    page.keyboard.type("sdqn")                             # pinyin initials of 水电气暖
    assert page.is_visible("#cat-0201") and not page.is_visible("#cat-0101")
    press(page, "Enter")                                   # choose, → 所属乡镇
    assert page.input_value("#id_category") == "0201"
    select_by_keyboard(page, "#id_township", "纸坊镇")
    press(page, "Enter")                                   # → 事发地址
    page.keyboard.type("纸坊镇东街18号")
    press(page, "Enter")                                   # → 诉求内容
    page.keyboard.type("东街18号停水两天，家里有老人，希望尽快恢复供水。")
    press(page, "Tab", 4)                                  # 标题, 紧急, 保密 → 办理方式 (交办处理)
    assert page.evaluate("document.activeElement.value") == "dispatched"
    page.wait_for_selector("#answers, #assist :text('还没有以往答复')")
    op.shot("01-operator-new-call")
    press(page, "Tab")                                     # → 保存工单
    assert page.evaluate("document.activeElement.id") == "submit-call"
    press(page, "Enter")
    page.wait_for_selector("#ticket-status")
    ticket = Ticket.objects.get()
    assert page.inner_text("#ticket-status") == "待派单"
    assert Call.objects.filter(ticket=ticket).count() == 1
    op.shot("02-ticket-registered")

    # the dispatcher dispatches it from the queue, to the suggested township
    disp = session("dispatcher").login("disp")
    disp.page.click(f"text={ticket.number}")
    disp.page.click("#action-dispatch [data-pick-unit]:has-text('纸坊镇')")
    assert disp.page.eval_on_selector("#id_unit", "el => el.options[el.selectedIndex].text") == "纸坊镇"
    disp.shot("03-dispatcher-dispatch")
    disp.page.click("#do-dispatch")
    disp.page.wait_for_selector(".msg.success")
    assert disp.page.inner_text("#ticket-status") == "待签收"

    # the unit signs it from its inbox, then asks for an extension
    unit = session("unit").login("handler_a")
    assert unit.page.is_visible(f"text={ticket.number}")
    assert "138****" not in unit.page.content()
    unit.shot("04-unit-inbox")
    unit.page.click(f"text={ticket.number}")
    assert "139****5678" in unit.page.inner_text("#caller-block") and "13912345678" not in unit.page.content()
    unit.page.click("#do-sign")
    unit.page.wait_for_selector(".msg.success")
    assert unit.page.inner_text("#ticket-status") == "办理中"
    ticket.refresh_from_db()
    later = timezone.localtime(ticket.handle_deadline) + timedelta(days=7)
    unit.page.click("#action-extension summary")
    unit.page.fill("#action-extension input[name=requested_deadline]", later.date().isoformat())
    unit.page.fill("#action-extension textarea[name=reason]", "需更换主管道，施工队下周进场。")
    unit.page.click("#do-extension")
    unit.page.wait_for_selector(".msg.success")

    # the centre approves the extension
    disp.goto("/?queue=extension_pending")
    disp.page.click(f"text={ticket.number}")
    disp.page.check("#action-extension-decide input[name=approve][value='1']")
    disp.page.click("#do-extension-decide")
    disp.page.wait_for_selector(".msg.success:has-text('同意延期')")

    # the unit replies with a public answer, an internal note and a photo
    unit.page.reload()
    unit.page.fill("#action-reply textarea[name=reply_text]", "已更换主管道，今日恢复供水，已电话告知来电人。")
    unit.page.fill("#action-reply textarea[name=internal_note]", "施工费用由镇财政承担。")
    unit.page.set_input_files("#action-reply input[type=file]",
                              files=[{"name": "现场照片.png", "mimeType": "image/png", "buffer": PNG}])
    unit.shot("05-unit-reply")
    unit.page.click("#do-reply")
    unit.page.wait_for_selector(".msg.success")
    assert unit.page.inner_text("#ticket-status") == "已答复待审核"

    # the dispatcher reviews it and records the callback
    disp.goto("/?queue=replied")
    disp.page.click(f"text={ticket.number}")
    disp.page.check("#action-review input[name=passed][value='1']")
    disp.page.click("#do-review")
    disp.page.wait_for_selector(".msg.success")
    disp.page.check("#action-callback input[name=result][value='satisfied']")
    disp.page.check("#action-callback input[name=resolved][value='1']")
    disp.page.fill("#action-callback textarea[name=note]", "来电人表示满意。")
    disp.page.click("#do-callback")
    disp.page.wait_for_selector(".msg.success")

    # then: closed, and the timeline shows every step
    assert disp.page.inner_text("#ticket-status") == "已办结"
    events = disp.page.eval_on_selector_all("#timeline li", "els => els.map(e => e.dataset.event)")
    assert events == ["registered", "dispatched", "signed", "extension_requested", "extension_approved",
                      "replied", "review_passed", "callback"]
    timeline = disp.page.inner_text("#timeline")
    for label in ["登记", "派单", "签收", "申请延期", "同意延期", "办结反馈", "审核通过", "回访"]:
        assert label in timeline
    assert "现场照片.png" in disp.page.content()
    disp.shot("06-ticket-closed-timeline")
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and ticket.extension_count == 1
    assert TicketEvent.objects.filter(ticket=ticket).count() == 8

    # the lists and the dashboard show it too
    disp.goto("/tickets/?status=closed")
    assert disp.page.is_visible(f"text={ticket.number}")
    disp.shot("07-ticket-list")
    leader = session("leader").login("leader")
    leader.goto("/dashboard/")
    leader.page.wait_for_selector("#chart-daily svg")
    assert leader.page.inner_text("[data-kpi=tickets] .kpi-value").startswith("1")
    leader.shot("08-leader-dashboard")


def test_unit_b_cannot_open_unit_a_ticket(session, ticket_in, personas):
    # given: a ticket of 纸坊镇
    ticket = ticket_in("handling")
    other = session("unit-b").login("handler_b")
    other.expect_error("404")
    # when
    response = other.goto(f"/tickets/{ticket.pk}/")
    # then
    assert response.status == 404
    assert "记录不存在或无权查看" in other.page.content() and ticket.content not in other.page.content()
    other.goto("/")
    assert ticket.number not in other.page.content()


def test_leader_cannot_change_anything(session, ticket_in, personas):
    # given
    ticket = ticket_in("pending_dispatch")
    leader = session("leader").login("leader")
    leader.expect_error("403")
    # when: the page offers no action, and a forged POST is refused
    leader.goto(f"/tickets/{ticket.pk}/")
    assert leader.page.inner_text("#ticket-status") == "待派单"
    assert leader.page.query_selector("#actions") is None
    leader.shot("09-leader-ticket")
    token = next(c["value"] for c in leader.context.cookies() if c["name"] == "csrftoken")
    unit = Unit.objects.get(short_name="纸坊镇")
    response = leader.page.request.post(f"{leader.base_url}/tickets/{ticket.pk}/do/dispatch/",
                                        form={"unit": str(unit.pk)}, headers={"X-CSRFToken": token,
                                                                               "Referer": leader.base_url + "/"})
    # then
    assert response.status == 403
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_DISPATCH and ticket.events.count() == 1


def test_wrong_input_shows_chinese_error_next_to_field(session, personas):
    # given
    op = session("operator").login("op")
    op.expect_error("400")
    op.goto("/calls/new/")
    # when: a bad phone number and no content
    op.page.fill("#id_caller_phone", "12345abc")
    op.page.fill("#category_search", "停水")
    op.page.keyboard.press("Enter")
    op.page.click("#submit-call")
    # then
    op.page.wait_for_selector(".field-error")
    assert op.page.inner_text("#id_content_error") == "请填写诉求内容。"
    assert "联系电话格式不正确" in op.page.inner_text("#id_caller_phone_error")
    field = op.page.query_selector("#id_content").evaluate("el => el.closest('.field').innerText")
    assert "请填写诉求内容。" in field
    op.shot("10-operator-form-errors")
    assert Ticket.objects.count() == 0 and Call.objects.count() == 0
