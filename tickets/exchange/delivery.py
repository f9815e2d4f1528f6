"""Delivering rows to outside systems: results to upper platforms (the outbox) and short messages to
units (notifications) share these mechanics.

A message is a row written in the same transaction as the change it reports, so it exists exactly
when that change exists. After commit its delivery task is queued; if the broker is down the row
simply stays ``pending`` and a beat sweep queues it later. One attempt runs under a row lock (two
workers never send the same row at once), carries the row's ``Idempotency-Key`` (the receiver
records it once however often it arrives), and on failure backs off exponentially until the last
attempt marks the row ``failed``. A ``Skip`` (nothing can be sent, e.g. no gateway configured) marks
it ``skipped`` with the reason.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.exceptions import Retry
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"


class Skip(Exception):
    """Sending is impossible and retrying will not help: the row is marked ``skipped``."""


def post_json(url: str, body: dict, *, key: str, timeout: float, agent: str, token: str = "") -> None:
    """POST ``body`` as JSON with the idempotency key; any 2xx answer is success, anything else raises."""
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key, "User-Agent": agent}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode(), method="POST",
                                     headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured URL)
        response.read()


def _error_text(exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    return str(getattr(exc, "reason", exc) or exc)[:2000] or exc.__class__.__name__


@dataclass(frozen=True)
class Mailbox:
    """One kind of outgoing message: its model (with ``status``, ``attempts``, ``next_attempt_at``,
    ``last_error``, ``sent_at``), how one row is sent, its delivery task and its settings prefix
    (``<prefix>_BACKOFF_SECONDS``, ``_BACKOFF_MAX_SECONDS``, ``_MAX_ATTEMPTS``, ``_TIMEOUT_SECONDS``)."""

    name: str
    model: type[models.Model]
    send: Callable[[models.Model], None]
    task: str
    prefix: str
    related: tuple[str, ...] = ()
    skip_status: str = SKIPPED  # what a ``Skip`` makes of the row

    def setting(self, name: str, default):
        return getattr(settings, f"{self.prefix}_{name}", default)

    def timeout(self) -> float:
        return float(self.setting("TIMEOUT_SECONDS", 10))

    def backoff_seconds(self, attempts: int) -> float:
        base = float(self.setting("BACKOFF_SECONDS", 30))
        return min(base * 2 ** max(attempts - 1, 0), float(self.setting("BACKOFF_MAX_SECONDS", 3600)))

    def enqueue(self, pk: int) -> None:
        """Queue the row's delivery. With the broker down this returns quickly (the publish retry
        policy in settings is short) and the row waits for the sweep."""
        try:
            import_string(self.task).delay(pk)
        except Exception:
            logger.warning("%s %s: could not enqueue, the sweep will deliver it", self.name, pk, exc_info=True)

    def enqueue_on_commit(self, pk: int, enqueue: Callable[[int], None] | None = None) -> None:
        transaction.on_commit(lambda: (enqueue or self.enqueue)(pk))

    def deliver(self, pk: int, *, force: bool = False):
        """One attempt under a row lock. A row locked by another worker gives ``None``; a row that is
        not due (unless ``force``) or no longer pending is returned untouched. ``row.attempted``
        says whether this call tried to send it."""
        with transaction.atomic():
            row = (self.model.objects.select_for_update(skip_locked=True).select_related(*self.related)
                   .filter(pk=pk).first())
            if row is None:
                return None
            now = timezone.now()
            row.attempted = False
            if row.status != PENDING or (not force and row.next_attempt_at > now + timedelta(seconds=1)):
                return row
            row.attempted = True
            row.attempts += 1
            try:
                self.send(row)
            except Skip as exc:
                row.status, row.last_error = self.skip_status, str(exc)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                row.last_error = _error_text(exc)
                if row.attempts >= int(self.setting("MAX_ATTEMPTS", 10)):
                    row.status = FAILED
                else:
                    row.next_attempt_at = now + timedelta(seconds=self.backoff_seconds(row.attempts))
                logger.info("%s %s attempt %s failed: %s", self.name, row.pk, row.attempts, row.last_error)
            else:
                row.status, row.sent_at, row.last_error = SENT, now, ""
            row.save(update_fields=["attempts", "status", "sent_at", "last_error", "next_attempt_at"])
            return row

    def due_ids(self, *, now: datetime | None = None, limit: int = 500) -> list[int]:
        return list(self.model.objects.filter(status=PENDING, next_attempt_at__lte=now or timezone.now())
                    .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])

    def sweep(self, *, now: datetime | None = None, enqueue: Callable[[int], None] | None = None) -> int:
        """Queue every pending row whose attempt is due (the beat job; it also recovers rows whose
        task was never queued or was lost with Redis)."""
        ids = self.due_ids(now=now)
        for pk in ids:
            (enqueue or self.enqueue)(pk)
        return len(ids)

    def reopen(self, row):
        """A fresh set of attempts for a failed (or stuck) row, with the same idempotency key; the
        caller holds the row lock and queues it on commit."""
        row.status, row.attempts, row.next_attempt_at = PENDING, 0, timezone.now()
        row.save(update_fields=["status", "attempts", "next_attempt_at"])
        return row

    def run_task(self, task, pk: int) -> str | None:
        """The body of a delivery task: one attempt, then (when that attempt failed and more are
        allowed) a retry at the row's next attempt time. A call that found the row not due does
        not retry: whoever made the attempt, or the sweep, carries it on."""
        row = self.deliver(pk)
        if row is None:
            return None
        if row.status == PENDING and row.attempted and not task.request.is_eager:
            countdown = max((row.next_attempt_at - timezone.now()).total_seconds(), 0)
            try:
                task.retry(countdown=countdown)
            except Retry:
                raise
            except Exception:  # the broker went away: the beat sweep picks the row up later
                logger.warning("%s %s: could not schedule the retry", self.name, pk, exc_info=True)
        return row.status
