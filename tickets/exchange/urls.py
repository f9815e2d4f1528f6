"""URLs of the data exchange (imports, platforms, outbox, notifications, export); mounted at the site root."""

from django.urls import include, path

from ..imports import views as import_views
from . import apis, views

imports_patterns = ([
    path("", import_views.import_upload, name="upload"),
    path("<int:job_id>/", import_views.import_job, name="job"),
    path("<int:job_id>/status.json", import_views.import_job_status, name="job-status"),
], "imports")

exchange_patterns = ([
    path("outbox/", views.outbox_page, name="outbox"),
    path("outbox/export/", views.outbox_export_create, name="outbox-export-create"),
    path("outbox/exports/<int:export_id>/", views.outbox_export_download, name="outbox-export"),
    path("demo-upper-platform/replies/", views.demo_upper_platform_replies, name="demo-upper-platform"),
], "exchange")

urlpatterns = [
    path("imports/", include(imports_patterns)),
    path("exchange/", include(exchange_patterns)),
    path("api/imports/", import_views.ImportCreateApi.as_view(), name="import-create"),
    path("api/imports/<int:job_id>/", import_views.ImportDetailApi.as_view(), name="import-detail"),
    path("api/platforms/<str:code>/tickets/", apis.PlatformTicketPushApi.as_view(), name="platform-ticket-push"),
    path("api/outbox/", apis.OutboxListApi.as_view(), name="outbox-list"),
    path("api/outbox/exports/", apis.OutboxExportApi.as_view(), name="outbox-exports"),
    path("api/outbox/exports/<int:export_id>/file/", apis.OutboxExportFileApi.as_view(), name="outbox-export-file"),
    path("api/outbox/<int:message_id>/resend/", apis.OutboxResendApi.as_view(), name="outbox-resend"),
    path("api/notifications/", apis.NotificationListApi.as_view(), name="notification-list"),
    path("api/notifications/<int:notification_id>/resend/", apis.NotificationResendApi.as_view(),
         name="notification-resend"),
    path("api/tickets/export.xlsx", apis.TicketExportApi.as_view(), name="ticket-export"),
    path("tickets/export.xlsx", views.ticket_export_page, name="ticket-export-page"),
]
