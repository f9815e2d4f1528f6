"""Web pages of the tickets app. Pages call the same selectors and services as the API."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .models import Role
from .selectors import QUEUES, ticket_queue, ticket_queryset_for_user

ROLE_QUEUES = {
    Role.OPERATOR: ["pending_dispatch", "overdue"],
    Role.DISPATCHER: ["pending_dispatch", "return_pending", "extension_pending", "replied", "pending_callback",
                      "due_soon", "overdue"],
    Role.ADMIN: ["pending_dispatch", "return_pending", "extension_pending", "replied", "pending_callback",
                 "due_soon", "overdue"],
    Role.UNIT_HANDLER: ["inbox", "due_soon", "overdue"],
    Role.LEADER: ["overdue", "due_soon"],
    Role.ASSESSOR: ["overdue"],
    Role.EDITOR: [],
}


@login_required
def home(request):
    user = request.user
    queues = [
        {"key": key, "label": QUEUES[key], "count": ticket_queue(user=user, queue=key).count()}
        for key in ROLE_QUEUES.get(user.role, [])
    ]
    context = {
        "queues": queues,
        "visible_total": ticket_queryset_for_user(user=user).count(),
    }
    return render(request, "tickets/home.html", context)
