"""The ticket list as XLSX, in the column layout of ``import_tickets`` (a file exported here can be
imported elsewhere), with caller data as the user may see it, and every export logged."""

from __future__ import annotations

import io
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from ..imports.tickets import COLUMNS
from ..models import AccessAction, CallbackResult, HandlingMode, Source, Ticket, User
from ..privacy import caller_view
from ..services.access import caller_access_record

HEADERS = list(COLUMNS)
RELATED = ("channel", "platform", "appeal_type", "category__parent", "township", "unit")
SOURCE_LABELS = dict(Source.choices)
MODE_LABELS = dict(HandlingMode.choices)
CALLBACK_LABELS = dict(CallbackResult.choices)


def _time(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def ticket_export_row(*, ticket: Ticket, user: User) -> list:
    caller = caller_view(user=user, ticket=ticket)
    category = ticket.category
    return [
        ticket.number,
        _time(ticket.registered_at),
        SOURCE_LABELS[ticket.source],
        ticket.platform.name if ticket.source == Source.UPPER and ticket.platform_id else
        (ticket.channel.name if ticket.channel_id else ""),
        ticket.upstream_number,
        MODE_LABELS[ticket.handling_mode] if ticket.source == Source.LOCAL else "",
        ticket.appeal_type.name,
        f"{category.parent.name}—{category.name}" if category.parent_id else category.name,
        ticket.content,
        caller.name,
        caller.phone,
        ticket.address,
        ticket.township.name if ticket.township_id else "",
        ticket.unit.name if ticket.unit_id else "",
        _time(ticket.dispatched_at) if ticket.handling_mode == HandlingMode.DISPATCHED else "",
        _time(ticket.signed_at),
        _time(ticket.sign_deadline),
        _time(ticket.closed_at),
        _time(ticket.handle_deadline),
        ticket.return_count,
        ticket.extension_count,
        CALLBACK_LABELS.get(ticket.callback_result, ""),
        {True: "是", False: "否"}.get(ticket.callback_resolved, ""),
    ]


def tickets_export_xlsx(*, queryset: QuerySet[Ticket], user: User, detail: str = "",
                        ip_address: str | None = None) -> tuple[bytes, int]:
    """Build the workbook and log the export (who, when, how many, with which filter)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("工单")
    sheet.append(HEADERS)
    count = 0
    for ticket in queryset.select_related(*RELATED).order_by("registered_at", "id").iterator(chunk_size=2000):
        sheet.append(ticket_export_row(ticket=ticket, user=user))
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    caller_access_record(user=user, action=AccessAction.EXPORT, detail=f"导出工单{count}件 {detail}".strip(),
                         ip_address=ip_address)
    return buffer.getvalue(), count
