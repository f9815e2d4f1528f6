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
from .services.deadlines import due_soon_q, overdue_q  # noqa: F401  (re-exported; the one place is services/deadlines.py)

# Joined in the list query. PostgreSQL's planning time grows steeply with each LEFT JOIN it may
# reorder (with 100,000 tickets: 5 joins plan in ~3 ms, 7 in ~27 ms while execution takes < 1 ms),
# so the two tiny tables that few tickets use are fetched by ``prefetch_related`` instead.
LIST_RELATED = ("appeal_type", "category", "category__parent", "township", "unit")
LIST_PREFETCHED = ("channel", "platform")


def ticket_queryset_for_user(*, user: User) -> QuerySet[Ticket]:
    """The tickets ``user`` may see: the whole centre for centre roles, the unit's own for a unit
    handler (only while the ticket is assigned to that unit), nothing for anyone else."""
    if not (user and user.is_authenticated and user.is_active):
        return Ticket.objects.none()
    qs = Ticket.objects.select_related(*LIST_RELATED).prefetch_related(*LIST_PREFETCHED)
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
    if queue == "pending_callback":  # and 回访不满意, waiting for the centre's 重办 or 研判办结
        return qs.filter(status__in=[Status.PENDING_CALLBACK, Status.UNSATISFIED]).order_by("replied_at", "id")
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


# --- Reads for the operator's new-call page and the dispatcher's form -------------------------


def ticket_duplicates(*, user: User, caller_phone: str = "", township_id: int | None = None,
                      category_id: int | None = None, days: int = 30, limit: int = 10) -> list[Ticket]:
    """Possible duplicates of a new call: tickets of the last ``days`` days with the same caller
    number, or with the same township and category; open tickets first."""
    since = timezone.now() - timedelta(days=days)
    condition = Q()
    try:
        digest = phone_digest(phone_normalise(caller_phone))
    except Exception:  # an incomplete number while the operator types
        digest = ""
    if digest:
        condition |= Q(caller_phone_digest=digest)
    if township_id and category_id:
        condition |= Q(township_id=township_id, category_id=category_id)
    if not condition:
        return []
    qs = ticket_queryset_for_user(user=user).filter(condition, registered_at__gte=since).exclude(
        status=Status.MERGED)
    return sorted(qs.order_by("-registered_at")[:limit], key=lambda t: (not t.is_open, -t.registered_at.timestamp()))


def unit_suggestions(*, ticket: Ticket, limit: int = 3, days: int = 365) -> list[dict]:
    """Units that handled tickets of the same category in the same township (then the same category
    anywhere) during the last ``days`` days, most frequent first; the township's own government last."""
    from django.db.models import Count

    from .models import Unit

    since = timezone.now() - timedelta(days=days)
    base = Ticket.objects.filter(category_id=ticket.category_id, unit__isnull=False, unit__active=True,
                                 registered_at__gte=since).exclude(pk=ticket.pk)
    found: list[dict] = []
    seen: set[int] = set()
    scopes = [base.filter(township_id=ticket.township_id)] if ticket.township_id else []
    scopes.append(base)
    for reason, qs in zip(["同乡镇同类工单", "同类工单"][-len(scopes):], scopes, strict=True):
        for row in qs.values("unit_id", "unit__short_name").annotate(n=Count("id")).order_by("-n", "unit_id")[:limit]:
            if row["unit_id"] not in seen and len(found) < limit:
                seen.add(row["unit_id"])
                found.append({"unit_id": row["unit_id"], "name": row["unit__short_name"], "count": row["n"],
                              "reason": reason})
    if ticket.township_id and ticket.township_id not in seen and len(found) < limit:
        township = Unit.objects.filter(pk=ticket.township_id, active=True).values("id", "short_name").first()
        if township:
            found.append({"unit_id": township["id"], "name": township["short_name"], "count": 0,
                          "reason": "事发乡镇"})
    return found


def knowledge_answers(*, user: User, category_id: int | None, text: str = "", limit: int = 5) -> list[dict]:
    """Earlier public answers (closed tickets with a reply) of the same category, newest first,
    one per distinct answer: the operator's knowledge base for answering on the spot."""
    if not category_id:
        return []
    qs = ticket_queryset_for_user(user=user).filter(
        category_id=category_id, status=Status.CLOSED, closed_by_judgement=False).exclude(reply_text="")
    if text:
        qs = qs.filter(Q(content__icontains=text) | Q(reply_text__icontains=text))
    answers: list[dict] = []
    seen: set[str] = set()
    for number, reply, closed_at in qs.order_by("-closed_at").values_list("number", "reply_text", "closed_at")[:50]:
        if reply not in seen:
            seen.add(reply)
            answers.append({"number": number, "reply_text": reply, "closed_at": closed_at})
        if len(answers) >= limit:
            break
    return answers
