"""Public bulletin pages: no login, published issues only."""

from django.urls import path, re_path

from . import views

app_name = "bulletins"

PERIOD = r"(?P<period>\d{4}-(0[1-9]|1[0-2]))"

urlpatterns = [
    path("", views.bulletin_archive, name="archive"),
    re_path(rf"^{PERIOD}/$", views.bulletin_detail, name="detail"),
    re_path(rf"^{PERIOD}/pdf/$", views.bulletin_pdf, name="pdf"),
    re_path(rf"^{PERIOD}/docx/$", views.bulletin_docx, name="docx"),
    re_path(rf"^{PERIOD}/xlsx/$", views.bulletin_xlsx, name="xlsx"),
]
