"""The change trail (变更记录) of scores and bulletins: one append-only record per change, written by
the service that makes the change, inside its transaction (so a refused change leaves no record).

``record`` is the only writer; ``records_for_month`` the only reader the pages use.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from .models import ChangeKind, ChangeRecord

RULE_KINDS = (ChangeKind.RULE_CREATE, ChangeKind.RULE_UPDATE)


def record(*, kind: str, month: date, actor=None, target: str = "", reason: str = "", before=None,
           after=None) -> ChangeRecord:
    """Append one change. ``actor=None`` is the system (beat jobs, commands, imports)."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return ChangeRecord.objects.create(
        kind=kind, month=month.replace(day=1), actor=actor, target=target[:200], reason=(reason or "")[:500],
        before=before, after=after,
    )


def records_for_month(month: date, *, rule_from: date | None = None) -> QuerySet[ChangeRecord]:
    """A month's changes, newest first; with ``rule_from``, also the changes of the rule version in
    force for the month (recorded under its first month)."""
    cond = Q(month=month.replace(day=1))
    if rule_from is not None:
        cond |= Q(month=rule_from, kind__in=RULE_KINDS)
    return ChangeRecord.objects.filter(cond).select_related("actor").order_by("-at", "-id")
