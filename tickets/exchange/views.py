"""The centre's page of results reported to upper platforms: pending and failed, with resend."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from ..exceptions import ApplicationError
from ..models import OutboxMessage, OutboxStatus
from ..permissions import CENTRE_ROLES, has_role
from .outbox import outbox_resend


def may_see_outbox(user) -> bool:
    """上报上级: the centre's roles (this page and the menu)."""
    return has_role(user, CENTRE_ROLES)


@login_required
def outbox_page(request):
    if not may_see_outbox(request.user):
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
