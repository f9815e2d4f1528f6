"""The ticket API: registration, lists and filters, detail, timeline, caller data and its access log,
queues, calls, and a bounded number of queries per list page and per action."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from tickets import services
from tickets.models import Call, CallerDataAccess, Category, Status, Ticket, TicketEvent, Unit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)  # session authentication, as the web pages use
    return client


def rows(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --------------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------------


def test_operator_registers_a_ticket_by_codes(operator, unit_a):
    # given
    body = {"channel": "phone", "appeal_type": "complaint", "category": "0201", "title": "停水",
            "content": "小区停水。", "caller_name": "李四", "caller_phone": "+86 139-0000-1111",
            "address": "纸坊镇", "township": unit_a.pk, "urgent": True}
    # when
    response = api(operator).post("/api/tickets/", body, format="json")
    # then
    assert response.status_code == 201, response.content
    data = response.json()
    ticket = Ticket.objects.get(pk=data["id"])
    assert data["number"] == ticket.number and ticket.number.startswith("RZ")
    assert ticket.status == Status.PENDING_DISPATCH and ticket.urgent
    assert ticket.caller_phone == "13900001111"
    assert ticket.appeal_type.code == "complaint" and ticket.township == unit_a
    assert data["caller_phone"] == "13900001111" and data["caller_level"] == "full"
    assert TicketEvent.objects.filter(ticket=ticket, type="registered", actor=operator).exists()


def test_coordinated_ticket_is_closed_at_once(operator):
    # given
    body = {"channel": "wechat", "handling_mode": "coordinated", "appeal_type": "consult", "category": "0201",
            "content": "咨询社保卡办理地点。", "reply_text": "到市民之家二楼办理。"}
    # when
    response = api(operator).post("/api/tickets/", body, format="json")
    # then
    assert response.status_code == 201, response.content
    assert response.json()["status"] == Status.CLOSED
    assert response.json()["allowed_actions"] == []


def test_upper_ticket_needs_a_known_platform(dispatcher, upper_platform):
    # given
    body = {"source": "upper", "platform": upper_platform.code, "upstream_number": "PDS-1",
            "appeal_type": "problem", "category": "0201", "content": "上级交办。"}
    # when
    first = api(dispatcher).post("/api/tickets/", body, format="json")
    again = api(dispatcher).post("/api/tickets/", body, format="json")
    # then
    assert first.status_code == 201
    assert Ticket.objects.get(pk=first.json()["id"]).platform == upper_platform
    assert again.status_code == 409 and again.json()["code"] == "duplicate_upstream_number"


# --------------------------------------------------------------------------------------------
# Lists and filters
# --------------------------------------------------------------------------------------------


def test_unit_handler_lists_only_own_unit_tickets(ticket_in, unit_handler, other_unit_handler):
    # given
    mine = ticket_in("handling")
    ticket_in("pending_dispatch")
    # when
    own = rows(api(unit_handler).get("/api/tickets/"))
    other = rows(api(other_unit_handler).get("/api/tickets/"))
    # then
    assert [r["id"] for r in own] == [mine.pk]
    assert other == []


def test_filters_status_category_township_and_text(ticket_in, new_ticket, dispatcher, unit_a):
    # given
    handling = ticket_in("handling", content="路灯不亮", address="广成路")
    waiting = new_ticket(category=Category.objects.get(code="0101"), township=None)
    parent_code = Category.objects.get(code="0201").parent.code
    client = api(dispatcher)
    # when / then
    ids = lambda url: {r["id"] for r in rows(client.get(url))}  # noqa: E731
    assert ids("/api/tickets/?status=handling&status=pending_dispatch") == {handling.pk, waiting.pk}
    assert ids("/api/tickets/?status=handling") == {handling.pk}
    assert ids(f"/api/tickets/?category={parent_code}") == {handling.pk}
    assert ids("/api/tickets/?category=0101") == {waiting.pk}
    assert ids(f"/api/tickets/?township={unit_a.pk}") == {handling.pk}
    assert ids(f"/api/tickets/?unit={unit_a.pk}") == {handling.pk}
    assert ids("/api/tickets/?q=广成") == {handling.pk}
    assert ids(f"/api/tickets/?number={waiting.number}") == {waiting.pk}
    assert ids("/api/tickets/?appeal_type=problem&source=local&handling_mode=dispatched") == {
        handling.pk, waiting.pk}
    now = timezone.now()
    assert ids(f"/api/tickets/?dispatched_after={(now - timedelta(hours=1)).isoformat()}".replace("+", "%2B")) \
        == {handling.pk}
    assert ids(f"/api/tickets/?registered_before={(now - timedelta(days=1)).isoformat()}".replace("+", "%2B")) \
        == set()


def test_overdue_and_due_soon_filters_and_lights(ticket_in, dispatcher):
    # given
    late = ticket_in("handling")
    soon = ticket_in("handling")
    fine = ticket_in("handling")
    now = timezone.now()
    Ticket.objects.filter(pk=late.pk).update(handle_deadline=now - timedelta(hours=1))
    Ticket.objects.filter(pk=soon.pk).update(handle_deadline=now + timedelta(minutes=30))
    Ticket.objects.filter(pk=fine.pk).update(handle_deadline=now + timedelta(days=30))
    client = api(dispatcher)
    # when
    overdue = rows(client.get("/api/tickets/?overdue=true"))
    due_soon = rows(client.get("/api/tickets/?due_soon=true"))
    lights = {r["id"]: r["light"] for r in rows(client.get("/api/tickets/"))}
    # then
    assert [r["id"] for r in overdue] == [late.pk]
    assert [r["id"] for r in due_soon] == [soon.pk]
    assert lights == {late.pk: "red", soon.pk: "yellow", fine.pk: "green"}


def test_ordering(new_ticket, dispatcher):
    # given
    first, second = new_ticket(), new_ticket()
    # when
    asc = rows(api(dispatcher).get("/api/tickets/?ordering=number"))
    desc = rows(api(dispatcher).get("/api/tickets/?ordering=-number"))
    # then
    assert [r["id"] for r in asc] == [first.pk, second.pk]
    assert [r["id"] for r in desc] == [second.pk, first.pk]


@pytest.mark.parametrize("role,allowed", [("operator", True), ("dispatcher", True), ("admin", True),
                                          ("leader", False), ("assessor", False), ("unit_handler", False)])
def test_caller_phone_filter_only_for_full_caller_roles(role, allowed, personas, ticket_in):
    # given
    ticket = ticket_in("handling", caller_phone="13912345678")
    ticket_in("handling", caller_phone="13800000000")
    # when
    response = api(personas[role]).get("/api/tickets/?caller_phone=139-1234-5678")
    # then
    if allowed:
        assert [r["id"] for r in rows(response)] == [ticket.pk]
    else:
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"


# --------------------------------------------------------------------------------------------
# Caller data: masking, 保密, the access log
# --------------------------------------------------------------------------------------------

FULL = {"operator", "dispatcher", "admin"}


@pytest.mark.parametrize("role", ["operator", "dispatcher", "admin", "assessor", "editor", "leader",
                                  "unit_handler"])
@pytest.mark.parametrize("confidential", [False, True])
def test_caller_data_in_list_and_detail(role, confidential, personas, ticket_in):
    # given
    ticket = ticket_in("handling", caller_name="张三丰", caller_phone="13812345678", confidential=confidential)
    client = api(personas[role])
    # when
    row = rows(client.get("/api/tickets/"))[0]
    logged_after_list = CallerDataAccess.objects.count()
    detail = client.get(f"/api/tickets/{ticket.pk}/").json()
    # then: lists are masked for everyone, 保密 hidden for everyone, and never logged
    assert logged_after_list == 0
    expected_row = ("", "", "hidden") if confidential else ("张**", "138****5678", "masked")
    assert (row["caller_name"], row["caller_phone"], row["caller_level"]) == expected_row
    # detail: full for the centre's caller roles (logged), masked or hidden for the others
    if role in FULL:
        assert (detail["caller_name"], detail["caller_phone"], detail["caller_level"]) == (
            "张三丰", "13812345678", "full")
        log = CallerDataAccess.objects.get()
        assert (log.user, log.ticket_id, log.action, log.ip_address) == (personas[role], ticket.pk, "view",
                                                                         "127.0.0.1")
    else:
        expected = ("", "", "hidden") if confidential else ("张**", "138****5678", "masked")
        assert (detail["caller_name"], detail["caller_phone"], detail["caller_level"]) == expected
        assert CallerDataAccess.objects.count() == 0
    assert "13812345678" not in str(row)


def test_granted_contact_shows_unit_full_data_in_detail_only(ticket_in, dispatcher, unit_handler):
    # given
    ticket = ticket_in("handling", caller_name="张三", caller_phone="13812345678")
    granted = api(dispatcher).post(f"/api/tickets/{ticket.pk}/grant-contact/", {}, format="json")
    before = CallerDataAccess.objects.count()
    client = api(unit_handler)
    # when
    row = rows(client.get("/api/tickets/"))[0]
    detail = client.get(f"/api/tickets/{ticket.pk}/").json()
    # then
    assert granted.status_code == 200 and granted.json()["contact_granted"] is True
    assert row["caller_phone"] == "138****5678" and row["caller_level"] == "masked"
    assert detail["caller_phone"] == "13812345678" and detail["caller_level"] == "full"
    assert CallerDataAccess.objects.count() == before + 1
    assert CallerDataAccess.objects.filter(user=unit_handler, ticket=ticket).count() == 1


def test_grant_contact_refused_for_confidential(ticket_in, dispatcher):
    # given
    ticket = ticket_in("handling", confidential=True)
    events = TicketEvent.objects.count()
    # when
    response = api(dispatcher).post(f"/api/tickets/{ticket.pk}/grant-contact/", {}, format="json")
    # then
    assert response.status_code == 409 and response.json()["code"] == "action_not_available"
    assert response.json()["reason"] == "confidential"
    assert TicketEvent.objects.count() == events


# --------------------------------------------------------------------------------------------
# Detail, allowed actions, timeline
# --------------------------------------------------------------------------------------------


def test_detail_lists_requests_urges_supervisions_and_allowed_actions(ticket_in, dispatcher, unit_handler):
    # given
    ticket = ticket_in("handling")
    services.ticket_extension_request(ticket=ticket, actor=unit_handler, reason="需协调",
                                      requested_deadline=ticket.handle_deadline + timedelta(days=5))
    services.ticket_urge(ticket=ticket, actor=dispatcher, note="请尽快")
    services.supervision_open(ticket=ticket, actor=dispatcher, reason="群众反映强烈")
    # when
    centre = api(dispatcher).get(f"/api/tickets/{ticket.pk}/").json()
    unit = api(unit_handler).get(f"/api/tickets/{ticket.pk}/").json()
    # then
    assert centre["pending_extension"]["reason"] == "需协调"
    assert centre["pending_return"] is None
    assert [u["note"] for u in centre["urges"]] == ["请尽快"]
    assert [(s["status"], s["reason"]) for s in centre["supervisions"]] == [("open", "群众反映强烈")]
    assert set(centre["allowed_actions"]) == {"redispatch", "recall", "extension-decide", "judge-close", "merge",
                                              "urge", "supervise-close", "grant-contact"}
    assert set(unit["allowed_actions"]) == {"return", "reply"}


def test_allowed_actions_follow_the_state(ticket_in, dispatcher, unit_handler, operator):
    # given
    pending = ticket_in("pending_dispatch")
    signing = ticket_in("pending_sign")
    # when
    disp = api(dispatcher).get(f"/api/tickets/{pending.pk}/").json()["allowed_actions"]
    oper = api(operator).get(f"/api/tickets/{pending.pk}/").json()["allowed_actions"]
    unit = api(unit_handler).get(f"/api/tickets/{signing.pk}/").json()["allowed_actions"]
    # then
    assert set(disp) == {"dispatch", "judge-close", "merge", "supervise"}
    assert oper == []
    assert set(unit) == {"sign", "return"}


def test_timeline_in_order_with_actor(ticket_in, unit_handler):
    # given
    ticket = ticket_in("replied")
    # when
    events = rows(api(unit_handler).get(f"/api/tickets/{ticket.pk}/events/"))
    # then
    assert [e["type"] for e in events] == ["registered", "dispatched", "signed", "replied"]
    assert events[2]["actor"] == unit_handler.display_name and events[1]["unit"] == "纸坊镇"


@pytest.mark.parametrize("suffix", ["", "events/", *[f"{a}/" for a in (
    "dispatch", "sign", "return", "return-decide", "extension", "extension-decide", "reply", "review", "callback",
    "redo", "judge-close", "merge", "urge", "supervise", "grant-contact")]])
def test_other_units_ticket_is_not_found(suffix, ticket_in, other_unit_handler):
    # given
    ticket = ticket_in("handling")
    before = (TicketEvent.objects.count(), CallerDataAccess.objects.count())
    client = api(other_unit_handler)
    url = f"/api/tickets/{ticket.pk}/{suffix}"
    # when
    response = client.get(url) if suffix in ("", "events/") else client.post(url, {"note": "x"}, format="json")
    # then
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert (TicketEvent.objects.count(), CallerDataAccess.objects.count()) == before


def test_full_workflow_through_the_api(operator, dispatcher, unit_handler, unit_a):
    # given
    created = api(operator).post("/api/tickets/", {"channel": "phone", "appeal_type": "problem",
                                                   "category": "0201", "content": "停水。"}, format="json")
    pk = created.json()["id"]
    centre, unit = api(dispatcher), api(unit_handler)
    # when
    steps = [
        centre.post(f"/api/tickets/{pk}/dispatch/", {"unit": unit_a.pk, "note": "请办理"}, format="json"),
        unit.post(f"/api/tickets/{pk}/sign/", {}, format="json"),
        unit.post(f"/api/tickets/{pk}/reply/", {"reply_text": "已恢复供水。"}, format="json"),
        centre.post(f"/api/tickets/{pk}/review/", {"passed": False, "note": "未说明原因"}, format="json"),
        unit.post(f"/api/tickets/{pk}/reply/", {"reply_text": "水管爆裂，已抢修。"}, format="json"),
        centre.post(f"/api/tickets/{pk}/review/", {"passed": True}, format="json"),
        centre.post(f"/api/tickets/{pk}/callback/", {"result": "unsatisfied", "resolved": False}, format="json"),
        centre.post(f"/api/tickets/{pk}/redo/", {"note": "群众仍不满意"}, format="json"),
        unit.post(f"/api/tickets/{pk}/reply/", {"reply_text": "已彻底解决。"}, format="json"),
        centre.post(f"/api/tickets/{pk}/review/", {"passed": True}, format="json"),
        centre.post(f"/api/tickets/{pk}/callback/", {"result": "basic", "resolved": True}, format="json"),
    ]
    # then
    assert [s.status_code for s in steps] == [200] * len(steps), [s.json() for s in steps if s.status_code != 200]
    assert steps[-1].json()["status"] == Status.CLOSED
    ticket = Ticket.objects.get(pk=pk)
    assert (ticket.redo_count, ticket.callback_result) == (1, "basic")


def test_return_and_extension_decisions(ticket_in, dispatcher, unit_handler):
    # given
    returned = ticket_in("pending_sign")
    extended = ticket_in("handling")
    centre, unit = api(dispatcher), api(unit_handler)
    new_deadline = extended.handle_deadline + timedelta(days=4)
    # when
    asked = unit.post(f"/api/tickets/{returned.pk}/return/", {"reason": "非本单位职责"}, format="json")
    approved = centre.post(f"/api/tickets/{returned.pk}/return-decide/", {"approve": True}, format="json")
    unit.post(f"/api/tickets/{extended.pk}/extension/",
              {"reason": "需协调", "requested_deadline": new_deadline.isoformat()}, format="json")
    rejected = centre.post(f"/api/tickets/{extended.pk}/extension-decide/", {"approve": False}, format="json")
    decided = centre.post(f"/api/tickets/{extended.pk}/extension-decide/",
                          {"approve": False, "note": "时限充足"}, format="json")
    # then
    assert asked.status_code == 200 and asked.json()["pending_return"]["reason"] == "非本单位职责"
    assert approved.status_code == 200 and approved.json()["status"] == Status.PENDING_DISPATCH
    assert approved.json()["unit"] is None and approved.json()["return_count"] == 1
    assert rejected.status_code == 400 and "note" in rejected.json()["fields"]
    assert decided.status_code == 200 and decided.json()["pending_extension"] is None


def test_merge_by_number_and_supervision_close(ticket_in, new_ticket, dispatcher):
    # given
    ticket, target = ticket_in("handling"), new_ticket()
    client = api(dispatcher)
    # when
    merged = client.post(f"/api/tickets/{ticket.pk}/merge/", {"into": target.number}, format="json")
    opened = client.post(f"/api/tickets/{target.pk}/supervise/", {"reason": "重点关注"}, format="json")
    case_id = opened.json()["supervisions"][0]["id"]
    closed = client.post(f"/api/supervisions/{case_id}/close/", {"result": "已办结"}, format="json")
    again = client.post(f"/api/supervisions/{case_id}/close/", {"result": "已办结"}, format="json")
    # then
    assert merged.status_code == 200 and merged.json()["merged_into"] == {"id": target.pk, "number": target.number}
    assert closed.status_code == 200 and closed.json()["supervisions"][0]["status"] == "closed"
    assert again.status_code == 409 and again.json()["code"] == "supervision_closed"
    assert api(dispatcher).post("/api/supervisions/999999/close/", {"result": "x"}, format="json").status_code == 404


# --------------------------------------------------------------------------------------------
# Caller lookup, queues, calls, directory
# --------------------------------------------------------------------------------------------


def test_by_caller_returns_earlier_and_open_tickets(ticket_in, operator):
    # given
    closed = ticket_in("closed", caller_phone="13912345678")
    open_ = ticket_in("handling", caller_phone="13912345678")
    ticket_in("handling", caller_phone="13700000000")
    client = api(operator)
    # when
    everything = rows(client.get("/api/tickets/by-caller/?phone=139 1234 5678"))
    only_open = rows(client.get("/api/tickets/by-caller/?phone=13912345678&open=true"))
    # then
    assert {r["id"]: r["is_open"] for r in everything} == {closed.pk: False, open_.pk: True}
    assert [r["id"] for r in only_open] == [open_.pk]
    assert everything[0]["caller_phone"] == "139****5678"


def test_queues(ticket_in, dispatcher, unit_handler):
    # given
    waiting = ticket_in("pending_dispatch")
    replied = ticket_in("replied")
    signing = ticket_in("pending_sign")
    # when / then
    assert [r["id"] for r in rows(api(dispatcher).get("/api/queues/pending_dispatch/"))] == [waiting.pk]
    assert [r["id"] for r in rows(api(dispatcher).get("/api/queues/replied/"))] == [replied.pk]
    assert [r["id"] for r in rows(api(unit_handler).get("/api/queues/inbox/"))] == [signing.pk]
    missing = api(dispatcher).get("/api/queues/nope/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_calls_logged_and_listed_masked(ticket_in, operator, leader):
    # given
    ticket = ticket_in("handling")
    # when
    created = api(operator).post("/api/calls/", {"kind": "repeat", "caller_phone": "13812345678",
                                                 "ticket": ticket.pk, "duration_seconds": 75, "note": "催问进度"},
                                 format="json")
    listed = rows(api(leader).get("/api/calls/?kind=repeat"))
    # then
    assert created.status_code == 201, created.content
    call = Call.objects.get()
    assert (call.ticket, call.operator, call.duration_seconds) == (ticket, operator, 75)
    assert TicketEvent.objects.filter(ticket=ticket, type="call_attached").exists()
    assert [(r["id"], r["caller_phone"]) for r in listed] == [(call.pk, "138****5678")]


def test_repeat_call_on_closed_ticket_is_refused(ticket_in, operator):
    # given
    ticket = ticket_in("closed")
    # when
    response = api(operator).post("/api/calls/", {"kind": "repeat", "caller_phone": "13812345678",
                                                  "ticket": ticket.number}, format="json")
    # then
    assert response.status_code == 400 and response.json()["code"] == "ticket_not_open"
    assert Call.objects.count() == 0


def test_directory_filters(leader):
    # given
    client = api(leader)
    townships = Unit.objects.filter(group="township", active=True).count()
    water = Category.objects.get(code="0201")
    # when
    units = client.get("/api/units/?group=township&active=true&page_size=200").json()
    by_name = rows(client.get("/api/units/?q=纸坊"))
    level1 = client.get("/api/categories/?level=1&page_size=200").json()
    found = rows(client.get(f"/api/categories/?q={water.name}"))
    days = rows(client.get("/api/calendar/days/?year=2024&page_size=200"))
    # then
    assert units["count"] == townships > 0
    assert [u["short_name"] for u in by_name] == ["纸坊镇"]
    assert level1["count"] == Category.objects.filter(parent__isnull=True).count()
    assert all(c["level"] == 1 for c in level1["results"])
    assert water.code in [c["code"] for c in found]
    assert {d["date"][:4] for d in days} == {"2024"}
    assert any(d["date"] == "2024-04-28" and d["is_workday"] for d in days)


def test_category_search_by_pinyin_initials(leader):
    # given
    category = Category.objects.exclude(keywords="").filter(parent__isnull=False).first()
    initials = category.keywords.split()[0]
    # when
    found = rows(api(leader).get(f"/api/categories/?q={initials}&page_size=200"))
    # then
    assert category.code in [c["code"] for c in found]


# --------------------------------------------------------------------------------------------
# Bounded queries
# --------------------------------------------------------------------------------------------


def _make_tickets(n, new_ticket, dispatcher, unit_a):
    for i in range(n):
        ticket = new_ticket(caller_phone=f"139{i:08d}")
        if i % 2:
            services.ticket_dispatch(ticket=ticket, unit=unit_a, actor=dispatcher)


def _queries(client, url) -> int:
    client.get(url)  # warm the per-process calendar cache
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/api/tickets/?page_size=100", "/api/queues/pending_dispatch/?page_size=100",
                                 "/api/tickets/by-caller/?phone=13900000001&page_size=100",
                                 "/api/tickets/?overdue=false&due_soon=false&page_size=100&ordering=-number"])
def test_list_queries_bounded_and_independent_of_rows(url, new_ticket, dispatcher, unit_a,
                                                      django_assert_max_num_queries):
    # given
    client = api(dispatcher)
    _make_tickets(3, new_ticket, dispatcher, unit_a)
    small = _queries(client, url)
    _make_tickets(32, new_ticket, dispatcher, unit_a)
    assert Ticket.objects.count() >= 35
    # when / then
    with django_assert_max_num_queries(8):
        client.get(url)
    assert _queries(client, url) == small


def test_events_and_calls_lists_bounded(ticket_in, dispatcher, operator, django_assert_max_num_queries):
    # given
    ticket = ticket_in("handling")
    for i in range(35):
        services.ticket_urge(ticket=ticket, actor=dispatcher, note=f"催办{i}")
        services.call_create(actor=operator, caller_phone="13812345678")
    client = api(dispatcher)
    client.get(f"/api/tickets/{ticket.pk}/events/")
    # when / then
    with django_assert_max_num_queries(6):
        assert len(rows(client.get(f"/api/tickets/{ticket.pk}/events/?page_size=100"))) == 38
    with django_assert_max_num_queries(6):
        assert len(rows(client.get("/api/calls/?page_size=100"))) == 35


ACTION_CASES = {
    "dispatch": ("pending_dispatch", "dispatcher", lambda t, u: {"unit": u.pk}),
    "sign": ("pending_sign", "unit_handler", lambda t, u: {}),
    "return": ("handling", "unit_handler", lambda t, u: {"reason": "非本单位"}),
    "return-decide": ("return_pending", "dispatcher", lambda t, u: {"approve": True}),
    "extension": ("handling", "unit_handler", lambda t, u: {
        "reason": "需协调", "requested_deadline": (t.handle_deadline + timedelta(days=3)).isoformat()}),
    "reply": ("handling", "unit_handler", lambda t, u: {"reply_text": "已办结"}),
    "review": ("replied", "dispatcher", lambda t, u: {"passed": True}),
    "callback": ("pending_callback", "dispatcher", lambda t, u: {"result": "satisfied", "resolved": True}),
    "judge-close": ("handling", "dispatcher", lambda t, u: {"note": "研判"}),
    "merge": ("handling", "dispatcher", lambda t, u: {"into": Ticket.objects.exclude(pk=t.pk).first().pk}),
    "urge": ("handling", "dispatcher", lambda t, u: {"note": "催办"}),
    "supervise": ("handling", "dispatcher", lambda t, u: {"reason": "督办"}),
    "grant-contact": ("handling", "dispatcher", lambda t, u: {}),
}


@pytest.mark.parametrize("action", list(ACTION_CASES))
def test_each_action_has_bounded_queries(action, ticket_in, new_ticket, personas, unit_a,
                                         django_assert_max_num_queries):
    # given
    state, role, body = ACTION_CASES[action]
    new_ticket()
    ticket = ticket_in(state)
    for _ in range(5):  # earlier urges and supervisions must not cost a query each
        services.ticket_urge(ticket=ticket, actor=personas["dispatcher"], note="x") if state in (
            "handling", "pending_sign", "return_pending") else None
    client = api(personas[role])
    client.get("/api/me/")
    # when / then
    # 26: the answer lists the unit's short messages (1 query), a dispatch also writes one (1 INSERT).
    with django_assert_max_num_queries(26):
        response = client.post(f"/api/tickets/{ticket.pk}/{action}/", body(ticket, unit_a), format="json")
    assert response.status_code == 200, response.json()
