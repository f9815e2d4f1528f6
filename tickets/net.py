"""The client's address, read one way everywhere: the API's throttles, django-axes
(``AXES_CLIENT_IP_CALLABLE``), the public rate limit, the caller-data access log and the logs.

``HOTLINE_TRUSTED_PROXIES`` (default 0) says how many reverse proxies stand in front of the app and
``HOTLINE_CLIENT_IP_HEADER`` (default ``HTTP_X_FORWARDED_FOR``, Django's name of the header) which
header they write. With no trusted proxy the header is the client's own claim and is ignored: the
address is the connection's (``REMOTE_ADDR``). With N proxies each appends the address it saw, so the
client is the N-th entry from the right; entries further left are whatever the client sent. A header
with fewer entries than proxies, or an entry that is not an IP address, gives no address (``None``).
"""

from __future__ import annotations

import hashlib
import ipaddress

from django.conf import settings
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

UNKNOWN = "unknown"


def _header() -> str:
    name = settings.HOTLINE_CLIENT_IP_HEADER or "HTTP_X_FORWARDED_FOR"
    name = name.upper().replace("-", "_")
    return name if name.startswith("HTTP_") or name == "REMOTE_ADDR" else f"HTTP_{name}"


def client_ip(request) -> str | None:
    """The client's IP address as text, or ``None`` when it cannot be known."""
    request = getattr(request, "_request", request)  # a DRF Request wraps Django's
    proxies = settings.HOTLINE_TRUSTED_PROXIES
    if proxies <= 0:
        value = request.META.get("REMOTE_ADDR", "")
    else:
        entries = [entry.strip() for entry in request.META.get(_header(), "").split(",")]
        value = entries[-proxies] if len(entries) >= proxies else ""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_key(request) -> str:
    """What a rate limit counts: the client's address, an IPv6 client by its /64 (one host usually has
    the whole network); requests without an address share one key."""
    address = client_ip(request)
    if address is None:
        return UNKNOWN
    parsed = ipaddress.ip_address(address)
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False).network_address)
    return address


class ClientRateThrottle(ScopedRateThrottle):
    """DRF's scoped throttle, counting per ``client_key`` (DRF's own ``get_ident`` trusts
    ``X-Forwarded-For`` unless ``NUM_PROXIES`` is set, and reads it differently)."""

    @property
    def THROTTLE_RATES(self):  # noqa: N802 - DRF's name; read per request, not frozen at import
        return api_settings.DEFAULT_THROTTLE_RATES

    def get_ident(self, request):
        return client_key(request)


class UsernameRateThrottle(ClientRateThrottle):
    """Counts login attempts per username, whatever the client: one account tried from many
    addresses (django-axes locks a username per address) runs out of attempts too. Rate:
    ``login_username``."""

    scope_attr = "throttle_username_scope"

    def allow_request(self, request, view):
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super(ScopedRateThrottle, self).allow_request(request, view)

    def get_cache_key(self, request, view):
        username = login_username(request)
        if not username:
            return None
        digest = hashlib.sha256(username.encode("utf-8", "replace")).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": digest}


def login_username(request) -> str:
    """The username a login request names (JSON or form), normalised as it is compared."""
    data = getattr(request, "data", None)
    if data is None:
        data = request.POST
    value = data.get("username", "") if hasattr(data, "get") else ""
    return value.strip().lower()[:150] if isinstance(value, str) else ""


class LoginScopes:
    """The throttle scopes of both login doors (``POST /api/auth/token/`` and the login pages)."""

    throttle_scope = "login"
    throttle_username_scope = "login_username"


def login_throttle_wait(request) -> float | None:
    """``None`` when this login attempt may go on; else the seconds to wait. Counts the attempt."""
    waits = [throttle.wait() or 1 for throttle in (ClientRateThrottle(), UsernameRateThrottle())
             if not throttle.allow_request(request, LoginScopes)]
    return max(waits) if waits else None
