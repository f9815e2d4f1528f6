"""Token authentication, failed-login counting (django-axes), the login throttle, /me/, and the
API documentation served with local assets only."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Test-12345"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def test_token_then_token_authenticated_request(dispatcher, unit_a):
    # given
    client = APIClient()
    token = client.post("/api/auth/token/", {"username": "disp", "password": PASSWORD}, format="json").json()["token"]
    # when
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/me/")
    # then
    assert me.status_code == 200
    assert me.json()["username"] == "disp" and me.json()["role"] == "dispatcher" and me.json()["unit"] is None


def test_me_shows_the_unit_of_a_unit_handler(unit_handler, unit_a):
    # given
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=unit_handler).key}")
    # when
    data = client.get("/api/me/").json()
    # then
    assert data["role"] == "unit_handler"
    assert data["unit"] == {"id": unit_a.pk, "name": unit_a.name, "short_name": "纸坊镇"}


def test_bad_token_is_401(dispatcher):
    # given
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    # when
    response = client.get("/api/me/")
    # then
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_anonymous_is_401_with_token_challenge(directory):
    # when
    response = APIClient().get("/api/tickets/")
    # then
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("body", [{}, {"username": "disp"}, {"username": ["disp"], "password": PASSWORD}])
def test_token_input_errors(body, dispatcher):
    # when
    response = APIClient().post("/api/auth/token/", body, format="json")
    # then
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert Token.objects.count() == 0


def test_inactive_user_gets_no_token(dispatcher):
    # given
    dispatcher.is_active = False
    dispatcher.save()
    # when
    response = APIClient().post("/api/auth/token/", {"username": "disp", "password": PASSWORD}, format="json")
    # then
    assert response.status_code == 400 and response.json()["code"] == "login_failed"


def test_failed_logins_are_counted_by_axes_and_lock_out(dispatcher, settings):
    # given
    from axes.models import AccessAttempt

    client = APIClient()
    wrong = {"username": "disp", "password": "wrong"}
    # when
    failures = [client.post("/api/auth/token/", wrong, format="json").status_code
                for _ in range(settings.AXES_FAILURE_LIMIT)]
    counted = AccessAttempt.objects.get(username="disp").failures_since_start
    locked = client.post("/api/auth/token/", {"username": "disp", "password": PASSWORD}, format="json")
    # then
    limit = settings.AXES_FAILURE_LIMIT
    assert failures == [400] * (limit - 1) + [settings.AXES_HTTP_RESPONSE_CODE]  # the last failure locks
    assert counted == limit
    assert locked.status_code == settings.AXES_HTTP_RESPONSE_CODE  # even the right password, while locked
    assert Token.objects.count() == 0


def test_login_endpoint_is_throttled(dispatcher):
    # given
    rates = {"login": "3/min", "login_username": "100/min"}
    client = APIClient()
    body = {"username": "disp", "password": PASSWORD}
    # when
    with override_settings(REST_FRAMEWORK={**_rest_settings(), "DEFAULT_THROTTLE_RATES": rates}):
        from rest_framework.throttling import ScopedRateThrottle

        original = ScopedRateThrottle.THROTTLE_RATES
        ScopedRateThrottle.THROTTLE_RATES = rates
        try:
            statuses = [client.post("/api/auth/token/", body, format="json").status_code for _ in range(4)]
            last = client.post("/api/auth/token/", body, format="json")
        finally:
            ScopedRateThrottle.THROTTLE_RATES = original
    # then
    assert statuses == [200, 200, 200, 429]
    assert last.json()["code"] == "throttled" and last.json()["retry_after_seconds"] > 0


def _rest_settings():
    from django.conf import settings

    return dict(settings.REST_FRAMEWORK)


def test_schema_is_served_and_documents_the_ticket_api(directory):
    # when
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    # then
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in ("/api/tickets/", "/api/tickets/{ticket_id}/", "/api/tickets/{ticket_id}/dispatch/",
                 "/api/tickets/{ticket_id}/grant-contact/", "/api/supervisions/{supervision_id}/close/",
                 "/api/queues/{name}/", "/api/calls/", "/api/auth/token/", "/api/me/", "/api/calendar/days/"):
        assert path in paths, path
    params = {p["name"] for p in paths["/api/tickets/"]["get"]["parameters"]}
    assert {"status", "category", "overdue", "due_soon", "caller_phone", "ordering", "page"} <= params
    assert "TicketDispatchInputRequest" in schema["components"]["schemas"]


def test_docs_page_uses_only_local_assets(directory):
    # when
    response = APIClient().get("/api/docs/")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert assets, "the page loads its scripts and styles"
    for url in assets:
        assert url.startswith("/static/") or url.startswith("/api/"), url
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost|testserver)", html)
