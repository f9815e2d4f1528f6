"""Bulletin tasks. The beat schedule (settings) builds last month's draft after the assessment."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from . import selectors, services

logger = logging.getLogger(__name__)


@shared_task
def bulletin_build_task(period: str) -> str:
    """Build (or rebuild) the draft of ``period``; a published issue is left alone."""
    try:
        bulletin = services.bulletin_build(month=selectors.period_parse(period))
    except services.BulletinPublished:
        logger.info("bulletin %s already published; not rebuilt", period)
        return "published"
    return bulletin.period


@shared_task
def bulletin_build_previous_month_task() -> str:
    month = selectors.month_previous(timezone.localdate().replace(day=1))
    return bulletin_build_task(selectors.period_of(month))
