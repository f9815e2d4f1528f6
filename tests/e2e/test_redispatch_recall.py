"""改派 and 撤回 by the centre, in a real browser: the wrong unit loses the ticket, the right one
finds it in its inbox, both are told; a recalled ticket waits for dispatch again."""

from __future__ import annotations

import pytest

from tickets.models import EventType, Notification, Status, Ticket, TicketEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_action(page, action):
    """Unfold the action's panel (the first one is unfolded already; a click would fold it)."""
    page.eval_on_selector(f"#action-{action}", "el => { el.open = true; }")


def test_redispatch_then_recall(session, personas, ticket_in, unit_a, unit_b):
    # given: a 停电 ticket sent by mistake to 纸坊镇, which has signed it
    ticket = ticket_in("handling", content="纸坊镇东街整条街停电一天，无人处理。")
    disp = session("dispatcher").login("disp")
    disp.goto(f"/tickets/{ticket.pk}/")
    assert disp.page.inner_text("#ticket-status") == "办理中"
    assert disp.page.is_visible("#action-redispatch") and disp.page.is_visible("#action-recall")

    # when: the dispatcher re-dispatches it to 供电公司 with a reason
    open_action(disp.page, "redispatch")
    disp.page.select_option("#action-redispatch select[name=unit]", str(unit_b.pk))
    disp.page.fill("#action-redispatch textarea[name=reason]", "停电问题，应由供电公司办理。")
    disp.shot("redispatch-01-form")
    disp.page.click("#do-redispatch")
    disp.page.wait_for_selector(".msg.success")

    # then: 待签收 at 供电公司, the move is in the timeline, both units were told
    assert disp.page.inner_text("#ticket-status") == "待签收"
    assert "改派" in disp.page.inner_text("#timeline")
    disp.shot("redispatch-02-done")
    ticket.refresh_from_db()
    assert ticket.unit == unit_b and ticket.status == Status.PENDING_SIGN
    assert set(Notification.objects.filter(ticket=ticket, kind="redispatched").values_list("unit_id", flat=True)) \
        == {unit_a.pk, unit_b.pk}

    # the right unit finds it in its inbox; the wrong one no longer sees it
    right = session("unit_b").login("handler_b")
    assert right.page.is_visible(f"text={ticket.number}")
    right.shot("redispatch-03-new-unit-inbox")
    wrong = session("unit_a").login("handler_a")
    assert not wrong.page.is_visible(f"text={ticket.number}")
    wrong.expect_error("404")
    assert wrong.goto(f"/tickets/{ticket.pk}/").status == 404

    # when: the dispatcher recalls it; an empty reason is refused first
    open_action(disp.page, "recall")
    disp.page.click("#do-recall")
    disp.expect_error("400")
    disp.page.wait_for_selector("#action-recall .errorlist, #action-recall .field-error, #action-recall [role=alert]")
    assert "请填写撤回理由" in disp.page.inner_text("#action-recall")
    assert Ticket.objects.get(pk=ticket.pk).status == Status.PENDING_SIGN
    disp.page.fill("#action-recall textarea[name=reason]", "需先核实停电范围，再重新派单。")
    disp.shot("recall-01-form")
    disp.page.click("#do-recall")
    disp.page.wait_for_selector(".msg.success")

    # then: back to 待派单, without a unit, and the dispatch form is offered again
    assert disp.page.inner_text("#ticket-status") == "待派单"
    assert disp.page.is_visible("#action-dispatch")
    assert not disp.page.is_visible("#action-recall")
    disp.shot("recall-02-done")
    ticket.refresh_from_db()
    assert ticket.unit is None and ticket.return_count == 0
    assert TicketEvent.objects.filter(ticket=ticket, type=EventType.RECALLED).count() == 1
    assert Notification.objects.get(ticket=ticket, kind="recalled").unit == unit_b
