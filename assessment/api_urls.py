"""API routes of the assessment app, mounted at ``/api/assessment/``."""

from django.urls import path

from . import apis

urlpatterns = [
    path("rules/", apis.RuleSetListApi.as_view(), name="assessment-rules"),
    path("rules/<int:pk>/", apis.RuleSetDetailApi.as_view(), name="assessment-rule"),
    path("stationing/", apis.StationingApi.as_view(), name="assessment-stationing"),
    path("adjustments/", apis.AdjustmentListApi.as_view(), name="assessment-adjustments"),
    path("adjustments/<int:pk>/reverse/", apis.AdjustmentReverseApi.as_view(), name="assessment-adjustment-reverse"),
    path("months/", apis.MonthListApi.as_view(), name="assessment-months"),
    path("months/<str:month>/", apis.MonthTablesApi.as_view(), name="assessment-month"),
    path("months/<str:month>/compute/", apis.MonthComputeApi.as_view(), name="assessment-month-compute"),
    path("scores/<int:pk>/", apis.ScoreDetailApi.as_view(), name="assessment-score"),
    path("scores/<int:pk>/tickets/", apis.ScoreTicketsApi.as_view(), name="assessment-score-tickets"),
    path("units/<int:unit_id>/scores/", apis.UnitScoresApi.as_view(), name="assessment-unit-scores"),
]
