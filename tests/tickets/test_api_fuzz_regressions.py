"""What the schemathesis fuzzing of the API (``tests/test_fuzz.py``) found, each kept as an explicit
case: the request that used to fail, and the answer it must get now."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from tickets import services
from tickets.exchange.platforms import platform_token_issue
from tickets.models import Call, Supervision, Ticket, UpperPlatform

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def assert_error(response, status: int, code: str, field: str | None = None):
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    if field:
        assert field in body["fields"], body


# --- Unmatched URLs under /api/ answered with the site's HTML 404 page ----------------------------


@pytest.mark.parametrize("path", ["/api/tickets/abc/", "/api/assessment/adjustments/true/", "/api/nothing/"])
def test_unmatched_api_url_is_a_json_404(dispatcher, path):
    # given: a path no API route matches (the <int:…> converter refuses "abc")
    # when
    response = api(dispatcher).get(path)
    # then
    assert_error(response, 404, "not_found")


def test_unmatched_page_url_keeps_the_html_404(dispatcher):
    # given
    client = Client()
    client.force_login(dispatcher)
    # when
    response = client.get("/no-such-page/")
    # then
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


# --- django-axes' lockout answered the token endpoint with the HTML lockout page ------------------


def test_locked_out_token_login_answers_json_with_a_code(dispatcher, settings):
    # given: as many failed logins as the limit
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/auth/token/", {"username": "disp", "password": "wrong"}, format="json")
    # when
    response = client.post("/api/auth/token/", {"username": "disp", "password": "wrong"}, format="json")
    # then
    assert_error(response, settings.AXES_HTTP_RESPONSE_CODE, "locked_out")
    assert response.json()["retry_after_seconds"] > 0


def test_locked_out_page_login_keeps_the_lockout_page(dispatcher, settings):
    # given
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "disp", "password": "wrong"})
    # when
    response = client.post("/accounts/login/", {"username": "disp", "password": "wrong"})
    # then
    assert response.status_code == settings.AXES_HTTP_RESPONSE_CODE
    assert response["Content-Type"].startswith("text/html")


# --- A JSON body of `null` crashed the compute endpoint (request.data.get on None) --------------


def test_compute_with_a_null_body_is_queued_like_an_empty_one(assessor):
    # when: the fuzzer's body; request.data is None and .get() raised AttributeError (500)
    response = api(assessor).post("/api/assessment/months/2024-04/compute/", "null",
                                  content_type="application/json")
    # then
    assert response.status_code == 202 and response.json()["status"] == "queued"


@pytest.mark.parametrize("body", ["[1, 2]", '"wait"', '{"wait": "maybe"}'])
def test_compute_with_a_non_object_body_is_a_400(assessor, body):
    # when
    response = api(assessor).post("/api/assessment/months/2024-04/compute/", body,
                                  content_type="application/json")
    # then
    assert_error(response, 400, "invalid")


# --- Date-times outside any sensible range overflowed (500) or printed a +08:05:43 offset ---------


@pytest.mark.parametrize(("path", "param"), [
    ("/api/calls/", "called_after"),
    ("/api/calls/", "called_before"),
    ("/api/tickets/", "registered_after"),
    ("/api/tickets/", "dispatched_before"),
    ("/api/tickets/export.xlsx", "registered_before"),
])
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-12:00", "1850-01-01T00:00:00"])
def test_out_of_range_datetime_filter_is_a_400(dispatcher, path, param, value):
    # when
    response = api(dispatcher).get(path, {param: value})
    # then
    assert_error(response, 400, "invalid", param)


def test_in_range_datetime_filter_still_filters(dispatcher, new_ticket):
    # given
    new_ticket()
    # when
    response = api(dispatcher).get("/api/tickets/", {"registered_after": "2000-01-01T00:00:00+08:00"})
    # then
    assert response.status_code == 200 and response.json()["count"] == 1


def test_supervision_deadline_in_the_sixth_century_is_refused(dispatcher, ticket_in):
    # given
    ticket = ticket_in("handling")
    # when: what the fuzzer sent; it was stored and printed as "0567-06-27T18:24:17.640000+08:05:43"
    response = api(dispatcher).post(f"/api/tickets/{ticket.pk}/supervise/",
                                    {"reason": "督办", "deadline": "0567-06-27T10:18:34.64Z"}, format="json")
    # then
    assert_error(response, 400, "invalid", "deadline")
    assert not Supervision.objects.exists()


def test_extension_deadline_that_overflows_is_refused(unit_handler, ticket_in):
    # given
    ticket = ticket_in("handling")
    # when
    response = api(unit_handler).post(f"/api/tickets/{ticket.pk}/extension/",
                                      {"reason": "需协调", "requested_deadline": "9999-12-31T23:59:59-12:00"},
                                      format="json")
    # then
    assert_error(response, 400, "invalid", "requested_deadline")


def test_registration_with_a_year_one_upstream_deadline_is_refused(operator):
    # when
    response = api(operator).post("/api/tickets/", {
        "source": "upper", "platform": "pds", "appeal_type": "problem", "category": "0201", "content": "停水。",
        "upstream_deadline": "0001-01-01T00:00:00+14:00"}, format="json")
    # then
    assert_error(response, 400, "invalid", "upstream_deadline")
    assert not Ticket.objects.exists()


# --- Platform push: a township "²" (str.isdigit but not int) or a huge id was a 500 --------------


@pytest.fixture
def platform_client(directory):
    token = platform_token_issue(platform=UpperPlatform.objects.get(code="pds"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.mark.parametrize("township", ["²", "٣", str(2**70), ["纸坊镇"], True, "镇" * 101])
def test_platform_push_with_an_odd_township_is_a_400(platform_client, township):
    # when
    response = platform_client.post("/api/platforms/pds/tickets/", {
        "upstream_number": "PDS-1", "appeal_type": "problem", "category": "0201", "content": "停水。",
        "township": township}, format="json")
    # then
    assert_error(response, 400, "invalid", "township")
    assert not Ticket.objects.exists()


def test_platform_push_with_a_township_name_still_works(platform_client):
    # when
    response = platform_client.post("/api/platforms/pds/tickets/", {
        "upstream_number": "PDS-1", "appeal_type": "problem", "category": "0201", "content": "停水。",
        "township": "纸坊镇"}, format="json")
    # then
    assert response.status_code == 201
    assert Ticket.objects.get().township.short_name == "纸坊镇"


# --- Huge integers for PostgreSQL integer columns (rule sets) and unit ids (assessment) ----------


@pytest.mark.parametrize("field", ["min_tickets", "sign_grace_minutes", "close_grace_minutes"])
def test_rule_set_integer_beyond_the_column_is_a_400(assessor, field):
    # when
    response = api(assessor).post("/api/assessment/rules/", {"valid_from": "2030-01", field: 2**31},
                                  format="json")
    # then
    assert_error(response, 400, "invalid", field)


@pytest.mark.parametrize("path", ["/api/assessment/stationing/", "/api/assessment/adjustments/"])
@pytest.mark.parametrize("unit", [2**70, "abc", 987654])
def test_assessment_unit_that_does_not_exist_is_a_400_naming_the_field(assessor, path, unit):
    # when
    response = api(assessor).post(path, {"unit": unit, "month": "2024-04", "complete": True, "points": "1.00",
                                         "reason": "加分"}, format="json")
    # then
    assert_error(response, 400, "invalid", "unit")


# --- Responses that did not match the documented schema (nulls not declared nullable) ------------


def test_nullable_output_fields_are_declared_nullable():
    # given
    from drf_spectacular.generators import SchemaGenerator

    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    # then: every field the fuzzer saw null is documented as such
    expected = {
        "TicketListOutput": ["channel", "platform", "township", "unit", "current_deadline"],
        "TicketDetailOutput": ["channel", "platform", "township", "unit", "current_deadline", "merged_into"],
        "CallOutput": ["ticket"],
        "EventOutput": ["unit"],
        "CategoryOutput": ["parent"],
    }
    for component, fields in expected.items():
        for field in fields:
            prop = schemas[component]["properties"][field]
            assert prop.get("nullable") or any(
                option.get("type") == "null" for option in prop.get("anyOf", prop.get("oneOf", []))
            ), f"{component}.{field}: {prop}"


def test_a_ticket_without_channel_or_unit_serialises_nulls(operator, new_ticket):
    # given: a ticket from an upper platform (no channel), no township, not yet dispatched
    ticket = new_ticket(source="upper", platform=UpperPlatform.objects.get(code="pds"), channel=None,
                        township=None)
    # when
    body = api(operator).get(f"/api/tickets/{ticket.pk}/").json()
    # then
    assert body["channel"] is None and body["township"] is None and body["unit"] is None
    assert body["merged_into"] is None


def test_a_call_without_ticket_serialises_a_null_ticket(operator):
    # given
    services.call_create(actor=operator, caller_phone="13812345678")
    # when
    body = api(operator).get("/api/calls/").json()
    # then
    assert Call.objects.count() == 1 and body["results"][0]["ticket"] is None


# --- NUL bytes in directory codes and ticket numbers: PostgreSQL refuses them even in a lookup ----


@pytest.mark.parametrize("field", ["category", "appeal_type", "channel"])
def test_registration_with_a_nul_in_a_code_is_a_400(operator, field):
    # given
    body = {"channel": "phone", "appeal_type": "problem", "category": "0201", "content": "停水。"}
    body[field] = body[field][:2] + "\x00" + body[field][2:]
    # when
    response = api(operator).post("/api/tickets/", body, format="json")
    # then
    assert_error(response, 400, "invalid", field)


@pytest.mark.parametrize(("field", "value"), [("appeal_type", "prob\x00lem"), ("category", "02\x0001"),
                                              ("township", "纸坊\x00镇")])
def test_platform_push_with_a_nul_is_a_400(platform_client, field, value):
    # given
    body = {"upstream_number": "PDS-1", "appeal_type": "problem", "category": "0201", "content": "停水。",
            field: value}
    # when
    response = platform_client.post("/api/platforms/pds/tickets/", body, format="json")
    # then
    assert_error(response, 400, "invalid", field)


def test_platform_code_with_a_nul_is_a_400(platform_client):
    # when
    response = platform_client.post("/api/platforms/pd%00s/tickets/", {}, format="json")
    # then: refused before any view (tickets.middleware.MalformedRequestMiddleware)
    assert_error(response, 400, "invalid", "path")


def test_merge_into_a_number_with_a_nul_is_a_400(dispatcher, new_ticket):
    # given
    ticket = new_ticket()
    # when
    response = api(dispatcher).post(f"/api/tickets/{ticket.pk}/merge/", {"into": "RZ\x001"}, format="json")
    # then
    assert_error(response, 400, "invalid", "into")
