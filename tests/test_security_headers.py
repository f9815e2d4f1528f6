"""Security headers on every kind of page (CSP, frame, sniffing, referrer; HSTS and secure cookies
with the production values), templates that keep the CSP workable, and the rate limit of the pages
that answer without a login."""

from __future__ import annotations

import base64
import io
import json
import re
import secrets
import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings

from tickets.models import CalendarYear, Unit

ROOT = Path(__file__).resolve().parents[1]
MONTH = date(2024, 4, 1)
PERIOD = "2024-04"

# The only sources the policy may name: the site itself, none, inline images/blobs (ECharts, icons).
ALLOWED_SOURCES = {"'self'", "'none'", "data:", "blob:"}


# --- helpers --------------------------------------------------------------------------------


def csp_directives(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']}: no Content-Security-Policy header"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_secure_headers(response):
    path = response.request["PATH_INFO"]
    directives = csp_directives(response)
    header = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header, (path, header)
    assert "Content-Security-Policy-Report-Only" not in response.headers, path  # enforced, not reported
    sources = {v for values in directives.values() for v in values}
    assert sources <= ALLOWED_SOURCES | {v for v in sources if v.startswith("'nonce-")}, (path, header)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"] or all(
        v == "'self'" or v.startswith("'nonce-") for v in directives["script-src"])
    assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"] and directives["form-action"] == ["'self'"]
    assert response["X-Frame-Options"] == "DENY", path
    assert response["X-Content-Type-Options"] == "nosniff", path
    assert response["Referrer-Policy"] == "same-origin", path


@pytest.fixture
def published(directory, editor):
    """A published bulletin (an empty month is enough for headers)."""
    from reports import services

    bulletin = services.bulletin_build(month=MONTH, actor=editor)
    return services.bulletin_publish(bulletin=bulletin, actor=editor)


@pytest.fixture
def fresh_limits(settings):
    """Rate-limit counters of this test only (a key prefix of its own: nothing else is flushed)."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl-test-{uuid.uuid4().hex}:"
    settings.HOTLINE_PUBLIC_RATE_LIMIT = "3/m"
    return settings


# --- headers on each kind of page -----------------------------------------------------------


@pytest.mark.django_db
def test_every_kind_of_page_carries_the_policy_and_the_headers(client, personas, published, new_ticket):
    # given a ticket, a published bulletin and one user of each role
    ticket = new_ticket()
    unit = Unit.objects.get(short_name="纸坊镇")
    year = CalendarYear.objects.order_by("year").first()
    pages = {
        None: ["/bulletins/", f"/bulletins/{PERIOD}/", "/accounts/login/", "/admin/login/", "/api/docs/",
               "/api/docs/?script=", "/api/schema/", "/no-such-page/"],
        "operator": ["/", "/calls/new/", "/tickets/", f"/tickets/{ticket.pk}/", "/api/me/", "/api/tickets/"],
        "unit_handler": ["/", f"/assessment/units/{unit.pk}/"],
        "leader": ["/dashboard/", f"/assessment/{PERIOD}/", f"/assessment/units/{unit.pk}/",
                   "/assessment/rules/", "/assessment/stationing/", "/assessment/adjustments/"],
        "editor": ["/reports/bulletins/", f"/reports/bulletins/{PERIOD}/edit/", f"/api/bulletins/{PERIOD}/"],
        "admin": ["/admin/", "/admin/tickets/calendarday/", "/admin/tickets/calendarday/add/",
                  f"/admin/tickets/unit/{unit.pk}/change/", f"/admin/tickets/calendaryear/{year.pk}/change/"],
    }
    for role, paths in pages.items():
        client.logout()
        if role:
            client.force_login(personas[role])
        for path in paths:
            # when
            response = client.get(path)
            # then
            expected = 404 if path == "/no-such-page/" else 200
            assert response.status_code == expected, (role, path, response.status_code)
            assert_secure_headers(response)


@pytest.mark.django_db
def test_json_api_and_pdf_downloads_carry_the_headers_too(client, operator, published):
    client.force_login(operator)
    assert_secure_headers(client.get("/api/tickets/"))
    client.logout()
    for kind in ("docx", "xlsx"):
        response = client.get(f"/bulletins/{PERIOD}/{kind}/")
        assert response.status_code == 200
        assert_secure_headers(response)


def production_settings() -> dict:
    """What hotline/settings/base.py computes from a production environment (no DEBUG)."""
    from tests.test_project import production_env

    names = ["SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
             "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
             "SECURE_PROXY_SSL_HEADER", "X_FRAME_OPTIONS", "SECURE_CONTENT_TYPE_NOSNIFF",
             "SECURE_REFERRER_POLICY", "CONTENT_SECURITY_POLICY"]
    code = ("import json, django; django.setup(); from django.conf import settings as s; "
            f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}))")
    env = production_env(DJANGO_DEBUG="0", DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
                         HOTLINE_FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
                         DJANGO_ALLOWED_HOSTS="testserver", DJANGO_SETTINGS_MODULE="hotline.settings.base")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    values = json.loads(done.stdout.strip().splitlines()[-1])
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


@pytest.mark.django_db
def test_production_values_add_hsts_and_secure_cookies_behind_the_tls_proxy(client, operator):
    # given the settings production computes, and a request the TLS proxy forwarded
    values = production_settings()
    assert values["SECURE_HSTS_SECONDS"] >= 31536000 and values["SECURE_SSL_REDIRECT"] is True
    with override_settings(**values):
        # when the login page is opened over plain http: redirected to https
        plain = client.get("/accounts/login/")
        assert plain.status_code == 301 and plain["Location"].startswith("https://")
        # when it is opened through the proxy (X-Forwarded-Proto: https) and the user logs in
        page = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
        login = client.post("/accounts/login/", {"username": "op", "password": "pw-Test-12345"},
                            HTTP_X_FORWARDED_PROTO="https")
    # then HSTS (with subdomains and preload), the policy, and cookies only sent over TLS
    assert page.status_code == 200 and login.status_code == 302
    for response in (page, login):
        assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert_secure_headers(response)
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"]
    session = login.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


@pytest.mark.django_db
def test_development_values_send_no_hsts(client):
    # the test settings are a development server's: no TLS, so no HSTS (it would lock browsers out)
    with override_settings(SECURE_HSTS_SECONDS=0):
        response = client.get("/accounts/login/")
    assert "Strict-Transport-Security" not in response.headers
    assert_secure_headers(response)


# --- templates stay inside the policy -------------------------------------------------------

COMMENT = re.compile(r"{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.S)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
STYLE_TAG = re.compile(r"<style\b([^>]*)>", re.I)
BANNED = [
    (re.compile(r"""\sstyle\s*=\s*["']""", re.I), "style= attribute"),
    (re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I), "on*= handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\shx-on(:|-|\s*=)", re.I), "hx-on (evaluated by htmx)"),
    (re.compile(r"\shx-vars\s*=", re.I), "hx-vars (evaluated by htmx)"),
    (re.compile(r"""\shx-(vals|headers)\s*=\s*["']\s*(js|javascript):""", re.I), "hx-vals/hx-headers js:"),
]


def template_violations(files) -> list[str]:
    """Each inline script/style, style attribute, handler or eval-ed htmx attribute in ``files``."""
    found = []
    for path in files:
        text = COMMENT.sub("", Path(path).read_text(encoding="utf-8"))
        for m in SCRIPT_TAG.finditer(text):
            attrs = m.group(1)
            if not re.search(r"\ssrc\s*=", attrs) and "application/json" not in attrs and "nonce=" not in attrs:
                found.append(f"{path}: inline <script>")
        for m in STYLE_TAG.finditer(text):
            if "nonce=" not in m.group(1):
                found.append(f"{path}: inline <style>")
        for pattern, label in BANNED:
            if pattern.search(text):
                found.append(f"{path}: {label}")
    return found


def project_templates() -> list[Path]:
    dirs = [ROOT / "hotline" / "templates"] + [ROOT / app / "templates" for app in ("tickets", "assessment",
                                                                                     "reports")]
    return sorted(p for d in dirs for p in d.rglob("*.html"))


def test_no_template_has_inline_scripts_styles_or_handlers():
    files = project_templates()
    assert len(files) > 30
    assert template_violations(files) == []


def test_the_template_scan_finds_each_kind_of_violation(tmp_path):
    # given one planted template per kind, and one that only uses what the policy allows
    bad = {
        "script.html": "<p>x</p><script>alert(1)</script>",
        "style.html": "<style>p { color: red }</style>",
        "attr.html": '<div class="a" style="margin:0">x</div>',
        "handler.html": "<form onsubmit=\"go();return false;\"></form>",
        "click.html": "<button type=button onclick='x()'>x</button>",
        "url.html": '<a href="javascript:void(0)">x</a>',
        "hxon.html": '<button hx-on:click="alert(1)">x</button>',
        "hxvars.html": '<div hx-vars="a:1"></div>',
        "hxvals.html": """<div hx-vals='js:{a: location.href}'></div>""",
    }
    for name, text in bad.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    good = tmp_path / "good.html"
    good.write_text('{% load static %}<script src="{% static \'js/app.js\' %}"></script>'
                    '<script id="d" type="application/json">{"a": 1}</script>'
                    '<style nonce="{{ request.csp_nonce }}">p{}</style><p class="on">styles and online</p>'
                    "{# <script>commented out</script> #}", encoding="utf-8")
    # when
    found = template_violations(sorted(tmp_path.iterdir()))
    # then each bad file is reported, the good one is not
    assert sorted({f.split(":")[0].rsplit("/", 1)[-1] for f in found}) == sorted(bad)
    assert not [f for f in found if "good.html" in f]


@pytest.mark.django_db
def test_htmx_is_told_not_to_inject_styles_or_eval(client, operator):
    client.force_login(operator)
    html = client.get("/calls/new/").content.decode()
    config = re.search(r"""<meta name="htmx-config" content='([^']+)'>""", html)
    assert config and json.loads(config.group(1)) == {"includeIndicatorStyles": False, "allowEval": False}
    css = (ROOT / "hotline" / "static" / "css" / "app.css").read_text(encoding="utf-8")
    assert ".htmx-indicator" in css and ".htmx-request" in css


@pytest.mark.django_db
def test_pdf_is_still_styled_from_the_stylesheet_files(client, published):
    from pypdf import PdfReader

    # when the public PDF is downloaded
    response = client.get(f"/bulletins/{PERIOD}/pdf/")
    reader = PdfReader(io.BytesIO(response.content))
    # then css/bulletin_print.css applied: A4 pages numbered "— N —"
    assert response.status_code == 200
    first = reader.pages[0]
    assert (round(float(first.mediabox.width)), round(float(first.mediabox.height))) == (595, 842)
    assert "— 1 —" in first.extract_text()


@pytest.mark.django_db
def test_assessment_pickers_work_without_inline_script(client, leader):
    # the month and unit pickers submit to the index, which sends the user on
    client.force_login(leader)
    unit = Unit.objects.get(short_name="纸坊镇")
    assert client.get("/assessment/", {"m": "2024-03"}).headers["Location"] == "/assessment/2024-03/"
    assert client.get("/assessment/", {"u": str(unit.pk)}).headers["Location"] == f"/assessment/units/{unit.pk}/"
    assert client.get("/assessment/", {"m": "2024-13"}).status_code == 404
    assert client.get("/assessment/", {"u": "abc"}).status_code == 404


# --- rate limit of the public pages ---------------------------------------------------------


@pytest.mark.django_db
def test_public_pages_answer_429_in_chinese_past_the_limit(client, published, fresh_limits):
    # given a limit of 3 a minute, and a visitor who used it up across the public pages
    for path in ("/bulletins/", f"/bulletins/{PERIOD}/", "/accounts/login/"):
        assert client.get(path).status_code == 200
    # when they ask once more
    response = client.get("/bulletins/")
    # then 429 (not 403), a Chinese page, and when to come back
    assert response.status_code == 429
    html = response.content.decode()
    assert "请求过于频繁" in html and "秒后再试" in html
    assert 1 <= int(response["Retry-After"]) <= 60
    assert f"请{response['Retry-After']}秒后再试" in html
    assert_secure_headers(response)
    # and the other public pages share the budget
    for path in (f"/bulletins/{PERIOD}/pdf/", "/admin/login/", "/api/docs/"):
        assert client.get(path).status_code == 429, path


@pytest.mark.django_db
def test_api_answers_429_in_the_api_error_shape(client, fresh_limits):
    for _ in range(3):
        assert client.get("/api/schema/").status_code == 200
    response = client.get("/api/schema/")
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled" and "请求过于频繁" in body["detail"]
    assert body["retry_after_seconds"] == int(response["Retry-After"]) >= 1


@pytest.mark.django_db
def test_another_ip_is_not_affected_and_the_window_passes(client, published, fresh_limits):
    # given one IP over the limit
    start = datetime(2024, 5, 6, 10, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(start, tick=False):
        for _ in range(4):
            last = client.get("/bulletins/", REMOTE_ADDR="203.0.113.7")
        assert last.status_code == 429
        wait = int(last["Retry-After"])
        # when another visitor comes in / then they are served
        assert client.get("/bulletins/", REMOTE_ADDR="198.51.100.20").status_code == 200
    # and the first one is still refused a second before Retry-After, served again at it
    with time_machine.travel(start + timedelta(seconds=wait - 1), tick=False):
        assert client.get("/bulletins/", REMOTE_ADDR="203.0.113.7").status_code == 429
    with time_machine.travel(start + timedelta(seconds=wait), tick=False):
        assert client.get("/bulletins/", REMOTE_ADDR="203.0.113.7").status_code == 200


@pytest.mark.django_db
def test_logged_in_staff_are_not_limited(client, operator, published, fresh_limits):
    # given the IP's anonymous budget is used up
    for _ in range(4):
        client.get("/bulletins/")
    assert client.get("/bulletins/").status_code == 429
    # when a member of staff at the same address works
    client.force_login(operator)
    # then neither their pages nor the public ones are limited
    for _ in range(5):
        assert client.get("/").status_code == 200
        assert client.get("/bulletins/").status_code == 200


@pytest.mark.django_db
def test_rate_limit_reads_the_proxy_header_when_configured(client, published, fresh_limits):
    # given one trusted proxy and its client-address header: every request comes from the proxy
    fresh_limits.HOTLINE_TRUSTED_PROXIES = 1
    fresh_limits.HOTLINE_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    for _ in range(3):
        assert client.get("/bulletins/", HTTP_X_REAL_IP="203.0.113.9").status_code == 200
    # then the limit follows the client, not the proxy
    assert client.get("/bulletins/", HTTP_X_REAL_IP="203.0.113.9").status_code == 429
    assert client.get("/bulletins/", HTTP_X_REAL_IP="203.0.113.10").status_code == 200


@pytest.mark.django_db
def test_requests_without_a_usable_address_share_one_budget(client, published, fresh_limits):
    # a unix socket gives no REMOTE_ADDR, a bad proxy header no address: limited together, never a 500
    fresh_limits.HOTLINE_TRUSTED_PROXIES = 1
    fresh_limits.HOTLINE_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    answers = [client.get("/bulletins/", HTTP_X_REAL_IP=value).status_code
               for value in ("", "not-an-address", "999.1.1.1", "")]
    assert answers == [200, 200, 200, 429]
    fresh_limits.HOTLINE_TRUSTED_PROXIES = 0
    assert client.get("/bulletins/", REMOTE_ADDR="").status_code == 429


@pytest.mark.django_db
def test_ipv6_clients_are_counted_by_their_64_network(client, published, fresh_limits):
    for suffix in ("1", "2", "3"):
        assert client.get("/bulletins/", REMOTE_ADDR=f"2001:db8:1:2::{suffix}").status_code == 200
    assert client.get("/bulletins/", REMOTE_ADDR="2001:db8:1:2:ffff::9").status_code == 429
    assert client.get("/bulletins/", REMOTE_ADDR="2001:db8:1:3::1").status_code == 200


@pytest.mark.django_db
def test_a_cache_outage_does_not_take_public_pages_down(client, published, fresh_limits, caplog):
    # given the cache is a Redis that refuses connections (nothing listens on port 1)
    fresh_limits.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                       "LOCATION": "redis://127.0.0.1:1/0",
                                       "OPTIONS": {"socket_connect_timeout": 0.5}}}
    # when visitors keep coming / then they are served, uncounted, and the outage is logged
    for _ in range(5):
        assert client.get("/bulletins/").status_code == 200
    assert "public rate limit not applied" in caplog.text


def test_settings_rate_comes_from_the_environment():
    from tests.test_project import production_env

    env = production_env(DJANGO_DEBUG="1", HOTLINE_PUBLIC_RATE_LIMIT="7/s", HOTLINE_CLIENT_IP_HEADER="HTTP_X_REAL_IP",
                         DJANGO_SETTINGS_MODULE="hotline.settings.base")
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.HOTLINE_PUBLIC_RATE_LIMIT, s.HOTLINE_CLIENT_IP_HEADER, sorted(s.SILENCED_SYSTEM_CHECKS))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.strip() == "7/s HTTP_X_REAL_IP ['django_ratelimit.E003', 'django_ratelimit.W001']"
