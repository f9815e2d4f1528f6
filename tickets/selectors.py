"""Every read that is more than a ``get``. Permission checks live here once: list and detail views
both go through ``ticket_queryset_for_user``."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from .exceptions import NotFound
from .models import OPEN_STATUSES, RequestStatus, Role, Status, Ticket, User
from .permissions import CENTRE_READ_ROLES
from .privacy import phone_digest, phone_normalise
from .services.deadlines import due_soon_threshold

LIST_RELATED = ("appeal_type", "category", "category__parent", "channel", "platform", "township", "unit")


def ticket_queryset_for_user(*, user: User) -> QuerySet[Ticket]:
    """The tickets ``user`` may see: the whole centre for centre roles, the unit's own for a unit
    handler (only while the ticket is assigned to that unit), nothing for anyone else."""
    if not (user and user.is_authenticated and user.is_active):
        return Ticket.objects.none()
    qs = Ticket.objects.select_related(*LIST_RELATED)
    if user.role in CENTRE_READ_ROLES:
        return qs
    if user.role == Role.UNIT_HANDLER and user.unit_id:
        return qs.filter(unit_id=user.unit_id)
    return Ticket.objects.none()


def ticket_get_for_user(*, user: User, ticket_id: int | str) -> Ticket:
    """One ticket, permission-checked: another unit's ticket is simply not found (404)."""
    try:
        return ticket_queryset_for_user(user=user).select_related("merged_into", "registered_by").get(
            pk=int(ticket_id)
        )
    except (Ticket.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


def overdue_q(now: datetime) -> Q:
    return (
        Q(status=Status.PENDING_DISPATCH, dispatch_deadline__lt=now)
        | Q(status=Status.PENDING_SIGN, sign_deadline__lt=now)
        | Q(status__in=[Status.HANDLING, Status.RETURN_PENDING], handle_deadline__lt=now)
    )


def due_soon_q(now: datetime) -> Q:
    """Yellow light: not yet overdue, deadline within the warning margin (working time)."""
    limit = due_soon_threshold(now)
    return (
        Q(status=Status.PENDING_DISPATCH, dispatch_deadline__gte=now, dispatch_deadline__lte=limit)
        | Q(status=Status.PENDING_SIGN, sign_deadline__gte=now, sign_deadline__lte=limit)
        | Q(status__in=[Status.HANDLING, Status.RETURN_PENDING], handle_deadline__gte=now,
            handle_deadline__lte=limit)
    )


def ticket_queue(*, user: User, queue: str, now: datetime | None = None) -> QuerySet[Ticket]:
    """The centre's and units' work queues."""
    now = now or timezone.now()
    qs = ticket_queryset_for_user(user=user)
    if queue == "pending_dispatch":
        return qs.filter(status=Status.PENDING_DISPATCH).order_by("dispatch_deadline", "id")
    if queue == "return_pending":
        return qs.filter(status=Status.RETURN_PENDING).order_by("updated_at", "id")
    if queue == "extension_pending":
        return qs.filter(extension_requests__status=RequestStatus.PENDING).order_by("handle_deadline", "id")
    if queue == "replied":
        return qs.filter(status=Status.REPLIED).order_by("replied_at", "id")
    if queue == "pending_callback":
        return qs.filter(status=Status.PENDING_CALLBACK).order_by("replied_at", "id")
    if queue == "overdue":
        return qs.filter(overdue_q(now)).order_by("handle_deadline", "id")
    if queue == "due_soon":
        return qs.filter(due_soon_q(now)).order_by("handle_deadline", "id")
    if queue == "inbox":  # a unit's open tickets, most urgent first
        return qs.filter(status__in=[Status.PENDING_SIGN, Status.HANDLING, Status.RETURN_PENDING]).order_by(
            "handle_deadline", "id"
        )
    raise NotFound(f"没有名为“{queue}”的队列。")


QUEUES = {
    "pending_dispatch": "待派单",
    "return_pending": "退单待审",
    "extension_pending": "延期待审",
    "replied": "待审核",
    "pending_callback": "待回访",
    "overdue": "已超期",
    "due_soon": "即将超期",
    "inbox": "本单位待办",
}


def tickets_by_caller(*, user: User, phone: str, days: int | None = None) -> QuerySet[Ticket]:
    """A caller's earlier tickets (repeat-call lookup), by the HMAC of the normalised number."""
    digest = phone_digest(phone_normalise(phone))
    if not digest:
        return Ticket.objects.none()
    qs = ticket_queryset_for_user(user=user).filter(caller_phone_digest=digest)
    if days:
        qs = qs.filter(registered_at__gte=timezone.now() - timedelta(days=days))
    return qs.order_by("-registered_at")


def open_tickets_by_caller(*, user: User, phone: str) -> QuerySet[Ticket]:
    return tickets_by_caller(user=user, phone=phone).filter(status__in=OPEN_STATUSES)
