"""Registering tickets and calls, and numbering tickets."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from .. import permissions
from ..exceptions import Conflict, InvalidInput
from ..models import (
    OPEN_STATUSES,
    AppealType,
    AssessmentGroup,
    Call,
    CallKind,
    Category,
    Channel,
    EventType,
    HandlingMode,
    Source,
    Status,
    Ticket,
    TicketSequence,
    Unit,
    UpperPlatform,
    User,
)
from ..privacy import phone_digest, phone_normalise
from ..workcalendar import local_tz
from .common import event_record
from .deadlines import dispatch_deadline_for


def ticket_number_next(*, at: datetime | None = None) -> str:
    """Next number of the day, ``RZ2024040100001``: unique under concurrency.

    The day's counter row is incremented with ``UPDATE … SET value = value + 1``, which takes a
    row lock held to the end of the caller's transaction, so concurrent registrations queue for
    that moment only (callers take the number as late as possible in their transaction)."""
    key = (at or timezone.now()).astimezone(local_tz()).strftime("%Y%m%d")
    value = _sequence_increment(key)
    if value is None:
        if not TicketSequence.objects.filter(key=key).update(value=F("value") + 1):
            try:
                with transaction.atomic():
                    TicketSequence.objects.create(key=key, value=1)
            except IntegrityError:
                TicketSequence.objects.filter(key=key).update(value=F("value") + 1)
        value = TicketSequence.objects.values_list("value", flat=True).get(key=key)
    return f"{settings.HOTLINE_TICKET_PREFIX}{key}{value:05d}"


def _sequence_increment(key: str) -> int | None:
    """``UPDATE … SET value = value + 1 … RETURNING value``: increment and read in one round trip
    while the row lock is held (PostgreSQL; SQLite ≥ 3.35). None when the day's row does not exist
    yet or the database cannot return from an UPDATE."""
    if connection.vendor not in ("postgresql", "sqlite") or (
        connection.vendor == "sqlite" and connection.Database.sqlite_version_info < (3, 35)
    ):
        return None
    qn = connection.ops.quote_name
    sql = (f"UPDATE {qn(TicketSequence._meta.db_table)} SET {qn('value')} = {qn('value')} + 1 "
           f"WHERE {qn('key')} = %s RETURNING {qn('value')}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
    return row[0] if row else None


def _validation(exc: ValidationError) -> InvalidInput:
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    first = next(iter(fields.values()))[0] if fields else "输入有误。"
    return InvalidInput(f"输入有误：{first}", fields=fields)


_RELATIONS = [f.name for f in Ticket._meta.concrete_fields if f.is_relation]


@transaction.atomic
def ticket_create(
    *,
    actor: User | None,
    appeal_type: AppealType,
    category: Category,
    content: str,
    source: str = Source.LOCAL,
    handling_mode: str = HandlingMode.DISPATCHED,
    channel: Channel | None = None,
    platform: UpperPlatform | None = None,
    upstream_number: str = "",
    upstream_deadline: datetime | None = None,
    title: str = "",
    caller_name: str = "",
    caller_phone: str = "",
    address: str = "",
    township: Unit | None = None,
    urgent: bool = False,
    confidential: bool = False,
    reply_text: str = "",
    registered_at: datetime | None = None,
    number: str | None = None,
    check_role: bool = True,
) -> Ticket:
    """Register a ticket. 协调办理 tickets are settled on the spot: closed at once with the answer.
    Everything else waits for dispatch (待派单) with a dispatch deadline."""
    if check_role:
        permissions.require_action(actor, "register")
    errors: dict[str, list[str]] = {}
    if source == Source.UPPER:
        if platform is None:
            errors["platform"] = ["上级交办工单必须注明上级平台。"]
        handling_mode = HandlingMode.DISPATCHED
        channel = None
    else:
        platform = None
        if channel is None:
            errors["channel"] = ["本级登记工单必须注明来源渠道。"]
    if handling_mode == HandlingMode.COORDINATED and not reply_text.strip():
        errors["reply_text"] = ["协调办理的工单必须填写答复内容。"]
    if not (content or "").strip():
        errors["content"] = ["诉求内容不能为空。"]
    if category.parent_id is None:
        errors["category"] = ["请选择二级问题分类。"]
    elif not category.active:
        errors["category"] = ["该问题分类已停用。"]
    if township is not None and township.group != AssessmentGroup.TOWNSHIP:
        errors["township"] = ["所属乡镇必须是乡镇街道。"]
    if errors:
        raise InvalidInput("输入有误：" + next(iter(errors.values()))[0], fields=errors)

    normalised = phone_normalise(caller_phone)
    registered_at = registered_at or timezone.now()
    if upstream_number and platform is not None:
        if Ticket.objects.filter(platform=platform, upstream_number=upstream_number).exists():
            raise Conflict(f"上级工单编号{upstream_number}已登记。", code="duplicate_upstream_number")
    if number and Ticket.objects.filter(number=number).exists():
        raise Conflict(f"工单编号{number}已存在。", code="duplicate_number")

    ticket = Ticket(
        source=source,
        channel=channel,
        platform=platform,
        upstream_number=upstream_number,
        upstream_deadline=upstream_deadline,
        handling_mode=handling_mode,
        appeal_type=appeal_type,
        category=category,
        title=title,
        content=content.strip(),
        caller_name=caller_name.strip(),
        caller_phone=normalised,
        caller_phone_digest=phone_digest(normalised),
        address=address.strip(),
        township=township,
        urgent=urgent,
        confidential=confidential,
        registered_at=registered_at,
        registered_by=actor,
    )
    if handling_mode == HandlingMode.COORDINATED:
        ticket.status = Status.CLOSED
        ticket.reply_text = reply_text.strip()
        ticket.closed_at = registered_at
        ticket.replied_at = registered_at
    else:
        ticket.status = Status.PENDING_DISPATCH
        ticket.dispatch_deadline = dispatch_deadline_for(registered_at)
    ticket.number = number or "pending"
    try:
        ticket.full_clean(exclude=["number", *_RELATIONS], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise _validation(exc) from exc
    # Take the number last: the day's counter stays locked only for the inserts below.
    if not number:
        ticket.number = ticket_number_next(at=registered_at)
    try:
        ticket.save()  # no savepoint: an IntegrityError aborts this whole registration anyway
    except IntegrityError as exc:
        raise Conflict("工单编号或上级工单编号重复。", code="duplicate_number") from exc
    event_record(
        ticket=ticket, type=EventType.REGISTERED, actor=actor, to_status=Status.PENDING_DISPATCH,
        data={"source": source, "handling_mode": handling_mode}, at=registered_at,
    )
    if handling_mode == HandlingMode.COORDINATED:
        event_record(
            ticket=ticket, type=EventType.CLOSED_DIRECTLY, actor=actor, from_status=Status.PENDING_DISPATCH,
            to_status=Status.CLOSED, note=ticket.reply_text, at=registered_at,
        )
    return ticket


@transaction.atomic
def call_create(
    *,
    actor: User | None,
    caller_phone: str,
    called_at: datetime | None = None,
    kind: str = CallKind.NEW,
    ticket: Ticket | None = None,
    agent_no: str = "",
    duration_seconds: int | None = None,
    note: str = "",
    external_key: str | None = None,
    check_role: bool = True,
) -> Call:
    """Log a call. Every call counts in 话务量; a repeat call about an open ticket attaches to it."""
    if check_role:
        permissions.require_action(actor, "call")
    normalised = phone_normalise(caller_phone)
    if kind == CallKind.REPEAT:
        if ticket is None:
            raise InvalidInput("重复来电必须关联一张工单。", fields={"ticket": ["请选择来电所涉及的工单。"]})
        if ticket.status not in OPEN_STATUSES:
            raise InvalidInput("只能关联到未办结的工单。", code="ticket_not_open", fields={"ticket": ["该工单已办结。"]})
    call = Call(
        called_at=called_at or timezone.now(),
        caller_phone=normalised,
        caller_phone_digest=phone_digest(normalised),
        agent_no=agent_no or (getattr(actor, "agent_no", "") or ""),
        operator=actor,
        duration_seconds=duration_seconds,
        kind=kind,
        ticket=ticket,
        note=note,
        external_key=external_key,
    )
    try:
        call.full_clean(exclude=["operator", "ticket"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise _validation(exc) from exc
    call.save()
    if ticket is not None and kind == CallKind.REPEAT:
        event_record(ticket=ticket, type=EventType.CALL_ATTACHED, actor=actor, note=note,
                     data={"call_id": call.pk}, at=call.called_at)
    return call
