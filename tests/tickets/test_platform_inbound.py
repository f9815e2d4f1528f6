from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tickets.exchange.platforms import platform_token_issue
from tickets.models import Status, Ticket, UpperPlatform

TZ = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(upper_platform):
    token = platform_token_issue(platform=upper_platform)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def body(**overrides):
    data = {"upstream_number": "PDS20240401-0001", "upstream_deadline": "2024-04-03T18:00:00+08:00",
            "appeal_type": "complaint", "category": "0501", "content": "夜间施工噪音扰民。",
            "caller_name": "李四", "caller_phone": "13900001111", "township": "纸坊镇"}
    data.update(overrides)
    return data


def test_a_platform_pushes_a_ticket_that_waits_for_dispatch_with_its_deadline(pushed, upper_platform):
    # when
    response = pushed.post("/api/platforms/pds/tickets/", body(), format="json")
    # then
    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert response.json()["number"] == ticket.number and response.json()["created"] is True
    assert (ticket.source, ticket.platform, ticket.status) == ("upper", upper_platform, Status.PENDING_DISPATCH)
    assert ticket.upstream_deadline == datetime(2024, 4, 3, 18, 0, tzinfo=TZ)
    assert ticket.caller_phone == "13900001111" and ticket.township.short_name == "纸坊镇"
    assert list(ticket.events.values_list("type", flat=True)) == ["registered"]


def test_the_same_upstream_number_returns_the_existing_ticket(pushed):
    # given
    first = pushed.post("/api/platforms/pds/tickets/", body(), format="json")
    # when
    again = pushed.post("/api/platforms/pds/tickets/", body(content="重复推送"), format="json")
    # then
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["created"] is False
    assert Ticket.objects.count() == 1


def test_the_upstream_deadline_caps_the_handling_deadline_on_dispatch(pushed, dispatcher, unit_a):
    # given
    from tickets.services import ticket_dispatch

    ticket = Ticket.objects.get(pk=pushed.post("/api/platforms/pds/tickets/", body(), format="json").json()["id"])
    # when
    ticket = ticket_dispatch(ticket=ticket, unit=unit_a, actor=dispatcher,
                             at=datetime(2024, 4, 1, 9, 0, tzinfo=TZ))
    # then: 10 working days for a complaint, but the platform wants it by 3 April 18:00
    assert ticket.handle_deadline == datetime(2024, 4, 3, 18, 0, tzinfo=TZ)


@pytest.mark.parametrize("header", ["", "Bearer wrong", "Token abc", "Bearer "])
def test_a_wrong_or_missing_token_is_refused(pushed, header):
    # given
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    # when
    response = client.post("/api/platforms/pds/tickets/", body(), format="json")
    # then
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert Ticket.objects.count() == 0


def test_a_token_is_bound_to_its_platform(pushed):
    # given: pds's token used on another platform
    # when
    response = pushed.post("/api/platforms/henan/tickets/", body(), format="json")
    # then
    assert response.status_code == 401


def test_invalid_pushes_are_refused_with_field_errors(pushed):
    # when
    response = pushed.post("/api/platforms/pds/tickets/",
                           body(category="9999", appeal_type="nope", content="", caller_phone="abc"), format="json")
    # then
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert {"category", "appeal_type", "content"} <= set(fields)
    assert Ticket.objects.count() == 0


def test_only_the_digest_of_the_token_is_stored(upper_platform, capsys):
    # when
    call_command("issue_platform_token", "pds", "--reply-url", "http://127.0.0.1:9/replies")
    # then
    token = capsys.readouterr().out.strip().splitlines()[-1]
    platform = UpperPlatform.objects.get(code="pds")
    assert platform.token_digest and token not in platform.token_digest
    assert platform.reply_url == "http://127.0.0.1:9/replies"
