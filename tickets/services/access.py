"""The caller-data access log: every view of full caller data, every export and print."""

from __future__ import annotations

from ..models import AccessAction, CallerDataAccess, Ticket, User


def caller_access_record(
    *, user: User, action: str = AccessAction.VIEW, ticket: Ticket | None = None, detail: str = "",
    ip_address: str | None = None,
) -> CallerDataAccess:
    """Append one row to the access log (who saw or exported full caller data, and when).

    A single INSERT: atomic on its own, and part of the caller's transaction when there is one."""
    row = CallerDataAccess(user=user, action=action, ticket=ticket, detail=detail[:300], ip_address=ip_address or None)
    row.full_clean(exclude=["user", "ticket"], validate_unique=False, validate_constraints=False)
    row.save()
    return row
