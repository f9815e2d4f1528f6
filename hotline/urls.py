from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from tickets import views as ticket_views
from tickets.ratelimit import login_throttle, public_ratelimit

admin.site.site_header = "12345热线工单系统 管理后台"
admin.site.site_title = "12345热线管理后台"
admin.site.index_title = "目录、日历与时限规则"

urlpatterns = [
    path("", ticket_views.home, name="home"),
    # Pages that answer without a login are rate-limited per client IP (tickets/ratelimit.py).
    # Their POSTs also share the login budgets (per client, per username) of POST /api/auth/token/.
    path("accounts/login/", public_ratelimit(login_throttle(
        auth_views.LoginView.as_view(redirect_authenticated_user=True))), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Django's views and AUTH_PASSWORD_VALIDATORS; templates in hotline/templates/registration/.
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("admin/login/", public_ratelimit(login_throttle(admin.site.login))),  # before admin.site.urls, which also has it
    path("admin/", admin.site.urls),
    path("api/schema/", public_ratelimit(SpectacularAPIView.as_view()), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file (the CSP forbids inline scripts).
    path("api/docs/", public_ratelimit(SpectacularSwaggerSplitView.as_view(
        url_name="api-schema", template_name="api_docs.html")), name="api-docs"),
    path("", include("tickets.exchange.urls")),  # imports, platforms, outbox, export (before the api)
    path("api/", include("tickets.apis.urls")),
    path("api/assessment/", include("assessment.api_urls")),
    path("assessment/", include("assessment.urls")),
    path("api/", include("reports.api_urls")),
    path("bulletins/", include("reports.public_urls")),
    path("", include("reports.urls")),  # /dashboard/ and /reports/bulletins/…
    path("", include("tickets.urls")),
]

# JSON error bodies ({"code", "detail"}) for unmatched /api/ URLs and unhandled errors; HTML elsewhere.
handler400 = "tickets.apis.errors.bad_request"
handler404 = "tickets.apis.errors.page_not_found"
handler500 = "tickets.apis.errors.server_error"
# No URL serves MEDIA_ROOT, in any mode: attachments go out only through the permission-checked
# tickets:attachment view, and import files are deleted once their job has finished.
