"""Shared output serializers and input fields of the tickets API.

Views keep their own nested ``InputSerializer``; what several views print (a ticket row, a ticket's
detail, directory references) lives here once.
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import (
    AppealType,
    CalendarDay,
    CalendarYear,
    Call,
    Category,
    Channel,
    ExtensionRequest,
    ReturnRequest,
    Supervision,
    Ticket,
    TicketEvent,
    Unit,
    UpperPlatform,
    Urge,
)
from ..privacy import CallerView, caller_view, mask_name, mask_phone
from ..services.deadlines import ticket_light, time_limit_rule_for
from ..workcalendar import get_calendar, local_tz

MAX_ID = 2**63 - 1
# Dates the product can mean. Outside them a datetime overflows when converted between time zones
# (year 1 or 9999, SQLite and PostgreSQL alike) or, before 1901, gets Shanghai's local mean time
# offset +08:05:43, which is not an RFC 3339 offset.
EARLIEST = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
LATEST = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)


def datetime_in_range(value: datetime.datetime) -> bool:
    return EARLIEST <= value < LATEST


# --------------------------------------------------------------------------------------------
# Input fields
# --------------------------------------------------------------------------------------------


class ObjectIdField(serializers.PrimaryKeyRelatedField):
    """A primary key that must be a positive integer in range before it reaches the database
    (so ``1e30`` or ``"abc"`` is a 400 naming the field, never a 500)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            value = int(str(data).strip())
        except ValueError:
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= value <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(value)


class BoundedDateTimeField(serializers.DateTimeField):
    """A date-time between 1970 and 2100 (a 400 naming the field, never an overflow 500)."""

    default_error_messages = {"out_of_range": "时间应在1970年至2099年之间。"}

    def to_internal_value(self, value):
        if isinstance(value, str) and len(value) > 64:
            self.fail("invalid", format="ISO 8601")
        result = super().to_internal_value(value)
        aware = result if timezone.is_aware(result) else timezone.make_aware(result, datetime.UTC)
        if not datetime_in_range(aware):
            self.fail("out_of_range")
        return result


class CodeField(serializers.SlugRelatedField):
    """A directory object referenced by its ``code``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        # NUL: PostgreSQL refuses it even in a lookup (a 500 before).
        if not isinstance(data, str) or len(data) > 50 or "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


# --------------------------------------------------------------------------------------------
# Directory
# --------------------------------------------------------------------------------------------


class UnitRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name", "short_name"]


class UnitOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name", "short_name", "group", "order", "needs_stationing", "active"]


class CategoryOutputSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    level = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = Category
        fields = ["code", "name", "full_name", "parent", "level", "order", "active", "keywords"]


class AppealTypeOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = AppealType
        fields = ["code", "name", "handling_days", "order"]


class ChannelOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["code", "name", "order"]


class PlatformOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = UpperPlatform
        fields = ["code", "name", "order", "active"]


class CalendarYearOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = CalendarYear
        fields = ["year", "source", "loaded_at"]


class CalendarDayOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = CalendarDay
        fields = ["date", "is_workday", "name"]


class CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class TicketRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ticket
        fields = ["id", "number"]


# --------------------------------------------------------------------------------------------
# Tickets
# --------------------------------------------------------------------------------------------


class ListContext:
    """What every row of a page shares: the user, one calendar, one time-limit rule, one clock."""

    def __init__(self, user):
        self.user = user
        self.now = timezone.now()
        self.calendar = get_calendar()
        self.rule = time_limit_rule_for(self.now.astimezone(local_tz()).date())

    def light(self, ticket: Ticket) -> str:
        return ticket_light(ticket, now=self.now, calendar=self.calendar, rule=self.rule)


def masked_caller(*, user, ticket: Ticket) -> CallerView:
    """Lists never show full caller data: what would be full is masked (and so never logged)."""
    view = caller_view(user=user, ticket=ticket, allow_full=False)
    if view.level == "full":
        return CallerView(mask_name(view.name), mask_phone(view.phone), "masked")
    return view


class TicketListOutputSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    source = serializers.CharField(read_only=True)
    handling_mode = serializers.CharField(read_only=True)
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    platform = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    appeal_type = CodeNameSerializer(read_only=True)
    category = serializers.SerializerMethodField()
    township = UnitRefSerializer(read_only=True, allow_null=True)
    unit = UnitRefSerializer(read_only=True, allow_null=True)
    caller_name = serializers.SerializerMethodField()
    caller_phone = serializers.SerializerMethodField()
    caller_level = serializers.SerializerMethodField()
    current_deadline = serializers.DateTimeField(read_only=True, allow_null=True)
    light = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id", "number", "status", "status_display", "source", "handling_mode", "channel", "platform",
            "upstream_number", "appeal_type", "category", "title", "address", "township", "unit", "urgent",
            "confidential", "caller_name", "caller_phone", "caller_level", "registered_at", "dispatched_at",
            "handle_deadline", "current_deadline", "light",
        ]
        read_only_fields = fields

    def _ctx(self) -> ListContext:
        ctx = self.context.get("list_context")
        if ctx is None:
            ctx = self.context["list_context"] = ListContext(self.context["request"].user)
        return ctx

    def _caller(self, ticket: Ticket) -> CallerView:
        cache = self.context.setdefault("_callers", {})
        if ticket.pk not in cache:
            cache[ticket.pk] = self.caller_for(ticket)
        return cache[ticket.pk]

    def caller_for(self, ticket: Ticket) -> CallerView:
        return masked_caller(user=self._ctx().user, ticket=ticket)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_category(self, ticket: Ticket) -> dict:
        return {"code": ticket.category.code, "name": ticket.category.full_name}

    @extend_schema_field(OpenApiTypes.STR)
    def get_caller_name(self, ticket: Ticket) -> str:
        return self._caller(ticket).name

    @extend_schema_field(OpenApiTypes.STR)
    def get_caller_phone(self, ticket: Ticket) -> str:
        return self._caller(ticket).phone

    @extend_schema_field(serializers.ChoiceField(choices=["full", "masked", "hidden"]))
    def get_caller_level(self, ticket: Ticket) -> str:
        return self._caller(ticket).level

    @extend_schema_field(serializers.ChoiceField(choices=["", "green", "yellow", "red"]))
    def get_light(self, ticket: Ticket) -> str:
        return self._ctx().light(ticket)


class CallerListRowSerializer(TicketListOutputSerializer):
    is_open = serializers.BooleanField(read_only=True)

    class Meta(TicketListOutputSerializer.Meta):
        fields = [*TicketListOutputSerializer.Meta.fields, "is_open"]
        read_only_fields = fields


class PersonField(serializers.CharField):
    """A user printed by display name."""

    def to_representation(self, value):
        return value.display_name if value is not None else ""


class ReturnRequestSummarySerializer(serializers.ModelSerializer):
    requested_by = PersonField(read_only=True)
    previous_status = serializers.CharField(read_only=True)

    class Meta:
        model = ReturnRequest
        fields = ["id", "reason", "previous_status", "requested_by", "requested_at"]


class ExtensionRequestSummarySerializer(serializers.ModelSerializer):
    requested_by = PersonField(read_only=True)

    class Meta:
        model = ExtensionRequest
        fields = ["id", "reason", "requested_deadline", "requested_by", "requested_at"]


class UrgeSummarySerializer(serializers.ModelSerializer):
    actor = PersonField(read_only=True)

    class Meta:
        model = Urge
        fields = ["id", "note", "automatic", "actor", "created_at"]


class SupervisionSummarySerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)
    opened_by = PersonField(read_only=True)

    class Meta:
        model = Supervision
        fields = ["id", "status", "reason", "deadline", "opened_by", "opened_at", "closed_at", "result"]


class TicketDetailOutputSerializer(TicketListOutputSerializer):
    """One ticket for one user. The view sets ``caller`` (already logged when full),
    ``pending_return``, ``pending_extension``, ``urge_list``, ``supervision_list`` and
    ``allowed_actions`` on the instance."""

    merged_into = TicketRefSerializer(read_only=True, allow_null=True)
    registered_by = PersonField(read_only=True)
    callback_result = serializers.CharField(read_only=True)
    pending_return = ReturnRequestSummarySerializer(read_only=True, allow_null=True)
    pending_extension = ExtensionRequestSummarySerializer(read_only=True, allow_null=True)
    urges = UrgeSummarySerializer(source="urge_list", many=True, read_only=True)
    supervisions = SupervisionSummarySerializer(source="supervision_list", many=True, read_only=True)
    allowed_actions = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(TicketListOutputSerializer.Meta):
        fields = [
            *TicketListOutputSerializer.Meta.fields,
            "upstream_deadline", "content", "contact_granted", "registered_by", "dispatch_deadline",
            "sign_deadline", "signed_at", "feedback_deadline", "replied_at", "closed_at", "deadline_warning",
            "reply_text", "internal_note", "return_count", "extension_count", "redo_count", "callback_result",
            "callback_resolved", "callback_at", "closed_by_judgement", "merged_into", "pending_return",
            "pending_extension", "urges", "supervisions", "allowed_actions", "created_at", "updated_at",
        ]
        read_only_fields = fields

    def caller_for(self, ticket: Ticket) -> CallerView:
        return ticket.caller


class EventOutputSerializer(serializers.ModelSerializer):
    type_display = serializers.CharField(source="get_type_display", read_only=True)
    actor = PersonField(read_only=True)
    unit = serializers.SlugRelatedField(slug_field="short_name", read_only=True, allow_null=True)
    from_status = serializers.CharField(read_only=True)
    to_status = serializers.CharField(read_only=True)

    class Meta:
        model = TicketEvent
        fields = ["id", "type", "type_display", "actor", "unit", "from_status", "to_status", "note", "data",
                  "created_at"]


class CallOutputSerializer(serializers.ModelSerializer):
    caller_phone = serializers.SerializerMethodField()
    kind = serializers.CharField(read_only=True)
    ticket = TicketRefSerializer(read_only=True, allow_null=True)
    operator = PersonField(read_only=True)

    class Meta:
        model = Call
        fields = ["id", "called_at", "caller_phone", "agent_no", "operator", "duration_seconds", "kind", "ticket",
                  "note", "created_at"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_caller_phone(self, call: Call) -> str:
        return mask_phone(call.caller_phone)


class TicketContentInputSerializer(serializers.Serializer):
    """The fields a ticket is registered with: shared by the centre's registration
    (``POST /api/tickets/``) and an upper platform's push (``POST /api/platforms/<code>/tickets/``)."""

    upstream_deadline = BoundedDateTimeField(required=False, allow_null=True, default=None)
    appeal_type = CodeField(queryset=AppealType.objects.all())
    category = CodeField(queryset=Category.objects.select_related("parent"))
    title = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    content = serializers.CharField(max_length=5000)
    caller_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    caller_phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    urgent = serializers.BooleanField(required=False, default=False)
    confidential = serializers.BooleanField(required=False, default=False)
