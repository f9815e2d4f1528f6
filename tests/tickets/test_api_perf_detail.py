"""The cheap paths of ticket registration (``POST /api/tickets/``) print and accept exactly what the
DRF serializers do: the detail of a just-registered ticket (``ticket_detail_representation``) and
the input fields built without deep copies (``ClonedFieldsMixin``)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tickets import services
from tickets.apis import serializers as api_serializers
from tickets.apis.serializers import TicketDetailOutputSerializer, ticket_detail_representation
from tickets.apis.tickets import TicketCreateInputSerializer, ticket_detail_prepare
from tickets.models import Category, HandlingMode, Source, UpperPlatform
from tickets.privacy import caller_view

pytestmark = pytest.mark.django_db


def prepared(ticket, user, *, registered: bool):
    """The instance as ``ticket_detail_data`` prints it."""
    ticket.caller = caller_view(user=user, ticket=ticket)
    return ticket_detail_prepare(ticket, user=user, registered=registered)


def both(ticket, user):
    context = {"request": SimpleNamespace(user=user)}
    return (ticket_detail_representation(ticket, context=context),
            dict(TicketDetailOutputSerializer(ticket, context=context).data))


def test_the_fast_detail_covers_every_field_of_the_serializer():
    # given / when
    plan = api_serializers._detail_fields_plan()
    # then: no field falls back to the serializer
    assert plan is not None
    assert [name for name, _field, _special in plan] == TicketDetailOutputSerializer.Meta.fields


@pytest.mark.parametrize("overrides", [
    {},
    {"confidential": True, "urgent": True, "title": "停水", "caller_phone": ""},
    {"township": None, "caller_name": "", "address": ""},
    {"handling_mode": HandlingMode.COORDINATED, "reply_text": "已当场答复。"},
    {"upstream_deadline": timezone.now() + timedelta(days=3)},
])
def test_a_registered_ticket_prints_as_the_serializer_prints_it(new_ticket, personas, overrides):
    # given
    ticket = new_ticket(**overrides)
    for user in personas.values():
        prepared(ticket, user, registered=True)
        # when
        fast, slow = both(ticket, user)
        # then: same keys in the same order, same values
        assert list(fast) == list(slow)
        assert fast == slow


def test_an_upper_platform_ticket_prints_as_the_serializer_prints_it(new_ticket, operator, directory):
    # given
    platform = UpperPlatform.objects.get(code="pds")
    ticket = new_ticket(source=Source.UPPER, platform=platform, channel=None, upstream_number="SJ-1")
    prepared(ticket, operator, registered=True)
    # when
    fast, slow = both(ticket, operator)
    # then
    assert fast["platform"] == "pds" and fast["channel"] is None
    assert fast == slow and list(fast) == list(slow)


def test_a_ticket_with_requests_urges_and_supervision_prints_as_the_serializer_prints_it(
        ticket_in, dispatcher, unit_handler):
    # given: nested summaries that a new ticket never has
    ticket = ticket_in("handling")
    services.ticket_urge(ticket=ticket, actor=dispatcher, note="请加快办理")
    services.supervision_open(ticket=ticket, actor=dispatcher, reason="群众反映强烈")
    services.ticket_extension_request(ticket=ticket, actor=unit_handler, reason="需协调多个部门",
                                      requested_deadline=timezone.now() + timedelta(days=10))
    ticket.refresh_from_db()
    for user in (dispatcher, unit_handler):
        prepared(ticket, user, registered=False)
        # when
        fast, slow = both(ticket, user)
        # then
        assert fast["urges"] and fast["supervisions"] and fast["pending_extension"]
        assert fast == slow and list(fast) == list(slow)


def test_registration_answers_what_the_detail_view_answers(operator, unit_a):
    # given
    client = APIClient()
    client.force_login(operator)
    body = {"channel": "phone", "appeal_type": "complaint", "category": "0201", "content": "小区停水。",
            "caller_name": "李四", "caller_phone": "13900001111", "township": unit_a.pk}
    # when
    created = client.post("/api/tickets/", body, format="json")
    # then
    assert created.status_code == 201, created.content
    detail = client.get(f"/api/tickets/{created.json()['id']}/")
    assert created.json() == detail.json()


def test_input_fields_are_fresh_per_serializer_and_share_no_state():
    # given
    first, second = TicketCreateInputSerializer(data={}), TicketCreateInputSerializer(data={})
    # when
    a, b = first.fields, second.fields
    # then: the same fields, new instances bound to their own serializer
    assert list(a) == list(b) == list(TicketCreateInputSerializer._declared_fields)
    for name in a:
        assert a[name] is not b[name] and a[name].parent is first and b[name].parent is second
        assert type(a[name]) is type(TicketCreateInputSerializer._declared_fields[name])


def test_a_category_retired_after_a_first_registration_is_refused_at_once(operator, unit_a):
    # given: one registration has built the input fields and their querysets
    client = APIClient()
    client.force_login(operator)
    body = {"channel": "phone", "appeal_type": "complaint", "category": "0201", "content": "小区停水。",
            "township": unit_a.pk}
    assert client.post("/api/tickets/", body, format="json").status_code == 201
    # retired as the admin and the directory import do it: a save (the directory cache follows saves;
    # code that writes directory rows with QuerySet.update() must call directory_cache.invalidate())
    category = Category.objects.get(code="0201")
    category.active = False
    category.save()
    # when
    response = client.post("/api/tickets/", body, format="json")
    # then
    assert response.status_code == 400, response.content
    assert "category" in response.json()["fields"]


def test_an_unknown_code_is_refused_as_before(operator):
    # given
    client = APIClient()
    client.force_login(operator)
    body = {"channel": "nope", "appeal_type": "complaint", "category": "0201", "content": "小区停水。"}
    # when
    response = client.post("/api/tickets/", body, format="json")
    # then
    assert response.status_code == 400
    assert "channel" in response.json()["fields"]
