"""Application errors with stable codes, mapped once to HTTP statuses for the API.

API error body: ``{"code": "<stable code>", "detail": "<中文说明>", "fields": {"field": ["…"]}}``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


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


class InvalidTransition(ApplicationError):
    code = "invalid_transition"
    status_code = status.HTTP_409_CONFLICT
    default_message = "工单当前状态不允许此操作。"


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


def _flatten(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {k: [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": [str(x) for x in detail]}
    return {"non_field_errors": [str(detail)]}


DRF_CODES = {
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
    if isinstance(exc, ApplicationError):
        body = {"code": exc.code, "detail": exc.message}
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
