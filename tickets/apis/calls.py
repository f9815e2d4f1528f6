"""Call records: the centre reads them; operators, dispatchers and administrators log them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from ..filters import CallFilter
from ..models import Call, CallKind
from ..permissions import ACTION_ROLES, CALL_READ_ROLES
from ..services import call_create
from .base import ApiMixin, RoleRequired
from .serializers import CallOutputSerializer
from .tickets import TicketRefField


class CallCreateInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CallKind.choices, default=CallKind.NEW)
    caller_phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    ticket = TicketRefField(required=False, allow_null=True, default=None)
    duration_seconds = serializers.IntegerField(min_value=0, max_value=86400, required=False, allow_null=True,
                                                default=None)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


@extend_schema_view(
    get=extend_schema(summary="来电记录（号码脱敏）"),
    post=extend_schema(summary="登记来电", request=CallCreateInputSerializer, responses={201: CallOutputSerializer}),
)
class CallListCreateApi(ApiMixin, generics.ListAPIView):
    permission_classes = [RoleRequired]
    read_roles = CALL_READ_ROLES
    write_roles = ACTION_ROLES["call"]
    serializer_class = CallOutputSerializer
    filterset_class = CallFilter
    queryset = Call.objects.select_related("ticket", "operator").order_by("-called_at", "-id")
    InputSerializer = CallCreateInputSerializer

    def post(self, request):
        serializer = self.InputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        call = call_create(actor=request.user, **serializer.validated_data)
        return Response(CallOutputSerializer(call).data, status=status.HTTP_201_CREATED)
