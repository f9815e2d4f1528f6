"""Accounts: API tokens expire and can be revoked by an administrator; every role changes its own
password on a page with Django's validators; a refused CSRF check says what happened."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Test-12345"
ROLES = ["operator", "dispatcher", "unit_handler", "assessor", "editor", "leader", "admin"]


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def token_client(user, *, age_days: float = 0) -> tuple[APIClient, Token]:
    token = Token.objects.create(user=user)
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - dt.timedelta(days=age_days))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client, token


# --- expiry -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_a_token_older_than_30_days_is_refused_with_token_expired(personas, role):
    # given a token issued 30 days and a minute ago, and one issued 29 days ago
    old, _ = token_client(personas[role], age_days=30.001)
    # when it is used
    response = old.get("/api/me/")
    # then 401 with its own code, and the token challenge
    assert response.status_code == 401
    assert response.json() == {"code": "token_expired", "detail": "接口令牌已过期，请重新获取。"}
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_within_its_lifetime_works(dispatcher):
    client, _ = token_client(dispatcher, age_days=29)
    assert client.get("/api/me/").status_code == 200


@override_settings(API_TOKEN_TTL_DAYS=2)
def test_the_lifetime_is_configurable(dispatcher):
    assert token_client(dispatcher, age_days=1.9)[0].get("/api/me/").status_code == 200
    Token.objects.all().delete()
    assert token_client(dispatcher, age_days=2.1)[0].get("/api/me/").json()["code"] == "token_expired"


def test_logging_in_again_replaces_an_expired_token(dispatcher):
    # given an expired token
    _, old = token_client(dispatcher, age_days=40)
    # when the user logs in again
    fresh = APIClient().post("/api/auth/token/", {"username": "disp", "password": PASSWORD}, format="json")
    # then a new token, which works, and the old one is gone
    key = fresh.json()["token"]
    assert key != old.key and not Token.objects.filter(key=old.key).exists()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/me/").status_code == 200


def test_logging_in_within_the_lifetime_keeps_the_token(dispatcher):
    _, old = token_client(dispatcher, age_days=3)
    fresh = APIClient().post("/api/auth/token/", {"username": "disp", "password": PASSWORD}, format="json")
    assert fresh.json()["token"] == old.key


# --- revocation ---------------------------------------------------------------------------------


def test_an_administrator_revokes_a_users_token(admin_user, operator):
    # given an operator using a token
    operator_client, _ = token_client(operator)
    assert operator_client.get("/api/me/").status_code == 200
    admin_client, _ = token_client(admin_user)
    # when an administrator revokes it
    response = admin_client.delete(f"/api/auth/tokens/{operator.pk}/")
    # then 204, and the operator's token no longer works
    assert response.status_code == 204
    assert operator_client.get("/api/me/").status_code == 401
    assert not Token.objects.filter(user=operator).exists()
    # and revoking again, or an unknown user, is 404
    assert admin_client.delete(f"/api/auth/tokens/{operator.pk}/").json()["code"] == "not_found"
    assert admin_client.delete("/api/auth/tokens/999999/").status_code == 404


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_other_roles_cannot_revoke_tokens(personas, role, dispatcher):
    _, victim = token_client(dispatcher) if role != "dispatcher" else token_client(personas["operator"])
    client, _ = token_client(personas[role]) if role != "dispatcher" else token_client(dispatcher)
    response = client.delete(f"/api/auth/tokens/{victim.user_id}/")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert Token.objects.filter(pk=victim.pk).exists()


def test_anonymous_cannot_revoke_tokens(operator):
    _, token = token_client(operator)
    assert APIClient().delete(f"/api/auth/tokens/{operator.pk}/").status_code == 401
    assert Token.objects.filter(pk=token.pk).exists()


def test_the_admin_action_revokes_the_selected_users_tokens(admin_user, operator, dispatcher, leader):
    # given three users with tokens
    tokens = {u.pk: token_client(u)[1] for u in (operator, dispatcher, leader)}
    client = Client()
    client.force_login(admin_user)
    # when the administrator selects two and runs the action
    response = client.post("/admin/tickets/user/", {"action": "revoke_api_tokens",
                                                    "_selected_action": [operator.pk, dispatcher.pk]}, follow=True)
    # then their tokens are gone, the third kept
    assert "已吊销 2 个接口令牌" in response.content.decode()
    assert set(Token.objects.values_list("user_id", flat=True)) == {leader.pk}
    assert tokens


# --- 修改密码 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reaches_the_password_page_from_its_menu(personas, role):
    client = Client()
    client.force_login(personas[role])
    home = client.get("/", follow=True).content.decode()
    assert 'href="/accounts/password/"' in home and "修改密码" in home
    page = client.get("/accounts/password/")
    assert page.status_code == 200
    assert "旧密码" in page.content.decode() and "新密码确认" in page.content.decode()


def test_anonymous_is_sent_to_login_from_the_password_page(directory):
    response = Client().get("/accounts/password/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", ROLES)
def test_a_password_is_changed_with_the_validators(personas, role):
    user = personas[role]
    client = Client()
    client.force_login(user)
    # a weak new password is refused in Chinese, nothing written
    weak = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": "12345678",
                                               "new_password2": "12345678"})
    assert weak.status_code == 200
    assert "这个密码太常见了" in weak.content.decode() and "密码只包含数字" in weak.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    # a wrong old password is refused
    wrong = client.post("/accounts/password/", {"old_password": "nope", "new_password1": "Ruzhou-hotline-2024",
                                                "new_password2": "Ruzhou-hotline-2024"})
    assert "旧密码不正确" in wrong.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    # a good one is saved; the user stays signed in
    good = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": "Ruzhou-hotline-2024",
                                               "new_password2": "Ruzhou-hotline-2024"}, follow=True)
    assert "密码已修改" in good.content.decode()
    user.refresh_from_db()
    assert user.check_password("Ruzhou-hotline-2024")
    assert client.get("/accounts/password/").status_code == 200


# --- CSRF refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_a_page_form_without_csrf_token_says_what_happened(personas, role):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas[role])
    response = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": "Ruzhou-hotline-2024",
                                                   "new_password2": "Ruzhou-hotline-2024"})
    body = response.content.decode()
    assert response.status_code == 403
    assert "CSRF" in body and "请刷新页面后重试" in body and "您的角色无权" not in body
    assert get_user_model().objects.get(pk=personas[role].pk).check_password(PASSWORD)


@pytest.mark.parametrize("role", ROLES)
def test_an_api_write_with_a_session_and_no_csrf_token_is_csrf_failed(personas, role):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(personas[role])
    response = client.post("/api/tickets/", {}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert "CSRF" in response.json()["detail"]


def test_an_api_path_refused_by_the_middleware_answers_json(operator):
    # /api/ views outside DRF (none today) would meet the middleware's check: the view answers JSON too
    from django.test import RequestFactory

    from tickets.apis.errors import csrf_failure

    response = csrf_failure(RequestFactory().post("/api/anything/"), reason="CSRF token missing.")
    assert response.status_code == 403 and b'"csrf_failed"' in response.content
