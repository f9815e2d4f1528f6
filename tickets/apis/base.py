"""What every API view of the app shares: authentication order, role checks, client IP."""

from __future__ import annotations

from axes.helpers import get_client_ip_address
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


def client_ip(request) -> str | None:
    django_request = getattr(request, "_request", request)
    try:
        return get_client_ip_address(django_request) or None
    except Exception:  # never let the access log break a page
        return django_request.META.get("REMOTE_ADDR") or None
