"""Celery tasks of the assessment app. Tasks take plain values, load, and call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from tickets.exceptions import ApplicationError
from tickets.periods import month_first, month_previous

from .services import assessment_compute

logger = logging.getLogger(__name__)


def previous_month(today=None):
    return month_previous(month_first(today or timezone.localdate()))


@shared_task(bind=True, max_retries=3, default_retry_delay=300)
def assessment_compute_task(self, month: str | None = None, actor_id: int | None = None) -> dict:
    """Score a month (``YYYY-MM``; default: the month before). Beat runs it on the 2nd at 02:00."""
    from tickets.models import User

    target = month_first(month) if month else previous_month()
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    try:
        run = assessment_compute(month=target, actor=actor)
    except ApplicationError:  # bad input or a missing rule: retrying will not help
        raise
    except Exception as exc:  # a lock timeout or a lost connection: try again later
        logger.exception("assessment %s failed", target)
        raise self.retry(exc=exc) from exc
    logger.info("assessment %s: %d tickets, %d ms", f"{target:%Y-%m}", run.ticket_count, run.duration_ms)
    return {"month": f"{target:%Y-%m}", "run_id": run.pk, "tickets": run.ticket_count}
