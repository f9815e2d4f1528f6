"""The outbox of results reported to upper platforms.

A message is written in the same transaction as the reply or close that produced it, so it exists
exactly when that change exists. It is delivered by ``outbox_deliver_task`` (queued after commit),
retried with exponential backoff, and swept by a beat job, so nothing is lost when Redis, the
worker or the upstream is down. Every attempt carries the message's ``Idempotency-Key``, so the
platform records it once however often it arrives.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .. import permissions
from ..exceptions import InvalidTransition
from ..models import OutboxMessage, OutboxStatus, Source, Ticket, User
from .delivery import Mailbox, post_json


def backoff_seconds(attempts: int) -> float:
    return OUTBOX.backoff_seconds(attempts)


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def outbox_payload(*, ticket: Ticket, kind: str, key: str) -> dict:
    return {
        "idempotency_key": key,
        "event": kind,
        "upstream_number": ticket.upstream_number,
        "ticket_number": ticket.number,
        "status": ticket.status,
        "status_label": ticket.get_status_display(),
        "unit": ticket.unit.name if ticket.unit_id else "",
        "reply_text": ticket.reply_text,
        "replied_at": _iso(ticket.replied_at),
        "closed_at": _iso(ticket.closed_at),
        "callback_result": ticket.callback_result,
        "callback_resolved": ticket.callback_resolved,
    }


def _enqueue(message_id: int) -> None:
    """Queue one delivery (looked up at call time, so tests can deliver inline instead)."""
    OUTBOX.enqueue(message_id)


@transaction.atomic
def outbox_record(*, ticket: Ticket, kind: str) -> OutboxMessage | None:
    """Queue ``ticket``'s result (``kind`` = "reply" or "close") for its upper platform, inside the
    caller's transaction. Tickets not handed down from a platform are ignored."""
    if ticket.source != Source.UPPER or not ticket.platform_id:
        return None
    key = uuid.uuid4().hex
    message = OutboxMessage.objects.create(
        platform_id=ticket.platform_id, ticket=ticket, kind=kind, idempotency_key=key,
        payload=outbox_payload(ticket=ticket, kind=kind, key=key),
    )
    OUTBOX.enqueue_on_commit(message.pk, lambda pk: _enqueue(pk))
    return message


def _send(message: OutboxMessage) -> None:
    url = message.platform.reply_url
    if not url:
        raise ValueError(f"上级平台“{message.platform.name}”未配置结果回传地址。")
    post_json(url, message.payload, key=message.idempotency_key, timeout=OUTBOX.timeout(),
              agent="hotline12345-outbox")


OUTBOX = Mailbox(name="outbox", model=OutboxMessage, send=_send, task="tickets.exchange.tasks.outbox_deliver_task",
                 prefix="HOTLINE_OUTBOX", related=("platform",))


def outbox_deliver(*, message_id: int, force: bool = False) -> OutboxMessage | None:
    """One delivery attempt, under a row lock so that two workers never send the same message at
    once. Not due yet (and not ``force``), already sent or failed: nothing happens."""
    return OUTBOX.deliver(message_id, force=force)


def outbox_due_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    return OUTBOX.due_ids(now=now, limit=limit)


def outbox_sweep(*, now: datetime | None = None) -> int:
    """Queue every pending message whose attempt is due (the beat job; also recovers messages whose
    task was lost with Redis)."""
    return OUTBOX.sweep(now=now, enqueue=lambda pk: _enqueue(pk))


@transaction.atomic
def outbox_resend(*, message: OutboxMessage, actor: User) -> OutboxMessage:
    """The centre resends a failed (or stuck) message: same idempotency key, a fresh set of attempts."""
    permissions.require_action(actor, "dispatch")
    message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if message.status == OutboxStatus.SENT:
        raise InvalidTransition("该结果已送达上级平台，无需重发。", code="outbox_sent")
    OUTBOX.reopen(message)
    OUTBOX.enqueue_on_commit(message.pk, lambda pk: _enqueue(pk))
    return message
