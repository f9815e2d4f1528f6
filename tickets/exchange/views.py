"""The centre's page of results reported to upper platforms: pending and failed, with resend; for
platforms without a reply address (file exchange) the waiting results are exported for upload. And the
ticket list's export."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from ..exceptions import ApplicationError
from ..filters import TicketFilter
from ..inputs import parse_id
from ..models import ExportFormat, OutboxExport, OutboxMessage, OutboxStatus, UpperPlatform
from ..net import client_ip
from ..permissions import CENTRE_ROLES, has_role
from ..selectors import ticket_queryset_for_user
from .export import export_detail, tickets_export_xlsx, xlsx_response
from .outbox import outbox_export, outbox_export_file, outbox_resend

logger = logging.getLogger(__name__)
OPEN = (OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.AWAITING_EXPORT)


def _require_centre(request) -> None:
    if not may_see_outbox(request.user):
        raise PermissionDenied


def may_see_outbox(user) -> bool:
    """上报上级: the centre's roles (this page and the menu)."""
    return has_role(user, CENTRE_ROLES)


@login_required
def outbox_page(request):
    if not may_see_outbox(request.user):
        raise PermissionDenied
    if request.method == "POST":
        message_id = parse_id(request.POST.get("message"))
        message = OutboxMessage.objects.filter(pk=message_id).first() if message_id else None
        if message is None:
            messages.error(request, "没有这条回传记录。")
        else:
            try:
                outbox_resend(message=message, actor=request.user)
                messages.success(request, f"已重新发送工单{message.ticket.number}的结果。")
            except ApplicationError as exc:
                messages.error(request, exc.message)
        return redirect("exchange:outbox")
    wanted = request.GET.get("status") or "open"
    qs = OutboxMessage.objects.select_related("ticket", "platform")
    qs = qs.filter(status__in=OPEN) if wanted == "open" else qs.filter(status=wanted)
    counts = {s: OutboxMessage.objects.filter(status=s).count() for s in OutboxStatus.values}
    platforms = UpperPlatform.objects.filter(active=True).annotate(
        awaiting=Count("outbox", filter=Q(outbox__status=OutboxStatus.AWAITING_EXPORT)))
    return render(request, "tickets/exchange/outbox.html", {
        "rows": qs[:200], "wanted": wanted, "counts": counts, "open_count": sum(counts[s] for s in OPEN),
        "statuses": OutboxStatus.choices, "platforms": platforms, "formats": ExportFormat.choices,
        "exports": OutboxExport.objects.select_related("platform", "created_by")[:20],
    })


@login_required
@require_POST
def outbox_export_create(request):
    """Export a file-exchange platform's waiting results; the browser then downloads the file."""
    _require_centre(request)
    platform = UpperPlatform.objects.filter(pk=request.POST.get("platform") or 0).first() \
        if (request.POST.get("platform") or "").isdigit() else None
    if platform is None:
        messages.error(request, "请选择上级平台。")
        return redirect("exchange:outbox")
    try:
        export = outbox_export(platform=platform, actor=request.user,
                               format=request.POST.get("format") or ExportFormat.XLSX)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("exchange:outbox")
    return redirect("exchange:outbox-export", export_id=export.pk)


@login_required
def outbox_export_download(request, export_id: int):
    """The file of a recorded export (rebuilt from the payloads of the results it carried: the same rows
    every time)."""
    _require_centre(request)
    export = get_object_or_404(OutboxExport.objects.select_related("platform"), pk=export_id)
    content, content_type, name = outbox_export_file(export)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename=\"outbox-{export.pk}.{export.format}\"; " \
                                      f"filename*=UTF-8''{quote(name)}"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def ticket_export_page(request):
    """The ticket list's export: GET masked; POST with a ``reason`` the full export (same rules as
    the API, ``tickets_export_xlsx``). A refusal goes back to the list with the reason."""
    back = f"{reverse('tickets:list')}?{request.GET.urlencode()}"
    full = request.method == "POST"
    try:
        filterset = TicketFilter(request.GET, queryset=ticket_queryset_for_user(user=request.user), request=request)
        if not filterset.is_valid():
            messages.error(request, "筛选条件有误，未导出。")
            return redirect(back)
        handle, _count = tickets_export_xlsx(
            queryset=filterset.qs, user=request.user, full=full, reason=request.POST.get("reason", "") if full else "",
            detail=export_detail(request.GET), ip_address=client_ip(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    return xlsx_response(handle)


@csrf_exempt
@require_POST
def demo_upper_platform_replies(request):
    """The demo's upper platform in 接口回传 mode (``seed_demo`` points 平顶山市热线中心 here): accepts
    the results the outbox posts, on loopback and in development (``DJANGO_DEBUG=1``) only."""
    if not settings.DEBUG or request.META.get("REMOTE_ADDR") not in ("127.0.0.1", "::1"):
        raise Http404
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"detail": "请求体不是有效的JSON。"}, status=400)
    key = request.headers.get("Idempotency-Key", "")
    logger.info("演示上级平台收到工单%s的%s结果（幂等键%s）", body.get("ticket_number"), body.get("event"), key)
    return JsonResponse({"received": key})
