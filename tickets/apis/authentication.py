"""The API's authentication classes (DEFAULT_AUTHENTICATION_CLASSES and ``base.AUTHENTICATION``) and
their refusals. Imports nothing of the app at module level: DRF imports this while ``tickets.exceptions``
(which maps these refusals to codes) is still loading."""

from __future__ import annotations

from rest_framework import exceptions as drf_exceptions
from rest_framework.authentication import SessionAuthentication, TokenAuthentication


class TokenExpired(drf_exceptions.AuthenticationFailed):
    """401: the API token is older than ``API_TOKEN_TTL_DAYS``."""

    default_detail = "接口令牌已过期，请重新获取。"
    default_code = "token_expired"


class CsrfFailed(drf_exceptions.PermissionDenied):
    """403: a session-authenticated write without a valid CSRF token — not a question of role."""

    default_detail = "请求缺少有效的 CSRF 令牌（页面已过期或来自其他网站），请刷新页面后重试。"
    default_code = "csrf_failed"


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token, valid ``API_TOKEN_TTL_DAYS`` from its issue (``services.accounts.token_expired``)."""

    def authenticate_credentials(self, key):
        from ..services.accounts import token_expired

        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise TokenExpired()
        return user, token


class CsrfCheckedSessionAuthentication(SessionAuthentication):
    """Session authentication whose CSRF refusal says what happened (code ``csrf_failed``), not that
    the role may not act."""

    def enforce_csrf(self, request):
        try:
            super().enforce_csrf(request)
        except drf_exceptions.PermissionDenied as exc:
            raise CsrfFailed() from exc


