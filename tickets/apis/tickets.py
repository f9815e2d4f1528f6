"""Ticket reads (list, detail, timeline, caller lookup, queues) and registration."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from ..filters import TicketFilter, phone_param
from ..models import (
    OPEN_STATUSES,
    AccessAction,
    Channel,
    HandlingMode,
    RequestStatus,
    Source,
    SupervisionStatus,
    Ticket,
    TicketEvent,
    Unit,
    UpperPlatform,
)
from ..net import client_ip
from ..permissions import CENTRE_READ_ROLES, FULL_CALLER_ROLES, has_role, require_action
from ..privacy import caller_view
from ..selectors import QUEUES, ticket_get_for_user, ticket_queryset_for_user, ticket_queue, tickets_by_caller
from ..services import caller_access_record, idempotency_key_check, ticket_create, ticket_create_idempotent
from ..services.lifecycle import ticket_available_actions, ticket_facts
from ..services.registration import IDEMPOTENCY_KEY_PATTERN
from .base import ApiMixin, RoleRequired
from .pagination import TicketPagination
from .schema import ErrorSerializer
from .serializers import (
    CallerListRowSerializer,
    CodeField,
    EventOutputSerializer,
    ObjectIdField,
    TicketContentInputSerializer,
    TicketDetailOutputSerializer,
    TicketListOutputSerializer,
    ticket_detail_representation,
)


def allowed_actions(*, user, ticket: Ticket) -> list[str]:
    """The actions ``user`` may take on ``ticket`` now — ``lifecycle.ticket_available_actions`` with
    the pending requests and supervisions ``ticket_detail_prepare`` has already loaded."""
    facts = ticket_facts(ticket, pending_extension=ticket.pending_extension is not None,
                         pending_return=ticket.pending_return is not None,
                         open_supervision=any(c.status == SupervisionStatus.OPEN for c in ticket.supervision_list))
    return ticket_available_actions(user=user, ticket=ticket, facts=facts)


def ticket_detail_prepare(ticket: Ticket, *, user, registered: bool) -> Ticket:
    """Load what the detail prints besides the ticket's own fields: pending requests, urges,
    supervisions, the short messages to the unit (centre roles only) and the actions ``user`` may take. A just-registered ticket has none of them yet."""
    if registered:
        ticket.pending_return = ticket.pending_extension = None
        ticket.urge_list, ticket.supervision_list, ticket.notification_list = [], [], []
    else:
        ticket.pending_return = (ticket.return_requests.filter(status=RequestStatus.PENDING)
                                 .select_related("requested_by").first())
        ticket.pending_extension = (ticket.extension_requests.filter(status=RequestStatus.PENDING)
                                    .select_related("requested_by").first())
        ticket.urge_list = list(ticket.urges.select_related("actor")[:50])
        ticket.supervision_list = list(ticket.supervisions.select_related("opened_by")[:50])
        ticket.notification_list = (list(ticket.notifications.select_related("unit")[:50])
                                    if has_role(user, CENTRE_READ_ROLES) else [])
    ticket.allowed_actions = allowed_actions(user=user, ticket=ticket)
    return ticket


def ticket_detail_data(request, ticket_id: int, *, registered: Ticket | None = None) -> dict:
    """One ticket as ``request.user`` may see it. Full caller data is logged (who, what, IP).

    ``registered``: the ticket this request has just created (registration). It is served as it is —
    its directory objects are loaded and nothing can be attached to it yet — which saves the
    re-read and four queries on the hottest write path (see ``bench/api_create.py``), and its caller
    data, just typed by the registrant, is not logged as a view."""
    user = request.user
    ticket = registered if registered is not None else ticket_get_for_user(user=user, ticket_id=ticket_id)
    ticket.caller = caller_view(user=user, ticket=ticket)
    # Echoing back what the registering operator has just typed is not a view of stored caller data:
    # only a later look at the ticket is logged.
    if ticket.caller.level == "full" and registered is None:
        caller_access_record(user=user, action=AccessAction.VIEW, ticket=ticket, detail="工单详情",
                             ip_address=client_ip(request))
    ticket_detail_prepare(ticket, user=user, registered=registered is not None)
    if registered is not None:  # the hottest write path: same output, no serializer construction
        return ticket_detail_representation(ticket, context={"request": request})
    return TicketDetailOutputSerializer(ticket, context={"request": request}).data


class TicketCreateInputSerializer(TicketContentInputSerializer):
    source = serializers.ChoiceField(choices=Source.choices, default=Source.LOCAL)
    channel = CodeField(queryset=Channel.objects.all(), required=False, allow_null=True, default=None)
    platform = CodeField(queryset=UpperPlatform.objects.filter(active=True), required=False, allow_null=True,
                         default=None)
    upstream_number = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    handling_mode = serializers.ChoiceField(choices=HandlingMode.choices, default=HandlingMode.DISPATCHED)
    township = ObjectIdField(queryset=Unit.objects.all(), required=False, allow_null=True, default=None)
    reply_text = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


@extend_schema_view(
    get=extend_schema(summary="工单列表（按角色可见范围；来电人信息脱敏）", responses=TicketListOutputSerializer),
    post=extend_schema(
        summary="登记工单（可带 Idempotency-Key，重试不会重复登记）",
        request=TicketCreateInputSerializer,
        parameters=[OpenApiParameter(
            "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
            pattern=f"^{IDEMPOTENCY_KEY_PATTERN.pattern}$",
            description="幂等键：1–100 个可见 ASCII 字符，每张要登记的工单用一个新的键（如 UUID）。同一用户带同一个键"
                        "重试（如收到 503 或连接中断后）只登记一次：返回已登记的工单（200，响应头 "
                        "Idempotent-Replayed: true）；同一个键配不同的内容返回 409 idempotency_key_reused；"
                        "格式不对返回 400 invalid_idempotency_key。",
        ), OpenApiParameter(
            "Idempotent-Replayed", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200], enum=["true"],
            description="这是此前用同一个 Idempotency-Key 登记的工单，本次未新建",
        )],
        responses={
            201: TicketDetailOutputSerializer,
            200: OpenApiResponse(TicketDetailOutputSerializer,
                                 description="同一 Idempotency-Key 的重试：此前登记的工单，未新建"),
            409: OpenApiResponse(ErrorSerializer, description="Idempotency-Key 已用于内容不同的登记"
                                 "（code=idempotency_key_reused），或工单编号、上级工单编号重复"),
        },
    ),
)
class TicketListCreateApi(ApiMixin, generics.ListAPIView):
    serializer_class = TicketListOutputSerializer
    filterset_class = TicketFilter
    pagination_class = TicketPagination
    InputSerializer = TicketCreateInputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Ticket.objects.none()
        return ticket_queryset_for_user(user=self.request.user)

    def post(self, request):
        require_action(request.user, "register")
        key = idempotency_key_check(request.headers.get("Idempotency-Key"))
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if key is None:
            ticket = ticket_create(actor=request.user, **serializer.validated_data)
        else:
            ticket, created = ticket_create_idempotent(actor=request.user, idempotency_key=key,
                                                       **serializer.validated_data)
            if not created:  # a retry: the ticket this key registered, as its detail page shows it now
                response = Response(ticket_detail_data(request, ticket.pk))
                response["Idempotent-Replayed"] = "true"
                return response
        return Response(ticket_detail_data(request, ticket.pk, registered=ticket), status=status.HTTP_201_CREATED)


class TicketDetailApi(ApiMixin, generics.GenericAPIView):
    serializer_class = TicketDetailOutputSerializer

    @extend_schema(summary="工单详情（查看完整来电人信息时记入访问日志）", responses=TicketDetailOutputSerializer)
    def get(self, request, ticket_id: int):
        return Response(ticket_detail_data(request, ticket_id))


@extend_schema_view(get=extend_schema(summary="工单事件时间线"))
class TicketEventListApi(ApiMixin, generics.ListAPIView):
    serializer_class = EventOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TicketEvent.objects.none()
        ticket = ticket_get_for_user(user=self.request.user, ticket_id=self.kwargs["ticket_id"])
        return TicketEvent.objects.filter(ticket=ticket).select_related("actor", "unit").order_by("created_at", "id")


@extend_schema_view(get=extend_schema(
    summary="来电人的历史与在办工单（重复来电查询）",
    parameters=[
        OpenApiParameter("phone", OpenApiTypes.STR, required=True, description="来电号码"),
        OpenApiParameter("days", OpenApiTypes.INT, description="只看最近若干天"),
        OpenApiParameter("open", OpenApiTypes.BOOL, description="true：只看未办结的工单"),
    ],
))
class TicketByCallerApi(ApiMixin, generics.ListAPIView):
    permission_classes = [RoleRequired]
    read_roles = FULL_CALLER_ROLES
    serializer_class = CallerListRowSerializer

    class ParamsSerializer(serializers.Serializer):
        days = serializers.IntegerField(min_value=1, max_value=3660, required=False)
        open = serializers.BooleanField(required=False, default=False)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Ticket.objects.none()
        phone = phone_param(self.request.query_params.get("phone"))
        params = self.ParamsSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        qs = tickets_by_caller(user=self.request.user, phone=phone, days=params.validated_data.get("days"))
        if params.validated_data["open"]:
            qs = qs.filter(status__in=OPEN_STATUSES)
        return qs


@extend_schema_view(get=extend_schema(
    summary="工作队列",
    parameters=[OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(QUEUES),
                                 description="；".join(f"{k}：{v}" for k, v in QUEUES.items()))],
))
class QueueApi(ApiMixin, generics.ListAPIView):
    serializer_class = TicketListOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Ticket.objects.none()
        return ticket_queue(user=self.request.user, queue=self.kwargs["name"])


@extend_schema_field(OpenApiTypes.STR)
class TicketRefField(serializers.Field):
    """A ticket referenced by id or by number, among those the requesting user may see."""

    default_error_messages = {"invalid": "请填写工单 id 或工单编号。", "does_not_exist": "工单不存在。"}

    def to_internal_value(self, value) -> Ticket:
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.fail("invalid")
        text = str(value).strip()
        qs = ticket_queryset_for_user(user=self.context["request"].user)
        ticket = None
        if text.isdigit() and 1 <= int(text) <= 2**63 - 1:
            ticket = qs.filter(pk=int(text)).first()
        elif text and len(text) <= 40 and "\x00" not in text:  # PostgreSQL refuses NUL even in a lookup
            ticket = qs.filter(number=text).first()
        if ticket is None:
            self.fail("does_not_exist")
        return ticket

    def to_representation(self, value):
        return value.number
