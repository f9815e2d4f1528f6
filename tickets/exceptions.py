"""Application errors with stable codes, mapped once to HTTP statuses for the API.

API error body: ``{"code": "<stable code>", "detail": "<中文说明>", "fields": {"field": ["…"]}}``.

The database unavailable (restarting, crashed, unreachable): queries fail with ``OperationalError``
(the connection was cut or refused, the server is starting up) or ``InterfaceError`` (the connection
is already closed). Nothing is half-written — every service runs in one transaction, which
PostgreSQL rolls back — and Django reconnects by itself (persistent connections are health-checked
at the start of each request and dropped after an error), so the answer is "try again shortly":
503 with ``Retry-After``, ``{"code": "database_unavailable", …}`` under ``/api/`` and a Chinese page
elsewhere — from ``api_exception_handler`` for DRF views, ``tickets.middleware`` for other views and
``handler500`` for errors outside views. Celery tasks retry on ``DATABASE_UNAVAILABLE_ERRORS``.
Each such request is logged once, at WARNING, with its method and path (never its body or query
string) and the error's first line; Django's own ERROR record with a traceback is suppressed.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .apis.authentication import CsrfFailed, TokenExpired


class ApplicationError(Exception):
    code = "application_error"
    status_code = status.HTTP_400_BAD_REQUEST
    default_message = "请求无法处理。"

    def __init__(self, message: str | None = None, *, code: str | None = None, fields: dict | None = None):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.fields = fields or {}
        super().__init__(self.message)


class InvalidInput(ApplicationError):
    code = "invalid"
    default_message = "输入有误。"


class MalformedRequest(ApplicationError):
    """A body that cannot be parsed (``tickets.apis.parsers``), with the same code as DRF's ParseError."""

    code = "parse_error"
    default_message = "请求内容无法解析。"


class InvalidTransition(ApplicationError):
    code = "invalid_transition"
    status_code = status.HTTP_409_CONFLICT
    default_message = "工单当前状态不允许此操作。"


class ActionNotAvailable(InvalidTransition):
    """The action is not offered on this ticket now (``tickets/services/lifecycle.py``): 409 with
    ``reason`` naming the unmet condition (``wrong_status``, ``deadline_passed``, …)."""

    code = "action_not_available"
    default_message = "工单当前不能执行此操作。"

    def __init__(self, message: str | None = None, *, reason: str = "wrong_status", **kwargs):
        self.reason = reason
        super().__init__(message, **kwargs)


class Conflict(ApplicationError):
    code = "conflict"
    status_code = status.HTTP_409_CONFLICT
    default_message = "与现有数据冲突。"


class NotFound(ApplicationError):
    code = "not_found"
    status_code = status.HTTP_404_NOT_FOUND
    default_message = "记录不存在或无权查看。"


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    status_code = status.HTTP_403_FORBIDDEN
    default_message = "您的角色无权执行此操作。"


# --- The database unavailable: 503 + Retry-After (see the module docstring) ----------------

logger = logging.getLogger("tickets.database")

# What the database driver raises when the server cannot be reached or the connection broke. Django
# wraps psycopg's errors in its own classes; the raw ones are listed for code that calls psycopg.
try:
    import psycopg
except ImportError:  # pragma: no cover - psycopg is a dependency; SQLite installs have it too
    DATABASE_UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
else:
    DATABASE_UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError,
                                   psycopg.InterfaceError)

DATABASE_UNAVAILABLE_CODE = "database_unavailable"
DATABASE_UNAVAILABLE_DETAIL = "数据库暂时不可用，请稍后重试。"
DATABASE_RETRY_AFTER_SECONDS = 5


def is_api_request(request) -> bool:
    """Requests under ``/api/`` get JSON errors; pages get the site's templates."""
    return request.path.startswith("/api/")


def retry_later_response(request, *, status: int, code: str, detail: str, retry_after: int, template: str,
                         page_request=None) -> HttpResponse:
    """An answer that says "come back in ``retry_after`` seconds" (429, 503): ``{"code", "detail",
    "retry_after_seconds"}`` under ``/api/``, ``template`` elsewhere (rendered with ``page_request``
    when it needs the request, e.g. for the navigation), and a ``Retry-After`` header."""
    if is_api_request(request):
        response = JsonResponse({"code": code, "detail": detail, "retry_after_seconds": retry_after}, status=status)
    else:
        page = render_to_string(template, {"retry_after": retry_after}, request=page_request)
        response = HttpResponse(page, status=status)
    response["Retry-After"] = str(retry_after)
    return response


def is_database_unavailable(exc: BaseException | None) -> bool:
    """``exc`` or an exception it was raised from is a connection-level database error."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, DATABASE_UNAVAILABLE_ERRORS):
            return True
        exc, seen = exc.__cause__, seen + 1
    return False


def database_unavailable_response(request, exc: BaseException) -> HttpResponse:
    """503 with ``Retry-After``: JSON under ``/api/``, a self-contained page elsewhere (it touches
    neither the database nor the session: no ``request.user``, no context processors)."""
    request = getattr(request, "_request", request)  # a DRF Request wraps Django's
    if not getattr(request, "_database_unavailable_logged", False):
        request._database_unavailable_logged = True
        first_line = (str(exc).strip().splitlines() or [""])[0][:200]
        logger.warning("数据库不可用 (database unavailable): %s %s -> 503 [%s: %s]", request.method, request.path,
                       type(exc).__name__, first_line)
    response = retry_later_response(request, status=503, code=DATABASE_UNAVAILABLE_CODE,
                                    detail=DATABASE_UNAVAILABLE_DETAIL, retry_after=DATABASE_RETRY_AFTER_SECONDS,
                                    template="503.html", page_request=None)
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True  # logged above; no "Service Unavailable" ERROR from django.request
    return response


def _flatten(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {k: [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": [str(x) for x in detail]}
    return {"non_field_errors": [str(detail)]}


DRF_CODES = {
    # subclasses first: the first match gives the code
    TokenExpired: (TokenExpired.default_code, TokenExpired.default_detail),
    CsrfFailed: (CsrfFailed.default_code, CsrfFailed.default_detail),
    drf_exceptions.NotAuthenticated: ("not_authenticated", "请先登录。"),
    drf_exceptions.AuthenticationFailed: ("authentication_failed", "身份认证失败。"),
    drf_exceptions.PermissionDenied: ("permission_denied", "您的角色无权执行此操作。"),
    drf_exceptions.NotFound: ("not_found", "记录不存在或无权查看。"),
    drf_exceptions.MethodNotAllowed: ("method_not_allowed", "不支持该请求方法。"),
    drf_exceptions.NotAcceptable: ("not_acceptable", "无法按要求的格式返回。"),
    drf_exceptions.UnsupportedMediaType: ("unsupported_media_type", "不支持的请求内容类型。"),
    drf_exceptions.Throttled: ("throttled", "请求过于频繁，请稍后再试。"),
    drf_exceptions.ParseError: ("parse_error", "请求内容无法解析。"),
}


def api_exception_handler(exc, context):
    if is_database_unavailable(exc):  # 503 {"code": "database_unavailable"} + Retry-After
        return database_unavailable_response(context["request"], exc)
    if isinstance(exc, ApplicationError):
        body = {"code": exc.code, "detail": exc.message}
        if isinstance(exc, ActionNotAvailable):
            body["reason"] = exc.reason
        if exc.fields:
            body["fields"] = exc.fields
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response({"code": "invalid", "detail": "输入有误。", "fields": fields}, status=400)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        response.data = {"code": "invalid", "detail": "输入有误。", "fields": _flatten(exc.detail)}
        return response
    code, message = "error", str(getattr(exc, "detail", "请求无法处理。"))
    for klass, (klass_code, klass_message) in DRF_CODES.items():
        if isinstance(exc, klass):
            code, message = klass_code, klass_message
            break
    response.data = {"code": code, "detail": message}
    if isinstance(exc, drf_exceptions.Throttled) and exc.wait:
        response.data["retry_after_seconds"] = int(exc.wait)
    return response
