"""Page routes of the tickets app (the API lives in ``tickets/apis/urls.py``)."""

from django.urls import path

from . import views

app_name = "tickets"

urlpatterns = [
    path("calls/new/", views.call_new, name="call-new"),
    path("calls/assist/", views.call_assist, name="call-assist"),
    path("calls/log/", views.call_log, name="call-log"),
    path("tickets/", views.ticket_list, name="list"),
    path("tickets/<int:pk>/", views.ticket_detail, name="detail"),
    path("tickets/<int:pk>/caller/", views.caller_reveal, name="caller-reveal"),
    path("tickets/<int:pk>/attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("tickets/<int:pk>/do/<slug:action>/", views.ticket_action, name="action"),
]
