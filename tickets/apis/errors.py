"""Django's error views, answering in the API's JSON shape under ``/api/``.

A URL under ``/api/`` that no route matches (``/api/tickets/abc/``: the ``<int:…>`` converter
refuses it) or an unhandled exception never reaches DRF's exception handler; without these views
an API client would get the site's HTML pages. Elsewhere the site's templates answer as before.
"""

from __future__ import annotations

import sys

from django.core.exceptions import BadRequest
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.views import defaults

from ..encryption import DecryptionError
from ..exceptions import CsrfFailed, database_unavailable_response, is_api_request, is_database_unavailable


def page_not_found(request, exception):
    if is_api_request(request):
        return JsonResponse({"code": "not_found", "detail": "记录不存在或无权查看。"}, status=404)
    return defaults.page_not_found(request, exception)


DECRYPTION_FAILED = "来电人信息无法解密：加密密钥配置有误或数据已损坏，请联系系统管理员。"


def server_error(request):
    # The database went away outside a view (a middleware saving the session): 503, as in views.
    if is_database_unavailable(sys.exc_info()[1]):
        return database_unavailable_response(request, sys.exc_info()[1])
    # Called while the unhandled exception is being handled: a caller field that no configured key
    # opens gets its own message (and code), still without any data.
    if isinstance(sys.exc_info()[1], DecryptionError):
        if is_api_request(request):
            return JsonResponse({"code": "decryption_failed", "detail": DECRYPTION_FAILED}, status=500)
        return HttpResponseServerError(
            f'<!doctype html><html lang="zh-hans"><meta charset="utf-8"><title>服务器错误</title>'
            f"<h1>{DECRYPTION_FAILED}</h1></html>")
    if is_api_request(request):
        return JsonResponse({"code": "server_error", "detail": "服务器内部错误，请稍后再试。"}, status=500)
    return defaults.server_error(request)


def bad_request(request, exception):
    """A view's ``BadRequest("中文说明")`` shows its message; other 400s (a suspicious operation,
    whose message is Django's English) the page's general one."""
    if is_api_request(request):
        return JsonResponse({"code": "bad_request", "detail": "请求无法处理。"}, status=400)
    if type(exception) is BadRequest and str(exception):
        return render(request, "400.html", {"message": str(exception)}, status=400)
    return defaults.bad_request(request, exception)


def lockout(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login (``AXES_LOCKOUT_CALLABLE``): JSON with a code
    under ``/api/`` (``POST /api/auth/token/``), the site's lockout page elsewhere."""
    from axes.helpers import get_client_username, get_cool_off, get_cool_off_iso8601, get_failure_limit
    from django.conf import settings
    from django.shortcuts import render

    status = settings.AXES_HTTP_RESPONSE_CODE
    cool_off = get_cool_off(request)
    if is_api_request(request):
        body = {"code": "locked_out", "detail": "登录失败次数过多，账号已暂时锁定，请稍后再试。"}
        if cool_off:
            body["retry_after_seconds"] = int(cool_off.total_seconds())
        return JsonResponse(body, status=status)
    context = {"failure_limit": get_failure_limit(request, credentials),
               "username": get_client_username(request, credentials) or ""}
    if cool_off:
        context.update({"cooloff_time": get_cool_off_iso8601(cool_off), "cooloff_timedelta": cool_off})
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=status)


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``: a refused form says what happened — a Chinese page, or
    ``{"code": "csrf_failed"}`` under ``/api/`` (DRF's session authentication answers the same code)."""
    if is_api_request(request):
        return JsonResponse({"code": "csrf_failed", "detail": CsrfFailed.default_detail}, status=403)
    return render(request, "403_csrf.html", {"detail": CsrfFailed.default_detail}, status=403)
