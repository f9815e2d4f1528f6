"""The centre's page of results reported to upper platforms: pending and failed, with resend."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from ..exceptions import ApplicationError
from ..inputs import parse_id
from ..models import OutboxMessage, OutboxStatus
from ..permissions import CENTRE_ROLES, has_role
from .outbox import outbox_resend


@login_required
def outbox_page(request):
    if not has_role(request.user, CENTRE_ROLES):
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
    qs = qs.exclude(status=OutboxStatus.SENT) if wanted == "open" else qs.filter(status=wanted)
    counts = {s: OutboxMessage.objects.filter(status=s).count() for s in OutboxStatus.values}
    return render(request, "tickets/exchange/outbox.html",
                  {"rows": qs[:200], "wanted": wanted, "counts": counts, "statuses": OutboxStatus.choices})
