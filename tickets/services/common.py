"""The one service that changes a ticket's status, and the event writer every write uses."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ..exceptions import InvalidTransition, NotFound
from ..models import EventType, Status, Ticket, TicketEvent, User
from .lifecycle import ALLOWED_TRANSITIONS

# Derived from the one table of actions (lifecycle.ACTIONS): source × target of every action.
__all__ = ["ALLOWED_TRANSITIONS", "event_record", "ticket_lock", "ticket_transition"]


def event_record(
    *,
    ticket: Ticket,
    type: EventType,
    actor: User | None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict | None = None,
    at=None,
) -> TicketEvent:
    event = TicketEvent(
        ticket=ticket,
        type=type,
        actor=actor,
        unit_id=ticket.unit_id,  # the id only: no query to load the unit
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=data or {},
        created_at=at or timezone.now(),
    )
    event.save()
    return event


def ticket_lock(ticket: Ticket | int) -> Ticket:
    """Re-read the ticket under a row lock (``SELECT … FOR UPDATE``) inside the caller's transaction,
    so that two people acting at once produce exactly one transition."""
    pk = ticket.pk if isinstance(ticket, Ticket) else ticket
    try:
        return Ticket.objects.select_for_update().get(pk=pk)
    except Ticket.DoesNotExist as exc:
        raise NotFound() from exc


@transaction.atomic
def ticket_transition(
    *,
    ticket: Ticket,
    to: Status,
    actor: User | None,
    event_type: EventType,
    note: str = "",
    data: dict | None = None,
    update_fields: tuple[str, ...] = (),
    at=None,
) -> Ticket:
    """Move ``ticket`` to ``to`` if ``ALLOWED_TRANSITIONS`` permits, save the given fields and the
    status, and write the event — all in one transaction."""
    source = Status(ticket.status)
    if to not in ALLOWED_TRANSITIONS[source]:
        raise InvalidTransition(
            f"工单{ticket.number}不能从“{source.label}”变为“{Status(to).label}”。",
            fields={"status": [ticket.status]},
        )
    ticket.status = to
    fields = {"status", "updated_at", *update_fields}
    # Validate what changes; foreign keys were checked by the caller (no extra queries).
    ticket.full_clean(
        exclude=[f.name for f in Ticket._meta.concrete_fields if f.name not in fields or f.is_relation],
        validate_unique=False,
        validate_constraints=False,
    )
    ticket.save(update_fields=sorted(fields))
    event_record(
        ticket=ticket, type=event_type, actor=actor, from_status=source, to_status=to, note=note, data=data, at=at
    )
    return ticket
