"""Caller data: normalising, hashing, masking, and deciding what a user may see."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings

from .exceptions import InvalidInput
from .models import Role
from .permissions import FULL_CALLER_ROLES

PHONE_OK = re.compile(r"^(?:1[3-9]\d{9}|0\d{9,11}|\d{7,8}|400\d{7}|9\d{4,5}|1\d{2,4})$")


def phone_normalise(raw: str) -> str:
    """Digits only, without +86 / 0086; raises ``InvalidInput`` for what is not a phone number."""
    # NFKC turns full-width input (１３８…, ＋８６, （０３７５）) into ASCII; other scripts' digits stay
    # non-ASCII and are refused below, so one number always has one stored form and one digest.
    value = unicodedata.normalize("NFKC", raw or "").strip()
    if not value:
        return ""
    if not re.fullmatch(r"[0-9\s\-+()]+", value, flags=re.ASCII):
        raise InvalidInput("联系电话格式不正确：只能包含数字、空格、“-”或“+86”。", code="invalid_phone",
                           fields={"caller_phone": ["联系电话格式不正确。"]})
    digits = re.sub(r"[^0-9]", "", value)
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not PHONE_OK.match(digits):
        raise InvalidInput("联系电话格式不正确：应为11位手机号或带区号的固定电话。", code="invalid_phone",
                           fields={"caller_phone": ["联系电话格式不正确。"]})
    return digits


def phone_digest(normalised: str) -> str:
    if not normalised:
        return ""
    key = settings.CALLER_HMAC_KEY.encode()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


REDACTED = "[已隐去]"


def query_redact(query_string: str) -> str:
    """A request's query string as it may be kept in an audit row: the ``caller_phone`` filter's
    value replaced, phone numbers in any other value scrubbed, readable (not percent-encoded)."""
    from django.http import QueryDict

    from .logging import scrub

    parts = []
    for key, values in QueryDict(query_string).lists():
        for value in values:
            parts.append(f"{key}={REDACTED if key == 'caller_phone' and value.strip() else scrub(value)}")
    return scrub("&".join(parts))


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    if not digits:
        return ""
    if len(digits) >= 7:
        return digits[:3] + "****" + digits[-4:]
    return "*" * len(digits)


def mask_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


@dataclass(frozen=True)
class CallerView:
    name: str
    phone: str
    level: str  # "full", "masked" or "hidden"


def caller_view(*, user, ticket, allow_full: bool = True) -> CallerView:
    """What ``user`` may see of ``ticket``'s caller. ``allow_full=False`` masks even for the centre
    (lists show masked data; full data only on a logged detail view)."""
    if user.role == Role.UNIT_HANDLER:
        if ticket.confidential or ticket.unit_id is None or ticket.unit_id != user.unit_id:
            return CallerView("", "", "hidden")
        if ticket.contact_granted:
            return CallerView(ticket.caller_name, ticket.caller_phone, "full")
        return CallerView(mask_name(ticket.caller_name), mask_phone(ticket.caller_phone), "masked")
    if allow_full and user.role in FULL_CALLER_ROLES:
        return CallerView(ticket.caller_name, ticket.caller_phone, "full")
    if ticket.confidential:
        return CallerView("", "", "hidden")
    return CallerView(mask_name(ticket.caller_name), mask_phone(ticket.caller_phone), "masked")


def masked_caller(*, user, ticket) -> CallerView:
    """Lists and default exports never show full caller data: what would be full is masked (and so
    never logged)."""
    view = caller_view(user=user, ticket=ticket, allow_full=False)
    if view.level == "full":
        return CallerView(mask_name(view.name), mask_phone(view.phone), "masked")
    return view


MOBILE = re.compile(r"^1[3-9]\d{9}$")


def duty_phone_normalise(raw: str) -> str:
    """A unit's duty phone receives short messages: a mobile number, stored normalised ("" = none).
    Raises Django's ``ValidationError`` on the ``duty_phone`` field (it is checked by ``Unit.clean``)."""
    from django.core.exceptions import ValidationError

    try:
        phone = phone_normalise(raw)
    except InvalidInput as exc:
        raise ValidationError({"duty_phone": "值班手机格式不正确：应为11位手机号。"}) from exc
    if phone and not MOBILE.match(phone):
        raise ValidationError({"duty_phone": "值班手机用于接收短信，应为11位手机号（不能是固定电话）。"})
    return phone
