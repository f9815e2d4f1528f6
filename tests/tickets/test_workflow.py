"""The ticket lifecycle through the real services: every legal move, every illegal one, roles,
units, and the append-only audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction

from tickets import services
from tickets.exceptions import InvalidInput, InvalidTransition, PermissionDenied
from tickets.models import (
    CallbackResult,
    EventType,
    ExtensionRequest,
    RequestStatus,
    ReturnRequest,
    Status,
    Supervision,
    SupervisionStatus,
    Ticket,
    TicketEvent,
    Unit,
    Urge,
)
from tickets.services.common import ALLOWED_TRANSITIONS

S = Status
TZ = ZoneInfo("Asia/Shanghai")
# Monday 2024-04-29 10:00: the May Day holidays (May 1–5) follow, so deadlines cross them.
MONDAY = datetime(2024, 4, 29, 10, 0, tzinfo=TZ)


def snapshot(ticket: Ticket) -> dict:
    """Every stored column of the ticket plus its request/urge/supervision rows, read fresh."""
    row = Ticket.objects.get(pk=ticket.pk)
    data = {f.attname: getattr(row, f.attname) for f in Ticket._meta.concrete_fields}
    data["_returns"] = list(ReturnRequest.objects.filter(ticket=row).values_list("status", flat=True))
    data["_extensions"] = list(ExtensionRequest.objects.filter(ticket=row).values_list("status", flat=True))
    data["_urges"] = Urge.objects.filter(ticket=row).count()
    data["_supervisions"] = list(Supervision.objects.filter(ticket=row).values_list("status", flat=True))
    return data


def events_of(ticket: Ticket) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket_id=ticket.pk).order_by("id"))


def one_new_event(ticket: Ticket, before: int) -> TicketEvent:
    events = events_of(ticket)
    assert len(events) == before + 1, [e.type for e in events[before:]]
    return events[-1]


@dataclass
class Ctx:
    ticket_in: object
    new_ticket: object
    operator: object
    dispatcher: object
    unit_handler: object
    other_unit_handler: object
    unit_a: Unit
    unit_b: Unit


@pytest.fixture
def ctx(ticket_in, new_ticket, operator, dispatcher, unit_handler, other_unit_handler, unit_a, unit_b):
    return Ctx(ticket_in, new_ticket, operator, dispatcher, unit_handler, other_unit_handler, unit_a, unit_b)


def _returned_from(state):
    def setup(c: Ctx):
        ticket = c.ticket_in(state)
        return services.ticket_return_request(ticket=ticket, actor=c.unit_handler, reason="不属于本单位职责")
    return setup


def _unsatisfied(c: Ctx):
    ticket = c.ticket_in("pending_callback")
    return services.ticket_callback(ticket=ticket, actor=c.dispatcher, result=CallbackResult.UNSATISFIED,
                                    resolved=False, note="问题没有解决")


def _judge(c, t):
    return services.ticket_judge_close(ticket=t, actor=c.dispatcher, note="不合理诉求，研判办结")


def _merge(c, t):
    c.target = c.new_ticket(content="同一事项的另一张工单")
    return services.ticket_merge(ticket=t, into=c.target, actor=c.dispatcher, note="重复件")


def _check_judged(c, t):
    assert t.closed_at is not None and t.closed_by_judgement is True
    assert not ReturnRequest.objects.filter(ticket=t, status=RequestStatus.PENDING).exists()


def _check_merged(c, t):
    assert t.merged_into_id == c.target.pk and t.closed_at is not None
    assert not ReturnRequest.objects.filter(ticket=t, status=RequestStatus.PENDING).exists()


def _check_dispatched(c, t):
    assert t.unit_id == c.unit_a.pk
    assert t.dispatched_at == MONDAY
    # 24 working hours from Mon 04-29 10:00: Apr 29 (14h) + Apr 30 (10h) → Apr 30 10:00.
    assert t.sign_deadline == datetime(2024, 4, 30, 10, 0, tzinfo=TZ)
    # 5 working days (问题处理): May 1–5 off → Thursday May 9 10:00.
    assert t.handle_deadline == datetime(2024, 5, 9, 10, 0, tzinfo=TZ)
    assert t.deadline_warning == ""


def _check_return_approved(c, t):
    assert t.unit_id is None and t.return_count == 1
    assert t.dispatched_at is None and t.signed_at is None
    assert t.sign_deadline is None and t.handle_deadline is None
    assert t.dispatch_deadline == MONDAY + timedelta(hours=24)
    assert ReturnRequest.objects.get(ticket=t).status == RequestStatus.APPROVED


def _check_return_rejected(previous):
    def check(c, t):
        assert t.unit_id == c.unit_a.pk and t.return_count == 0
        request = ReturnRequest.objects.get(ticket=t)
        assert request.status == RequestStatus.REJECTED and request.previous_status == previous
        assert request.decided_by_id == c.dispatcher.pk
    return check


def _check_return_requested(previous):
    def check(c, t):
        request = ReturnRequest.objects.get(ticket=t)
        assert request.status == RequestStatus.PENDING and request.previous_status == previous
        assert request.unit_id == c.unit_a.pk and request.requested_by_id == c.unit_handler.pk
    return check


def _check_redo(c, t):
    assert t.redo_count == 1 and t.replied_at is None
    # a fresh 5-working-day limit from now (Monday 10:00, across May Day)
    assert t.handle_deadline == datetime(2024, 5, 9, 10, 0, tzinfo=TZ)


def _redispatch(c, t):
    return services.ticket_redispatch(ticket=t, unit=c.unit_b, actor=c.dispatcher, reason="派错单位")


def _check_redispatched(c, t):
    assert t.unit_id == c.unit_b.pk and t.dispatched_at == MONDAY and t.signed_at is None
    assert t.sign_deadline == datetime(2024, 4, 30, 10, 0, tzinfo=TZ)
    assert t.handle_deadline == datetime(2024, 5, 9, 10, 0, tzinfo=TZ)
    assert t.return_count == 0


def _recall(c, t):
    return services.ticket_recall(ticket=t, actor=c.dispatcher, reason="派单有误，重新研判")


def _check_recalled(c, t):
    assert t.unit_id is None and t.dispatched_at is None and t.signed_at is None
    assert t.sign_deadline is None and t.handle_deadline is None and t.return_count == 0
    assert t.dispatch_deadline == MONDAY + timedelta(hours=24)


# (from, to, event type, actor attribute, setup, action, check)
LEGAL = [
    (S.PENDING_DISPATCH, S.PENDING_SIGN, EventType.DISPATCHED, "dispatcher",
     lambda c: c.new_ticket(),
     lambda c, t: services.ticket_dispatch(ticket=t, unit=c.unit_a, actor=c.dispatcher, at=MONDAY),
     _check_dispatched),
    (S.PENDING_DISPATCH, S.CLOSED, EventType.JUDGED_CLOSED, "dispatcher",
     lambda c: c.new_ticket(), _judge, _check_judged),
    (S.PENDING_DISPATCH, S.MERGED, EventType.MERGED, "dispatcher",
     lambda c: c.new_ticket(), _merge, _check_merged),
    (S.PENDING_SIGN, S.HANDLING, EventType.SIGNED, "unit_handler",
     lambda c: c.ticket_in("pending_sign"),
     lambda c, t: services.ticket_sign(ticket=t, actor=c.unit_handler, at=MONDAY),
     lambda c, t: t.signed_at == MONDAY or pytest.fail("signed_at")),
    (S.PENDING_SIGN, S.RETURN_PENDING, EventType.RETURN_REQUESTED, "unit_handler",
     lambda c: c.ticket_in("pending_sign"),
     lambda c, t: services.ticket_return_request(ticket=t, actor=c.unit_handler, reason="不属于本单位职责"),
     _check_return_requested(S.PENDING_SIGN)),
    (S.PENDING_SIGN, S.CLOSED, EventType.JUDGED_CLOSED, "dispatcher",
     lambda c: c.ticket_in("pending_sign"), _judge, _check_judged),
    (S.PENDING_SIGN, S.MERGED, EventType.MERGED, "dispatcher",
     lambda c: c.ticket_in("pending_sign"), _merge, _check_merged),
    (S.RETURN_PENDING, S.PENDING_DISPATCH, EventType.RETURN_APPROVED, "dispatcher",
     _returned_from("handling"),
     lambda c, t: services.ticket_return_decide(ticket=t, actor=c.dispatcher, approve=True),
     _check_return_approved),
    (S.RETURN_PENDING, S.PENDING_SIGN, EventType.RETURN_REJECTED, "dispatcher",
     _returned_from("pending_sign"),
     lambda c, t: services.ticket_return_decide(ticket=t, actor=c.dispatcher, approve=False, note="属于本单位职责"),
     _check_return_rejected(S.PENDING_SIGN)),
    (S.RETURN_PENDING, S.HANDLING, EventType.RETURN_REJECTED, "dispatcher",
     _returned_from("handling"),
     lambda c, t: services.ticket_return_decide(ticket=t, actor=c.dispatcher, approve=False, note="属于本单位职责"),
     _check_return_rejected(S.HANDLING)),
    (S.RETURN_PENDING, S.CLOSED, EventType.JUDGED_CLOSED, "dispatcher",
     _returned_from("handling"), _judge, _check_judged),
    (S.RETURN_PENDING, S.MERGED, EventType.MERGED, "dispatcher",
     _returned_from("handling"), _merge, _check_merged),
    (S.HANDLING, S.REPLIED, EventType.REPLIED, "unit_handler",
     lambda c: c.ticket_in("handling"),
     lambda c, t: services.ticket_reply(ticket=t, actor=c.unit_handler, reply_text="已修复。",
                                        internal_note="维修队长李四处理", at=MONDAY),
     lambda c, t: (t.replied_at, t.reply_text, t.internal_note) == (MONDAY, "已修复。", "维修队长李四处理")
     or pytest.fail("reply fields")),
    (S.HANDLING, S.RETURN_PENDING, EventType.RETURN_REQUESTED, "unit_handler",
     lambda c: c.ticket_in("handling"),
     lambda c, t: services.ticket_return_request(ticket=t, actor=c.unit_handler, reason="不属于本单位职责"),
     _check_return_requested(S.HANDLING)),
    (S.HANDLING, S.CLOSED, EventType.JUDGED_CLOSED, "dispatcher",
     lambda c: c.ticket_in("handling"), _judge, _check_judged),
    (S.HANDLING, S.MERGED, EventType.MERGED, "dispatcher",
     lambda c: c.ticket_in("handling"), _merge, _check_merged),
    (S.REPLIED, S.PENDING_CALLBACK, EventType.REVIEW_PASSED, "dispatcher",
     lambda c: c.ticket_in("replied"),
     lambda c, t: services.ticket_review(ticket=t, actor=c.dispatcher, passed=True),
     lambda c, t: t.replied_at is not None or pytest.fail("replied_at kept")),
    (S.REPLIED, S.HANDLING, EventType.REVIEW_FAILED, "dispatcher",
     lambda c: c.ticket_in("replied"),
     lambda c, t: services.ticket_review(ticket=t, actor=c.dispatcher, passed=False, note="答复不完整"),
     lambda c, t: t.replied_at is None or pytest.fail("review fail must clear replied_at")),
    (S.REPLIED, S.CLOSED, EventType.JUDGED_CLOSED, "dispatcher",
     lambda c: c.ticket_in("replied"), _judge, _check_judged),
    (S.REPLIED, S.MERGED, EventType.MERGED, "dispatcher",
     lambda c: c.ticket_in("replied"), _merge, _check_merged),
    (S.PENDING_CALLBACK, S.CLOSED, EventType.CALLBACK, "dispatcher",
     lambda c: c.ticket_in("pending_callback"),
     lambda c, t: services.ticket_callback(ticket=t, actor=c.dispatcher, result=CallbackResult.BASIC,
                                           resolved=True, at=MONDAY),
     lambda c, t: (t.callback_result, t.callback_resolved, t.callback_at, t.closed_at)
     == (CallbackResult.BASIC, True, MONDAY, MONDAY) or pytest.fail("callback fields")),
    (S.PENDING_CALLBACK, S.UNSATISFIED, EventType.CALLBACK, "dispatcher",
     lambda c: c.ticket_in("pending_callback"),
     lambda c, t: services.ticket_callback(ticket=t, actor=c.dispatcher, result=CallbackResult.UNSATISFIED,
                                           resolved=False, at=MONDAY),
     lambda c, t: (t.callback_result, t.callback_resolved, t.closed_at)
     == (CallbackResult.UNSATISFIED, False, None) or pytest.fail("callback fields")),
    (S.PENDING_CALLBACK, S.CLOSED, EventType.JUDGED_CLOSED, "dispatcher",
     lambda c: c.ticket_in("pending_callback"), _judge, _check_judged),
    (S.UNSATISFIED, S.CLOSED, EventType.JUDGED_CLOSED, "dispatcher",
     _unsatisfied, _judge, _check_judged),
    (S.UNSATISFIED, S.HANDLING, EventType.REDO, "dispatcher",
     _unsatisfied,
     lambda c, t: services.ticket_redo(ticket=t, actor=c.dispatcher, note="请重新核实处理"),
     _check_redo),
    (S.PENDING_CALLBACK, S.MERGED, EventType.MERGED, "dispatcher",
     lambda c: c.ticket_in("pending_callback"), _merge, _check_merged),
    # 改派 and 撤回 by the centre (issue 12)
    (S.PENDING_SIGN, S.PENDING_SIGN, EventType.REDISPATCHED, "dispatcher",
     lambda c: c.ticket_in("pending_sign"), _redispatch, _check_redispatched),
    (S.HANDLING, S.PENDING_SIGN, EventType.REDISPATCHED, "dispatcher",
     lambda c: c.ticket_in("handling"), _redispatch, _check_redispatched),
    (S.PENDING_SIGN, S.PENDING_DISPATCH, EventType.RECALLED, "dispatcher",
     lambda c: c.ticket_in("pending_sign"), _recall, _check_recalled),
    (S.HANDLING, S.PENDING_DISPATCH, EventType.RECALLED, "dispatcher",
     lambda c: c.ticket_in("handling"), _recall, _check_recalled),
]


def test_every_allowed_transition_has_a_service_test():
    # given
    allowed = {(src, dst) for src, targets in ALLOWED_TRANSITIONS.items() for dst in targets}
    # when
    covered = {(src, dst) for src, dst, *_ in LEGAL}
    # then
    assert covered == allowed


@pytest.mark.parametrize(
    "source,target,event_type,actor_name,setup,act,check",
    LEGAL,
    ids=[f"{s}->{t}:{e}" for s, t, e, *_ in LEGAL],
)
def test_legal_transition(ctx, source, target, event_type, actor_name, setup, act, check):
    # given
    ticket = setup(ctx)
    assert ticket.status == source
    before = len(events_of(ticket))
    unit_before = Ticket.objects.get(pk=ticket.pk).unit_id
    # when
    with time_machine.travel(MONDAY, tick=False):
        act(ctx, ticket)
    # then
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.status == target
    event = one_new_event(ticket, before)
    assert (event.type, event.from_status, event.to_status) == (event_type, source, target)
    assert event.actor_id == getattr(ctx, actor_name).pk
    assert event.unit_id in (unit_before, ticket.unit_id)
    check(ctx, ticket)


# --- illegal moves ---------------------------------------------------------------------------


def _call(name):
    """The service ``name`` called with valid arguments by the role allowed to call it."""

    def call(c: Ctx, t: Ticket, target: Ticket):
        deadline = (t.handle_deadline or MONDAY) + timedelta(days=3)
        calls = {
            "dispatch": lambda: services.ticket_dispatch(ticket=t, unit=c.unit_a, actor=c.dispatcher),
            "sign": lambda: services.ticket_sign(ticket=t, actor=c.unit_handler),
            "return_request": lambda: services.ticket_return_request(ticket=t, actor=c.unit_handler, reason="理由"),
            "return_approve": lambda: services.ticket_return_decide(ticket=t, actor=c.dispatcher, approve=True),
            "return_reject": lambda: services.ticket_return_decide(ticket=t, actor=c.dispatcher, approve=False,
                                                                   note="驳回"),
            "extension_request": lambda: services.ticket_extension_request(
                ticket=t, actor=c.unit_handler, reason="需要协调", requested_deadline=deadline),
            "extension_decide": lambda: services.ticket_extension_decide(ticket=t, actor=c.dispatcher,
                                                                         approve=True),
            "reply": lambda: services.ticket_reply(ticket=t, actor=c.unit_handler, reply_text="已处理"),
            "review": lambda: services.ticket_review(ticket=t, actor=c.dispatcher, passed=True),
            "callback": lambda: services.ticket_callback(ticket=t, actor=c.dispatcher, result="satisfied",
                                                         resolved=True),
            "redo": lambda: services.ticket_redo(ticket=t, actor=c.dispatcher, note="重办"),
            "judge_close": lambda: services.ticket_judge_close(ticket=t, actor=c.dispatcher, note="研判"),
            "merge": lambda: services.ticket_merge(ticket=t, into=target, actor=c.dispatcher),
            "urge": lambda: services.ticket_urge(ticket=t, actor=c.dispatcher, note="请尽快办理"),
            "supervise": lambda: services.supervision_open(ticket=t, actor=c.dispatcher, reason="督办"),
            "redispatch": lambda: services.ticket_redispatch(ticket=t, unit=c.unit_b, actor=c.dispatcher,
                                                             reason="改派"),
            "recall": lambda: services.ticket_recall(ticket=t, actor=c.dispatcher, reason="撤回"),
        }
        return calls[name]()

    return call


OPEN = {S.PENDING_DISPATCH, S.PENDING_SIGN, S.RETURN_PENDING, S.HANDLING, S.REPLIED, S.PENDING_CALLBACK,
        S.UNSATISFIED}
ACCEPTS = {
    "dispatch": {S.PENDING_DISPATCH},
    "sign": {S.PENDING_SIGN},
    "return_request": {S.PENDING_SIGN, S.HANDLING},
    "return_approve": {S.RETURN_PENDING},
    "return_reject": {S.RETURN_PENDING},
    "extension_request": {S.HANDLING},
    "extension_decide": set(),  # no pending request in any of these states
    "reply": {S.HANDLING},
    "review": {S.REPLIED},
    "callback": {S.PENDING_CALLBACK},
    "redo": {S.UNSATISFIED},
    "judge_close": OPEN,
    "merge": OPEN - {S.UNSATISFIED},  # 回访不满意 leaves only by 重办 or 研判办结
    "urge": {S.PENDING_SIGN, S.HANDLING, S.RETURN_PENDING},
    "supervise": OPEN,
    "redispatch": {S.PENDING_SIGN, S.HANDLING},
    "recall": {S.PENDING_SIGN, S.HANDLING},
}
UNIT_SERVICES = {"sign", "return_request", "extension_request", "reply"}
ILLEGAL = [(name, state) for name, ok in ACCEPTS.items() for state in Status if state not in ok]


def _ticket_in_state(c: Ctx, state: Status) -> Ticket:
    if state == S.MERGED:  # a dispatched ticket merged away: it still names its unit
        return services.ticket_merge(ticket=c.ticket_in("handling"), into=c.new_ticket(), actor=c.dispatcher)
    return c.ticket_in(state.value)


@pytest.mark.parametrize("service,state", ILLEGAL, ids=[f"{n}@{s.value}" for n, s in ILLEGAL])
def test_illegal_move_is_refused_and_changes_nothing(ctx, service, state):
    # given
    ticket = _ticket_in_state(ctx, state)
    target = ctx.new_ticket(content="并单目标")
    before, events_before = snapshot(ticket), len(events_of(ticket))
    target_events = len(events_of(target))
    # A unit handler has no business with a ticket no unit holds: refused before its state is shown.
    expected = PermissionDenied if service in UNIT_SERVICES and ticket.unit_id is None else InvalidTransition
    # when
    with pytest.raises(expected) as info:
        _call(service)(ctx, ticket, target)
    # then
    if expected is InvalidTransition:
        assert info.value.status_code == 409
    assert snapshot(ticket) == before
    assert len(events_of(ticket)) == events_before
    assert len(events_of(target)) == target_events


# --- roles and units -------------------------------------------------------------------------


WRONG_ROLES = {
    "dispatch": ["operator", "unit_handler", "leader", "assessor", "editor"],
    "sign": ["dispatcher", "operator", "leader"],
    "reply": ["dispatcher", "leader"],
    "review": ["unit_handler", "operator", "leader"],
    "callback": ["unit_handler", "leader"],
    "judge_close": ["operator", "unit_handler", "leader"],
    "urge": ["operator", "unit_handler", "leader"],
    "grant_contact": ["operator", "unit_handler", "leader"],
}
STATE_FOR = {"dispatch": "pending_dispatch", "sign": "pending_sign", "reply": "handling", "review": "replied",
             "callback": "pending_callback", "judge_close": "handling", "urge": "handling",
             "grant_contact": "handling"}


def _as(name, actor, t):
    return {
        "dispatch": lambda: services.ticket_dispatch(ticket=t, unit=t.township, actor=actor),
        "sign": lambda: services.ticket_sign(ticket=t, actor=actor),
        "reply": lambda: services.ticket_reply(ticket=t, actor=actor, reply_text="已处理"),
        "review": lambda: services.ticket_review(ticket=t, actor=actor, passed=True),
        "callback": lambda: services.ticket_callback(ticket=t, actor=actor, result="satisfied", resolved=True),
        "judge_close": lambda: services.ticket_judge_close(ticket=t, actor=actor, note="研判"),
        "urge": lambda: services.ticket_urge(ticket=t, actor=actor, note="催"),
        "grant_contact": lambda: services.ticket_grant_contact(ticket=t, actor=actor),
    }[name]()


CASES = [(s, r) for s, roles in WRONG_ROLES.items() for r in roles]


@pytest.mark.parametrize("service,role", CASES, ids=[f"{s}-by-{r}" for s, r in CASES])
def test_wrong_role_is_denied(ticket_in, personas, service, role):
    # given
    ticket = ticket_in(STATE_FOR[service])
    before, events_before = snapshot(ticket), len(events_of(ticket))
    # when / then
    with pytest.raises(PermissionDenied) as info:
        _as(service, personas[role], ticket)
    assert info.value.status_code == 403
    assert snapshot(ticket) == before and len(events_of(ticket)) == events_before


def test_operator_may_register_but_leader_may_not(new_ticket, leader, operator):
    # given / when
    ticket = new_ticket(actor=operator)
    # then
    assert ticket.status == S.PENDING_DISPATCH
    with pytest.raises(PermissionDenied):
        new_ticket(actor=leader)


UNIT_ACTIONS = {
    "sign": ("pending_sign", lambda t, u: services.ticket_sign(ticket=t, actor=u)),
    "return_request": ("handling", lambda t, u: services.ticket_return_request(ticket=t, actor=u, reason="退")),
    "extension_request": ("handling", lambda t, u: services.ticket_extension_request(
        ticket=t, actor=u, reason="延", requested_deadline=t.handle_deadline + timedelta(days=3))),
    "reply": ("handling", lambda t, u: services.ticket_reply(ticket=t, actor=u, reply_text="已处理")),
}


@pytest.mark.parametrize("action", UNIT_ACTIONS)
def test_unit_handler_cannot_act_on_another_units_ticket(ticket_in, other_unit_handler, action):
    # given: a ticket of 纸坊镇; the handler belongs to 供电公司
    state, call = UNIT_ACTIONS[action]
    ticket = ticket_in(state)
    before, events_before = snapshot(ticket), len(events_of(ticket))
    # when / then
    with pytest.raises(PermissionDenied):
        call(ticket, other_unit_handler)
    assert snapshot(ticket) == before and len(events_of(ticket)) == events_before


# --- specific rules --------------------------------------------------------------------------


def test_coordinated_registration_closes_at_once(new_ticket, operator):
    # given / when
    ticket = new_ticket(handling_mode="coordinated", reply_text="已告知办理地点和所需材料。",
                        registered_at=MONDAY)
    # then
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED
    assert ticket.closed_at == ticket.replied_at == MONDAY
    assert ticket.reply_text == "已告知办理地点和所需材料。"
    assert ticket.unit_id is None and ticket.dispatch_deadline is None
    events = [(e.type, e.from_status, e.to_status, e.actor_id) for e in events_of(ticket)]
    assert events == [
        (EventType.REGISTERED, "", S.PENDING_DISPATCH, operator.pk),
        (EventType.CLOSED_DIRECTLY, S.PENDING_DISPATCH, S.CLOSED, operator.pk),
    ]


def test_coordinated_registration_needs_an_answer(new_ticket):
    # when / then
    with pytest.raises(InvalidInput) as info:
        new_ticket(handling_mode="coordinated", reply_text="  ")
    assert "reply_text" in info.value.fields
    assert not Ticket.objects.filter(content="小区停水两天，无人维修。").exists()


def test_dispatched_registration_waits_for_dispatch(new_ticket):
    # when
    ticket = new_ticket(registered_at=MONDAY)
    # then
    assert ticket.status == S.PENDING_DISPATCH
    assert ticket.dispatch_deadline == MONDAY + timedelta(hours=24)
    assert [(e.type, e.to_status) for e in events_of(ticket)] == [(EventType.REGISTERED, S.PENDING_DISPATCH)]


def test_returned_ticket_can_be_dispatched_again_to_another_unit(ticket_in, dispatcher, unit_b,
                                                                 other_unit_handler):
    # given
    ticket = ticket_in("return_pending")
    services.ticket_return_decide(ticket=ticket, actor=dispatcher, approve=True)
    # when
    ticket = services.ticket_dispatch(ticket=ticket, unit=unit_b, actor=dispatcher)
    ticket = services.ticket_sign(ticket=ticket, actor=other_unit_handler)
    # then
    assert (ticket.status, ticket.unit_id, ticket.return_count) == (S.HANDLING, unit_b.pk, 1)


def test_return_approval_withdraws_the_old_units_contact_grant_and_extension(
        ticket_in, dispatcher, unit_handler, unit_b):
    # given: the first unit was allowed to contact the caller and asked for an extension
    ticket = ticket_in("handling")
    services.ticket_grant_contact(ticket=ticket, actor=dispatcher)
    services.ticket_extension_request(ticket=ticket, actor=unit_handler, reason="需要协调",
                                      requested_deadline=ticket.handle_deadline + timedelta(days=5))
    services.ticket_return_request(ticket=ticket, actor=unit_handler, reason="不属于本单位职责")
    # when
    ticket = services.ticket_return_decide(ticket=ticket, actor=dispatcher, approve=True)
    # then: the next unit starts without the first unit's permissions or requests
    ticket.refresh_from_db()
    assert ticket.contact_granted is False
    assert not ExtensionRequest.objects.filter(ticket=ticket, status=RequestStatus.PENDING).exists()
    services.ticket_dispatch(ticket=ticket, unit=unit_b, actor=dispatcher)
    with pytest.raises(InvalidTransition):
        services.ticket_extension_decide(ticket=ticket, actor=dispatcher, approve=True)


def test_return_reject_needs_a_reason(ticket_in, dispatcher):
    # given
    ticket = ticket_in("return_pending")
    # when / then
    with pytest.raises(InvalidInput):
        services.ticket_return_decide(ticket=ticket, actor=dispatcher, approve=False, note="")
    assert Ticket.objects.get(pk=ticket.pk).status == S.RETURN_PENDING


def test_extension_request_only_before_the_deadline(ticket_in, unit_handler):
    # given
    ticket = ticket_in("handling")
    before, events_before = snapshot(ticket), len(events_of(ticket))
    # when / then
    with time_machine.travel(ticket.handle_deadline + timedelta(minutes=1), tick=False):
        with pytest.raises(InvalidTransition) as info:
            services.ticket_extension_request(ticket=ticket, actor=unit_handler, reason="来不及",
                                              requested_deadline=ticket.handle_deadline + timedelta(days=3))
    assert (info.value.code, info.value.reason) == ("action_not_available", "deadline_passed")
    assert snapshot(ticket) == before and len(events_of(ticket)) == events_before


def test_extension_request_must_move_the_deadline_later(ticket_in, unit_handler):
    # given
    ticket = ticket_in("handling")
    # when / then
    with pytest.raises(InvalidInput):
        services.ticket_extension_request(ticket=ticket, actor=unit_handler, reason="来不及",
                                          requested_deadline=ticket.handle_deadline)


def test_extension_approval_moves_the_deadline_and_counts(ticket_in, unit_handler, dispatcher):
    # given
    ticket = ticket_in("handling")
    old = ticket.handle_deadline
    wanted = old + timedelta(days=3)
    request = services.ticket_extension_request(ticket=ticket, actor=unit_handler, reason="需要协调",
                                                requested_deadline=wanted)
    assert Ticket.objects.get(pk=ticket.pk).status == S.HANDLING
    assert events_of(ticket)[-1].type == EventType.EXTENSION_REQUESTED
    with pytest.raises(InvalidTransition) as info:
        services.ticket_extension_request(ticket=ticket, actor=unit_handler, reason="再延",
                                          requested_deadline=wanted + timedelta(days=1))
    assert (info.value.code, info.value.reason) == ("action_not_available", "extension_pending")
    before = len(events_of(ticket))
    # when
    services.ticket_extension_decide(ticket=ticket, actor=dispatcher, approve=True)
    # then
    ticket.refresh_from_db()
    request.refresh_from_db()
    assert (ticket.handle_deadline, ticket.extension_count, ticket.status) == (wanted, 1, S.HANDLING)
    assert request.status == RequestStatus.APPROVED and request.decided_by_id == dispatcher.pk
    event = one_new_event(ticket, before)
    assert (event.type, event.actor_id) == (EventType.EXTENSION_APPROVED, dispatcher.pk)
    assert event.data["new_deadline"] == wanted.isoformat()


def test_extension_rejection_keeps_the_deadline(ticket_in, unit_handler, dispatcher):
    # given
    ticket = ticket_in("handling")
    old = ticket.handle_deadline
    services.ticket_extension_request(ticket=ticket, actor=unit_handler, reason="需要协调",
                                      requested_deadline=old + timedelta(days=3))
    before = len(events_of(ticket))
    # when
    services.ticket_extension_decide(ticket=ticket, actor=dispatcher, approve=False, note="理由不充分")
    # then
    ticket.refresh_from_db()
    assert (ticket.handle_deadline, ticket.extension_count) == (old, 0)
    assert one_new_event(ticket, before).type == EventType.EXTENSION_REJECTED


def test_unsatisfied_callback_is_a_state_that_waits_for_the_centre(ticket_in, dispatcher):
    # given
    ticket = ticket_in("pending_callback")
    before = len(events_of(ticket))
    # when
    ticket = services.ticket_callback(ticket=ticket, actor=dispatcher, result="unsatisfied", resolved=False)
    # then
    ticket.refresh_from_db()
    assert ticket.status == S.UNSATISFIED and ticket.closed_at is None
    assert (ticket.callback_result, ticket.callback_resolved) == (CallbackResult.UNSATISFIED, False)
    event = one_new_event(ticket, before)
    assert event.type == EventType.CALLBACK and event.data == {"result": "unsatisfied", "resolved": False}


def test_redo_needs_an_unsatisfied_callback(ticket_in, dispatcher):
    # given
    ticket = ticket_in("pending_callback")
    # when / then
    with pytest.raises(InvalidTransition) as info:
        services.ticket_redo(ticket=ticket, actor=dispatcher, note="重办")
    assert (info.value.code, info.value.reason) == ("action_not_available", "wrong_status")


def test_redo_needs_a_new_unsatisfied_callback_each_time(ticket_in, dispatcher, unit_handler):
    # given: redone once, replied and reviewed again, not yet called back
    ticket = _unsatisfied(Ctx(ticket_in, None, None, dispatcher, unit_handler, None, None, None))
    services.ticket_redo(ticket=ticket, actor=dispatcher, note="请重新处理")
    services.ticket_reply(ticket=ticket, actor=unit_handler, reply_text="已重新处理")
    services.ticket_review(ticket=ticket, actor=dispatcher, passed=True)
    # when / then: the old 不满意 does not allow a second redo without a new callback
    with pytest.raises(InvalidTransition):
        services.ticket_redo(ticket=ticket, actor=dispatcher, note="再次重办")
    ticket = services.ticket_callback(ticket=ticket, actor=dispatcher, result="satisfied", resolved=True)
    assert (ticket.status, ticket.redo_count, ticket.callback_result) == (S.CLOSED, 1, "satisfied")


def test_callback_rejects_an_unknown_result(ticket_in, dispatcher):
    # given
    ticket = ticket_in("pending_callback")
    # when / then
    with pytest.raises(InvalidInput):
        services.ticket_callback(ticket=ticket, actor=dispatcher, result="great", resolved=True)


def test_merge_not_into_itself(ticket_in, dispatcher):
    # given
    ticket = ticket_in("handling")
    # when / then
    with pytest.raises(InvalidInput):
        services.ticket_merge(ticket=ticket, into=ticket, actor=dispatcher)
    assert Ticket.objects.get(pk=ticket.pk).status == S.HANDLING


def test_merge_not_into_a_merged_ticket(ticket_in, new_ticket, dispatcher):
    # given
    merged = ticket_in("merged")
    ticket = new_ticket()
    before = snapshot(ticket)
    # when / then
    with pytest.raises(InvalidTransition) as info:
        services.ticket_merge(ticket=ticket, into=merged, actor=dispatcher)
    assert info.value.code == "target_merged"
    assert snapshot(ticket) == before


def test_merge_closes_pending_requests(ticket_in, new_ticket, dispatcher):
    # given
    ticket = ticket_in("return_pending")
    into = new_ticket()
    # when
    services.ticket_merge(ticket=ticket, into=into, actor=dispatcher)
    # then
    assert list(ReturnRequest.objects.filter(ticket=ticket).values_list("status", flat=True)) == ["rejected"]
    assert list(into.merged_tickets.values_list("pk", flat=True)) == [ticket.pk]


def test_urge_records_a_reminder(ticket_in, dispatcher, unit_a):
    # given
    ticket = ticket_in("handling")
    before = len(events_of(ticket))
    # when
    urge = services.ticket_urge(ticket=ticket, actor=dispatcher, note="请尽快办理")
    services.ticket_urge(ticket=ticket, actor=dispatcher, note="再次催办")
    # then
    urge.refresh_from_db()
    assert (urge.unit_id, urge.actor_id, urge.automatic) == (unit_a.pk, dispatcher.pk, False)
    assert Urge.objects.filter(ticket=ticket).count() == 2
    assert Ticket.objects.get(pk=ticket.pk).status == S.HANDLING
    assert [e.type for e in events_of(ticket)[before:]] == [EventType.URGED, EventType.URGED]


def test_supervision_is_a_case_with_its_own_status(ticket_in, dispatcher):
    # given
    ticket = ticket_in("handling")
    # when
    case = services.supervision_open(ticket=ticket, actor=dispatcher, reason="多次投诉未解决")
    with pytest.raises(InvalidTransition) as info:
        services.supervision_open(ticket=ticket, actor=dispatcher, reason="重复督办")
    assert (info.value.code, info.value.reason) == ("action_not_available", "supervision_open")
    services.supervision_close(supervision=case, actor=dispatcher, result="已解决")
    # then
    case.refresh_from_db()
    assert case.status == SupervisionStatus.CLOSED and case.closed_by_id == dispatcher.pk
    assert Ticket.objects.get(pk=ticket.pk).status == S.HANDLING
    types = [e.type for e in events_of(ticket)[-2:]]
    assert types == [EventType.SUPERVISION_OPENED, EventType.SUPERVISION_CLOSED]
    with pytest.raises(InvalidTransition):
        services.supervision_close(supervision=case, actor=dispatcher, result="再次结案")


def test_grant_contact(ticket_in, dispatcher):
    # given
    ticket = ticket_in("handling")
    before = len(events_of(ticket))
    # when
    services.ticket_grant_contact(ticket=ticket, actor=dispatcher, note="需上门核实")
    # then
    ticket.refresh_from_db()
    assert ticket.contact_granted is True
    assert one_new_event(ticket, before).type == EventType.CONTACT_GRANTED


def test_grant_contact_refused_for_confidential_tickets(ticket_in, dispatcher):
    # given
    ticket = ticket_in("handling", confidential=True)
    before, events_before = snapshot(ticket), len(events_of(ticket))
    # when / then
    with pytest.raises(InvalidTransition) as info:
        services.ticket_grant_contact(ticket=ticket, actor=dispatcher)
    assert (info.value.code, info.value.reason) == ("action_not_available", "confidential")
    assert snapshot(ticket) == before and len(events_of(ticket)) == events_before


def test_grant_contact_refused_before_dispatch(new_ticket, dispatcher):
    # given
    ticket = new_ticket()
    # when / then
    with pytest.raises(InvalidTransition):
        services.ticket_grant_contact(ticket=ticket, actor=dispatcher)


def test_main_path_writes_one_event_per_move(ticket_in):
    # given / when
    ticket = ticket_in("closed")
    # then
    assert ticket.status == S.CLOSED
    types = list(TicketEvent.objects.filter(ticket=ticket).values_list("type", flat=True))
    assert types == ["registered", "dispatched", "signed", "replied", "review_passed", "callback"]


# --- append-only events ----------------------------------------------------------------------


@pytest.fixture
def event(ticket_in):
    return events_of(ticket_in("handling"))[-1]


def test_event_cannot_be_saved_again(event):
    # given
    event.note = "篡改"
    # when / then
    with pytest.raises(PermissionError):
        event.save()
    assert TicketEvent.objects.get(pk=event.pk).note == ""


def test_event_cannot_be_overwritten_through_a_new_instance_with_its_id(event):
    # given: a fresh instance that carries an existing id
    forged = TicketEvent(pk=event.pk, ticket_id=event.ticket_id, type=EventType.CLOSED, note="篡改")
    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        forged.save()
    stored = TicketEvent.objects.get(pk=event.pk)
    assert (stored.type, stored.note) == (event.type, event.note)


def test_event_cannot_be_deleted(event):
    # when / then
    with pytest.raises(PermissionError):
        event.delete()
    assert TicketEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize("operation", ["update", "delete", "related_update", "related_delete", "bulk_update"])
def test_event_querysets_cannot_update_or_delete(event, operation):
    # given
    count = TicketEvent.objects.count()
    ticket = event.ticket
    # when / then
    with pytest.raises(PermissionError), transaction.atomic():
        if operation == "update":
            TicketEvent.objects.filter(pk=event.pk).update(note="篡改")
        elif operation == "delete":
            TicketEvent.objects.all().delete()
        elif operation == "related_update":
            ticket.events.update(note="篡改")
        elif operation == "related_delete":
            ticket.events.all().delete()
        else:
            event.note = "篡改"
            TicketEvent.objects.bulk_update([event], ["note"])
    assert TicketEvent.objects.count() == count
    assert TicketEvent.objects.get(pk=event.pk).note == ""
