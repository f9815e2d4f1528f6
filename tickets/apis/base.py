"""What every API view of the app shares: authentication order, role checks. (The client's address:
``tickets.net.client_ip``.)"""

from __future__ import annotations

from rest_framework.permissions import IsAuthenticated

from ..permissions import has_role
from .authentication import CsrfCheckedSessionAuthentication, ExpiringTokenAuthentication

# Token first, so that an anonymous request gets 401 with ``WWW-Authenticate: Token`` (DRF answers
# 403 when the first class is session authentication); both are accepted either way.
AUTHENTICATION = [ExpiringTokenAuthentication, CsrfCheckedSessionAuthentication]


class ApiMixin:
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]


class RoleRequired(IsAuthenticated):
    """``view.read_roles`` for GET, ``view.write_roles`` for POST; ``None`` means any signed-in user."""

    message = "您的角色无权执行此操作。"

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.method in ("GET", "HEAD", "OPTIONS"):
            roles = getattr(view, "read_roles", None)
        else:
            roles = getattr(view, "write_roles", None)
        return roles is None or has_role(request.user, roles)
