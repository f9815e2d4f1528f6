"""Bulletin tasks. The beat schedule (settings) builds last month's draft after the assessment."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from tickets.exceptions import DATABASE_UNAVAILABLE_ERRORS

from . import selectors, services

logger = logging.getLogger(__name__)


def _bulletin_build(period: str) -> str:
    try:
        bulletin = services.bulletin_build(month=selectors.period_parse(period))
    except services.BulletinPublished:
        logger.info("bulletin %s already published; not rebuilt", period)
        return "published"
    return bulletin.period


# The database restarting: retried after 30, 60, 120 s (building a draft is idempotent).
RETRY_ON_DATABASE = {"autoretry_for": DATABASE_UNAVAILABLE_ERRORS, "max_retries": 3, "retry_backoff": 30,
                     "retry_jitter": False}


@shared_task(**RETRY_ON_DATABASE)
def bulletin_build_task(period: str) -> str:
    """Build (or rebuild) the draft of ``period``; a published issue is left alone."""
    return _bulletin_build(period)


@shared_task(**RETRY_ON_DATABASE)
def bulletin_build_previous_month_task() -> str:
    month = selectors.month_previous(timezone.localdate().replace(day=1))
    return _bulletin_build(selectors.period_of(month))


@shared_task(**RETRY_ON_DATABASE)
def bulletin_publish_due_task() -> list[str]:
    """The beat job of the publication day: publish each built draft whose day has come, unless an
    editor holds it. Publishing twice is refused by the service, so a retry is harmless."""
    published = services.bulletin_publish_due()
    if published:
        logger.info("bulletins published on their day: %s", ", ".join(published))
    return published


@shared_task(**RETRY_ON_DATABASE)
def volume_rollup_recent_task() -> int:
    """The dashboard's roll-up of the days from the 1st of last month to yesterday (reports/rollup.py)."""
    from .rollup import rollup_recent

    return rollup_recent()


@shared_task(**RETRY_ON_DATABASE)
def volume_rollup_all_task() -> int:
    """Every day since the first ticket or call, rolled up again (nightly)."""
    from .rollup import rollup_all

    return rollup_all()


@shared_task(**RETRY_ON_DATABASE)
def volume_rollup_days_task(first: str, last: str) -> int:
    """The days an import touched, rolled up again."""
    from datetime import date

    from .rollup import rollup_days

    return rollup_days(date.fromisoformat(first), date.fromisoformat(last))
