"""The generated test of issue 11: for every role × ticket (every status and the extra conditions
that change what may be done), the ticket page's buttons == the API's ``allowed_actions`` == the
actions the page's POST endpoints accept == the actions the API's endpoints accept. Every other
action is refused — 404 (ticket not visible), 403 (the role may never take it, or another unit's
ticket) or 409 ``action_not_available`` — and changes nothing.

Each action is tried with valid input inside a savepoint that is rolled back, so one fixture
serves every (role, action)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tickets import services
from tickets.models import (
    ExtensionRequest,
    HandlingMode,
    Notification,
    ReturnRequest,
    Supervision,
    Ticket,
    TicketEvent,
    Urge,
)
from tickets.permissions import ACTION_ROLES
from tickets.services.lifecycle import ACTIONS

pytestmark = pytest.mark.django_db

ROLES = ["operator", "dispatcher", "unit_handler", "other_unit_handler", "assessor", "editor", "leader", "admin"]


def _handling(c):
    return c.ticket_in("handling")


def _overdue(c):
    ticket = c.ticket_in("handling")
    Ticket.objects.filter(pk=ticket.pk).update(handle_deadline=timezone.now() - timedelta(hours=2))
    return ticket


def _extension_pending(c):
    ticket = c.ticket_in("handling")
    services.ticket_extension_request(ticket=ticket, actor=c.unit_handler, reason="需协调",
                                      requested_deadline=ticket.handle_deadline + timedelta(days=3))
    return ticket


def _contact_granted(c):
    ticket = c.ticket_in("handling")
    return services.ticket_grant_contact(ticket=ticket, actor=c.dispatcher)


def _supervised(state):
    def build(c):
        ticket = c.ticket_in("handling" if state == "handling" else "pending_callback")
        services.supervision_open(ticket=ticket, actor=c.dispatcher, reason="群众反映强烈")
        if state == "closed":
            ticket = services.ticket_callback(ticket=ticket, actor=c.dispatcher, result="satisfied", resolved=True)
        return ticket
    return build


def _other_unit(c):
    ticket = c.new_ticket()
    services.ticket_dispatch(ticket=ticket, unit=c.unit_b, actor=c.dispatcher)
    return services.ticket_sign(ticket=ticket, actor=c.other_unit_handler)


def _coordinated(c):
    return c.new_ticket(handling_mode=HandlingMode.COORDINATED, reply_text="已当场答复。")


def _urgent_pending_sign(c):
    return c.ticket_in("pending_sign", urgent=True)


def _urgent_fed_back(c):
    ticket = c.ticket_in("handling", urgent=True)
    return services.ticket_first_feedback(ticket=ticket, actor=c.unit_handler, note="已到现场")


SCENARIOS = {
    "pending_dispatch": lambda c: c.ticket_in("pending_dispatch"),
    "pending_sign": lambda c: c.ticket_in("pending_sign"),
    "pending_sign_urgent": _urgent_pending_sign,
    "handling_urgent": lambda c: c.ticket_in("handling", urgent=True),
    "handling_urgent_fed_back": _urgent_fed_back,
    "return_pending": lambda c: services.ticket_return_request(ticket=c.ticket_in("handling"), actor=c.unit_handler,
                                                               reason="不属于本单位职责"),
    "handling": _handling,
    "handling_overdue": _overdue,
    "handling_extension_pending": _extension_pending,
    "handling_contact_granted": _contact_granted,
    "handling_confidential": lambda c: c.ticket_in("handling", confidential=True),
    "handling_supervised": _supervised("handling"),
    "replied": lambda c: c.ticket_in("replied"),
    "pending_callback": lambda c: c.ticket_in("pending_callback"),
    "unsatisfied": lambda c: c.ticket_in("unsatisfied"),
    "closed": lambda c: c.ticket_in("closed"),
    "closed_supervised": _supervised("closed"),
    "closed_coordinated": _coordinated,
    "merged": lambda c: c.ticket_in("merged"),
    "other_units_ticket": _other_unit,
}


class Ctx:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def _bodies(ticket: Ticket, c) -> dict[str, tuple[dict, dict]]:
    """Valid input of every action: (page form data, API JSON)."""
    other_unit = c.unit_b if ticket.unit_id != c.unit_b.pk else c.unit_a
    deadline = (ticket.handle_deadline or timezone.now()) + timedelta(days=5)
    return {
        "dispatch": ({"unit": c.unit_a.pk}, {"unit": c.unit_a.pk}),
        "redispatch": ({"unit": other_unit.pk, "reason": "派错单位"}, {"unit": other_unit.pk, "reason": "派错单位"}),
        "recall": ({"reason": "派单有误"}, {"reason": "派单有误"}),
        "sign": ({}, {}),
        "first-feedback": ({"note": "已到现场处置"}, {"note": "已到现场处置"}),
        "return": ({"reason": "不属于本单位职责"}, {"reason": "不属于本单位职责"}),
        "return-decide": ({"approve": "1"}, {"approve": True}),
        "extension": ({"requested_deadline": timezone.localtime(deadline).date().isoformat(), "reason": "需协调"},
                      {"requested_deadline": deadline.isoformat(), "reason": "需协调"}),
        "extension-decide": ({"approve": "1"}, {"approve": True}),
        "reply": ({"reply_text": "已处理。"}, {"reply_text": "已处理。"}),
        "review": ({"passed": "1"}, {"passed": True}),
        "callback": ({"result": "satisfied", "resolved": "1"}, {"result": "satisfied", "resolved": True}),
        "redo": ({"note": "请重新处理"}, {"note": "请重新处理"}),
        "urge": ({"note": "请尽快办理"}, {"note": "请尽快办理"}),
        "supervise": ({"reason": "群众反映强烈"}, {"reason": "群众反映强烈"}),
        "supervise-close": ({"note": "已整改"}, {"result": "已整改"}),
        "grant-contact": ({"note": ""}, {}),
        "merge": ({"into": c.target.number}, {"into": c.target.number}),
        "judge-close": ({"note": "研判办结"}, {"note": "研判办结"}),
    }


def _state(ticket: Ticket) -> tuple:
    row = Ticket.objects.get(pk=ticket.pk)
    return (row.status, row.unit_id, row.callback_result, row.contact_granted, row.handle_deadline, row.updated_at,
            row.first_feedback_at,
            TicketEvent.objects.filter(ticket=ticket).count(), Urge.objects.filter(ticket=ticket).count(),
            list(Supervision.objects.filter(ticket=ticket).values_list("status", flat=True)),
            list(ExtensionRequest.objects.filter(ticket=ticket).values_list("status", flat=True)),
            list(ReturnRequest.objects.filter(ticket=ticket).values_list("status", flat=True)),
            Notification.objects.filter(ticket=ticket).count())


def _expected_refusal(role_user, ticket: Ticket, action: str) -> set[int]:
    """What the documented contract says a refusal of ``action`` is for this user and ticket."""
    if role_user.role == "unit_handler" and ticket.unit_id != role_user.unit_id:
        return {404}
    spec = ACTIONS[action]
    if role_user.role not in ACTION_ROLES[spec.permission]:
        return {403}
    return {409}


def _try(fn):
    """Run ``fn`` in a savepoint, return its result and roll everything back."""
    sid = transaction.savepoint()
    try:
        return fn()
    finally:
        transaction.savepoint_rollback(sid)


BUTTON = re.compile(r'id="do-([a-z-]+)"')


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_buttons_allowed_actions_and_accepted_actions_are_one_answer(
        scenario, ticket_in, new_ticket, personas, dispatcher, unit_handler, other_unit_handler, unit_a, unit_b,
        settings, tmp_path):
    # given
    settings.MEDIA_ROOT = str(tmp_path)
    c = Ctx(ticket_in=ticket_in, new_ticket=new_ticket, dispatcher=dispatcher, unit_handler=unit_handler,
            other_unit_handler=other_unit_handler, unit_a=unit_a, unit_b=unit_b)
    c.target = new_ticket(content="并单目标")
    ticket = SCENARIOS[scenario](c)
    bodies = _bodies(Ticket.objects.get(pk=ticket.pk), c)
    assert set(bodies) == set(ACTIONS)
    offered_somewhere = set()
    for role in ROLES:
        user = personas[role]
        page, rest = Client(), APIClient()
        page.force_login(user)
        rest.force_login(user)
        before = _state(ticket)
        # when: what is offered
        shown = page.get(f"/tickets/{ticket.pk}/")
        detail = rest.get(f"/api/tickets/{ticket.pk}/")
        if shown.status_code == 404:
            assert detail.status_code == 404, (role, scenario)
            buttons, allowed = [], []
        else:
            assert shown.status_code == 200 and detail.status_code == 200, (role, scenario)
            buttons = BUTTON.findall(shown.content.decode())
            allowed = detail.json()["allowed_actions"]
        # when: what is accepted
        page_ok, api_ok = [], []
        for action in ACTIONS:
            form, body = bodies[action]
            expected = _expected_refusal(user, ticket, action)

            def post_page(action=action, form=form, page=page):
                response = page.post(f"/tickets/{ticket.pk}/do/{action}/", form)
                return response.status_code, _state(ticket)

            def post_api(action=action, body=body, rest=rest):
                response = rest.post(f"/api/tickets/{ticket.pk}/{action}/", body, format="json")
                code = response.json().get("code") if response.status_code >= 400 else None
                return response.status_code, code, _state(ticket)

            status, after = _try(post_page)
            if status == 302:
                page_ok.append(action)
            else:
                assert status in expected, (role, scenario, action, "page", status)
                assert after == before, (role, scenario, action, "page changed something")
            status, code, after = _try(post_api)
            if status == 200:
                api_ok.append(action)
            else:
                assert status in expected, (role, scenario, action, "api", status, code)
                if status == 409:
                    assert code == "action_not_available", (role, scenario, action, code)
                assert after == before, (role, scenario, action, "api changed something")
            assert _state(ticket) == before
        # then: one answer
        assert buttons == allowed == page_ok == api_ok, (role, scenario, buttons, allowed, page_ok, api_ok)
        offered_somewhere |= set(allowed)
    # and the fixture is not vacuous: closed tickets offer nothing but a supervision's close
    if scenario in {"closed", "closed_coordinated", "merged"}:
        assert offered_somewhere == set()
    else:
        assert offered_somewhere
