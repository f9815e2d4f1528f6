"""django-filter filter sets of the API lists (tickets, calls, directory)."""

from __future__ import annotations

import django_filters as filters
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from .exceptions import InvalidInput, PermissionDenied
from .inputs import YEAR_MESSAGE, datetime_in_range
from .models import (
    AppealType,
    AssessmentGroup,
    CalendarDay,
    Call,
    CallKind,
    Category,
    HandlingMode,
    Source,
    Status,
    Ticket,
    Unit,
    UpperPlatform,
)
from .permissions import FULL_CALLER_ROLES, has_role
from .pinyin import is_pinyin_query
from .privacy import phone_digest, phone_normalise
from .search import ticket_search
from .selectors import due_soon_q, overdue_q


class BoundedIsoDateTimeField(filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time within the product's years (``tickets.inputs``): beyond, converting it to
    the database's time zone overflows (``?called_after=0001-01-01T00:00:00Z`` was a 500)."""

    def clean(self, value):
        result = super().clean(value)
        if result is not None and not datetime_in_range(result):
            raise ValidationError(YEAR_MESSAGE, code="out_of_range")
        return result


class IsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class TicketFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Status.choices, help_text="状态，可重复：?status=a&status=b")
    unit = filters.ModelChoiceFilter(queryset=Unit.objects.all(), help_text="承办单位 id")
    category = filters.ModelChoiceFilter(
        queryset=Category.objects.all(), to_field_name="code", method="filter_category",
        help_text="问题分类编码；一级分类包含其下的二级分类",
    )
    township = filters.ModelChoiceFilter(queryset=Unit.objects.all(), help_text="所属乡镇 id")
    appeal_type = filters.ModelChoiceFilter(
        queryset=AppealType.objects.all(), to_field_name="code", help_text="诉求类型编码"
    )
    source = filters.ChoiceFilter(choices=Source.choices)
    handling_mode = filters.ChoiceFilter(choices=HandlingMode.choices)
    platform = filters.ModelChoiceFilter(
        queryset=UpperPlatform.objects.all(), to_field_name="code", help_text="上级平台编码"
    )
    registered_after = IsoDateTimeFilter(field_name="registered_at", lookup_expr="gte")
    registered_before = IsoDateTimeFilter(field_name="registered_at", lookup_expr="lt")
    dispatched_after = IsoDateTimeFilter(field_name="dispatched_at", lookup_expr="gte")
    dispatched_before = IsoDateTimeFilter(field_name="dispatched_at", lookup_expr="lt")
    overdue = filters.BooleanFilter(method="filter_overdue", help_text="true：已超期（红灯）")
    due_soon = filters.BooleanFilter(method="filter_due_soon", help_text="true：即将超期（黄灯）")
    number = filters.CharFilter(field_name="number", lookup_expr="iexact", max_length=40)
    q = filters.CharFilter(method="filter_q", max_length=100,
                           help_text="工单编号（前缀）、上级工单编号，或诉求内容、标题、地址包含的文字（tickets/search.py）")
    caller_phone = filters.CharFilter(
        method="filter_caller_phone", max_length=30,
        help_text="来电号码（仅话务员、派单员、管理员），按号码摘要匹配",
    )
    ordering = filters.OrderingFilter(fields=("registered_at", "handle_deadline", "number"))

    class Meta:
        model = Ticket
        fields: list[str] = []

    def filter_category(self, queryset, name, value: Category):
        if value.parent_id is None:
            return queryset.filter(Q(category__parent=value) | Q(category=value))
        return queryset.filter(category=value)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        condition = overdue_q(timezone.now())
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_due_soon(self, queryset, name, value):
        if value is None:
            return queryset
        condition = due_soon_q(timezone.now())
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_q(self, queryset, name, value: str):
        return ticket_search(queryset, value)

    def filter_caller_phone(self, queryset, name, value: str):
        if not value.strip():
            return queryset
        user = getattr(self.request, "user", None)
        if not has_role(user, FULL_CALLER_ROLES):
            raise PermissionDenied("您的角色无权按来电号码查询。")
        digest = phone_digest(phone_normalise(value))
        return queryset.filter(caller_phone_digest=digest)


class UnitFilter(filters.FilterSet):
    group = filters.ChoiceFilter(choices=AssessmentGroup.choices)
    active = filters.BooleanFilter()
    q = filters.CharFilter(method="filter_q", max_length=50,
                           help_text="单位名称或简称包含；只含字母时按拼音全拼或首字母（如 gd、gongdian）")

    class Meta:
        model = Unit
        fields: list[str] = []

    def filter_q(self, queryset, name, value: str):
        value = value.strip()
        if value and is_pinyin_query(value):
            return queryset.filter(pinyin__contains=" " + value.lower())
        return queryset.filter(Q(name__icontains=value) | Q(short_name__icontains=value)) if value else queryset


class CategoryFilter(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", max_length=50, help_text="名称、上级名称或检索词包含；只含字母时按拼音全拼或首字母（如 ts、tingshui）")
    level = filters.ChoiceFilter(choices=[(1, "一级"), (2, "二级")], method="filter_level")
    parent = filters.ModelChoiceFilter(queryset=Category.objects.all(), to_field_name="code",
                                       help_text="上级分类编码")
    active = filters.BooleanFilter()

    class Meta:
        model = Category
        fields: list[str] = []

    def filter_q(self, queryset, name, value: str):
        value = value.strip()
        if not value:
            return queryset
        if is_pinyin_query(value):  # letters: the start of a word's full pinyin or initials
            word = " " + value.lower()
            return queryset.filter(Q(pinyin__contains=word) | Q(parent__pinyin__contains=word))
        return queryset.filter(
            Q(name__icontains=value) | Q(parent__name__icontains=value) | Q(keywords__icontains=value)
            | Q(code__startswith=value)
        )

    def filter_level(self, queryset, name, value):
        return queryset.filter(parent__isnull=str(value) == "1")


class CalendarDayFilter(filters.FilterSet):
    year = filters.NumberFilter(field_name="date", lookup_expr="year", min_value=1900, max_value=2200)
    is_workday = filters.BooleanFilter()

    class Meta:
        model = CalendarDay
        fields: list[str] = []


class CallFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=CallKind.choices)
    ticket = filters.NumberFilter(field_name="ticket_id", min_value=1, max_value=2**63 - 1)
    called_after = IsoDateTimeFilter(field_name="called_at", lookup_expr="gte")
    called_before = IsoDateTimeFilter(field_name="called_at", lookup_expr="lt")

    class Meta:
        model = Call
        fields: list[str] = []


def phone_param(value: str | None, *, field: str = "phone") -> str:
    """A phone number from a query parameter, normalised; errors name ``field``."""
    if not (value or "").strip():
        raise InvalidInput("请提供来电号码。", fields={field: ["请提供来电号码。"]})
    try:
        return phone_normalise(value)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, code=exc.code, fields={field: ["联系电话格式不正确。"]}) from exc
