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
