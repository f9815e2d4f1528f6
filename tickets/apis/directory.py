"""The directory and the working calendar, read-only for any signed-in user (administrators edit
them in the admin site)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics

from ..filters import CalendarDayFilter, CategoryFilter, UnitFilter
from ..models import AppealType, CalendarDay, CalendarYear, Category, Channel, Unit, UpperPlatform
from . import serializers as s
from .base import ApiMixin


class DirectoryListApi(ApiMixin, generics.ListAPIView):
    pass


@extend_schema_view(get=extend_schema(summary="承办单位"))
class UnitListApi(DirectoryListApi):
    queryset = Unit.objects.order_by("group", "order", "id")
    serializer_class = s.UnitOutputSerializer
    filterset_class = UnitFilter


@extend_schema_view(get=extend_schema(summary="问题分类"))
class CategoryListApi(DirectoryListApi):
    queryset = Category.objects.select_related("parent").order_by("code")
    serializer_class = s.CategoryOutputSerializer
    filterset_class = CategoryFilter


@extend_schema_view(get=extend_schema(summary="诉求类型"))
class AppealTypeListApi(DirectoryListApi):
    queryset = AppealType.objects.order_by("order", "id")
    serializer_class = s.AppealTypeOutputSerializer


@extend_schema_view(get=extend_schema(summary="来源渠道"))
class ChannelListApi(DirectoryListApi):
    queryset = Channel.objects.order_by("order", "id")
    serializer_class = s.ChannelOutputSerializer


@extend_schema_view(get=extend_schema(summary="上级平台"))
class PlatformListApi(DirectoryListApi):
    queryset = UpperPlatform.objects.order_by("order", "id")
    serializer_class = s.PlatformOutputSerializer


@extend_schema_view(get=extend_schema(summary="日历年份（有节假日数据的年份）"))
class CalendarYearListApi(DirectoryListApi):
    queryset = CalendarYear.objects.order_by("year")
    serializer_class = s.CalendarYearOutputSerializer


@extend_schema_view(get=extend_schema(summary="节假日与调休（?year=2024）"))
class CalendarDayListApi(DirectoryListApi):
    queryset = CalendarDay.objects.order_by("date")
    serializer_class = s.CalendarDayOutputSerializer
    filterset_class = CalendarDayFilter
