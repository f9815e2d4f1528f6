"""Celery tasks of the tickets app. Tasks take ids, load, and call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .exceptions import DATABASE_UNAVAILABLE_ERRORS, ApplicationError
from .models import Status, Ticket, Urge
from .services import ticket_lock, ticket_urge
from .services.deadlines import Light, LimitKind, due_soon_q, light_thresholds, limit_lights, overdue_q

logger = logging.getLogger(__name__)


MAIN = (LimitKind.SIGN, LimitKind.HANDLE)
FEEDBACK = (LimitKind.FEEDBACK,)
NOTES = {
    (False, Light.RED): "工单已超期，请尽快办理。",
    (False, Light.YELLOW): "工单即将到期，请抓紧办理。",
    (True, Light.RED): "紧急件已超过首次反馈时限，请立即反馈办理情况。",
    (True, Light.YELLOW): "紧急件首次反馈时限即将到期，请尽快反馈办理情况。",
}


def _start_of_day(now):
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def auto_urge_candidates(now=None):
    """Open tickets at a unit with a limit in yellow or red (services/deadlines.py) that were not
    urged automatically today — the first feedback of an urgent ticket counts on its own: it is urged
    even if the ticket was urged today before it was signed."""
    now = now or timezone.now()
    thresholds = light_thresholds(now)
    urged_today = Urge.objects.filter(ticket_id=OuterRef("pk"), automatic=True, created_at__gte=_start_of_day(now))
    main = overdue_q(now, kinds=MAIN) | due_soon_q(now, thresholds=thresholds, kinds=MAIN)
    feedback = overdue_q(now, kinds=FEEDBACK) | due_soon_q(now, thresholds=thresholds, kinds=FEEDBACK)
    return (
        Ticket.objects.filter(status__in=[Status.PENDING_SIGN, Status.HANDLING])
        .filter((main & ~Exists(urged_today))
                | (feedback & ~Exists(urged_today.filter(created_at__gte=OuterRef("signed_at")))))
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
    worker) urged it today already: once per ticket per day — and once more for an urgent ticket's
    first feedback — even with runs in parallel. The note names the limit and its light."""
    ticket = ticket_lock(pk)
    today = Urge.objects.filter(ticket=ticket, automatic=True, created_at__gte=_start_of_day(now))
    for item in limit_lights(ticket, thresholds=light_thresholds(now)):
        if item.light not in (Light.RED, Light.YELLOW):
            continue
        is_feedback = item.kind == LimitKind.FEEDBACK
        urged = today.filter(created_at__gte=ticket.signed_at) if is_feedback else today
        if urged.exists():
            continue
        ticket_urge(ticket=ticket, actor=None, note=NOTES[(is_feedback, item.light)], automatic=True)
        return True
    return False


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
