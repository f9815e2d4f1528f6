"""Token login for machines and the signed-in user's profile."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ..exceptions import ApplicationError, NotFound, PermissionDenied
from ..models import User
from ..net import ClientRateThrottle, LoginScopes, UsernameRateThrottle
from ..services.accounts import may_revoke_tokens, token_issue, token_revoke
from .base import ApiMixin
from .serializers import UnitRefSerializer


class LoginFailed(ApplicationError):
    code = "login_failed"
    default_message = "用户名或密码错误。"


class TokenCreateApi(APIView):
    """``POST /api/auth/token/`` → ``{"token": "..."}``. Failures are counted by django-axes
    (``authenticate(request=...)``) and the endpoint is throttled per client ("login" rate) and per
    username ("login_username"), the client's address read by ``tickets.net``."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ClientRateThrottle, UsernameRateThrottle]
    throttle_scope = LoginScopes.throttle_scope
    throttle_username_scope = LoginScopes.throttle_username_scope

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(operation_id="auth_token_create", request=InputSerializer, responses={200: OutputSerializer},
                   auth=[], summary="获取接口令牌")
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request=request._request, username=serializer.validated_data["username"],
                            password=serializer.validated_data["password"])
        if user is None or not user.is_active:
            raise LoginFailed()
        token = token_issue(user=user)
        return Response(self.OutputSerializer({"token": token.key}).data)


class MeApi(ApiMixin, APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        display_name = serializers.CharField()
        role = serializers.CharField()
        role_display = serializers.CharField(source="get_role_display")
        unit = UnitRefSerializer(allow_null=True)
        agent_no = serializers.CharField()

    @extend_schema(operation_id="me_retrieve", responses=OutputSerializer, summary="当前用户")
    def get(self, request):
        return Response(self.OutputSerializer(request.user).data)


class TokenRevokeApi(ApiMixin, APIView):
    """``DELETE /api/auth/tokens/<user_id>/``: an administrator revokes a user's API token (204); the
    user gets 401 with it from then on and must log in again."""

    @extend_schema(operation_id="auth_token_revoke", request=None, responses={204: None},
                   summary="吊销用户的接口令牌（管理员）")
    def delete(self, request, user_id: int):
        if not may_revoke_tokens(request.user):
            raise PermissionDenied()
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            raise NotFound("用户不存在。")
        if not token_revoke(actor=request.user, users=[user]):
            raise NotFound("该用户没有接口令牌。")
        return Response(status=204)
