"""Registering tickets and calls, and numbering tickets."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
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
    idempotency_key: str | None = None,
    idempotency_fingerprint: str | None = None,
) -> Ticket:
    """Register a ticket. 协调办理 tickets are settled on the spot: closed at once with the answer.
    Everything else waits for dispatch (待派单) with a dispatch deadline.

    ``idempotency_key`` / ``idempotency_fingerprint`` are stored on the ticket; callers with a key
    use ``ticket_create_idempotent``, which answers a repeated key with the ticket it registered."""
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
        idempotency_key=idempotency_key,
        idempotency_fingerprint=idempotency_fingerprint,
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


# --- Idempotent registration (``Idempotency-Key``) -------------------------------------------

IDEMPOTENCY_KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,100}")  # visible ASCII, no spaces


def idempotency_key_check(value: str | None) -> str | None:
    """``value`` if it is a usable key (1–100 visible ASCII characters), None if there is none;
    anything else is ``InvalidInput`` with the stable code ``invalid_idempotency_key``."""
    if value is None:
        return None
    if not IDEMPOTENCY_KEY_PATTERN.fullmatch(value):
        message = "Idempotency-Key 须为 1 至 100 个可见 ASCII 字符（字母、数字或符号，不含空格和汉字）。"
        raise InvalidInput(message, code="invalid_idempotency_key", fields={"Idempotency-Key": [message]})
    return value


def registration_fingerprint(fields: dict) -> str:
    """HMAC-SHA256 of the canonical JSON of a registration's validated input (objects by their
    id, datetimes in ISO form, keys sorted). Keyed with the caller-number HMAC key, not a bare
    hash: the input holds the caller's name and number, which the row itself only keeps encrypted."""

    def plain(value):
        if isinstance(value, models.Model):
            return value.pk
        if isinstance(value, datetime | date):
            return value.isoformat()
        return str(value)

    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=plain)
    return hmac.new(settings.CALLER_HMAC_KEY.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def _registered_with_key(*, actor: User, key: str, fingerprint: str) -> Ticket | None:
    ticket = Ticket.objects.filter(registered_by=actor, idempotency_key=key).order_by("pk").first()
    if ticket is not None and ticket.idempotency_fingerprint != fingerprint:
        raise Conflict(f"该 Idempotency-Key 已用于登记工单{ticket.number}，但本次请求的内容与当时不同；"
                       "新的登记请换一个新的键。", code="idempotency_key_reused")
    return ticket


@transaction.atomic
def ticket_create_idempotent(*, actor: User, idempotency_key: str, check_role: bool = True,
                             **fields) -> tuple[Ticket, bool]:
    """``ticket_create`` at most once per (``actor``, ``idempotency_key``): returns ``(ticket, created)``.

    The same key with the same input again (a client retrying after a 503 or a lost answer) gives
    the ticket it registered, ``created=False``; with different input, ``Conflict``
    ``idempotency_key_reused``. The guarantee is the unique constraint on (registered_by,
    idempotency_key), not the look-up: a request racing another with the same key waits for the
    other's insert, fails on the constraint, rolls back to ``ticket_create``'s savepoint (its day
    number with it) and answers with the winner's ticket."""
    if check_role:
        permissions.require_action(actor, "register")
    key = idempotency_key_check(idempotency_key)
    if key is None or actor is None:
        raise InvalidInput("幂等登记需要登记人和 Idempotency-Key。", code="invalid_idempotency_key")
    fingerprint = registration_fingerprint(fields)
    if (existing := _registered_with_key(actor=actor, key=key, fingerprint=fingerprint)) is not None:
        return existing, False
    try:
        ticket = ticket_create(actor=actor, check_role=False, idempotency_key=key,
                               idempotency_fingerprint=fingerprint, **fields)
    except Conflict as exc:
        if not isinstance(exc.__cause__, IntegrityError):
            raise
        # Read committed: this statement sees the request that won the race, if that was the cause.
        if (existing := _registered_with_key(actor=actor, key=key, fingerprint=fingerprint)) is None:
            raise
        return existing, False
    return ticket, True


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
