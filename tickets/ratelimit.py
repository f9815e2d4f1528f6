"""Rate limit of the pages anyone can open without logging in (django-ratelimit).

The public bulletin pages and their downloads, the login pages and the API documentation answer
visitors who have no account. Each client IP has one budget for all of them
(``HOTLINE_PUBLIC_RATE_LIMIT``, default 120 a minute; the address as ``tickets.net`` reads it); past it the answer is 429 with
``Retry-After`` — a Chinese page, or ``{"code": "throttled", …}`` under ``/api/``. Logged-in users are
not counted (staff pages are behind the login; failed logins are django-axes' business). The
counters live in the default cache: Redis when ``REDIS_URL`` is set, otherwise each process's memory.
"""

from __future__ import annotations

import logging
from functools import wraps

from django.conf import settings
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

from .exceptions import retry_later_response
from .net import client_key, login_throttle_wait

log = logging.getLogger(__name__)

GROUP = "public"


def _client(group: str, request) -> str:
    """The rate-limit key: ``tickets.net.client_key`` (the trusted-proxy setting, IPv6 by /64, requests
    without an address sharing one key — django-ratelimit's own "ip" key answered those with a 500)."""
    return client_key(request)


def _rate(group: str, request) -> str:
    # Read per request, so that the setting can change without re-importing the views (tests do).
    return settings.HOTLINE_PUBLIC_RATE_LIMIT


def rate_limited(request, *, retry_after: int):
    """429 with ``Retry-After``: JSON in the API's error shape under ``/api/``, a page elsewhere."""
    return retry_later_response(request, status=429, code="throttled", detail=f"请求过于频繁，请{retry_after}秒后再试。",
                                retry_after=retry_after, template="429.html", page_request=request)


def public_ratelimit(view):
    """Wrap a view that answers anonymous visitors: count each of their requests per client IP."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            try:
                usage = get_usage(request, group=GROUP, key=_client, rate=_rate, increment=True)
            except (RedisError, OSError):
                # The cache is down: serve the page uncounted rather than refuse every visitor.
                log.warning("public rate limit not applied: the cache is unavailable")
                usage = None
            if usage is not None and usage["should_limit"]:
                # The window's last second still counts as the window: come back one second after it.
                return rate_limited(request, retry_after=max(int(usage["time_left"]) + 1, 1))
        return view(request, *args, **kwargs)

    return wrapped


def login_throttle(view):
    """Wrap a login page: its POSTs count against the same per-client and per-username login budgets
    as ``POST /api/auth/token/`` (``tickets.net``); past either, 429 with ``Retry-After``."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST":
            try:
                wait = login_throttle_wait(request)
            except (RedisError, OSError):
                log.warning("login throttle not applied: the cache is unavailable")
                wait = None
            if wait is not None:
                return rate_limited(request, retry_after=max(int(wait) + 1, 1))
        return view(request, *args, **kwargs)

    return wrapped
