"""One trusted-proxy setting read by one ``client_ip`` (tickets/net.py), used by the API throttles,
django-axes, the public rate limit and the caller-data access log (issue 13, item 2).

With no trusted proxy (the default) ``X-Forwarded-For`` is the client's own claim and is ignored;
the login is throttled per client and per username, so neither a forged header per request nor
one password tried over many accounts gets unlimited attempts."""

from __future__ import annotations

import uuid

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from tickets.models import CallerDataAccess
from tickets.net import client_ip

pytestmark = pytest.mark.django_db

LIMIT = "5/min"  # the login throttle of these tests (the default is 10/min)


@pytest.fixture(autouse=True)
def _fresh(settings):
    cache.clear()
    settings.RATELIMIT_CACHE_PREFIX = f"rl-test-{uuid.uuid4().hex}:"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"login": LIMIT, "login_username": LIMIT}}
    yield
    cache.clear()


def request_with(**meta):
    return RequestFactory().get("/", **meta)


# --- client_ip itself ---------------------------------------------------------------------------


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(settings):
    settings.HOTLINE_TRUSTED_PROXIES = 0
    request = request_with(REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert client_ip(request) == "198.51.100.1"


@pytest.mark.parametrize(("proxies", "header", "expected"), [
    (1, "203.0.113.5", "203.0.113.5"),
    (1, "1.2.3.4, 203.0.113.5", "203.0.113.5"),          # a forged entry in front is skipped
    (2, "1.2.3.4, 203.0.113.5, 10.0.0.2", "203.0.113.5"),  # the first proxy's view of the client
    (2, "203.0.113.5", None),                              # fewer hops than proxies: not trusted
    (1, "not-an-address", None),
    (1, "", None),
])
def test_with_trusted_proxies_the_client_is_counted_from_the_right(settings, proxies, header, expected):
    settings.HOTLINE_TRUSTED_PROXIES = proxies
    request = request_with(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=header)
    assert client_ip(request) == expected


def test_the_header_is_configurable(settings):
    settings.HOTLINE_TRUSTED_PROXIES = 1
    settings.HOTLINE_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    request = request_with(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4", HTTP_X_REAL_IP="203.0.113.8")
    assert client_ip(request) == "203.0.113.8"


# --- the API login throttle ---------------------------------------------------------------------


def test_forged_forwarded_headers_do_not_escape_the_login_throttle(operator):
    # given: no trusted proxy; 15 failed logins from one client, each with another forged header and
    # another account (password spraying)
    statuses = []
    for i in range(15):
        response = APIClient().post("/api/auth/token/", {"username": f"user{i}", "password": "Spring2024!"},
                                    format="json", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
        statuses.append(response.status_code)
    # then: refused once the client's budget is spent
    assert statuses[:5] == [400] * 5
    assert set(statuses[5:]) == {429}, statuses
    assert response.json()["code"] == "throttled"


def test_one_account_is_throttled_whatever_the_client(operator):
    # given: failed logins on one account from many real clients (each under axes' per-client lockout)
    statuses = [APIClient().post("/api/auth/token/", {"username": operator.username, "password": f"guess{i}"},
                                 format="json", REMOTE_ADDR=f"198.51.100.{i}").status_code for i in range(8)]
    # then: the account's budget runs out too
    assert statuses[:5] == [400] * 5 and set(statuses[5:]) == {429}, statuses


def test_another_account_from_another_client_is_not_affected(operator, dispatcher):
    for i in range(6):
        APIClient().post("/api/auth/token/", {"username": operator.username, "password": "x"}, format="json",
                         REMOTE_ADDR=f"198.51.100.{i}")
    response = APIClient().post("/api/auth/token/", {"username": dispatcher.username, "password": "pw-Test-12345"},
                                format="json", REMOTE_ADDR="192.0.2.50")
    assert response.status_code == 200


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(settings, operator):
    settings.HOTLINE_TRUSTED_PROXIES = 1
    for i in range(6):  # six clients behind the proxy, one login each, different accounts
        response = APIClient().post("/api/auth/token/", {"username": f"user{i}", "password": "x"}, format="json",
                                    REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
        assert response.status_code == 400, i


# --- the page login (django-axes) and the public rate limit ---------------------------------------


def test_axes_records_the_client_behind_the_proxy(settings, operator):
    settings.HOTLINE_TRUSTED_PROXIES = 1
    Client().post("/accounts/login/", {"username": operator.username, "password": "wrong"},
                  REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.77")
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.77"]


def test_axes_ignores_a_forged_header_without_a_proxy(operator):
    Client().post("/accounts/login/", {"username": operator.username, "password": "wrong"},
                  REMOTE_ADDR="198.51.100.3", HTTP_X_FORWARDED_FOR="203.0.113.77")
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.3"]


def test_page_login_is_throttled_per_username_across_clients(operator):
    # axes locks a username per client; the username's own budget covers many clients
    statuses = [Client().post("/accounts/login/", {"username": operator.username, "password": f"guess{i}"},
                              REMOTE_ADDR=f"198.51.100.{i}").status_code for i in range(8)]
    assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}, statuses


def test_public_rate_limit_ignores_a_forged_header(settings, directory):
    settings.HOTLINE_PUBLIC_RATE_LIMIT = "3/m"
    statuses = [Client().get("/bulletins/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
                .status_code for i in range(4)]
    assert statuses == [200, 200, 200, 429]


# --- the caller-data access log -------------------------------------------------------------------


def test_caller_data_access_is_logged_with_the_client_behind_the_proxy(settings, dispatcher, new_ticket):
    settings.HOTLINE_TRUSTED_PROXIES = 1
    ticket = new_ticket()
    client = Client()
    client.force_login(dispatcher)
    client.post(f"/tickets/{ticket.pk}/caller/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.21")
    api = APIClient()
    api.force_authenticate(dispatcher)
    api.get(f"/api/tickets/{ticket.pk}/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.22")
    assert set(CallerDataAccess.objects.values_list("ip_address", flat=True)) == {"203.0.113.21", "203.0.113.22"}


# --- the logs ---------------------------------------------------------------------------------------


def test_request_log_records_name_the_client_as_client_ip_reads_it(settings):
    import logging

    from tickets.logging import ClientIpFilter

    settings.HOTLINE_TRUSTED_PROXIES = 0
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Bad Request: %s", ("/x/",), None)
    record.request = request_with(REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="203.0.113.1")
    ClientIpFilter().filter(record)
    assert record.getMessage() == "Bad Request: /x/ [client 198.51.100.4]"
