"""Bulletin API: ``GET /api/bulletins/YYYY-MM/`` (public once published; drafts to centre roles),
``POST /api/bulletins/YYYY-MM/build/``, ``PATCH /api/bulletins/YYYY-MM/`` (sections, date),
``POST /api/bulletins/YYYY-MM/override/``, ``POST /api/bulletins/YYYY-MM/publish/`` and
``POST /api/bulletins/YYYY-MM/schedule/`` (publication day, hold)."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.apis.serializers import BoundedDateField
from tickets.exceptions import InvalidInput, NotFound
from tickets.permissions import BULLETIN_DRAFT_ROLES, has_role

from . import selectors, services
from .models import Bulletin

PERIOD_PARAM = OpenApiParameter("period", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                                description="期间 YYYY-MM")
# The bulletin JSON of exchange.md (plus office, date and status): an open object.
BULLETIN = OpenApiTypes.OBJECT


def _month(period: str):
    try:
        return selectors.period_parse(period)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def _bulletin(period: str) -> Bulletin:
    _month(period)
    bulletin = Bulletin.objects.filter(period=period).first()
    if bulletin is None:
        raise NotFound("该期简报不存在。")
    return bulletin


class BulletinDetailApi(APIView):
    permission_classes = [AllowAny]

    class UpdateSerializer(serializers.Serializer):
        sections = serializers.DictField(required=False)
        date = BoundedDateField(required=False)

    @extend_schema(operation_id="bulletins_retrieve", summary="简报（已发布的公开；草稿仅编辑、考核员和管理员可见）",
                   parameters=[PERIOD_PARAM], responses=BULLETIN)
    def get(self, request, period: str):
        bulletin = _bulletin(period)
        user = request.user
        # The same rule as the editor's page: a draft only to those who build or edit it.
        if not bulletin.is_published and not has_role(user, BULLETIN_DRAFT_ROLES):
            raise NotFound("该期简报不存在或尚未发布。")
        return Response(bulletin.as_json())

    @extend_schema(operation_id="bulletins_partial_update", summary="修改简报草稿（各节文字、印发日期）",
                   parameters=[PERIOD_PARAM], request=UpdateSerializer, responses=BULLETIN)
    def patch(self, request, period: str):
        if not request.user.is_authenticated:
            raise NotFound("该期简报不存在或尚未发布。")
        serializer = self.UpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        bulletin = services.bulletin_update(
            bulletin=_bulletin(period), actor=request.user,
            sections=serializer.validated_data.get("sections"),
            issue_date=serializer.validated_data.get("date"),
        )
        return Response(bulletin.as_json())


class BulletinBuildApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="bulletins_build", summary="生成（或重新生成）简报草稿", parameters=[PERIOD_PARAM],
                   request=None, responses=BULLETIN)
    def post(self, request, period: str):
        bulletin = services.bulletin_build(month=_month(period), actor=request.user)
        return Response(bulletin.as_json(), status=status.HTTP_200_OK)


class BulletinOverrideApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=["good", "poor"])
        units = serializers.ListField(child=serializers.CharField())
        reason = serializers.CharField()

    @extend_schema(operation_id="bulletins_override", summary="调整办理较好／较差单位（记录理由）",
                   parameters=[PERIOD_PARAM], request=InputSerializer, responses=BULLETIN)
    def post(self, request, period: str):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        bulletin = services.bulletin_override_units(
            bulletin=_bulletin(period), actor=request.user, **serializer.validated_data
        )
        return Response(bulletin.as_json())


class BulletinPublishApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="bulletins_publish", summary="发布简报", parameters=[PERIOD_PARAM], request=None,
                   responses=BULLETIN)
    def post(self, request, period: str):
        bulletin = services.bulletin_publish(bulletin=_bulletin(period), actor=request.user)
        return Response(bulletin.as_json())


class BulletinScheduleApi(APIView):
    """The publication day and the hold of a draft (editors): the beat job publishes the built draft
    on ``publish_on`` unless ``held``. Each change is recorded in the change trail."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        publish_on = serializers.DateField(required=False)
        held = serializers.BooleanField(required=False)
        reason = serializers.CharField(required=False, allow_blank=True, max_length=500)

    class OutputSerializer(serializers.Serializer):
        period = serializers.CharField()
        status = serializers.CharField()
        publish_on = serializers.DateField(allow_null=True)
        held = serializers.BooleanField()

    @extend_schema(operation_id="bulletins_schedule", summary="设定简报计划发布日、暂缓或取消暂缓（理由必填）",
                   parameters=[PERIOD_PARAM], request=InputSerializer, responses=OutputSerializer)
    def post(self, request, period: str):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        v = serializer.validated_data
        bulletin = _bulletin(period)
        if not bulletin.is_published and not has_role(request.user, BULLETIN_DRAFT_ROLES):
            raise NotFound("该期简报不存在或尚未发布。")  # a draft is not revealed (same rule as GET)
        reason = v.get("reason", "")
        with transaction.atomic():
            if "publish_on" in v:
                bulletin = services.bulletin_schedule(bulletin=bulletin, actor=request.user,
                                                      publish_on=v["publish_on"], reason=reason)
            if "held" in v:
                change = services.bulletin_hold if v["held"] else services.bulletin_unhold
                bulletin = change(bulletin=bulletin, actor=request.user, reason=reason)
            if "publish_on" not in v and "held" not in v:
                raise InvalidInput("请提供 publish_on 或 held。", fields={"publish_on": ["publish_on 或 held 至少填一项。"]})
        return Response(self.OutputSerializer(bulletin).data)
