"""Web pages of the assessment app, mounted at ``/assessment/``."""

from django.urls import path

from . import views

app_name = "assessment"

urlpatterns = [
    path("", views.index, name="index"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule-edit"),
    path("stationing/", views.stationing, name="stationing"),
    path("adjustments/", views.adjustments, name="adjustments"),
    path("adjustments/<int:pk>/reverse/", views.adjustment_reverse, name="adjustment-reverse"),
    path("scores/<int:pk>/", views.score_detail, name="score"),
    path("scores/<int:pk>/tickets/<str:kind>/", views.score_tickets, name="score-tickets"),
    path("units/<int:unit_id>/", views.unit_scores, name="unit"),
    path("<str:month>/", views.month_tables, name="month"),
    path("<str:month>/compute/", views.month_compute, name="month-compute"),
    path("<str:month>/export.xlsx", views.month_export, name="month-export"),
]
