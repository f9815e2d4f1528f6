"""Shared output serializers and input fields of the tickets API.

Views keep their own nested ``InputSerializer``; what several views print (a ticket row, a ticket's
detail, directory references) lives here once.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import get_attribute

from ..directory_cache import directory_lookup, is_directory
from ..inputs import MAX_ID, YEAR_MESSAGE, date_in_range, datetime_in_range
from ..models import (
    AppealType,
    CalendarDay,
    CalendarYear,
    Call,
    Category,
    Channel,
    ExtensionRequest,
    Notification,
    NotificationKind,
    NotificationStatus,
    ReturnRequest,
    Supervision,
    Ticket,
    TicketEvent,
    Unit,
    UpperPlatform,
    Urge,
)
from ..privacy import CallerView, mask_phone, masked_caller
from ..services.deadlines import ticket_light, time_limit_rule_for
from ..workcalendar import get_calendar, local_tz

# Ids, years and characters the API accepts: tickets/inputs.py (shared with the pages).


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
        queryset = self.get_queryset()
        if is_directory(queryset):  # units: from the per-process directory, no query
            found = directory_lookup(queryset, "pk", value)
            if found is None:
                self.fail("does_not_exist", pk_value=data)
            return found
        return super().to_internal_value(value)


class BoundedDateTimeField(serializers.DateTimeField):
    """A date-time within the product's years (``tickets.inputs``): a 400 naming the field, never an
    overflow 500; the pages' date fields give the same message."""

    default_error_messages = {"out_of_range": YEAR_MESSAGE}

    def to_internal_value(self, value):
        if isinstance(value, str) and len(value) > 64:
            self.fail("invalid", format="ISO 8601")
        result = super().to_internal_value(value)
        if not datetime_in_range(result):
            self.fail("out_of_range")
        return result


class BoundedDateField(serializers.DateField):
    """A date within the product's years (``tickets.inputs``)."""

    default_error_messages = {"out_of_range": YEAR_MESSAGE}

    def to_internal_value(self, value):
        if isinstance(value, str) and len(value) > 64:
            self.fail("invalid", format="YYYY-MM-DD")
        result = super().to_internal_value(value)
        if not date_in_range(result):
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
        queryset = self.get_queryset()
        if is_directory(queryset):  # from the per-process directory, no query
            found = directory_lookup(queryset, self.slug_field, data)
            if found is None:
                self.fail("does_not_exist", slug_name=self.slug_field, value=data)
            return found
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


class NotificationSummarySerializer(serializers.ModelSerializer):
    """A short message to a unit's duty phone (centre roles only: it carries the duty phone)."""

    unit = serializers.SlugRelatedField(slug_field="short_name", read_only=True)
    kind = serializers.ChoiceField(choices=NotificationKind.choices, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status = serializers.ChoiceField(choices=NotificationStatus.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "unit", "kind", "kind_label", "recipient", "text", "status", "status_label", "attempts",
                  "last_error", "created_at", "sent_at"]


class TicketDetailOutputSerializer(TicketListOutputSerializer):
    """One ticket for one user. The view sets ``caller`` (already logged when full),
    ``pending_return``, ``pending_extension``, ``urge_list``, ``supervision_list``, ``notification_list`` and
    ``allowed_actions`` on the instance."""

    merged_into = TicketRefSerializer(read_only=True, allow_null=True)
    registered_by = PersonField(read_only=True)
    callback_result = serializers.CharField(read_only=True)
    pending_return = ReturnRequestSummarySerializer(read_only=True, allow_null=True)
    pending_extension = ExtensionRequestSummarySerializer(read_only=True, allow_null=True)
    urges = UrgeSummarySerializer(source="urge_list", many=True, read_only=True)
    supervisions = SupervisionSummarySerializer(source="supervision_list", many=True, read_only=True)
    notifications = NotificationSummarySerializer(source="notification_list", many=True, read_only=True,
                                                  help_text="发给承办单位的短信（只对热线中心角色列出）")
    allowed_actions = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(TicketListOutputSerializer.Meta):
        fields = [
            *TicketListOutputSerializer.Meta.fields,
            "upstream_deadline", "content", "contact_granted", "registered_by", "dispatch_deadline",
            "sign_deadline", "signed_at", "feedback_deadline", "first_feedback_at", "replied_at", "closed_at",
            "deadline_warning",
            "reply_text", "internal_note", "return_count", "extension_count", "redo_count", "callback_result",
            "callback_resolved", "callback_at", "closed_by_judgement", "merged_into", "pending_return",
            "pending_extension", "urges", "supervisions", "notifications", "allowed_actions", "created_at",
            "updated_at",
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


class ClonedFieldsMixin:
    """Builds a serializer's fields from the declared ones without a deep copy of their arguments.

    DRF deep-copies every declared field per serializer instance, and with it every field's
    ``queryset`` (a ``Query`` clone each): a third of the input validation of a registration. The
    fields here are re-created from their constructor arguments instead, which is what
    ``Field.__deepcopy__`` does minus the copies: a related field calls ``queryset.all()`` at every
    use and the other arguments are scalars or read-only choices, so sharing them is safe."""

    def get_fields(self):
        return {name: field.__class__(*field._args, **field._kwargs) for name, field in self._declared_fields.items()}


class TicketContentInputSerializer(ClonedFieldsMixin, serializers.Serializer):
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


# --------------------------------------------------------------------------------------------
# A just-registered ticket's detail, without building a ModelSerializer per request
# --------------------------------------------------------------------------------------------


def _unit_ref(unit: Unit | None) -> dict | None:
    return None if unit is None else {"id": int(unit.id), "name": str(unit.name), "short_name": str(unit.short_name)}


def _code_of(obj) -> str | None:
    return None if obj is None else obj.code


def _nested(serializer_class):
    def represent(value):
        return None if value is None else serializer_class(value).data
    return represent


def _nested_many(serializer_class):
    def represent(values):
        return serializer_class(values, many=True).data if values else []
    return represent


# The fields that are not a plain model value: field name → (attribute, how it is printed). Each does
# what the field of ``TicketDetailOutputSerializer`` does (a None attribute prints None, as DRF does).
_DETAIL_SPECIAL = {
    "channel": lambda t: _code_of(t.channel),
    "platform": lambda t: _code_of(t.platform),
    "appeal_type": lambda t: None if t.appeal_type is None else {"code": str(t.appeal_type.code),
                                                                  "name": str(t.appeal_type.name)},
    "category": lambda t: {"code": t.category.code, "name": t.category.full_name},
    "township": lambda t: _unit_ref(t.township),
    "unit": lambda t: _unit_ref(t.unit),
    "caller_name": lambda t: t.caller.name,
    "caller_phone": lambda t: t.caller.phone,
    "caller_level": lambda t: t.caller.level,
    "light": lambda t: ticket_light(t),
    "merged_into": lambda t: None if t.merged_into is None else {"id": int(t.merged_into.id),
                                                                  "number": str(t.merged_into.number)},
    "registered_by": lambda t: None if t.registered_by is None else t.registered_by.display_name,
    "pending_return": lambda t: _nested(ReturnRequestSummarySerializer)(t.pending_return),
    "pending_extension": lambda t: _nested(ExtensionRequestSummarySerializer)(t.pending_extension),
    "urges": lambda t: _nested_many(UrgeSummarySerializer)(t.urge_list),
    "supervisions": lambda t: _nested_many(SupervisionSummarySerializer)(t.supervision_list),
    "notifications": lambda t: _nested_many(NotificationSummarySerializer)(t.notification_list),
    "allowed_actions": lambda t: [str(action) for action in t.allowed_actions],
}
# Plain values are printed by the serializer's own field objects, built once per process (their
# ``to_representation`` keeps no state).
_PLAIN_FIELDS = (serializers.CharField, serializers.ChoiceField, serializers.IntegerField, serializers.BigIntegerField,
                 serializers.BooleanField, serializers.DateTimeField)
_detail_plan: list | None = None


def _detail_fields_plan() -> list | None:
    """[(name, field or None, special or None)] in the serializer's order; None when some field of
    ``TicketDetailOutputSerializer`` is neither plain nor known here (then the serializer is used)."""
    global _detail_plan
    if _detail_plan is None:
        plan = []
        for name, field in TicketDetailOutputSerializer().fields.items():
            if name in _DETAIL_SPECIAL:
                plan.append((name, None, _DETAIL_SPECIAL[name]))
            elif type(field) in _PLAIN_FIELDS and not field.write_only:
                plan.append((name, field, None))
            else:
                plan = []
                break
        _detail_plan = plan
    return _detail_plan or None


def ticket_detail_representation(ticket: Ticket, *, context: dict) -> dict:
    """What ``TicketDetailOutputSerializer(ticket).data`` prints, at a fraction of the cost (no
    field construction or deep copies per request): used for the ticket a registration has just
    created. ``ticket`` carries the attributes the serializer expects (``caller``,
    ``pending_return``, … see ``TicketDetailOutputSerializer``). ``tests/tickets/test_api_perf_detail.py``
    checks both print the same."""
    plan = _detail_fields_plan()
    if plan is None:
        return TicketDetailOutputSerializer(ticket, context=context).data
    data = {}
    for name, field, special in plan:
        if special is not None:
            data[name] = special(ticket)
        else:
            value = get_attribute(ticket, field.source_attrs)
            data[name] = None if value is None else field.to_representation(value)
    return data
