"""One answer to "what may this user do to this ticket now" (``tickets/services/lifecycle.py``):
the reported disagreements, reproduced, and the 回访不满意 state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tickets import services
from tickets.models import Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def _unsatisfied(ticket_in, dispatcher):
    ticket = ticket_in("pending_callback")
    response = api(dispatcher).post(f"/api/tickets/{ticket.pk}/callback/",
                                    {"result": "unsatisfied", "resolved": False}, format="json")
    assert response.status_code == 200, response.content
    return Ticket.objects.get(pk=ticket.pk)


def test_an_unsatisfied_callback_cannot_be_overwritten_through_the_api(ticket_in, dispatcher):
    # given: a ticket called back 不满意
    ticket = _unsatisfied(ticket_in, dispatcher)
    detail = api(dispatcher).get(f"/api/tickets/{ticket.pk}/").json()
    events = TicketEvent.objects.filter(ticket=ticket).count()
    # when: a second callback says 满意
    response = api(dispatcher).post(f"/api/tickets/{ticket.pk}/callback/",
                                    {"result": "satisfied", "resolved": True}, format="json")
    # then: refused, nothing changed; the only ways out are 重办 and 研判办结
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "action_not_available"
    ticket.refresh_from_db()
    assert ticket.status == Status.UNSATISFIED and ticket.callback_result == "unsatisfied"
    assert TicketEvent.objects.filter(ticket=ticket).count() == events
    assert "callback" not in detail["allowed_actions"]
    assert {"redo", "judge-close"} <= set(detail["allowed_actions"])
    assert detail["status"] == "unsatisfied" and detail["status_display"] == "回访不满意"


def test_an_unsatisfied_callback_cannot_be_overwritten_through_the_page(client, ticket_in, dispatcher):
    # given
    ticket = _unsatisfied(ticket_in, dispatcher)
    client.force_login(dispatcher)
    # when
    response = client.post(f"/tickets/{ticket.pk}/do/callback/", {"result": "satisfied", "resolved": "1"})
    # then
    assert response.status_code == 409
    assert "回访不满意" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.UNSATISFIED and ticket.callback_result == "unsatisfied"


def test_the_service_refuses_a_second_callback(ticket_in, dispatcher):
    ticket = _unsatisfied(ticket_in, dispatcher)
    with pytest.raises(Exception) as info:
        services.ticket_callback(ticket=ticket, actor=dispatcher, result="satisfied", resolved=True)
    assert getattr(info.value, "code", "") == "action_not_available"


def test_extension_after_the_deadline_is_neither_offered_nor_accepted(ticket_in, unit_handler):
    # given: a ticket past its handling deadline
    ticket = ticket_in("handling")
    Ticket.objects.filter(pk=ticket.pk).update(handle_deadline=timezone.now() - timedelta(hours=1))
    # when
    detail = api(unit_handler).get(f"/api/tickets/{ticket.pk}/").json()
    response = api(unit_handler).post(f"/api/tickets/{ticket.pk}/extension/", {
        "reason": "需协调", "requested_deadline": (timezone.now() + timedelta(days=5)).isoformat()}, format="json")
    # then: the API does not offer what it refuses
    assert "extension" not in detail["allowed_actions"]
    assert response.status_code == 409 and response.json()["code"] == "action_not_available"
    assert response.json()["reason"] == "deadline_passed"


def test_redo_after_unsatisfied_then_a_new_callback_counts(ticket_in, dispatcher, unit_handler):
    # given: 不满意 → 重办 → reply → review
    ticket = _unsatisfied(ticket_in, dispatcher)
    ticket = services.ticket_redo(ticket=ticket, actor=dispatcher, note="请重新处理")
    assert ticket.status == Status.HANDLING and ticket.callback_result == ""
    ticket = services.ticket_reply(ticket=ticket, actor=unit_handler, reply_text="已重新处理。")
    ticket = services.ticket_review(ticket=ticket, actor=dispatcher, passed=True)
    # when: the second callback
    ticket = services.ticket_callback(ticket=ticket, actor=dispatcher, result="satisfied", resolved=True)
    # then: the latest callback is the ticket's; both stay in the history
    assert ticket.status == Status.CLOSED and ticket.callback_result == "satisfied"
    results = [e.data["result"] for e in TicketEvent.objects.filter(ticket=ticket, type="callback").order_by("id")]
    assert results == ["unsatisfied", "satisfied"]


def test_judge_close_ends_an_unsatisfied_ticket_and_keeps_its_callback(ticket_in, dispatcher):
    ticket = _unsatisfied(ticket_in, dispatcher)
    ticket = services.ticket_judge_close(ticket=ticket, actor=dispatcher, note="诉求已依法答复")
    assert ticket.status == Status.CLOSED and ticket.callback_result == "unsatisfied"


def test_merge_is_not_an_exit_from_unsatisfied(ticket_in, new_ticket, dispatcher):
    ticket = _unsatisfied(ticket_in, dispatcher)
    other = new_ticket()
    response = api(dispatcher).post(f"/api/tickets/{ticket.pk}/merge/", {"into": other.number}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "action_not_available"
    ticket.refresh_from_db()
    assert ticket.status == Status.UNSATISFIED


# --- 改派 and 撤回 (issue 12) ------------------------------------------------------------------


def test_redispatch_moves_the_ticket_tells_both_units_and_counts_for_the_new_one(
        ticket_in, dispatcher, unit_a, unit_b, other_unit_handler, unit_handler):
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from assessment.services import month_counts, ruleset_for_month
    from tickets.models import EventType, Notification

    tz = ZoneInfo("Asia/Shanghai")
    # given: a ticket dispatched to 纸坊镇 and signed there
    ticket = ticket_in("handling")
    # when: the centre moves it to 供电公司 through the API
    response = api(dispatcher).post(f"/api/tickets/{ticket.pk}/redispatch/",
                                    {"unit": unit_b.pk, "reason": "停电问题，应由供电公司办理"}, format="json")
    # then
    assert response.status_code == 200, response.content
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_SIGN and ticket.unit == unit_b and ticket.signed_at is None
    event = TicketEvent.objects.filter(ticket=ticket).order_by("id").last()
    assert (event.type, event.note, event.data["from_unit"]) == (EventType.REDISPATCHED, "停电问题，应由供电公司办理",
                                                                 unit_a.short_name)
    notices = {n.unit_id: n.text for n in Notification.objects.filter(ticket=ticket, kind="redispatched")}
    assert set(notices) == {unit_a.pk, unit_b.pk}
    assert "无需继续办理" in notices[unit_a.pk] and "改派来的工单" in notices[unit_b.pk]
    # the old unit no longer sees it; the new one signs it
    assert api(unit_handler).get(f"/api/tickets/{ticket.pk}/").status_code == 404
    assert "sign" in api(other_unit_handler).get(f"/api/tickets/{ticket.pk}/").json()["allowed_actions"]
    # and the assessment counts it for the unit that finally handled it, in the month of the last dispatch
    april = datetime(2024, 4, 3, 10, 0, tzinfo=tz)
    moved = ticket_in("pending_dispatch")
    services.ticket_dispatch(ticket=moved, unit=unit_a, actor=dispatcher, at=april)
    services.ticket_redispatch(ticket=moved, unit=unit_b, actor=dispatcher, reason="派错", at=april + timedelta(hours=1))
    rule = ruleset_for_month(date(2024, 4, 1))
    counts = month_counts(month=date(2024, 4, 1), evaluated_at=datetime(2024, 5, 6, tzinfo=tz), rule=rule)
    assert unit_a.pk not in counts and counts[unit_b.pk]["tickets"] == 1


def test_recall_takes_the_ticket_back_without_counting_a_return(ticket_in, dispatcher, unit_a, unit_b):
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from assessment.services import month_counts, ruleset_for_month
    from tickets.models import Notification

    tz = ZoneInfo("Asia/Shanghai")
    # given
    ticket = ticket_in("pending_sign")
    # when
    response = api(dispatcher).post(f"/api/tickets/{ticket.pk}/recall/", {"reason": "派单有误"}, format="json")
    # then
    assert response.status_code == 200, response.content
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_DISPATCH and ticket.unit is None and ticket.return_count == 0
    assert ticket.dispatch_deadline is not None and ticket.sign_deadline is None
    notice = Notification.objects.get(ticket=ticket, kind="recalled")
    assert notice.unit == unit_a and "撤回" in notice.text
    # dispatched again (in April 2024 here), it counts for the next unit only
    march, april = datetime(2024, 3, 29, 10, tzinfo=tz), datetime(2024, 4, 2, 10, tzinfo=tz)
    other = ticket_in("pending_dispatch")
    services.ticket_dispatch(ticket=other, unit=unit_a, actor=dispatcher, at=march)
    services.ticket_recall(ticket=other, actor=dispatcher, reason="派错", at=april)
    services.ticket_dispatch(ticket=other, unit=unit_b, actor=dispatcher, at=april + timedelta(hours=1))
    evaluated = datetime(2024, 5, 6, tzinfo=tz)
    march_counts = month_counts(month=date(2024, 3, 1), evaluated_at=evaluated, rule=ruleset_for_month(date(2024, 3, 1)))
    april_counts = month_counts(month=date(2024, 4, 1), evaluated_at=evaluated, rule=ruleset_for_month(date(2024, 4, 1)))
    assert unit_a.pk not in march_counts and unit_a.pk not in april_counts
    assert april_counts[unit_b.pk]["tickets"] == 1


@pytest.mark.parametrize("state", ["pending_dispatch", "return_pending", "replied", "pending_callback", "closed"])
def test_redispatch_and_recall_only_while_at_a_unit(state, ticket_in, dispatcher, unit_b):
    ticket = ticket_in(state)
    events = TicketEvent.objects.filter(ticket=ticket).count()
    for action, body in (("redispatch", {"unit": unit_b.pk, "reason": "改派"}), ("recall", {"reason": "撤回"})):
        response = api(dispatcher).post(f"/api/tickets/{ticket.pk}/{action}/", body, format="json")
        assert response.status_code == 409 and response.json()["reason"] == "wrong_status"
    assert TicketEvent.objects.filter(ticket=ticket).count() == events


def test_redispatch_to_the_same_unit_or_without_a_reason_is_refused(ticket_in, dispatcher, unit_a):
    ticket = ticket_in("handling")
    same = api(dispatcher).post(f"/api/tickets/{ticket.pk}/redispatch/", {"unit": unit_a.pk, "reason": "x"},
                                format="json")
    blank = api(dispatcher).post(f"/api/tickets/{ticket.pk}/recall/", {"reason": "  "}, format="json")
    assert same.status_code == 400 and "unit" in same.json()["fields"]
    assert blank.status_code == 400 and "reason" in blank.json()["fields"]
    ticket.refresh_from_db()
    assert ticket.status == Status.HANDLING and ticket.unit == unit_a


def test_redispatch_and_recall_through_the_page(client, ticket_in, dispatcher, unit_b):
    ticket = ticket_in("handling")
    client.force_login(dispatcher)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'id="do-redispatch"' in page and 'id="do-recall"' in page
    response = client.post(f"/tickets/{ticket.pk}/do/redispatch/", {"unit": unit_b.pk, "reason": "应由供电公司办理"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.unit == unit_b and ticket.status == Status.PENDING_SIGN
    response = client.post(f"/tickets/{ticket.pk}/do/recall/", {"reason": ""})
    assert response.status_code == 400 and "请填写撤回理由" in response.content.decode()
    response = client.post(f"/tickets/{ticket.pk}/do/recall/", {"reason": "重新研判"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.unit is None and ticket.status == Status.PENDING_DISPATCH


# --- 紧急件首次反馈 -------------------------------------------------------------------------


def test_first_feedback_is_the_units_own_action_on_urgent_tickets_once(ticket_in, unit_handler, dispatcher):
    from tickets.models import EventType

    # given: an urgent ticket signed by the unit, and an ordinary one
    urgent = ticket_in("handling", urgent=True)
    ordinary = ticket_in("handling")
    assert urgent.feedback_deadline is not None
    assert "first-feedback" in api(unit_handler).get(f"/api/tickets/{urgent.pk}/").json()["allowed_actions"]
    assert "first-feedback" not in api(unit_handler).get(f"/api/tickets/{ordinary.pk}/").json()["allowed_actions"]
    assert "first-feedback" not in api(dispatcher).get(f"/api/tickets/{urgent.pk}/").json()["allowed_actions"]
    # when
    response = api(unit_handler).post(f"/api/tickets/{urgent.pk}/first-feedback/", {"note": "已到现场抢修"},
                                      format="json")
    again = api(unit_handler).post(f"/api/tickets/{urgent.pk}/first-feedback/", {"note": "再报"}, format="json")
    refused = api(unit_handler).post(f"/api/tickets/{ordinary.pk}/first-feedback/", {"note": "x"}, format="json")
    by_centre = api(dispatcher).post(f"/api/tickets/{urgent.pk}/first-feedback/", {"note": "x"}, format="json")
    # then
    assert response.status_code == 200 and response.json()["first_feedback_at"]
    assert "first-feedback" not in response.json()["allowed_actions"]
    assert (again.status_code, again.json()["reason"]) == (409, "first_feedback_given")
    assert (refused.status_code, refused.json()["reason"]) == (409, "not_urgent")
    assert by_centre.status_code == 403
    event = TicketEvent.objects.filter(ticket=urgent, type=EventType.FIRST_FEEDBACK).get()
    assert event.note == "已到现场抢修" and event.data["on_time"] is True
    urgent.refresh_from_db()
    assert urgent.status == Status.HANDLING


def test_migration_moves_waiting_unsatisfied_tickets_into_the_new_state(ticket_in):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("tickets.migrations.0010_unsatisfied_redispatch")
    # given: a ticket as the old code left it (待回访 with a 不满意 callback) and an ordinary one
    old = ticket_in("pending_callback")
    Ticket.objects.filter(pk=old.pk).update(callback_result="unsatisfied", callback_resolved=False)
    waiting = ticket_in("pending_callback")
    # when
    migration.unsatisfied_to_state(apps, None)
    # then
    assert Ticket.objects.get(pk=old.pk).status == Status.UNSATISFIED
    assert Ticket.objects.get(pk=waiting.pk).status == Status.PENDING_CALLBACK
