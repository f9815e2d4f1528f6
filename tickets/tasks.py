"""Celery tasks of the tickets app. Tasks take ids, load, and call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from .exceptions import DATABASE_UNAVAILABLE_ERRORS, ApplicationError
from .models import Status, Ticket, Urge
from .selectors import due_soon_q, overdue_q
from .services import ticket_lock, ticket_urge

logger = logging.getLogger(__name__)


def auto_urge_candidates(now=None):
    """Open tickets at a unit that are overdue or due soon and were not urged automatically today."""
    now = now or timezone.now()
    start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    urged_today = Urge.objects.filter(automatic=True, created_at__gte=start_of_day).values("ticket_id")
    return (
        Ticket.objects.filter(status__in=[Status.PENDING_SIGN, Status.HANDLING])
        .filter(overdue_q(now) | due_soon_q(now))
        .exclude(pk__in=urged_today)
        .values_list("pk", flat=True)
    )


# The database restarting: retried after 10, 20, 40 s (each ticket is urged under its row lock, once a day).
@shared_task(bind=True, max_retries=3, autoretry_for=DATABASE_UNAVAILABLE_ERRORS, retry_backoff=10, retry_jitter=False)
def ticket_auto_urge_task(self) -> int:
    """系统自动催办: every 15 minutes (beat), one automatic urge a day per ticket in yellow or red."""
    now = timezone.now()
    count = 0
    for pk in list(auto_urge_candidates(now)):
        try:
            count += _auto_urge_one(pk, now)
        except ApplicationError as exc:  # the ticket moved on meanwhile (signed, replied, closed …)
            logger.info("auto-urge: ticket %s skipped (%s)", pk, exc.code)
    logger.info("auto-urge: %d tickets urged", count)
    return count


@transaction.atomic
def _auto_urge_one(pk: int, now) -> bool:
    """Urge one ticket under its row lock, unless another run (an overlapping beat, a second
    worker) urged it today already: once per ticket per day, even with runs in parallel."""
    ticket = ticket_lock(pk)
    start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    if Urge.objects.filter(ticket=ticket, automatic=True, created_at__gte=start_of_day).exists():
        return False
    overdue = ticket.current_deadline and ticket.current_deadline < now
    note = "工单已超期，请尽快办理。" if overdue else "工单即将到期，请抓紧办理。"
    ticket_urge(ticket=ticket, actor=None, note=note, automatic=True)
    return True


# Tasks of the data-exchange packages, registered with the worker through this module.
from .exchange.tasks import (  # noqa: E402,F401
    notification_deliver_task,
    notification_sweep_task,
    outbox_deliver_task,
    outbox_sweep_task,
)
from .imports.tasks import import_job_run_task  # noqa: E402,F401


@shared_task(bind=True, max_retries=3, autoretry_for=DATABASE_UNAVAILABLE_ERRORS, retry_backoff=60, retry_jitter=False)
def dispatch_model_train_task(self) -> int | None:
    """Nightly (beat): learn the dispatch suggestions again from the handled tickets."""
    from . import suggest
    from .services.dispatch import dispatch_model_train

    try:
        return dispatch_model_train().pk
    except suggest.NotEnoughHistory as exc:
        logger.info("dispatch model not trained: %s", exc)
        return None
