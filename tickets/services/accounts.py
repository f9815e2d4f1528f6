"""API tokens: issued at login, valid for ``API_TOKEN_TTL_DAYS`` from their creation, revoked by an
administrator (admin action or ``DELETE /api/auth/tokens/<user_id>/``). One rule, here: ``token_expired``
is what the API's authentication (``tickets.apis.authentication.ExpiringTokenAuthentication``) checks."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from ..models import Role, User
from ..permissions import has_role

TOKEN_ADMIN_ROLES = frozenset({Role.ADMIN})


def token_lifetime() -> dt.timedelta:
    return dt.timedelta(days=settings.API_TOKEN_TTL_DAYS)


def token_expired(token: Token, *, now: dt.datetime | None = None) -> bool:
    return token.created <= (now or timezone.now()) - token_lifetime()


@transaction.atomic
def token_issue(*, user: User) -> Token:
    """The user's current token, or a new one when there is none or it has expired."""
    token = Token.objects.select_for_update().filter(user=user).first()
    if token is not None and token_expired(token):
        token.delete()
        token = None
    return token or Token.objects.create(user=user)


def may_revoke_tokens(user) -> bool:
    return has_role(user, TOKEN_ADMIN_ROLES) or bool(user and user.is_active and user.is_superuser)


@transaction.atomic
def token_revoke(*, actor: User, users) -> int:
    """Delete the tokens of ``users`` (a queryset or list); returns how many were revoked."""
    from ..exceptions import PermissionDenied

    if not may_revoke_tokens(actor):
        raise PermissionDenied()
    ids = [u.pk for u in users]
    deleted, _ = Token.objects.filter(user_id__in=ids).delete()
    return deleted
