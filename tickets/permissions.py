"""Who may do what. Services check these; API permission classes and views reuse them."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from .exceptions import PermissionDenied
from .models import ImportKind, Role

REGISTER_ROLES = frozenset({Role.OPERATOR, Role.DISPATCHER, Role.ADMIN})
CENTRE_ROLES = frozenset({Role.DISPATCHER, Role.ADMIN})
UNIT_ROLES = frozenset({Role.UNIT_HANDLER})
ASSESS_ROLES = frozenset({Role.ASSESSOR, Role.ADMIN})
EDIT_ROLES = frozenset({Role.EDITOR, Role.ADMIN})
# Roles that see the whole centre's tickets (read); unit handlers see their unit's only.
CENTRE_READ_ROLES = frozenset(
    {Role.OPERATOR, Role.DISPATCHER, Role.ASSESSOR, Role.EDITOR, Role.LEADER, Role.ADMIN}
)
# The centre's management pages (leader dashboard, assessment tables): not the call-takers.
MANAGEMENT_READ_ROLES = CENTRE_READ_ROLES - {Role.OPERATOR}
# Roles that may see callers' full names and numbers (every such view is logged).
FULL_CALLER_ROLES = frozenset({Role.OPERATOR, Role.DISPATCHER, Role.ADMIN})
# Who may import which kind of file (units, tickets, calls: the centre; stationing: the assessors).
IMPORT_ROLES: dict[str, frozenset[str]] = {
    ImportKind.UNITS: CENTRE_ROLES,
    ImportKind.TICKETS: CENTRE_ROLES,
    ImportKind.CALLS: CENTRE_ROLES,
    ImportKind.STATIONING: ASSESS_ROLES,
}
# The call log (话务记录): the centre's call takers, and leaders for the volume.
CALL_READ_ROLES = frozenset({Role.OPERATOR, Role.DISPATCHER, Role.ADMIN, Role.LEADER})
# The monthly bulletin: editors write, hold and publish it; assessors may also (re)build a draft.
BULLETIN_EDIT_ROLES = EDIT_ROLES
BULLETIN_BUILD_ROLES = frozenset({Role.EDITOR, Role.ASSESSOR, Role.ADMIN})
# Who reads a draft bulletin — its edit page and the API alike: those who build or edit it.
BULLETIN_DRAFT_ROLES = BULLETIN_EDIT_ROLES | BULLETIN_BUILD_ROLES

ACTION_ROLES: dict[str, frozenset[str]] = {
    "register": REGISTER_ROLES,
    "call": REGISTER_ROLES,
    "dispatch": CENTRE_ROLES,
    "redispatch": CENTRE_ROLES,
    "recall": CENTRE_ROLES,
    "return_decide": CENTRE_ROLES,
    "extension_decide": CENTRE_ROLES,
    "review": CENTRE_ROLES,
    "callback": CENTRE_ROLES,
    "redo": CENTRE_ROLES,
    "judge_close": CENTRE_ROLES,
    "merge": CENTRE_ROLES,
    "urge": CENTRE_ROLES,
    "supervise": CENTRE_ROLES,
    "grant_contact": CENTRE_ROLES,
    "sign": UNIT_ROLES,
    "first_feedback": UNIT_ROLES,
    "return_request": UNIT_ROLES,
    "extension_request": UNIT_ROLES,
    "reply": UNIT_ROLES,
}


def has_role(user, roles) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.role in roles)


def require_action(user, action: str) -> None:
    if not has_role(user, ACTION_ROLES[action]):
        raise PermissionDenied()


def require_unit_of(user, ticket) -> None:
    """A unit handler acts only on tickets currently assigned to their own unit."""
    if user.role == Role.UNIT_HANDLER and (ticket.unit_id is None or ticket.unit_id != user.unit_id):
        raise PermissionDenied("只能办理本单位的工单。")


class RolePermission(BasePermission):
    """DRF permission: ``roles`` for writes, ``read_roles`` (default: all signed-in) for reads."""

    roles: frozenset[str] = frozenset()
    read_roles: frozenset[str] | None = None

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in ("GET", "HEAD", "OPTIONS"):
            roles = getattr(view, "read_roles", None) or self.read_roles
            return roles is None or user.role in roles
        roles = getattr(view, "write_roles", None) or self.roles
        return user.role in roles
