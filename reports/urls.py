"""Editor pages for bulletins (login required). Public pages: ``reports/urls_public.py``."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("bulletins/", views.bulletin_manage, name="bulletin-manage"),
    path("bulletins/<str:period>/edit/", views.bulletin_edit, name="bulletin-edit"),
]
