"""Delivery of the outbox: one task per message (retried with backoff) and a beat sweep."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import Retry
from django.utils import timezone

from ..models import OutboxStatus
from .outbox import outbox_deliver, outbox_sweep

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=None, acks_late=True)
def outbox_deliver_task(self, message_id: int) -> str | None:
    message = outbox_deliver(message_id=message_id)
    if message is None:
        return None
    if message.status == OutboxStatus.PENDING and not self.request.is_eager:
        countdown = max((message.next_attempt_at - timezone.now()).total_seconds(), 0)
        try:
            self.retry(countdown=countdown)
        except Retry:
            raise
        except Exception:  # the broker went away: the beat sweep picks the message up later
            logger.warning("outbox %s: could not schedule the retry", message_id, exc_info=True)
    return message.status


@shared_task
def outbox_sweep_task() -> int:
    return outbox_sweep()
