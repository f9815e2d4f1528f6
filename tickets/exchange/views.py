"""The centre's page of results reported to upper platforms (pending and failed, with resend), and the
ticket list's export."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from ..exceptions import ApplicationError
from ..filters import TicketFilter
from ..models import OutboxMessage, OutboxStatus
from ..permissions import CENTRE_ROLES, has_role
from ..selectors import ticket_queryset_for_user
from .export import export_detail, tickets_export_xlsx, xlsx_response
from .outbox import outbox_resend


@login_required
def outbox_page(request):
    if not has_role(request.user, CENTRE_ROLES):
        raise PermissionDenied
    if request.method == "POST":
        message = OutboxMessage.objects.filter(pk=request.POST.get("message")).first()
        if message is not None:
            try:
                outbox_resend(message=message, actor=request.user)
                messages.success(request, f"已重新发送工单{message.ticket.number}的结果。")
            except ApplicationError as exc:
                messages.error(request, exc.message)
        return redirect("exchange:outbox")
    wanted = request.GET.get("status") or "open"
    qs = OutboxMessage.objects.select_related("ticket", "platform")
    qs = qs.exclude(status=OutboxStatus.SENT) if wanted == "open" else qs.filter(status=wanted)
    counts = {s: OutboxMessage.objects.filter(status=s).count() for s in OutboxStatus.values}
    return render(request, "tickets/exchange/outbox.html",
                  {"rows": qs[:200], "wanted": wanted, "counts": counts, "statuses": OutboxStatus.choices})


@login_required
@require_http_methods(["GET", "POST"])
def ticket_export_page(request):
    """The ticket list's export: GET masked; POST with a ``reason`` the full export (same rules as
    the API, ``tickets_export_xlsx``). A refusal goes back to the list with the reason."""
    from ..views import client_ip

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
