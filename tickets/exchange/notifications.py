"""Short messages (短信) to a unit's duty phone: a ticket dispatched to it, moved to or from it by
the centre (改派, 撤回), urged (催办), supervised (督办), about to run out of time (即将超期) or overdue (已超期).

A ``Notification`` is written in the same transaction as the move that causes it and delivered like
the outbox (``delivery.Mailbox``): queued after commit, sent to the HTTP SMS gateway
(``HOTLINE_SMS_GATEWAY_URL``) with its ``Idempotency-Key`` on every attempt, retried with backoff,
swept by beat. A unit without a duty phone, or no gateway configured, gives a ``skipped`` row with the
reason, so the centre sees that nobody was told. The text carries the ticket number, its category
and deadline — never the caller's name or number nor the ticket's content.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import permissions
from ..exceptions import InvalidTransition
from ..models import Notification, NotificationKind, NotificationStatus, Status, Ticket, Unit, User
from .delivery import Mailbox, Skip, post_json

K = NotificationKind


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{local.month}月{local.day}日{local:%H:%M}"


def _deadline(ticket: Ticket) -> tuple[str, datetime | None]:
    """(label, deadline) the unit is running against now: the most pressing running limit
    (services/deadlines.py: an urgent ticket's first feedback before its handling); 办理 otherwise."""
    from ..services.deadlines import limit_lights, worst

    item = worst(limit_lights(ticket)) if ticket.status != Status.PENDING_DISPATCH else None
    if item is None:
        return "办理", ticket.handle_deadline
    return item.label, item.deadline


def notification_text(*, ticket: Ticket, kind: str, supervision_deadline: datetime | None = None,
                      to_current_unit: bool = True) -> str:
    """The message. Only the ticket number, its category (not for confidential tickets) and dates.
    ``to_current_unit=False``: to the unit a 改派 or 撤回 took the ticket from."""
    sign = f"【{getattr(settings, 'HOTLINE_SMS_SIGNATURE', '汝州12345')}】"
    label, deadline = _deadline(ticket)
    if kind == K.REDISPATCHED and not to_current_unit:
        return f"{sign}工单{ticket.number}已由热线中心改派至其他单位，您单位无需继续办理。"
    if kind == K.RECALLED:
        return f"{sign}工单{ticket.number}已由热线中心撤回，您单位无需继续办理。"
    if kind in (K.DISPATCHED, K.REDISPATCHED):
        subject = "保密件" if ticket.confidential else ticket.category.full_name
        if ticket.urgent:
            subject = f"紧急，{subject}"
        until = f"请于{_when(ticket.sign_deadline)}前签收办理" if ticket.sign_deadline else "请及时签收办理"
        moved = "改派来的" if kind == K.REDISPATCHED else "新"
        return f"{sign}您单位有{moved}工单{ticket.number}（{subject}），{until}。"
    if kind == K.URGED:
        limit = f"{label}时限{_when(deadline)}，" if deadline else ""
        return f"{sign}热线中心催办工单{ticket.number}，{limit}请抓紧办理并反馈。"
    if kind == K.SUPERVISED:
        limit = f"，督办时限{_when(supervision_deadline)}" if supervision_deadline else ""
        return f"{sign}工单{ticket.number}已列为督办件{limit}，请抓紧办理并反馈。"
    if kind == K.DUE_SOON:
        return f"{sign}您单位工单{ticket.number}将于{_when(deadline)}到{label}时限，请抓紧办理。"
    if kind == K.OVERDUE:
        return f"{sign}您单位工单{ticket.number}已超过{label}时限（{_when(deadline)}），请尽快办理。"
    raise ValueError(f"unknown notification kind {kind!r}")


def urge_kind(*, ticket: Ticket, automatic: bool, at: datetime) -> str:
    """A centre's urge is 催办; the beat job's automatic urges say 即将超期 or 已超期."""
    if not automatic:
        return K.URGED
    _, deadline = _deadline(ticket)
    return K.OVERDUE if deadline is not None and deadline < at else K.DUE_SOON


def _skip_reason(recipient: str) -> str:
    if not recipient:
        return "单位未登记值班手机，短信未发送。"
    if not getattr(settings, "HOTLINE_SMS_GATEWAY_URL", ""):
        return "未配置短信网关（HOTLINE_SMS_GATEWAY_URL），短信未发送。"
    return ""


def _enqueue(notification_id: int) -> None:
    """Queue one delivery (looked up at call time, so tests can deliver inline instead)."""
    NOTIFICATIONS.enqueue(notification_id)


@transaction.atomic
def notification_record(*, ticket: Ticket, kind: str, supervision_deadline: datetime | None = None,
                        unit: Unit | None = None) -> Notification | None:
    """Write the message for ``unit`` (default: ``ticket``'s unit) inside the caller's transaction
    and queue it after commit; no unit, no message."""
    unit = unit or ticket.unit
    if unit is None:
        return None
    recipient = unit.duty_phone
    reason = _skip_reason(recipient)
    notification = Notification.objects.create(
        unit=unit, ticket=ticket, kind=kind, recipient=recipient, idempotency_key=uuid.uuid4().hex,
        text=notification_text(ticket=ticket, kind=kind, supervision_deadline=supervision_deadline,
                               to_current_unit=unit.pk == ticket.unit_id),
        status=NotificationStatus.SKIPPED if reason else NotificationStatus.PENDING, last_error=reason,
    )
    if not reason:
        NOTIFICATIONS.enqueue_on_commit(notification.pk, lambda pk: _enqueue(pk))
    return notification


def _send(notification: Notification) -> None:
    reason = _skip_reason(notification.recipient)
    if reason:
        raise Skip(reason)
    body = {"idempotency_key": notification.idempotency_key, "phone": notification.recipient,
            "text": notification.text, "ticket_number": notification.ticket.number, "kind": notification.kind}
    post_json(settings.HOTLINE_SMS_GATEWAY_URL, body, key=notification.idempotency_key,
              timeout=NOTIFICATIONS.timeout(), agent="hotline12345-sms",
              token=getattr(settings, "HOTLINE_SMS_GATEWAY_TOKEN", ""))


NOTIFICATIONS = Mailbox(name="notification", model=Notification, send=_send,
                        task="tickets.exchange.tasks.notification_deliver_task", prefix="HOTLINE_SMS",
                        related=("ticket",))


def notification_deliver(*, notification_id: int, force: bool = False) -> Notification | None:
    """One attempt under a row lock (see ``delivery.Mailbox.deliver``)."""
    return NOTIFICATIONS.deliver(notification_id, force=force)


def notification_sweep(*, now: datetime | None = None) -> int:
    """Queue every pending message whose attempt is due (the beat job)."""
    return NOTIFICATIONS.sweep(now=now, enqueue=lambda pk: _enqueue(pk))


@transaction.atomic
def notification_resend(*, notification: Notification, actor: User) -> Notification:
    """The centre sends a failed or skipped message again (e.g. after entering the unit's duty phone):
    to the unit's current duty phone, with the same idempotency key and a fresh set of attempts."""
    permissions.require_action(actor, "dispatch")
    notification = Notification.objects.select_for_update().select_related("unit").get(pk=notification.pk)
    if notification.status == NotificationStatus.SENT:
        raise InvalidTransition("该短信已发送，无需重发。", code="notification_sent")
    notification.recipient = notification.unit.duty_phone
    reason = _skip_reason(notification.recipient)
    if reason:
        raise InvalidTransition(reason.replace("短信未发送", "暂时不能重发"), code="notification_unsendable")
    notification.last_error = ""
    notification.save(update_fields=["recipient", "last_error"])
    NOTIFICATIONS.reopen(notification)
    NOTIFICATIONS.enqueue_on_commit(notification.pk, lambda pk: _enqueue(pk))
    return notification
