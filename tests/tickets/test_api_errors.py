"""Bad input never 500s, answers ``{"code","detail","fields"}`` and writes nothing."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tickets.models import Call, CallerDataAccess, ExtensionRequest, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

HUGE = 10**30


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def counts():
    return (Ticket.objects.count(), TicketEvent.objects.count(), Call.objects.count(),
            ExtensionRequest.objects.count())


GOOD = {"channel": "phone", "appeal_type": "problem", "category": "0201", "content": "停水。",
        "caller_phone": "13812345678"}

CREATE_CASES = {
    "unknown category": ({"category": "9999"}, "invalid", "category"),
    "unknown appeal type": ({"appeal_type": "nope"}, "invalid", "appeal_type"),
    "unknown channel": ({"channel": "pigeon"}, "invalid", "channel"),
    "unknown platform": ({"source": "upper", "platform": "nope"}, "invalid", "platform"),
    "unknown township": ({"township": 987654}, "invalid", "township"),
    "huge township id": ({"township": HUGE}, "invalid", "township"),
    "township as text": ({"township": "abc"}, "invalid", "township"),
    "township not a township": ({"township": "UNIT_B"}, "invalid", "township"),
    "level-1 category": ({"category": "LEVEL1"}, "invalid", "category"),
    "missing content": ({"content": None, "_drop": "content"}, "invalid", "content"),
    "blank content": ({"content": "   "}, "invalid", "content"),
    "overlong content": ({"content": "长" * 5001}, "invalid", "content"),
    "overlong title": ({"title": "长" * 101}, "invalid", "title"),
    "overlong caller name": ({"caller_name": "名" * 51}, "invalid", "caller_name"),
    "malformed phone": ({"caller_phone": "call me maybe"}, "invalid_phone", "caller_phone"),
    "short phone": ({"caller_phone": "12"}, "invalid_phone", "caller_phone"),
    "boolean as text": ({"urgent": "very"}, "invalid", "urgent"),
    "content as object": ({"content": {"a": 1}}, "invalid", "content"),
    "category as list": ({"category": ["0201"]}, "invalid", "category"),
    "bad source": ({"source": "sky"}, "invalid", "source"),
    "bad datetime": ({"source": "upper", "platform": "pds", "upstream_deadline": "tomorrow"}, "invalid",
                     "upstream_deadline"),
    "coordinated without answer": ({"handling_mode": "coordinated"}, "invalid", "reply_text"),
}


@pytest.mark.parametrize("case", list(CREATE_CASES))
def test_bad_registration_input(case, operator, unit_b):
    # given
    from tickets.models import Category

    change, code, field = CREATE_CASES[case]
    body = {**GOOD, **change}
    if body.get("township") == "UNIT_B":
        body["township"] = unit_b.pk
    if body.get("category") == "LEVEL1":
        body["category"] = Category.objects.filter(parent__isnull=True).first().code
    if "_drop" in body:
        body.pop(body.pop("_drop"))
    before = counts()
    # when
    response = api(operator).post("/api/tickets/", body, format="json")
    # then
    assert response.status_code == 400, response.content
    data = response.json()
    assert data["code"] == code and data["detail"]
    assert field in data["fields"]
    assert counts() == before


@pytest.mark.parametrize("raw", ['{"content": ', "not json", "[1, 2", '{"a": 1}}'])
def test_malformed_json_is_parse_error(raw, operator):
    # given
    before = counts()
    # when
    response = api(operator).post("/api/tickets/", raw, content_type="application/json")
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert counts() == before


@pytest.mark.parametrize("body", [[], [1, 2], "text", 5, None])
def test_json_that_is_not_an_object(body, operator):
    # given
    before = counts()
    # when
    response = api(operator).post("/api/tickets/", body, format="json")
    # then
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "parse_error"}
    assert counts() == before


def _handling(ticket_in):
    return ticket_in("handling")


ACTION_ERRORS = [
    # (state, role, action, body, status, code, field)
    ("pending_dispatch", "dispatcher", "dispatch", {}, 400, "invalid", "unit"),
    ("pending_dispatch", "dispatcher", "dispatch", {"unit": 987654}, 400, "invalid", "unit"),
    ("pending_dispatch", "dispatcher", "dispatch", {"unit": HUGE}, 400, "invalid", "unit"),
    ("pending_dispatch", "dispatcher", "dispatch", {"unit": [1]}, 400, "invalid", "unit"),
    ("pending_dispatch", "dispatcher", "dispatch", {"unit": "UNIT_A", "note": "长" * 2001}, 400, "invalid",
     "note"),
    ("handling", "dispatcher", "dispatch", {"unit": "UNIT_A"}, 409, "action_not_available", None),
    ("handling", "unit_handler", "sign", {}, 409, "action_not_available", None),
    ("handling", "unit_handler", "return", {}, 400, "invalid", "reason"),
    ("handling", "unit_handler", "return", {"reason": "   "}, 400, "invalid", "reason"),
    ("handling", "dispatcher", "return-decide", {"approve": True}, 409, "action_not_available", None),
    ("return_pending", "dispatcher", "return-decide", {"approve": "maybe"}, 400, "invalid", "approve"),
    ("return_pending", "dispatcher", "return-decide", {"approve": False}, 400, "invalid", "note"),
    ("handling", "unit_handler", "extension", {"reason": "x"}, 400, "invalid", "requested_deadline"),
    ("handling", "unit_handler", "extension", {"reason": "x", "requested_deadline": "soon"}, 400, "invalid",
     "requested_deadline"),
    ("handling", "unit_handler", "extension", {"reason": "x", "requested_deadline": "2020-01-01T00:00:00+08:00"},
     400, "invalid", "requested_deadline"),
    ("handling", "dispatcher", "extension-decide", {"approve": True}, 409, "action_not_available", None),
    ("handling", "unit_handler", "reply", {"reply_text": ""}, 400, "invalid", "reply_text"),
    ("handling", "unit_handler", "reply", {"reply_text": "长" * 5001}, 400, "invalid", "reply_text"),
    ("pending_sign", "unit_handler", "reply", {"reply_text": "好"}, 409, "action_not_available", None),
    ("handling", "dispatcher", "review", {"passed": True}, 409, "action_not_available", None),
    ("replied", "dispatcher", "review", {"passed": False}, 400, "invalid", "note"),
    ("pending_callback", "dispatcher", "callback", {"result": "great", "resolved": True}, 400, "invalid", "result"),
    ("pending_callback", "dispatcher", "callback", {"result": "satisfied"}, 400, "invalid", "resolved"),
    ("handling", "dispatcher", "callback", {"result": "satisfied", "resolved": True}, 409, "action_not_available",
     None),
    ("pending_callback", "dispatcher", "redo", {"note": "重办"}, 409, "action_not_available", None),
    ("closed", "dispatcher", "judge-close", {"note": "x"}, 409, "action_not_available", None),
    ("handling", "dispatcher", "judge-close", {}, 400, "invalid", "note"),
    ("handling", "dispatcher", "merge", {"into": "RZ-NOPE"}, 400, "invalid", "into"),
    ("handling", "dispatcher", "merge", {"into": HUGE}, 400, "invalid", "into"),
    ("handling", "dispatcher", "merge", {"into": {"id": 1}}, 400, "invalid", "into"),
    ("handling", "dispatcher", "merge", {"into": "SELF"}, 400, "invalid", "into"),
    ("closed", "dispatcher", "urge", {"note": "x"}, 409, "action_not_available", None),
    ("handling", "dispatcher", "urge", {"note": ""}, 400, "invalid", "note"),
    ("handling", "dispatcher", "supervise", {"reason": "x", "deadline": "nope"}, 400, "invalid", "deadline"),
    ("pending_dispatch", "dispatcher", "grant-contact", {}, 409, "action_not_available", None),
]


@pytest.mark.parametrize(("state", "role", "action", "body", "status", "code", "field"), ACTION_ERRORS,
                         ids=[f"{c[2]}-{c[0]}-{c[5]}-{i}" for i, c in enumerate(ACTION_ERRORS)])
def test_bad_action_input(state, role, action, body, status, code, field, ticket_in, personas, unit_a):
    # given
    ticket = ticket_in(state)
    body = {k: (unit_a.pk if v == "UNIT_A" else ticket.number if v == "SELF" else v) for k, v in body.items()}
    before = counts()
    # when
    response = api(personas[role]).post(f"/api/tickets/{ticket.pk}/{action}/", body, format="json")
    # then
    assert response.status_code == status, response.content
    data = response.json()
    assert data["code"] == code and data["detail"]
    if field:
        assert field in data["fields"]
    assert counts() == before
    ticket.refresh_from_db()
    assert ticket.status == state


@pytest.mark.parametrize("url", ["/api/tickets/{huge}/", "/api/tickets/{huge}/events/",
                                 "/api/tickets/{huge}/sign/", "/api/supervisions/{huge}/close/",
                                 "/api/tickets/0/"])
def test_unknown_or_huge_ids_are_404(url, dispatcher):
    # given
    client = api(dispatcher)
    url = url.format(huge=HUGE)
    # when
    response = client.post(url, {"note": "x"}, format="json") if "events" not in url and url.count("/") > 4 \
        else client.get(url)
    # then
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(("query", "field"), [
    ("status=flying", "status"), ("unit=abc", "unit"), (f"unit={HUGE}", "unit"), ("category=9999", "category"),
    ("appeal_type=zzz", "appeal_type"), ("platform=zzz", "platform"), ("source=sky", "source"),
    ("registered_after=yesterday", "registered_after"),
    ("ordering=caller_phone", "ordering"), ("township=-1", "township"),
])
def test_bad_list_filters_are_400(query, field, dispatcher):
    # when
    response = api(dispatcher).get(f"/api/tickets/?{query}")
    # then
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid" and field in response.json()["fields"]


@pytest.mark.parametrize(("query", "code"), [("", "invalid"), ("phone=abc", "invalid_phone"),
                                             ("phone=13812345678&days=0", "invalid")])
def test_by_caller_needs_a_valid_phone(query, code, operator):
    # when
    response = api(operator).get(f"/api/tickets/by-caller/?{query}")
    # then
    assert response.status_code == 400 and response.json()["code"] == code


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"caller_phone": "abc"}, "invalid_phone", "caller_phone"),
    ({"caller_phone": "13812345678", "kind": "prank"}, "invalid", "kind"),
    ({"caller_phone": "13812345678", "ticket": 987654}, "invalid", "ticket"),
    ({"caller_phone": "13812345678", "duration_seconds": -1}, "invalid", "duration_seconds"),
    ({"caller_phone": "13812345678", "duration_seconds": "long"}, "invalid", "duration_seconds"),
    ({"caller_phone": "13812345678", "note": "长" * 501}, "invalid", "note"),
    ({"caller_phone": "13812345678", "kind": "repeat"}, "invalid", "ticket"),
])
def test_bad_call_input(body, code, field, operator):
    # given
    before = counts()
    # when
    response = api(operator).post("/api/calls/", body, format="json")
    # then
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code and field in response.json()["fields"]
    assert counts() == before


def test_errors_write_no_access_log(ticket_in, dispatcher):
    # given
    ticket = ticket_in("closed")
    # when
    response = api(dispatcher).post(f"/api/tickets/{ticket.pk}/urge/", {"note": "x"}, format="json")
    # then
    assert response.status_code == 409
    assert CallerDataAccess.objects.count() == 0
