"""Upper platforms pushing tickets in: a token per platform (only its digest is stored), and an
idempotent registration on the upstream number."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from django.db import transaction
from rest_framework import status

from ..exceptions import ApplicationError, Conflict
from ..models import AppealType, Category, Source, Ticket, Unit, UpperPlatform
from ..services import ticket_create


class PlatformAuthFailed(ApplicationError):
    code = "authentication_failed"
    status_code = status.HTTP_401_UNAUTHORIZED
    default_message = "上级平台接入令牌无效。"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def platform_token_issue(*, platform: UpperPlatform) -> str:
    """A new token for ``platform`` (the old one stops working). Shown once; only its digest is kept."""
    token = secrets.token_urlsafe(32)
    platform.token_digest = _digest(token)
    platform.save(update_fields=["token_digest"])
    return token


def platform_authenticate(*, code: str, authorization: str) -> UpperPlatform:
    if "\x00" in (code or ""):  # PostgreSQL refuses NUL even in a lookup
        raise PlatformAuthFailed()
    platform = UpperPlatform.objects.filter(code=code, active=True).first()
    scheme, _, token = (authorization or "").partition(" ")
    if platform is None or scheme.lower() != "bearer" or not token.strip() or not platform.token_digest:
        raise PlatformAuthFailed()
    if not hmac.compare_digest(platform.token_digest, _digest(token.strip())):
        raise PlatformAuthFailed()
    return platform


def platform_ticket_receive(
    *, platform: UpperPlatform, upstream_number: str, appeal_type: AppealType, category: Category, content: str,
    upstream_deadline: datetime | None = None, title: str = "", caller_name: str = "", caller_phone: str = "",
    address: str = "", township: Unit | None = None, urgent: bool = False, confidential: bool = False,
    registered_at: datetime | None = None,
) -> tuple[Ticket, bool]:
    """Register a ticket handed down by ``platform`` (→ 待派单, dispatched like a local order).
    The same upstream number again returns the existing ticket: ``(ticket, created)``."""
    existing = Ticket.objects.filter(platform=platform, upstream_number=upstream_number).first()
    if existing:
        return existing, False
    try:
        ticket = ticket_create(
            actor=None, check_role=False, source=Source.UPPER, platform=platform, upstream_number=upstream_number,
            upstream_deadline=upstream_deadline, appeal_type=appeal_type, category=category, content=content,
            title=title, caller_name=caller_name, caller_phone=caller_phone, address=address, township=township,
            urgent=urgent, confidential=confidential, registered_at=registered_at,
        )
    except Conflict:
        # The same push arrived twice at once: the other request registered it.
        existing = Ticket.objects.filter(platform=platform, upstream_number=upstream_number).first()
        if existing is None:
            raise
        return existing, False
    return ticket, True
