"""Signed-in pages of the reports app: the leader dashboard and the editor's bulletin pages.
Public pages: ``reports/public_urls.py``."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("reports/bulletins/", views.bulletin_manage, name="bulletin-manage"),
    path("reports/bulletins/<str:period>/edit/", views.bulletin_edit, name="bulletin-edit"),
]
