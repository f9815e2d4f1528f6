"""Role × endpoint matrix: every endpoint of the tickets API, every role, the expected status.

Tickets are brought to the state each action needs through the real services (``ticket_in``);
a refused write leaves the database as it was, an accepted one writes its event.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tickets import services
from tickets.models import Call, CallerDataAccess, Notification, Ticket, TicketEvent, Unit

ROLES = ["operator", "dispatcher", "unit_handler", "other_unit_handler", "assessor", "editor", "leader", "admin",
         "anonymous"]
SIGNED_IN = ROLES[:-1]


def only(ok: set[str], *, ok_status=200, others=403, **special) -> dict[str, int]:
    """Expected statuses: ``ok`` roles get ``ok_status``, the anonymous 401, others ``others``;
    ``special`` overrides single roles (e.g. ``other_unit_handler=404``)."""
    result = {role: (ok_status if role in ok else others) for role in SIGNED_IN}
    result["anonymous"] = 401
    result.update(special)
    return result


EVERYONE = only(set(SIGNED_IN))
CENTRE = {"dispatcher", "admin"}
REGISTER = {"operator", "dispatcher", "admin"}
UNIT = {"unit_handler"}
# A ticket at 纸坊镇: its handler may read it; another unit's handler gets 404.
TICKET_READ = only(set(SIGNED_IN), other_unit_handler=404)
CENTRE_ACTION = only(CENTRE, other_unit_handler=404)
UNIT_ACTION = only(UNIT, other_unit_handler=404)
EVERYONE_BUT_UNITS = set(SIGNED_IN) - {"unit_handler", "other_unit_handler"}


def _handling(ctx):
    return ctx["ticket_in"]("handling")


def _with_extension(ctx):
    ticket = _handling(ctx)
    services.ticket_extension_request(ticket=ticket, actor=ctx["personas"]["unit_handler"], reason="需协调",
                                      requested_deadline=ticket.handle_deadline + timedelta(days=5))
    return ticket


def _unsatisfied(ctx):
    ticket = ctx["ticket_in"]("pending_callback")
    return services.ticket_callback(ticket=ticket, actor=ctx["personas"]["dispatcher"], result="unsatisfied",
                                    resolved=False)


def _action(name, state, payload=None, expected=CENTRE_ACTION):
    def setup(ctx):
        ticket = state(ctx) if callable(state) else ctx["ticket_in"](state)
        body = payload(ctx, ticket) if callable(payload) else (payload or {})
        return f"/api/tickets/{ticket.pk}/{name}/", body

    return ("post", setup, expected)


def _get(url, expected=EVERYONE):
    return ("get", lambda ctx: (url(ctx) if callable(url) else url, None), expected)


def _supervised(ctx):
    ticket = _handling(ctx)
    services.supervision_open(ticket=ticket, actor=ctx["personas"]["dispatcher"], reason="群众反映强烈")
    return ticket


def _supervision_close(ctx):
    ticket = _handling(ctx)
    case = services.supervision_open(ticket=ticket, actor=ctx["personas"]["dispatcher"], reason="群众反映强烈")
    return f"/api/supervisions/{case.pk}/close/", {"result": "已整改到位"}


def _ticket_create(ctx):
    return "/api/tickets/", {"channel": "phone", "appeal_type": "problem", "category": "0201",
                             "content": "路灯不亮。", "caller_phone": "13900001111"}


def _call_create(ctx):
    return "/api/calls/", {"kind": "new", "caller_phone": "13900001111", "duration_seconds": 60}


def _notification_resend(ctx):
    """A message skipped because 纸坊镇 had no duty phone; the phone and a gateway are set since."""
    ctx["settings"].HOTLINE_SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"  # queued at commit: never sent here
    ticket = _handling(ctx)
    Unit.objects.filter(pk=ctx["unit_a"].pk).update(duty_phone="13900007777")
    return f"/api/notifications/{Notification.objects.get(ticket=ticket).pk}/resend/", {}


ENDPOINTS = {
    "me": _get("/api/me/"),
    "units": _get("/api/units/"),
    "categories": _get("/api/categories/?q=sd"),
    "appeal-types": _get("/api/appeal-types/"),
    "channels": _get("/api/channels/"),
    "platforms": _get("/api/platforms/"),
    "calendar-years": _get("/api/calendar/years/"),
    "calendar-days": _get("/api/calendar/days/?year=2024"),
    "ticket-list": _get("/api/tickets/"),
    "ticket-create": ("post", _ticket_create, only(REGISTER, ok_status=201)),
    "ticket-detail": _get(lambda ctx: f"/api/tickets/{_handling(ctx).pk}/", TICKET_READ),
    "ticket-events": _get(lambda ctx: f"/api/tickets/{_handling(ctx).pk}/events/", TICKET_READ),
    "by-caller": _get("/api/tickets/by-caller/?phone=13812345678", only(REGISTER)),
    "queue": _get("/api/queues/overdue/"),
    "call-list": _get("/api/calls/", only(REGISTER | {"leader"})),
    "call-create": ("post", _call_create, only(REGISTER, ok_status=201)),
    "dispatch": _action("dispatch", "pending_dispatch", lambda ctx, t: {"unit": ctx["unit_a"].pk},
                        only(CENTRE, unit_handler=404, other_unit_handler=404)),
    "sign": _action("sign", "pending_sign", expected=UNIT_ACTION),
    "return": _action("return", "pending_sign", {"reason": "不属于本单位职责"}, UNIT_ACTION),
    "return-decide": _action("return-decide", "return_pending", {"approve": True}),
    "extension": _action("extension", "handling",
                         lambda ctx, t: {"reason": "需协调多部门",
                                         "requested_deadline": (t.handle_deadline + timedelta(days=3)).isoformat()},
                         UNIT_ACTION),
    "extension-decide": _action("extension-decide", _with_extension, {"approve": True}),
    "reply": _action("reply", "handling", {"reply_text": "已修复。", "internal_note": "更换水泵"}, UNIT_ACTION),
    "review": _action("review", "replied", {"passed": True}),
    "callback": _action("callback", "pending_callback", {"result": "satisfied", "resolved": True}),
    "redo": _action("redo", _unsatisfied, {"note": "请重新核实"}),
    "judge-close": _action("judge-close", "handling", {"note": "不合理诉求"}),
    "merge": _action("merge", "handling", lambda ctx, t: {"into": ctx["new_ticket"]().number}),
    "urge": _action("urge", "handling", {"note": "请尽快办理"}),
    "supervise": _action("supervise", "handling", {"reason": "群众反映强烈"}),
    "grant-contact": _action("grant-contact", "handling", {"note": "需上门核实"}),
    "redispatch": _action("redispatch", "handling",
                          lambda ctx, t: {"unit": ctx["unit_b"].pk, "reason": "派错单位"}),
    "recall": _action("recall", "pending_sign", {"reason": "派单有误"}),
    "first-feedback": _action("first-feedback", lambda ctx: ctx["ticket_in"]("handling", urgent=True),
                              {"note": "已到现场处置"}, UNIT_ACTION),
    "supervise-close": _action("supervise-close", _supervised, {"result": "已整改到位"}),
    "supervision-close": ("post", _supervision_close, CENTRE_ACTION),
    "notification-list": _get(lambda ctx: f"/api/notifications/?status=skipped&unit={ctx['unit_a'].pk}",
                              only(EVERYONE_BUT_UNITS)),
    "notification-resend": ("post", _notification_resend, only(CENTRE)),
    "schema": _get("/api/schema/", {role: 200 for role in ROLES}),
    "docs": _get("/api/docs/", {role: 200 for role in ROLES}),
}


@pytest.fixture(autouse=True)
def _clear_throttle_cache():
    cache.clear()
    yield
    cache.clear()


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def counts():
    return (Ticket.objects.count(), TicketEvent.objects.count(), Call.objects.count(),
            tuple(Notification.objects.order_by("pk").values_list("status", flat=True)))


CASES = [(endpoint, role) for endpoint in ENDPOINTS for role in ROLES]


@pytest.mark.django_db
@pytest.mark.parametrize(("endpoint", "role"), CASES, ids=[f"{e}-{r}" for e, r in CASES])
def test_role_endpoint_matrix(endpoint, role, personas, ticket_in, new_ticket, unit_a, unit_b, settings):
    # given
    method, setup, expected = ENDPOINTS[endpoint]
    ctx = {"personas": personas, "ticket_in": ticket_in, "new_ticket": new_ticket, "unit_a": unit_a,
           "unit_b": unit_b, "settings": settings}
    url, body = setup(ctx)
    user = personas.get(role)
    client = client_for(user)
    before = counts()
    # when
    response = client.post(url, body, format="json") if method == "post" else client.get(url)
    # then
    assert response.status_code == expected[role], (response.status_code, getattr(response, "data", None))
    if method == "post":
        if response.status_code >= 400:
            assert counts() == before
            assert response.json()["code"] in {"permission_denied", "not_found", "not_authenticated"}
        else:
            assert counts() != before
    if response.status_code == 401:
        assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_token_endpoint_for_every_role(role, personas):
    # given
    client = APIClient()
    username = personas[role].username if role != "anonymous" else "nobody"
    # when
    response = client.post("/api/auth/token/", {"username": username, "password": "pw-Test-12345"}, format="json")
    # then
    if role == "anonymous":
        assert response.status_code == 400
        assert response.json()["code"] == "login_failed"
    else:
        assert response.status_code == 200
        assert response.json()["token"] == Token.objects.get(user=personas[role]).key


@pytest.mark.django_db
def test_every_action_endpoint_is_in_the_matrix():
    # given
    from tickets.services.lifecycle import ACTIONS

    # then
    assert set(ACTIONS) <= set(ENDPOINTS)
    assert CallerDataAccess.objects.count() == 0
