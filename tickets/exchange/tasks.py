"""Delivery of the outbox and of the units' short messages: one task per row (retried with
backoff, see ``delivery.Mailbox.run_task``) and a beat sweep of each."""

from __future__ import annotations

from celery import shared_task

from .notifications import NOTIFICATIONS, notification_sweep
from .outbox import OUTBOX, outbox_sweep


@shared_task(bind=True, max_retries=None, acks_late=True)
def outbox_deliver_task(self, message_id: int) -> str | None:
    return OUTBOX.run_task(self, message_id)


@shared_task
def outbox_sweep_task() -> int:
    return outbox_sweep()


@shared_task(bind=True, max_retries=None, acks_late=True)
def notification_deliver_task(self, notification_id: int) -> str | None:
    return NOTIFICATIONS.run_task(self, notification_id)


@shared_task
def notification_sweep_task() -> int:
    return notification_sweep()
