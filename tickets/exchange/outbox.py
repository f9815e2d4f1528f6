"""The outbox of results reported to upper platforms.

A message is written in the same transaction as the reply or close that produced it, so it exists
exactly when that change exists. It is delivered by ``outbox_deliver_task`` (queued after commit),
retried with exponential backoff, and swept by a beat job, so nothing is lost when Redis, the
worker or the upstream is down. Every attempt carries the message's ``Idempotency-Key``, so the
platform records it once however often it arrives.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import permissions
from ..exceptions import InvalidTransition
from ..models import OutboxMessage, OutboxStatus, Source, Ticket, User

logger = logging.getLogger(__name__)


def _setting(name: str, default):
    return getattr(settings, name, default)


def backoff_seconds(attempts: int) -> float:
    base = float(_setting("HOTLINE_OUTBOX_BACKOFF_SECONDS", 30))
    return min(base * 2 ** max(attempts - 1, 0), float(_setting("HOTLINE_OUTBOX_BACKOFF_MAX_SECONDS", 3600)))


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
    from .tasks import outbox_deliver_task

    try:
        outbox_deliver_task.delay(message_id)
    except Exception:  # broker down: the row stays pending and the beat sweep delivers it later
        logger.warning("outbox %s: could not enqueue, the sweep will deliver it", message_id, exc_info=True)


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
    transaction.on_commit(lambda: _enqueue(message.pk))
    return message


def _post(url: str, message: OutboxMessage) -> None:
    body = json.dumps(message.payload, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": message.idempotency_key,
        "User-Agent": "hotline12345-outbox",
    })
    timeout = float(_setting("HOTLINE_OUTBOX_TIMEOUT_SECONDS", 10))
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured URL)
        response.read()


def outbox_deliver(*, message_id: int, force: bool = False) -> OutboxMessage | None:
    """One delivery attempt, under a row lock so that two workers never send the same message at
    once. Not due yet (and not ``force``), already sent or failed: nothing happens."""
    with transaction.atomic():
        message = (OutboxMessage.objects.select_for_update(skip_locked=True).select_related("platform")
                   .filter(pk=message_id).first())
        now = timezone.now()
        if message is None or message.status != OutboxStatus.PENDING:
            return message
        if not force and message.next_attempt_at > now + timedelta(seconds=1):
            return message
        url = message.platform.reply_url
        try:
            if not url:
                raise ValueError(f"上级平台“{message.platform.name}”未配置结果回传地址。")
            _post(url, message)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            message.attempts += 1
            message.last_error = str(getattr(exc, "reason", exc) or exc)[:2000] or exc.__class__.__name__
            if isinstance(exc, urllib.error.HTTPError):
                message.last_error = f"HTTP {exc.code}"
            if message.attempts >= int(_setting("HOTLINE_OUTBOX_MAX_ATTEMPTS", 10)):
                message.status = OutboxStatus.FAILED
            else:
                message.next_attempt_at = now + timedelta(seconds=backoff_seconds(message.attempts))
            logger.info("outbox %s attempt %s failed: %s", message.pk, message.attempts, message.last_error)
        else:
            message.attempts += 1
            message.status, message.sent_at, message.last_error = OutboxStatus.SENT, now, ""
        message.save(update_fields=["attempts", "status", "sent_at", "last_error", "next_attempt_at"])
        return message


def outbox_due_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
                .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])


def outbox_sweep(*, now: datetime | None = None) -> int:
    """Queue every pending message whose attempt is due (the beat job; also recovers messages whose
    task was lost with Redis)."""
    ids = outbox_due_ids(now=now)
    for pk in ids:
        _enqueue(pk)
    return len(ids)


@transaction.atomic
def outbox_resend(*, message: OutboxMessage, actor: User) -> OutboxMessage:
    """The centre resends a failed (or stuck) message: same idempotency key, a fresh set of attempts."""
    permissions.require_action(actor, "dispatch")
    message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if message.status == OutboxStatus.SENT:
        raise InvalidTransition("该结果已送达上级平台，无需重发。", code="outbox_sent")
    message.status, message.attempts, message.next_attempt_at = OutboxStatus.PENDING, 0, timezone.now()
    message.save(update_fields=["status", "attempts", "next_attempt_at"])
    transaction.on_commit(lambda: _enqueue(message.pk))
    return message
