"""API of the data exchange: platforms push tickets, the centre watches the outbox, exports."""

from __future__ import annotations

import django_filters.rest_framework as filters
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ..apis.base import ApiMixin, RoleRequired
from ..apis.serializers import (
    MAX_ID,
    BoundedDateTimeField,
    NotificationSummarySerializer,
    TicketContentInputSerializer,
)
from ..exceptions import InvalidInput, NotFound, PermissionDenied
from ..filters import TicketFilter
from ..models import (
    ExportFormat,
    Notification,
    NotificationKind,
    NotificationStatus,
    OutboxExport,
    OutboxMessage,
    OutboxStatus,
    Ticket,
    Unit,
    UpperPlatform,
)
from ..net import client_ip
from ..permissions import CENTRE_READ_ROLES, CENTRE_ROLES, has_role
from ..selectors import ticket_queryset_for_user
from .export import REASON_MAX, XLSX, export_detail, tickets_export_xlsx, xlsx_response
from .notifications import notification_resend
from .outbox import outbox_export, outbox_export_file, outbox_resend
from .platforms import platform_authenticate, platform_ticket_receive


@extend_schema_field(OpenApiTypes.STR)
class _NameOrIdUnitField(serializers.Field):
    """A township by id, short name or full name."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            raise serializers.ValidationError("请填写乡镇街道的 id 或名称。")
        value = str(data).strip()
        if len(value) > 100 or "\x00" in value:  # PostgreSQL refuses NUL even in a lookup
            raise serializers.ValidationError("请填写乡镇街道的 id 或名称。")
        # ASCII digits only ("²".isdigit() is true) and within the id column's range.
        if value.isascii() and value.isdigit():
            unit = Unit.objects.filter(pk=int(value)).first() if int(value) <= MAX_ID else None
        else:
            unit = Unit.objects.filter(short_name=value).first() or Unit.objects.filter(name=value).first()
        if unit is None:
            raise serializers.ValidationError(f"未知的乡镇街道“{value}”。")
        return unit


class PlatformTicketPushApi(APIView):
    """``POST /api/platforms/<code>/tickets/`` with ``Authorization: Bearer <platform token>``.
    201 with the new ticket; 200 with the existing one when the upstream number is known."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(TicketContentInputSerializer):
        upstream_number = serializers.CharField(max_length=60)
        registered_at = BoundedDateTimeField(required=False, allow_null=True, default=None)
        township = _NameOrIdUnitField(required=False, allow_null=True, default=None)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        number = serializers.CharField()
        status = serializers.CharField()
        upstream_number = serializers.CharField()
        created = serializers.BooleanField()

    @extend_schema(operation_id="platform_tickets_push", summary="上级平台推送工单（Authorization: Bearer <平台令牌>）",
                   auth=[], request=InputSerializer, responses={200: OutputSerializer, 201: OutputSerializer})
    def post(self, request, code: str):
        platform = platform_authenticate(code=code, authorization=request.headers.get("Authorization", ""))
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket, created = platform_ticket_receive(platform=platform, **serializer.validated_data)
        body = {"id": ticket.pk, "number": ticket.number, "status": ticket.status,
                "upstream_number": ticket.upstream_number, "created": created}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class NotificationOutputSerializer(NotificationSummarySerializer):
    ticket_number = serializers.CharField(source="ticket.number", read_only=True)

    class Meta(NotificationSummarySerializer.Meta):
        fields = ["id", "ticket", "ticket_number", *NotificationSummarySerializer.Meta.fields[1:],
                  "next_attempt_at", "idempotency_key"]


class OutboxOutputSerializer(serializers.ModelSerializer):
    ticket_number = serializers.CharField(source="ticket.number")
    platform = serializers.CharField(source="platform.name")
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = OutboxMessage
        fields = ["id", "ticket", "ticket_number", "platform", "kind", "idempotency_key", "status",
                  "status_label", "attempts", "next_attempt_at", "last_error", "created_at", "sent_at"]


@extend_schema(summary="上级平台回复发件箱", parameters=[
    OpenApiParameter("status", OpenApiTypes.STR, enum=OutboxStatus.values, many=True, description="状态，可重复"),
])
class OutboxListApi(generics.ListAPIView):
    """``GET /api/outbox/?status=pending|failed|sent|awaiting_export|exported`` — the centre's view of replies
    to platforms."""

    serializer_class = OutboxOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OutboxMessage.objects.none()
        if not has_role(self.request.user, CENTRE_READ_ROLES):
            raise PermissionDenied()
        qs = OutboxMessage.objects.select_related("ticket", "platform")
        wanted = self.request.query_params.getlist("status")
        if any(s not in OutboxStatus.values for s in wanted):
            raise InvalidInput(f"状态只能是{'、'.join(OutboxStatus.values)}。", fields={"status": ["无效的状态。"]})
        return qs.filter(status__in=wanted) if wanted else qs


class OutboxExportSerializer(serializers.ModelSerializer):
    platform_name = serializers.CharField(source="platform.name", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    file = serializers.SerializerMethodField()

    class Meta:
        model = OutboxExport
        fields = ["id", "platform", "platform_name", "format", "count", "created_by", "created_at", "file"]

    def get_file(self, obj) -> str:
        return reverse("outbox-export-file", args=[obj.pk])


class OutboxExportApi(ApiMixin, APIView):
    """``POST /api/outbox/exports/`` {platform, format}: export a file-exchange platform's waiting
    results (they become ``exported``; the export is recorded). ``GET``: the recorded exports."""

    permission_classes = [RoleRequired]
    read_roles = write_roles = CENTRE_ROLES

    class InputSerializer(serializers.Serializer):
        platform = serializers.PrimaryKeyRelatedField(queryset=UpperPlatform.objects.all())
        format = serializers.ChoiceField(choices=ExportFormat.choices, default=ExportFormat.XLSX)

    @extend_schema(operation_id="outbox_exports_list", summary="上报文件导出记录",
                   responses=OutboxExportSerializer(many=True))
    def get(self, request):
        exports = OutboxExport.objects.select_related("platform", "created_by")[:200]
        return Response(OutboxExportSerializer(exports, many=True).data)

    @extend_schema(operation_id="outbox_exports_create", summary="导出文件交换平台的待上报结果",
                   request=InputSerializer, responses={201: OutboxExportSerializer})
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        export = outbox_export(actor=request.user, **serializer.validated_data)
        return Response(OutboxExportSerializer(export).data, status=status.HTTP_201_CREATED)


class OutboxExportFileApi(ApiMixin, APIView):
    """``GET /api/outbox/exports/<id>/file/``: the file of a recorded export (the same rows every time)."""

    permission_classes = [RoleRequired]
    read_roles = CENTRE_ROLES

    @extend_schema(operation_id="outbox_exports_file", summary="下载上报文件",
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, export_id: int):
        export = OutboxExport.objects.select_related("platform").filter(pk=export_id).first()
        if export is None:
            raise NotFound()
        content, content_type, name = outbox_export_file(export)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="outbox-{export.pk}.{export.format}"'
        return response


class OutboxResendApi(APIView):
    @extend_schema(operation_id="outbox_resend", summary="重发一条回复", request=None,
                   responses=OutboxOutputSerializer)
    def post(self, request, message_id: int):
        if not has_role(request.user, CENTRE_ROLES):
            raise PermissionDenied()
        message = OutboxMessage.objects.filter(pk=message_id).first()
        if message is None:
            raise NotFound()
        message = outbox_resend(message=message, actor=request.user)
        return Response(OutboxOutputSerializer(message).data)


class NotificationFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=NotificationStatus.choices, help_text="状态，可重复")
    kind = filters.MultipleChoiceFilter(choices=NotificationKind.choices, help_text="类型，可重复")
    unit = filters.ModelChoiceFilter(queryset=Unit.objects.all(), help_text="承办单位 id")
    ticket = filters.NumberFilter(field_name="ticket_id", min_value=1, max_value=MAX_ID, help_text="工单 id")

    class Meta:
        model = Notification
        fields = ["status", "kind", "unit", "ticket"]


@extend_schema_view(get=extend_schema(summary="发给承办单位的短信（热线中心角色）"))
class NotificationListApi(ApiMixin, generics.ListAPIView):
    """``GET /api/notifications/?status=&kind=&unit=&ticket=`` — the centre's view of the short
    messages to units: sent, pending, failed, and skipped with the reason."""

    permission_classes = [RoleRequired]
    read_roles = CENTRE_READ_ROLES
    serializer_class = NotificationOutputSerializer
    filterset_class = NotificationFilter

    def get_queryset(self):
        return Notification.objects.select_related("ticket", "unit")


class NotificationResendApi(ApiMixin, APIView):
    permission_classes = [RoleRequired]
    write_roles = CENTRE_ROLES

    @extend_schema(operation_id="notification_resend", summary="重发一条短信（发往单位当前的值班手机）",
                   request=None, responses=NotificationOutputSerializer)
    def post(self, request, notification_id: int):
        notification = Notification.objects.filter(pk=notification_id).first() if notification_id <= MAX_ID else None
        if notification is None:
            raise NotFound()
        notification = notification_resend(notification=notification, actor=request.user)
        return Response(NotificationOutputSerializer(notification).data)


class TicketExportApi(generics.GenericAPIView):
    """``GET /api/tickets/export.xlsx`` with the ticket list's filters: caller data masked; with
    ``full=true&reason=…`` (roles that may see full caller data) names and numbers in full, at most
    ``HOTLINE_EXPORT_FULL_MAX_ROWS`` tickets, each logged with the reason."""

    filterset_class = TicketFilter

    class InputSerializer(serializers.Serializer):
        full = serializers.BooleanField(default=False, help_text="完整导出（含来电人姓名和号码；须填理由，逐件留痕）")
        reason = serializers.CharField(default="", allow_blank=True, max_length=REASON_MAX, help_text="完整导出的理由")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Ticket.objects.none()
        return ticket_queryset_for_user(user=self.request.user)

    @extend_schema(operation_id="tickets_export", summary="导出工单（Excel，筛选条件同工单列表；默认脱敏）",
                   filters=True, parameters=[InputSerializer], responses={(200, XLSX): OpenApiTypes.BINARY})
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filterset = TicketFilter(request.query_params, queryset=self.get_queryset(), request=request)
        if not filterset.is_valid():
            raise InvalidInput("筛选条件有误。", fields={k: [str(m) for m in v] for k, v in filterset.errors.items()})
        handle, _count = tickets_export_xlsx(
            queryset=filterset.qs, user=request.user, full=params.validated_data["full"],
            reason=params.validated_data["reason"], detail=export_detail(request.query_params),
            ip_address=client_ip(request))
        return xlsx_response(handle)
