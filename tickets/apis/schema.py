"""The project's OpenAPI AutoSchema.

* Names nested serializers after their view. The house style nests ``InputSerializer`` /
  ``OutputSerializer`` in each ``<Entity><Verb>Api``; drf-spectacular would name all of them
  "Input"/"Output" and warn about the collisions. Here ``TicketDispatchApi.InputSerializer`` becomes
  the component ``TicketDispatchInput``.
* Documents the error answers every operation may give (``tickets.exceptions.api_exception_handler``:
  ``{"code", "detail", "fields"}``), so clients — and the schemathesis fuzz test — know them.
"""

from drf_spectacular import openapi
from drf_spectacular.authentication import SessionScheme
from rest_framework import serializers


class CsrfCheckedSessionScheme(SessionScheme):
    """The session cookie, as DRF's (``tickets.apis.authentication``); the token's scheme matches subclasses."""

    target_class = "tickets.apis.authentication.CsrfCheckedSessionAuthentication"

# Status → description of the errors any API operation may answer with.
ERROR_RESPONSES = {
    "400": "输入有误（code=invalid 等；fields 按字段列出问题）",
    "401": "未登录或令牌无效（code=token_expired：令牌已过期，请重新获取）",
    "403": "角色无权执行此操作（code=csrf_failed：会话请求缺少 CSRF 令牌）",
    "404": "记录不存在或无权查看",
    "409": "工单当前不能执行此操作（code=action_not_available，reason 说明原因），或与现有数据冲突",
    "415": "不支持的请求内容类型",
    "429": "请求过于频繁",
    "503": "数据库暂时不可用，请稍后重试（code=database_unavailable；登记请带同一个 Idempotency-Key 重试）",
}


class ErrorSerializer(serializers.Serializer):
    """Body of every API error."""

    code = serializers.CharField(help_text="稳定的错误码，如 invalid、not_found、invalid_transition")
    detail = serializers.CharField(help_text="中文说明")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False,
                                   help_text="字段 → 问题列表")
    reason = serializers.CharField(required=False, help_text="code=action_not_available 时：未满足的条件，"
                                   "如 wrong_status、deadline_passed、extension_pending、no_pending_request")
    retry_after_seconds = serializers.IntegerField(required=False, help_text="限流（429）或数据库暂时不可用（503）时：多少秒后可重试")


class AutoSchema(openapi.AutoSchema):
    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        parts = serializer.__class__.__qualname__.split(".")
        if len(parts) >= 2 and "<locals>" not in parts:
            outer = parts[-2].removesuffix("Api")
            return f"{outer}{parts[-1]}"
        return name

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status_code, description in ERROR_RESPONSES.items():
            if status_code not in responses:
                response = self._get_response_for_code(ErrorSerializer, status_code, ["application/json"],
                                                       direction)
                response["description"] = description
                responses[status_code] = response
        return responses
