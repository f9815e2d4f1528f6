"""Every move of a ticket after registration. Each service locks the ticket row, checks the role
and the state, changes what it must, and writes its event — in one transaction."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .. import permissions
from ..exceptions import InvalidInput, InvalidTransition, NotFound
from ..exchange.notifications import notification_record, urge_kind
from ..models import (
    OPEN_STATUSES,
    CallbackResult,
    EventType,
    ExtensionRequest,
    NotificationKind,
    RequestStatus,
    ReturnRequest,
    Status,
    Supervision,
    SupervisionStatus,
    Ticket,
    Unit,
    Urge,
    User,
)
from .common import event_record, ticket_lock, ticket_transition
from .deadlines import (
    deadlines_for_dispatch,
    dispatch_deadline_for,
    feedback_deadline_from,
    handle_deadline_from,
)
from .lifecycle import action_require, ticket_facts

S = Status


def _text(value: str, field: str, label: str, *, max_length: int = 2000) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{label}不能为空。", fields={field: [f"请填写{label}。"]})
    if len(value) > max_length:
        raise InvalidInput(f"{label}不能超过{max_length}字。", fields={field: [f"不能超过{max_length}字。"]})
    return value


@transaction.atomic
def ticket_dispatch(*, ticket: Ticket, unit: Unit, actor: User, note: str = "", at: datetime | None = None,
                    check_role: bool = True) -> Ticket:
    if check_role:
        permissions.require_action(actor, "dispatch")
    ticket = ticket_lock(ticket)
    action_require(user=actor, ticket=ticket, action="dispatch", check_role=check_role)
    if not unit.active:
        raise InvalidInput(f"单位“{unit.short_name}”已停用，不能派单。", fields={"unit": ["该单位已停用。"]})
    backfill, at = at is not None, at or timezone.now()
    deadlines = deadlines_for_dispatch(ticket=ticket, dispatched_at=at)
    ticket.unit = unit
    ticket.dispatched_at = at
    ticket.sign_deadline = deadlines.sign
    ticket.handle_deadline = deadlines.handle
    ticket.feedback_deadline = deadlines.feedback
    ticket.deadline_warning = "；".join(deadlines.warnings)
    ticket = ticket_transition(
        ticket=ticket, to=S.PENDING_SIGN, actor=actor, event_type=EventType.DISPATCHED, note=note, at=at,
        data={"unit_id": unit.pk, "unit": unit.short_name, "sign_deadline": deadlines.sign.isoformat(),
              "handle_deadline": deadlines.handle.isoformat()},
        update_fields=("unit", "dispatched_at", "sign_deadline", "handle_deadline", "feedback_deadline",
                       "deadline_warning"),
    )
    _notify_unit(ticket, NotificationKind.DISPATCHED, backfill=backfill)
    return ticket


def _lapse_unit_grants(ticket: Ticket, now: datetime, note: str) -> None:
    """The next unit starts clean: the old unit's extension request and contact grant lapse."""
    ExtensionRequest.objects.filter(ticket=ticket, status=RequestStatus.PENDING).update(
        status=RequestStatus.REJECTED, decided_at=now, decision_note=note
    )
    ticket.contact_granted = False


@transaction.atomic
def ticket_redispatch(*, ticket: Ticket, unit: Unit, actor: User, reason: str, at: datetime | None = None) -> Ticket:
    """改派: the centre moves a ticket from the unit it was dispatched to (待签收 or 办理中) to another
    unit, with fresh time limits from now; both units are told. The assessment counts the ticket for
    the unit that finally handles it, with the time of this last dispatch."""
    permissions.require_action(actor, "redispatch")
    reason = _text(reason, "reason", "改派理由")
    ticket = ticket_lock(ticket)
    action_require(user=actor, ticket=ticket, action="redispatch")
    if not unit.active:
        raise InvalidInput(f"单位“{unit.short_name}”已停用，不能改派。", fields={"unit": ["该单位已停用。"]})
    if unit.pk == ticket.unit_id:
        raise InvalidInput("改派须选择另一个单位。", fields={"unit": ["工单已在该单位。"]})
    backfill, now = at is not None, at or timezone.now()
    old_unit = ticket.unit
    _lapse_unit_grants(ticket, now, "工单已改派，延期申请自动撤回")
    deadlines = deadlines_for_dispatch(ticket=ticket, dispatched_at=now)
    ticket.unit = unit
    ticket.dispatched_at = now
    ticket.signed_at = ticket.first_feedback_at = None
    ticket.sign_deadline = deadlines.sign
    ticket.handle_deadline = deadlines.handle
    ticket.feedback_deadline = deadlines.feedback
    ticket.deadline_warning = "；".join(deadlines.warnings)
    ticket = ticket_transition(
        ticket=ticket, to=S.PENDING_SIGN, actor=actor, event_type=EventType.REDISPATCHED, note=reason, at=now,
        data={"from_unit_id": old_unit.pk if old_unit else None, "from_unit": old_unit.short_name if old_unit else "",
              "unit_id": unit.pk, "unit": unit.short_name, "sign_deadline": deadlines.sign.isoformat(),
              "handle_deadline": deadlines.handle.isoformat()},
        update_fields=("unit", "dispatched_at", "signed_at", "first_feedback_at", "sign_deadline", "handle_deadline",
                       "feedback_deadline", "deadline_warning", "contact_granted"),
    )
    if old_unit is not None:
        _notify_unit(ticket, NotificationKind.REDISPATCHED, backfill=backfill, unit=old_unit)
    _notify_unit(ticket, NotificationKind.REDISPATCHED, backfill=backfill, unit=unit)
    return ticket


@transaction.atomic
def ticket_recall(*, ticket: Ticket, actor: User, reason: str, at: datetime | None = None) -> Ticket:
    """撤回: the centre takes a dispatched ticket (待签收 or 办理中) back to 待派单, without a unit and
    without counting a return against the unit; the unit is told. Dispatched again, it counts for
    the next unit, with the time of that dispatch."""
    permissions.require_action(actor, "recall")
    reason = _text(reason, "reason", "撤回理由")
    ticket = ticket_lock(ticket)
    action_require(user=actor, ticket=ticket, action="recall")
    backfill, now = at is not None, at or timezone.now()
    old_unit = ticket.unit
    _lapse_unit_grants(ticket, now, "工单已撤回，延期申请自动撤回")
    ticket.deadline_warning = ""
    ticket.unit = None
    ticket.dispatched_at = ticket.signed_at = ticket.first_feedback_at = None
    ticket.sign_deadline = ticket.handle_deadline = ticket.feedback_deadline = None
    ticket.dispatch_deadline = dispatch_deadline_for(now)
    ticket = ticket_transition(
        ticket=ticket, to=S.PENDING_DISPATCH, actor=actor, event_type=EventType.RECALLED, note=reason, at=now,
        data={"from_unit_id": old_unit.pk if old_unit else None, "from_unit": old_unit.short_name if old_unit else ""},
        update_fields=("unit", "dispatched_at", "signed_at", "first_feedback_at", "sign_deadline", "handle_deadline",
                       "feedback_deadline", "dispatch_deadline", "contact_granted", "deadline_warning"),
    )
    if old_unit is not None:
        _notify_unit(ticket, NotificationKind.RECALLED, backfill=backfill, unit=old_unit)
    return ticket


@transaction.atomic
def ticket_sign(*, ticket: Ticket, actor: User, at: datetime | None = None, check_role: bool = True) -> Ticket:
    if check_role:
        permissions.require_action(actor, "sign")
    ticket = ticket_lock(ticket)
    action_require(user=actor, ticket=ticket, action="sign", check_role=check_role)
    ticket.signed_at = at or timezone.now()
    if ticket.urgent:  # 紧急件: first feedback within N hours of the actual signing
        ticket.feedback_deadline = feedback_deadline_from(ticket.signed_at)
    return ticket_transition(ticket=ticket, to=S.HANDLING, actor=actor, event_type=EventType.SIGNED,
                             update_fields=("signed_at", "feedback_deadline"), at=ticket.signed_at)


@transaction.atomic
def ticket_first_feedback(*, ticket: Ticket, actor: User, note: str, at: datetime | None = None) -> Ticket:
    """紧急件首次反馈: the unit's first report on an urgent ticket (due ``feedback_deadline``, N hours
    after signing). Once per unit; the ticket stays 办理中."""
    permissions.require_action(actor, "first_feedback")
    note = _text(note, "note", "首次反馈内容")
    ticket = ticket_lock(ticket)
    action_require(user=actor, ticket=ticket, action="first-feedback")
    ticket.first_feedback_at = at or timezone.now()
    ticket.save(update_fields=["first_feedback_at", "updated_at"])
    event_record(ticket=ticket, type=EventType.FIRST_FEEDBACK, actor=actor, note=note, at=ticket.first_feedback_at,
                 data={"feedback_deadline": ticket.feedback_deadline.isoformat() if ticket.feedback_deadline else None,
                       "on_time": bool(ticket.feedback_deadline is None
                                       or ticket.first_feedback_at <= ticket.feedback_deadline)})
    return ticket


@transaction.atomic
def ticket_return_request(*, ticket: Ticket, actor: User, reason: str, at: datetime | None = None) -> Ticket:
    permissions.require_action(actor, "return_request")
    reason = _text(reason, "reason", "退单理由")
    ticket = ticket_lock(ticket)
    action_require(user=actor, ticket=ticket, action="return")
    ReturnRequest.objects.create(
        ticket=ticket, unit=ticket.unit, reason=reason, previous_status=ticket.status, requested_by=actor,
        requested_at=at or timezone.now(),
    )
    return ticket_transition(ticket=ticket, to=S.RETURN_PENDING, actor=actor,
                             event_type=EventType.RETURN_REQUESTED, note=reason, at=at)


def _pending(model, ticket: Ticket):
    """The ticket's pending request of ``model``, locked (None if there is none)."""
    return model.objects.select_for_update().filter(ticket=ticket, status=RequestStatus.PENDING).first()


@transaction.atomic
def ticket_return_decide(*, ticket: Ticket, actor: User, approve: bool, note: str = "",
                         at: datetime | None = None) -> Ticket:
    """Approve: the ticket goes back to 待派单 without a unit (counted). Reject: back to the unit."""
    permissions.require_action(actor, "return_decide")
    ticket = ticket_lock(ticket)
    request = _pending(ReturnRequest, ticket)
    action_require(user=actor, ticket=ticket, action="return-decide",
                   facts=ticket_facts(ticket, pending_return=request is not None))
    if not approve:
        note = _text(note, "note", "驳回理由")
    now = at or timezone.now()
    request.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
    request.decided_by, request.decided_at, request.decision_note = actor, now, note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    if not approve:
        return ticket_transition(ticket=ticket, to=Status(request.previous_status), actor=actor,
                                 event_type=EventType.RETURN_REJECTED, note=note, at=now)
    returned_from = ticket.unit
    _lapse_unit_grants(ticket, now, "退单已同意，延期申请自动撤回")
    ticket.deadline_warning = ""
    ticket.return_count += 1
    ticket.unit = None
    ticket.dispatched_at = ticket.signed_at = ticket.first_feedback_at = None
    ticket.sign_deadline = ticket.handle_deadline = ticket.feedback_deadline = None
    ticket.dispatch_deadline = dispatch_deadline_for(now)
    return ticket_transition(
        ticket=ticket, to=S.PENDING_DISPATCH, actor=actor, event_type=EventType.RETURN_APPROVED, note=note, at=now,
        data={"returned_by_unit": returned_from.short_name if returned_from else ""},
        update_fields=("return_count", "unit", "dispatched_at", "signed_at", "first_feedback_at", "sign_deadline",
                       "handle_deadline",
                       "feedback_deadline", "dispatch_deadline", "contact_granted", "deadline_warning"),
    )


@transaction.atomic
def ticket_extension_request(*, ticket: Ticket, actor: User, reason: str, requested_deadline: datetime,
                             at: datetime | None = None) -> ExtensionRequest:
    permissions.require_action(actor, "extension_request")
    reason = _text(reason, "reason", "延期理由")
    ticket = ticket_lock(ticket)
    now = at or timezone.now()
    action_require(user=actor, ticket=ticket, action="extension", facts=ticket_facts(ticket, now=now))
    if ticket.handle_deadline and requested_deadline <= ticket.handle_deadline:
        raise InvalidInput("申请延至的时间必须晚于当前办理时限。",
                           fields={"requested_deadline": ["必须晚于当前办理时限。"]})
    request = ExtensionRequest.objects.create(
        ticket=ticket, unit=ticket.unit, reason=reason, requested_deadline=requested_deadline, requested_by=actor,
        requested_at=now,
    )
    event_record(ticket=ticket, type=EventType.EXTENSION_REQUESTED, actor=actor, note=reason,
                 data={"requested_deadline": requested_deadline.isoformat(), "request_id": request.pk}, at=now)
    return request


@transaction.atomic
def ticket_extension_decide(*, ticket: Ticket, actor: User, approve: bool, note: str = "",
                            deadline: datetime | None = None, at: datetime | None = None) -> Ticket:
    permissions.require_action(actor, "extension_decide")
    ticket = ticket_lock(ticket)
    request = _pending(ExtensionRequest, ticket)
    action_require(user=actor, ticket=ticket, action="extension-decide",
                   facts=ticket_facts(ticket, pending_extension=request is not None))
    if not approve:
        note = _text(note, "note", "驳回理由")
    now = at or timezone.now()
    request.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
    request.decided_by, request.decided_at, request.decision_note = actor, now, note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    if not approve:
        event_record(ticket=ticket, type=EventType.EXTENSION_REJECTED, actor=actor, note=note, at=now)
        return ticket
    new_deadline = deadline or request.requested_deadline
    if ticket.handle_deadline and new_deadline <= ticket.handle_deadline:
        raise InvalidInput("新的办理时限必须晚于当前办理时限。", fields={"deadline": ["必须晚于当前办理时限。"]})
    old = ticket.handle_deadline
    ticket.handle_deadline = new_deadline
    ticket.extension_count += 1
    ticket.save(update_fields=["handle_deadline", "extension_count", "updated_at"])
    event_record(ticket=ticket, type=EventType.EXTENSION_APPROVED, actor=actor, note=note,
                 data={"old_deadline": old.isoformat() if old else None, "new_deadline": new_deadline.isoformat()},
                 at=now)
    return ticket


@transaction.atomic
def ticket_reply(*, ticket: Ticket, actor: User, reply_text: str, internal_note: str = "",
                 at: datetime | None = None, check_role: bool = True) -> Ticket:
    """办结反馈: the public answer, and internal notes kept apart from it."""
    if check_role:
        permissions.require_action(actor, "reply")
    reply_text = _text(reply_text, "reply_text", "答复内容", max_length=5000)
    if len(internal_note or "") > 5000:
        raise InvalidInput("内部办理说明不能超过5000字。", fields={"internal_note": ["不能超过5000字。"]})
    ticket = ticket_lock(ticket)
    action_require(user=actor, ticket=ticket, action="reply", check_role=check_role)
    if ExtensionRequest.objects.filter(ticket=ticket, status=RequestStatus.PENDING).exists():
        ExtensionRequest.objects.filter(ticket=ticket, status=RequestStatus.PENDING).update(
            status=RequestStatus.REJECTED, decided_at=timezone.now(), decision_note="已办结反馈，延期申请自动撤回"
        )
    ticket.reply_text = reply_text
    ticket.internal_note = (internal_note or "").strip()
    ticket.replied_at = at or timezone.now()
    ticket = ticket_transition(ticket=ticket, to=S.REPLIED, actor=actor, event_type=EventType.REPLIED,
                               note=reply_text, data={"internal_note": ticket.internal_note},
                               update_fields=("reply_text", "internal_note", "replied_at"), at=ticket.replied_at)
    _report_upward(ticket, "reply")
    return ticket


def _report_upward(ticket: Ticket, kind: str) -> None:
    """An upper platform's ticket reports its reply / close back up, through the outbox, in this
    same transaction (nothing is lost if the platform or the broker is down)."""
    from ..exchange.outbox import outbox_record

    outbox_record(ticket=ticket, kind=kind)


def _notify_unit(ticket: Ticket, kind: str, *, backfill: bool, **extra) -> None:
    """A short message to the unit's duty phone, written in this same transaction (sent after
    commit, or by the sweep when the broker is down). Backfilled history (``at=``) is not announced."""
    if not backfill:
        notification_record(ticket=ticket, kind=kind, **extra)


@transaction.atomic
def ticket_review(*, ticket: Ticket, actor: User, passed: bool, note: str = "", at: datetime | None = None) -> Ticket:
    permissions.require_action(actor, "review")
    ticket = ticket_lock(ticket)
    action_require(user=actor, ticket=ticket, action="review")
    if passed:
        return ticket_transition(ticket=ticket, to=S.PENDING_CALLBACK, actor=actor,
                                 event_type=EventType.REVIEW_PASSED, note=note, at=at)
    note = _text(note, "note", "审核意见")
    ticket.replied_at = None
    return ticket_transition(ticket=ticket, to=S.HANDLING, actor=actor, event_type=EventType.REVIEW_FAILED,
                             note=note, update_fields=("replied_at",), at=at)


@transaction.atomic
def ticket_callback(*, ticket: Ticket, actor: User, result: str, resolved: bool, note: str = "",
                    at: datetime | None = None) -> Ticket:
    """回访. 满意 / 基本满意 close the ticket; 不满意 moves it to 回访不满意, which only 重办 or
    研判办结 leave — a callback never overwrites another (each is kept as a ``callback`` event)."""
    permissions.require_action(actor, "callback")
    if result not in CallbackResult.values:
        raise InvalidInput("回访结果只能是满意、基本满意或不满意。", fields={"result": ["无效的回访结果。"]})
    ticket = ticket_lock(ticket)
    action_require(user=actor, ticket=ticket, action="callback")
    at = at or timezone.now()
    ticket.callback_result, ticket.callback_resolved, ticket.callback_at = result, resolved, at
    data = {"result": result, "resolved": resolved}
    if result == CallbackResult.UNSATISFIED:
        return ticket_transition(ticket=ticket, to=S.UNSATISFIED, actor=actor, event_type=EventType.CALLBACK,
                                 note=note, data=data, at=at,
                                 update_fields=("callback_result", "callback_resolved", "callback_at"))
    ticket.closed_at = at
    ticket = ticket_transition(ticket=ticket, to=S.CLOSED, actor=actor, event_type=EventType.CALLBACK, note=note,
                               data=data, at=at,
                               update_fields=("callback_result", "callback_resolved", "callback_at", "closed_at"))
    _report_upward(ticket, "close")
    return ticket


@transaction.atomic
def ticket_redo(*, ticket: Ticket, actor: User, note: str, at: datetime | None = None) -> Ticket:
    """重办 after an unsatisfied callback: back to the unit with a fresh handling time limit."""
    permissions.require_action(actor, "redo")
    note = _text(note, "note", "重办要求")
    ticket = ticket_lock(ticket)
    action_require(user=actor, ticket=ticket, action="redo")
    now = at or timezone.now()
    ticket.redo_count += 1
    ticket.replied_at = None
    # This redo uses up the 不满意 (kept in the callback event): another redo needs a new callback.
    ticket.callback_result, ticket.callback_resolved, ticket.callback_at = "", None, None
    ticket.handle_deadline, warnings = handle_deadline_from(ticket=ticket, start=now)
    ticket.deadline_warning = "；".join(warnings)
    return ticket_transition(ticket=ticket, to=S.HANDLING, actor=actor, event_type=EventType.REDO, note=note, at=now,
                             update_fields=("redo_count", "replied_at", "handle_deadline", "deadline_warning",
                                            "callback_result", "callback_resolved", "callback_at"),
                             data={"handle_deadline": ticket.handle_deadline.isoformat()})


@transaction.atomic
def ticket_judge_close(*, ticket: Ticket, actor: User, note: str, at: datetime | None = None) -> Ticket:
    """研判办结: the centre closes an open ticket by its own judgement (e.g. 不合理诉求)."""
    permissions.require_action(actor, "judge_close")
    note = _text(note, "note", "研判意见")
    ticket = ticket_lock(ticket)
    action_require(user=actor, ticket=ticket, action="judge-close")
    _close_pending_requests(ticket, "工单已研判办结")
    ticket.closed_at = at or timezone.now()
    ticket.closed_by_judgement = True
    ticket = ticket_transition(ticket=ticket, to=S.CLOSED, actor=actor, event_type=EventType.JUDGED_CLOSED,
                               note=note, update_fields=("closed_at", "closed_by_judgement"), at=ticket.closed_at)
    _report_upward(ticket, "close")
    return ticket


def _close_pending_requests(ticket: Ticket, note: str) -> None:
    for model in (ReturnRequest, ExtensionRequest):
        model.objects.filter(ticket=ticket, status=RequestStatus.PENDING).update(
            status=RequestStatus.REJECTED, decided_at=timezone.now(), decision_note=note
        )


@transaction.atomic
def ticket_merge(*, ticket: Ticket, into: Ticket, actor: User, note: str = "", at: datetime | None = None) -> Ticket:
    """并单: ``ticket`` duplicates ``into``; it is kept and linked, and no longer counts on its own."""
    permissions.require_action(actor, "merge")
    if ticket.pk == into.pk:
        raise InvalidInput("不能把工单并入它自己。", fields={"into": ["请选择另一张工单。"]})
    # Lock both rows in id order so that two merges cannot deadlock.
    first, second = sorted([ticket.pk, into.pk])
    locked = {first: ticket_lock(first), second: ticket_lock(second)}
    ticket, into = locked[ticket.pk], locked[into.pk]
    action_require(user=actor, ticket=ticket, action="merge")
    if into.status == S.MERGED:
        raise InvalidTransition(f"工单{into.number}本身已并入其他工单。", code="target_merged")
    if into.status not in OPEN_STATUSES:
        raise InvalidTransition(f"工单{into.number}已办结，只能并入未办结的工单。", code="target_closed")
    _close_pending_requests(ticket, "工单已并单")
    ticket.merged_into = into
    ticket.closed_at = at or timezone.now()
    return ticket_transition(ticket=ticket, to=S.MERGED, actor=actor, event_type=EventType.MERGED, note=note,
                             data={"into": into.number, "into_id": into.pk},
                             update_fields=("merged_into", "closed_at"), at=ticket.closed_at)


@transaction.atomic
def ticket_urge(*, ticket: Ticket, actor: User | None, note: str, automatic: bool = False,
                at: datetime | None = None) -> Urge:
    if not automatic:
        permissions.require_action(actor, "urge")
    note = _text(note, "note", "催办内容")
    ticket = ticket_lock(ticket)
    action_require(user=actor, ticket=ticket, action="urge", check_role=not automatic)
    urge = Urge.objects.create(ticket=ticket, unit=ticket.unit, actor=actor, note=note, automatic=automatic,
                               created_at=at or timezone.now())
    event_record(ticket=ticket, type=EventType.URGED, actor=actor, note=note,
                 data={"urge_id": urge.pk, "automatic": automatic}, at=urge.created_at)
    _notify_unit(ticket, urge_kind(ticket=ticket, automatic=automatic, at=urge.created_at), backfill=at is not None)
    return urge


@transaction.atomic
def supervision_open(*, ticket: Ticket, actor: User, reason: str, deadline: datetime | None = None,
                     at: datetime | None = None) -> Supervision:
    permissions.require_action(actor, "supervise")
    reason = _text(reason, "reason", "督办事由")
    ticket = ticket_lock(ticket)
    action_require(user=actor, ticket=ticket, action="supervise")
    case = Supervision.objects.create(ticket=ticket, unit=ticket.unit, reason=reason, deadline=deadline,
                                      opened_by=actor, opened_at=at or timezone.now())
    event_record(ticket=ticket, type=EventType.SUPERVISION_OPENED, actor=actor, note=reason,
                 data={"supervision_id": case.pk, "deadline": deadline.isoformat() if deadline else None},
                 at=case.opened_at)
    _notify_unit(ticket, NotificationKind.SUPERVISED, backfill=at is not None, supervision_deadline=deadline)
    return case


@transaction.atomic
def supervision_close(*, supervision: Supervision, actor: User, result: str) -> Supervision:
    permissions.require_action(actor, "supervise")
    result = _text(result, "result", "督办结果")
    case = Supervision.objects.select_for_update().filter(pk=supervision.pk).first()
    if case is None:
        raise NotFound()
    if case.status != SupervisionStatus.OPEN:
        raise InvalidTransition("该督办已结案。", code="supervision_closed")
    case.status, case.closed_by, case.closed_at, case.result = (
        SupervisionStatus.CLOSED, actor, timezone.now(), result)
    case.save(update_fields=["status", "closed_by", "closed_at", "result"])
    event_record(ticket=case.ticket, type=EventType.SUPERVISION_CLOSED, actor=actor, note=result,
                 data={"supervision_id": case.pk})
    return case


@transaction.atomic
def ticket_supervision_close(*, ticket: Ticket, actor: User, result: str) -> Supervision:
    """督办结案 of the ticket's open supervision (the page's and the API's ``supervise-close``)."""
    permissions.require_action(actor, "supervise")
    result = _text(result, "result", "督办结果")
    ticket = ticket_lock(ticket)
    action_require(user=actor, ticket=ticket, action="supervise-close")
    case = Supervision.objects.filter(ticket=ticket, status=SupervisionStatus.OPEN).order_by("opened_at", "id").first()
    return supervision_close(supervision=case, actor=actor, result=result)


@transaction.atomic
def ticket_grant_contact(*, ticket: Ticket, actor: User, note: str = "") -> Ticket:
    """Let the handling unit see the caller's full contact data (not for 保密 tickets)."""
    permissions.require_action(actor, "grant_contact")
    ticket = ticket_lock(ticket)
    action_require(user=actor, ticket=ticket, action="grant-contact")
    ticket.contact_granted = True
    ticket.save(update_fields=["contact_granted", "updated_at"])
    event_record(ticket=ticket, type=EventType.CONTACT_GRANTED, actor=actor, note=note)
    return ticket
