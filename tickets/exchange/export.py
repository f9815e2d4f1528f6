"""The ticket list as XLSX, in the column layout of ``import_tickets`` (a file exported here can be
imported elsewhere), and every export logged.

Caller data is masked in every export, for every role (as in lists). A full export — names and
numbers as the detail page shows them — is for the roles that may see full caller data
(``FULL_CALLER_ROLES``), needs a stated reason, holds at most ``HOTLINE_EXPORT_FULL_MAX_ROWS``
tickets, and logs every ticket it contains (one ``CallerDataAccess`` row each, with the reason).
The workbook is written row by row (openpyxl write-only) into a temporary file that the response
streams, so memory does not grow with the number of tickets. Cells go through ``spreadsheet_row``.
"""

from __future__ import annotations

import tempfile
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone

from ..exceptions import InvalidInput, PermissionDenied
from ..imports.tickets import COLUMNS
from ..models import AccessAction, CallbackResult, CallerDataAccess, HandlingMode, Source, Ticket, User
from ..permissions import FULL_CALLER_ROLES, has_role
from ..privacy import caller_view, masked_caller, query_redact
from ..services.access import caller_access_record
from ..spreadsheets import spreadsheet_row

HEADERS = list(COLUMNS)
RELATED = ("channel", "platform", "appeal_type", "category__parent", "township", "unit")
SOURCE_LABELS = dict(Source.choices)
MODE_LABELS = dict(HandlingMode.choices)
CALLBACK_LABELS = dict(CallbackResult.choices)
ORDER = ("registered_at", "id")
REASON_MAX = 200
CHUNK = 1000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOT_IN_DETAIL = ("full", "reason", "page")


def _time(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def export_full_max_rows() -> int:
    return int(settings.HOTLINE_EXPORT_FULL_MAX_ROWS)


def ticket_export_row(*, ticket: Ticket, user: User, full: bool = False) -> list:
    caller = caller_view(user=user, ticket=ticket) if full else masked_caller(user=user, ticket=ticket)
    category = ticket.category
    return spreadsheet_row([
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
    ])


def _full_export_check(*, queryset: QuerySet[Ticket], user: User, reason: str) -> list[int]:
    """The ids of a full export, in export order, or the reason it is refused."""
    if not has_role(user, FULL_CALLER_ROLES):
        raise PermissionDenied("您的角色不能导出完整的来电人信息，只能导出脱敏数据。", code="export_full_forbidden")
    if not reason:
        raise InvalidInput("导出完整的来电人信息须填写导出理由。", code="export_reason_required",
                           fields={"reason": ["请填写导出理由。"]})
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"导出理由不能超过{REASON_MAX}字。", code="invalid", fields={"reason": [f"不能超过{REASON_MAX}字。"]})
    limit = export_full_max_rows()
    ids = list(queryset.order_by(*ORDER).values_list("id", flat=True)[:limit + 1])
    if len(ids) > limit:
        raise InvalidInput(f"完整导出最多{limit}件工单，当前筛选结果超过{limit}件，请缩小筛选范围（或导出脱敏数据）。",
                           code="export_too_large", fields={"reason": [f"最多{limit}件。"]})
    return ids


def _tickets_by_ids(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        by_id = Ticket.objects.select_related(*RELATED).in_bulk(chunk)
        for pk in chunk:
            if pk in by_id:
                yield by_id[pk]


def tickets_export_xlsx(*, queryset: QuerySet[Ticket], user: User, full: bool = False, reason: str = "",
                        detail: str = "", ip_address: str | None = None):
    """Write the workbook into a temporary file (positioned at its start, deleted when closed) and
    log the export; returns ``(file, count)``. Raises ``PermissionDenied`` / ``InvalidInput`` (codes
    ``export_full_forbidden``, ``export_reason_required``, ``export_too_large``) for a refused full
    export, before anything is logged or written."""
    from openpyxl import Workbook

    reason = (reason or "").strip()
    if full:
        ids = _full_export_check(queryset=queryset, user=user, reason=reason)
        tickets = _tickets_by_ids(ids)
    else:
        tickets = queryset.select_related(*RELATED).order_by(*ORDER).iterator(chunk_size=2000)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("工单")
    sheet.append(HEADERS)
    count = 0
    for ticket in tickets:
        sheet.append(ticket_export_row(ticket=ticket, user=user, full=full))
        count += 1
    handle = tempfile.TemporaryFile()
    try:
        workbook.save(handle)
        handle.seek(0)
        if full:
            _full_export_log(user=user, ids=ids, reason=reason, detail=detail, ip_address=ip_address)
        else:
            caller_access_record(user=user, action=AccessAction.EXPORT, detail=f"导出工单{count}件 {detail}".strip(),
                                 ip_address=ip_address)
    except BaseException:
        handle.close()
        raise
    return handle, count


@transaction.atomic
def _full_export_log(*, user: User, ids: list[int], reason: str, detail: str, ip_address: str | None) -> None:
    """One access row per exported ticket, with the reason (and the filter), in one transaction."""
    text = f"完整导出{len(ids)}件 理由：{reason} {detail}".strip()[:300]
    first = CallerDataAccess(user=user, action=AccessAction.EXPORT, detail=text, ip_address=ip_address or None)
    first.full_clean(exclude=["user", "ticket"], validate_unique=False, validate_constraints=False)
    CallerDataAccess.objects.bulk_create(
        [CallerDataAccess(user=user, action=AccessAction.EXPORT, ticket_id=pk, detail=text,
                          ip_address=first.ip_address) for pk in ids],
        batch_size=CHUNK)


def export_detail(params) -> str:
    """The filter of an export as its access rows keep it (phone numbers redacted)."""
    kept = params.copy()
    for key in NOT_IN_DETAIL:
        kept.pop(key, None)
    return query_redact(kept.urlencode())[:200]


def xlsx_response(handle) -> FileResponse:
    """Stream the workbook's temporary file (closed, and so deleted, when the response is done)."""
    name = f"tickets-{timezone.localtime():%Y%m%d-%H%M%S}.xlsx"
    return FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX)
