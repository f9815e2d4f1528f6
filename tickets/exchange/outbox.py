"""The outbox of results reported to upper platforms.

A message is written in the same transaction as the reply or close that produced it, so it exists
exactly when that change exists. It is delivered by ``outbox_deliver_task`` (queued after commit),
retried with exponential backoff, and swept by a beat job, so nothing is lost when Redis, the
worker or the upstream is down. Every attempt carries the message's ``Idempotency-Key``, so the
platform records it once however often it arrives.

A platform without a reply address is in **file exchange** (文件交换): its results are written
``awaiting_export`` and never tried; the centre downloads them as an XLSX/CSV file for upload to the
platform (``outbox_export``), which marks them ``exported`` and records the export.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .. import permissions
from ..exceptions import InvalidInput, InvalidTransition
from ..models import (
    ExportFormat,
    OutboxExport,
    OutboxMessage,
    OutboxStatus,
    Source,
    Ticket,
    UpperPlatform,
    User,
)
from .delivery import Mailbox, Skip, post_json


def backoff_seconds(attempts: int) -> float:
    return OUTBOX.backoff_seconds(attempts)


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def outbox_payload(*, ticket: Ticket, kind: str, key: str) -> dict:
    return {
        "idempotency_key": key,
        "event": kind,
        "upstream_number": ticket.upstream_number,
        "ticket_number": ticket.number,
        "status": ticket.status,
        "status_label": ticket.get_status_display(),
        "unit": ticket.unit.name if ticket.unit_id else "",
        "reply_text": ticket.reply_text,
        "replied_at": _iso(ticket.replied_at),
        "closed_at": _iso(ticket.closed_at),
        "callback_result": ticket.callback_result,
        "callback_resolved": ticket.callback_resolved,
    }


def _enqueue(message_id: int) -> None:
    """Queue one delivery (looked up at call time, so tests can deliver inline instead)."""
    OUTBOX.enqueue(message_id)


@transaction.atomic
def outbox_record(*, ticket: Ticket, kind: str) -> OutboxMessage | None:
    """Queue ``ticket``'s result (``kind`` = "reply" or "close") for its upper platform, inside the
    caller's transaction. Tickets not handed down from a platform are ignored."""
    if ticket.source != Source.UPPER or not ticket.platform_id:
        return None
    key = uuid.uuid4().hex
    file_exchange = ticket.platform.file_exchange
    message = OutboxMessage.objects.create(
        platform_id=ticket.platform_id, ticket=ticket, kind=kind, idempotency_key=key,
        payload=outbox_payload(ticket=ticket, kind=kind, key=key),
        status=OutboxStatus.AWAITING_EXPORT if file_exchange else OutboxStatus.PENDING,
    )
    if not file_exchange:
        OUTBOX.enqueue_on_commit(message.pk, lambda pk: _enqueue(pk))
    return message


def _send(message: OutboxMessage) -> None:
    url = message.platform.reply_url
    if not url:  # the address was removed since: the result waits for a file instead of failing
        raise Skip(f"上级平台“{message.platform.name}”未配置结果回传地址，改为文件交换，请导出上报。")
    post_json(url, message.payload, key=message.idempotency_key, timeout=OUTBOX.timeout(),
              agent="hotline12345-outbox")


OUTBOX = Mailbox(name="outbox", model=OutboxMessage, send=_send, task="tickets.exchange.tasks.outbox_deliver_task",
                 prefix="HOTLINE_OUTBOX", related=("platform",), skip_status=OutboxStatus.AWAITING_EXPORT)


def outbox_deliver(*, message_id: int, force: bool = False) -> OutboxMessage | None:
    """One delivery attempt, under a row lock so that two workers never send the same message at
    once. Not due yet (and not ``force``), already sent or failed: nothing happens."""
    return OUTBOX.deliver(message_id, force=force)


def outbox_due_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    return OUTBOX.due_ids(now=now, limit=limit)


def outbox_sweep(*, now: datetime | None = None) -> int:
    """Queue every pending message whose attempt is due (the beat job; also recovers messages whose
    task was lost with Redis)."""
    return OUTBOX.sweep(now=now, enqueue=lambda pk: _enqueue(pk))


@transaction.atomic
def outbox_resend(*, message: OutboxMessage, actor: User) -> OutboxMessage:
    """The centre resends a failed (or stuck) message: same idempotency key, a fresh set of attempts."""
    permissions.require_action(actor, "dispatch")
    message = OutboxMessage.objects.select_related("platform").select_for_update(of=("self",)).get(pk=message.pk)
    if message.status == OutboxStatus.SENT:
        raise InvalidTransition("该结果已送达上级平台，无需重发。", code="outbox_sent")
    if message.platform.file_exchange:
        raise InvalidTransition(f"上级平台“{message.platform.name}”未配置结果回传地址（文件交换），请导出上报文件。",
                                code="outbox_file_exchange")
    OUTBOX.reopen(message)
    OUTBOX.enqueue_on_commit(message.pk, lambda pk: _enqueue(pk))
    return message


# --------------------------------------------------------------------------------------------
# File exchange: results of platforms without a reply address, exported for upload
# --------------------------------------------------------------------------------------------

EXPORT_COLUMNS = [
    ("上级工单编号", "upstream_number"), ("工单编号", "ticket_number"), ("类型", "event"), ("状态", "status_label"),
    ("承办单位", "unit"), ("答复内容", "reply_text"), ("答复时间", "replied_at"), ("办结时间", "closed_at"),
    ("回访结果", "callback_result"), ("是否解决", "callback_resolved"), ("幂等键", "idempotency_key"),
]
_KINDS = {"reply": "答复", "close": "办结"}
_CALLBACKS = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}


def _cell(name: str, payload: dict) -> str:
    value = payload.get(name)
    if name == "event":
        return _KINDS.get(value, value or "")
    if name == "callback_result":
        return _CALLBACKS.get(value, value or "")
    if name == "callback_resolved":
        return {True: "是", False: "否"}.get(value, "")
    if name in ("replied_at", "closed_at") and value:
        return value[:16].replace("T", " ")
    return "" if value is None else str(value)


def outbox_export_rows(export: OutboxExport) -> list[list[str]]:
    """The rows of an export (from the results' stored payloads, so a second download has the same rows)."""
    messages = export.messages.order_by("created_at", "id")
    return [[_cell(name, m.payload) for _, name in EXPORT_COLUMNS] for m in messages]


def outbox_export_file(export: OutboxExport) -> tuple[bytes, str, str]:
    """(content, content type, file name) of an export."""
    headers = [label for label, _ in EXPORT_COLUMNS]
    rows = outbox_export_rows(export)
    stamp = timezone.localtime(export.created_at).strftime("%Y%m%d-%H%M%S")
    name = f"上报结果-{export.platform.name}-{stamp}.{export.format}"
    if export.format == ExportFormat.CSV:
        return _csv_bytes(headers, rows), "text/csv; charset=utf-8", name
    return _xlsx_bytes(headers, rows), XLSX_TYPE, name


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _csv_bytes(headers: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode()  # with BOM: Excel opens it as UTF-8


def _xlsx_bytes(headers: list[str], rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("上报结果")
    sheet.append(headers)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # text as text: a reply starting with "=" is not a formula
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@transaction.atomic
def outbox_export(*, platform: UpperPlatform, actor: User, format: str = ExportFormat.XLSX) -> OutboxExport:
    """Export every result of ``platform`` waiting for a file: they become ``exported`` and the export
    is recorded (who, when, format, how many). Nothing waiting: refused, nothing recorded."""
    permissions.require_action(actor, "dispatch")
    if format not in ExportFormat.values:
        raise InvalidInput("导出格式只能是xlsx或csv。", fields={"format": ["无效的格式。"]})
    waiting = list(OutboxMessage.objects.select_for_update().filter(
        platform=platform, status=OutboxStatus.AWAITING_EXPORT).values_list("pk", flat=True))
    if not waiting:
        raise InvalidTransition(f"上级平台“{platform.name}”没有待导出上报的结果。", code="outbox_nothing_to_export")
    export = OutboxExport.objects.create(platform=platform, format=format, count=len(waiting), created_by=actor)
    OutboxMessage.objects.filter(pk__in=waiting).update(status=OutboxStatus.EXPORTED, export=export,
                                                       sent_at=export.created_at, last_error="")
    return export
