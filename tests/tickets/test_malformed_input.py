"""Malformed input answers 4xx — a Chinese message on pages, a stable ``code`` under ``/api/`` — and
writes nothing; never a 500 (issue 13, item 3 and the year bound of item 7).

The NUL cases only failed on PostgreSQL (SQLite stores NUL); they run on both."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from assessment.models import Stationing
from reports import services as report_services
from reports.models import Bulletin
from tickets.models import ExtensionRequest, OutboxMessage, UpperPlatform

pytestmark = pytest.mark.django_db

APRIL = dt.date(2024, 4, 1)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def assert_api_error(response, status: int, code: str):
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == code, response.json()


def assert_page_refused(response, status: int = 400):
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("text/html")
    assert "请求" in response.content.decode() or "输入" in response.content.decode()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def bulletin(editor, directory):
    return report_services.bulletin_build(month=APRIL, actor=editor)


# --- JSON nested thousands of levels deep: RecursionError → 500, anonymous too ------------------


@pytest.mark.parametrize("depth", [5000, 100])
def test_deeply_nested_json_on_the_token_endpoint_is_a_parse_error(depth):
    # when: anonymous, the only endpoint that parses a body before authentication
    response = api().post("/api/auth/token/", nested(depth), content_type="application/json")
    # then
    assert_api_error(response, 400, "parse_error")
    assert "嵌套" in response.json()["detail"]


def test_deeply_nested_json_on_ticket_registration_is_a_parse_error(operator):
    body = '{"content": "停水", "extra": ' + nested(5000) + "}"
    response = api(operator).post("/api/tickets/", body, content_type="application/json")
    assert_api_error(response, 400, "parse_error")


def test_ordinary_nesting_is_still_parsed(editor, bulletin):
    response = api(editor).patch(f"/api/bulletins/{bulletin.period}/", {"sections": {"hot_issues": "本月概述"}},
                                 format="json")
    assert response.status_code == 200, response.content[:300]


# --- NUL bytes and lone surrogates --------------------------------------------------------------


@pytest.mark.parametrize("query", ["q=%00", "category=%00", "caller_phone=%00", "kq=a%00b", "%00=1"])
def test_nul_in_a_query_string_is_refused_with_a_chinese_page(operator, query):
    response = page(operator).get(f"/calls/assist/?{query}")
    assert_page_refused(response)
    assert "空字符" in response.content.decode()


def test_nul_in_an_api_query_string_is_invalid(dispatcher):
    assert_api_error(api(dispatcher).get("/api/tickets/?q=%00"), 400, "invalid")


@pytest.mark.parametrize("path", ["/assessment/2024-04%00/", "/api/platforms/pds%00/tickets/",
                                  "/reports/bulletins/2024%00/edit/"])
def test_nul_in_a_path_is_refused(admin_user, path):
    response = page(admin_user).get(path)
    assert response.status_code == 400, (response.status_code, response.content[:200])


def test_nul_in_a_bulletin_edit_form_is_refused_and_nothing_is_saved(editor, bulletin):
    response = page(editor).post(f"/reports/bulletins/{bulletin.period}/edit/",
                                 {"action": "save", "hot_issues": "概述\x00"})
    assert_page_refused(response)
    bulletin.refresh_from_db()
    assert "hot_issues" not in bulletin.edited_sections


@pytest.mark.parametrize("text", ["概述\x00", "概述\ud800"])
def test_nul_or_lone_surrogate_in_a_bulletin_patch_is_invalid(editor, bulletin, text):
    body = '{"sections": {"hot_issues": ' + ascii_json(text) + "}}"
    response = api(editor).patch(f"/api/bulletins/{bulletin.period}/", body, content_type="application/json")
    assert_api_error(response, 400, "invalid")
    assert "sections.hot_issues" in response.json()["fields"]
    bulletin.refresh_from_db()
    assert "hot_issues" not in bulletin.edited_sections


def ascii_json(text: str) -> str:
    """A JSON string with \\u escapes (a lone surrogate cannot be encoded as UTF-8 otherwise)."""
    return '"' + "".join(c if c.isascii() and c.isprintable() else f"\\u{ord(c):04x}" for c in text) + '"'


# --- Ids that are not numbers, or too large -------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "1.5", "²", "99999999999999999999999"])
def test_outbox_resend_with_a_malformed_id_changes_nothing(dispatcher, new_ticket, value):
    platform = UpperPlatform.objects.get(code="pds")
    message = OutboxMessage.objects.create(platform=platform, ticket=new_ticket(), kind="reply",
                                           idempotency_key="k-1", status="failed")
    response = page(dispatcher).post("/exchange/outbox/", {"message": value}, follow=True)
    assert response.status_code == 200
    assert "没有这条回传记录" in response.content.decode()
    message.refresh_from_db()
    assert message.status == "failed"


@pytest.mark.parametrize("field", ["unit", "complete"])
@pytest.mark.parametrize("value", ["abc", "²", "99999999999999999999999"])
def test_stationing_form_with_a_malformed_unit_id_changes_nothing(assessor, field, value):
    response = page(assessor).post("/assessment/stationing/?month=2024-04", {field: value})
    assert_page_refused(response)
    assert not Stationing.objects.exists()


def test_huge_ticket_id_on_the_call_log_is_a_field_error(operator):
    response = page(operator).post("/calls/log/", {"kind": "query", "ticket": "9" * 30}, follow=True)
    assert response.status_code == 200
    assert "关联工单" in response.content.decode()


# --- Years: one bound (2000–2099) for pages and API ---------------------------------------------


@pytest.mark.parametrize("month", ["9999-12", "9998-12", "1999-12", "2100-01"])
def test_compute_of_a_month_out_of_range_is_refused_on_the_api(assessor, month):
    assert_api_error(api(assessor).post(f"/api/assessment/months/{month}/compute/", {}, format="json"),
                     400, "invalid")


@pytest.mark.parametrize("month", ["9999-12", "2100-01"])
def test_compute_of_a_month_out_of_range_is_refused_on_the_page(assessor, month):
    response = page(assessor).post(f"/assessment/{month}/compute/")
    assert response.status_code == 404


@pytest.mark.parametrize("period", ["9999-12", "2100-01", "1999-12"])
def test_build_of_a_period_out_of_range_is_refused(editor, period):
    assert_api_error(api(editor).post(f"/api/bulletins/{period}/build/", {}, format="json"), 400, "invalid")
    response = page(editor).post("/reports/bulletins/", {"period": period}, follow=True)
    assert response.status_code == 200
    assert "2000" in response.content.decode() and "2099" in response.content.decode()
    assert not Bulletin.objects.filter(period=period).exists()


def test_page_refuses_an_extension_to_9999_as_the_api_does(client, unit_handler, ticket_in):
    ticket = ticket_in("handling")
    client.force_login(unit_handler)
    response = client.post(f"/tickets/{ticket.pk}/do/extension/",
                           {"requested_deadline": "9999-12-31", "reason": "需协调施工队"})
    assert response.status_code == 400
    assert "2099" in response.content.decode()
    assert not ExtensionRequest.objects.exists()
    api_answer = api(unit_handler).post(f"/api/tickets/{ticket.pk}/extension/",
                                        {"requested_deadline": "9999-12-31T18:00:00+08:00", "reason": "需协调"},
                                        format="json")
    assert_api_error(api_answer, 400, "invalid")
    # one bound, one message
    assert api_answer.json()["fields"]["requested_deadline"][0] in response.content.decode()


def test_bulletin_issue_date_out_of_range_is_refused(editor, bulletin):
    response = page(editor).post(f"/reports/bulletins/{bulletin.period}/edit/",
                                 {"action": "save", "issue_date": "9999-12-31"}, follow=True)
    assert response.status_code == 200
    assert "2099" in response.content.decode()
    bulletin.refresh_from_db()
    assert bulletin.issue_date != dt.date(9999, 12, 31)
    assert_api_error(api(editor).patch(f"/api/bulletins/{bulletin.period}/", {"date": "9999-12-31"}, format="json"),
                     400, "invalid")


def test_brackets_inside_strings_do_not_count_as_nesting():
    from tickets.inputs import JSON_MAX_DEPTH, json_depth_exceeds

    assert not json_depth_exceeds('{"a": "' + "[" * 100 + '\\" {{{"}')
    assert not json_depth_exceeds(nested(JSON_MAX_DEPTH))
    assert json_depth_exceeds(nested(JSON_MAX_DEPTH + 1))


@pytest.mark.parametrize(("value", "expected"), [("12", 12), (" 7 ", 7), ("0", None), ("-1", None), ("²", None),
                                                 ("١٢", None), ("1e3", None), (str(2**63), None), (True, None)])
def test_parse_id(value, expected):
    from tickets.inputs import parse_id

    assert parse_id(value) == expected


def test_a_broken_multipart_body_is_still_djangos_400(operator):
    client = page(operator)
    response = client.post("/calls/log/", b"--x\r\nbroken", content_type="multipart/form-data; boundary=")
    assert response.status_code == 400
