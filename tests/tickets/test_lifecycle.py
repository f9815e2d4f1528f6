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
