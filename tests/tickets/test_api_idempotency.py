"""Idempotent registration: ``Idempotency-Key`` on ``POST /api/tickets/`` and the new-call form's
per-form token. A retry with the same key registers nothing new; the unique constraint on
(registered_by, idempotency_key) — not a look-up — is what holds under concurrency."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import make_user, ticket_kwargs
from tests.tickets.test_api_errors import _clear_cache, api  # noqa: F401 (autouse fixture, client helper)
from tests.tickets.test_concurrency import race
from tickets import services
from tickets.exceptions import Conflict, InvalidInput
from tickets.models import Call, EventType, Role, Ticket, TicketEvent, TicketSequence, Unit

pytestmark = pytest.mark.django_db

URL = "/api/tickets/"
REGISTER_ROLES = ["operator", "dispatcher", "admin"]
NO_REGISTER_ROLES = ["unit_handler", "assessor", "editor", "leader"]




def body(**overrides) -> dict:
    data = {"channel": "phone", "appeal_type": "problem", "category": "0201", "title": "停水",
            "content": "小区停水两天，无人维修。", "caller_name": "张三", "caller_phone": "13900001234",
            "address": "纸坊镇某村", "township": Unit.objects.get(short_name="纸坊镇").pk}
    data.update(overrides)
    return data


def post(client, data, key=None):
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(URL, data, format="json", headers=headers)


def registered_events() -> int:
    return TicketEvent.objects.filter(type=EventType.REGISTERED).count()


# --------------------------------------------------------------------------------------------
# The API
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", REGISTER_ROLES)
def test_a_retry_with_the_same_key_returns_the_first_ticket(personas, role):
    # given: a registration that went through
    client = api(personas[role])
    first = post(client, body(), key="7f9c2e9a-0c44-4b1e-9d64-2d7c1f0e5b11")
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first.headers
    # when: the client retries it (it never saw the answer)
    again = post(client, body(), key="7f9c2e9a-0c44-4b1e-9d64-2d7c1f0e5b11")
    # then: 200, the same ticket as its detail shows it, marked as a replay; nothing new written
    assert again.status_code == 200, again.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and again.json()["number"] == first.json()["number"]
    assert again.json() == client.get(f"{URL}{first.json()['id']}/").json()
    assert Ticket.objects.count() == 1 and registered_events() == 1
    ticket = Ticket.objects.get()
    assert ticket.idempotency_key == "7f9c2e9a-0c44-4b1e-9d64-2d7c1f0e5b11" and ticket.registered_by == personas[role]
    assert TicketSequence.objects.get().value == 1  # no number taken for the retry


def test_replays_keep_answering_after_the_ticket_moved_on(operator, dispatcher, unit_a):
    # given: a registered ticket, since dispatched
    client = api(operator)
    first = post(client, body(), key="k-1")
    services.ticket_dispatch(ticket=Ticket.objects.get(), unit=unit_a, actor=dispatcher)
    # when
    again = post(client, body(), key="k-1")
    # then: the ticket as it is now
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again.json()["status"] == "pending_sign"
    assert Ticket.objects.count() == 1


def test_defaults_left_out_or_spelled_out_are_the_same_request(operator):
    # given: the first request relies on the serializer's defaults
    client = api(operator)
    first = post(client, body(), key="defaults")
    # when: the retry spells them out
    again = post(client, body(source="local", handling_mode="dispatched", urgent=False, confidential=False,
                              upstream_number="", reply_text=""), key="defaults")
    # then: the validated input is what is compared
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and Ticket.objects.count() == 1


def test_another_user_with_the_same_key_registers_their_own_ticket(operator, dispatcher):
    # given
    first = post(api(operator), body(), key="shared-key")
    # when
    second = post(api(dispatcher), body(), key="shared-key")
    # then: keys are per user
    assert first.status_code == 201 and second.status_code == 201, second.content
    assert first.json()["id"] != second.json()["id"]
    assert Ticket.objects.count() == 2 and registered_events() == 2
    assert "Idempotent-Replayed" not in second.headers


def test_a_reused_key_with_other_content_is_409_and_writes_nothing(operator):
    # given
    client = api(operator)
    first = post(client, body(), key="reused")
    events_before, sequence_before = TicketEvent.objects.count(), TicketSequence.objects.get().value
    # when: the same key for a different registration
    response = post(client, body(content="另一件事：路灯不亮。"), key="reused")
    # then
    assert response.status_code == 409, response.content
    data = response.json()
    assert data["code"] == "idempotency_key_reused"
    assert first.json()["number"] in data["detail"] and "内容" in data["detail"]
    assert Ticket.objects.count() == 1 and TicketEvent.objects.count() == events_before
    assert Ticket.objects.get().content == "小区停水两天，无人维修。"
    assert TicketSequence.objects.get().value == sequence_before


@pytest.mark.parametrize("change", [{"urgent": True}, {"caller_phone": "13900005678"}, {"category": "0202"},
                                    {"channel": "web"}, {"handling_mode": "coordinated", "reply_text": "已答复"}])
def test_any_content_field_changed_counts_as_a_different_request(operator, change):
    # given
    client = api(operator)
    assert post(client, body(), key="k").status_code == 201
    # when / then
    response = post(client, body(**change), key="k")
    assert response.status_code == 409 and response.json()["code"] == "idempotency_key_reused"
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("key", ["", " ", "has space", "a" * 101, "中文键", "tab\there", "é"])
def test_an_invalid_key_is_400_and_writes_nothing(operator, key):
    # when
    response = post(api(operator), body(), key=key)
    # then
    assert response.status_code == 400, response.content
    data = response.json()
    assert data["code"] == "invalid_idempotency_key"
    assert "Idempotency-Key" in data["detail"] and "可见 ASCII" in data["detail"]
    assert Ticket.objects.count() == 0 and TicketEvent.objects.count() == 0


@pytest.mark.parametrize("key", ["a", "a" * 100, "!#$%&'*+-.^_`|~:/=?@[](){}<>", "0123456789ABCDEF"])
def test_keys_of_visible_ascii_up_to_100_are_accepted(operator, key):
    # when
    response = post(api(operator), body(), key=key)
    # then
    assert response.status_code == 201, response.content
    assert Ticket.objects.get().idempotency_key == key


def test_without_a_key_every_request_registers(operator):
    # given / when
    client = api(operator)
    responses = [post(client, body()), post(client, body())]
    # then: unchanged behaviour for clients that send no key
    assert [r.status_code for r in responses] == [201, 201]
    assert Ticket.objects.count() == 2 and not Ticket.objects.filter(idempotency_key__isnull=False).exists()


def test_a_request_that_failed_validation_does_not_use_up_its_key(operator):
    # given: the first attempt is refused (a first-level category)
    client = api(operator)
    refused = post(client, body(category="02"), key="fix-and-retry")
    assert refused.status_code == 400 and Ticket.objects.count() == 0
    # when: corrected and sent again with the same key
    response = post(client, body(), key="fix-and-retry")
    # then
    assert response.status_code == 201 and Ticket.objects.count() == 1


@pytest.mark.parametrize("role", NO_REGISTER_ROLES)
def test_roles_that_cannot_register_get_403_with_a_key_too(personas, operator, role):
    # given: the operator's ticket under a key the other user also sends
    post(api(operator), body(), key="same")
    # when
    response = post(api(personas[role]), body(), key="same")
    # then: no replay of another user's ticket, nothing written
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert Ticket.objects.count() == 1


def test_anonymous_request_with_a_key_is_401():
    response = post(APIClient(), {"content": "x"}, key="anon")
    assert response.status_code == 401 and Ticket.objects.count() == 0


def test_token_clients_get_the_same_guarantee(operator):
    # given: a CTI integration authenticating with a token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=operator).key}")
    # when
    statuses = [post(client, body(), key="cti-call-0001").status_code for _ in range(3)]
    # then
    assert statuses == [201, 200, 200] and Ticket.objects.count() == 1


# --------------------------------------------------------------------------------------------
# The service
# --------------------------------------------------------------------------------------------


def test_service_returns_created_then_the_same_ticket(operator):
    # when
    first, created = services.ticket_create_idempotent(actor=operator, idempotency_key="svc", **ticket_kwargs())
    again, created_again = services.ticket_create_idempotent(actor=operator, idempotency_key="svc",
                                                             **ticket_kwargs())
    # then
    assert created and not created_again and again.pk == first.pk
    assert first.idempotency_fingerprint and len(first.idempotency_fingerprint) == 64


def test_service_refuses_other_content_and_bad_keys(operator):
    services.ticket_create_idempotent(actor=operator, idempotency_key="svc", **ticket_kwargs())
    with pytest.raises(Conflict) as info:
        services.ticket_create_idempotent(actor=operator, idempotency_key="svc", **ticket_kwargs(content="别的"))
    assert info.value.code == "idempotency_key_reused"
    with pytest.raises(InvalidInput) as info:
        services.ticket_create_idempotent(actor=operator, idempotency_key="bad key", **ticket_kwargs())
    assert info.value.code == "invalid_idempotency_key"
    assert Ticket.objects.count() == 1


def test_other_conflicts_are_not_taken_for_a_replay(operator, upper_platform):
    # given: an upstream number already registered (without a key)
    services.ticket_create(actor=operator, **ticket_kwargs(channel=None), source="upper", platform=upper_platform,
                           upstream_number="PDS-1")
    # when / then: a keyed registration of the same upstream number is still a conflict
    with pytest.raises(Conflict) as info:
        services.ticket_create_idempotent(actor=operator, idempotency_key="up", source="upper",
                                          platform=upper_platform, upstream_number="PDS-1",
                                          **ticket_kwargs(channel=None))
    assert info.value.code == "duplicate_upstream_number"
    assert Ticket.objects.count() == 1


def test_fingerprint_is_keyed_and_does_not_hold_the_number(operator, settings):
    # given
    fields = ticket_kwargs()
    fingerprint = services.registration_fingerprint(fields)
    # when: another deployment's key
    settings.CALLER_HMAC_KEY = "another-key"
    # then: a keyed HMAC, not a bare hash anyone could recompute from the other columns
    assert services.registration_fingerprint(fields) != fingerprint
    assert "13812345678" not in fingerprint
    assert services.registration_fingerprint(dict(reversed(list(fields.items())))) == \
        services.registration_fingerprint(fields)


# --------------------------------------------------------------------------------------------
# The new-call page: one token per form shown
# --------------------------------------------------------------------------------------------


def form_post(token: str | None, **overrides) -> dict:
    data = {"caller_phone": "13912345678", "caller_name": "李四", "channel": "phone", "appeal_type": "problem",
            "category": "0201", "township": str(Unit.objects.get(short_name="纸坊镇").pk), "address": "纸坊镇东街",
            "title": "", "content": "东街停水一天了。", "handling_mode": "dispatched", "reply_text": ""}
    if token is not None:
        data["submit_token"] = token
    data.update(overrides)
    return data


def form_token(client) -> str:
    response = client.get(reverse("tickets:call-new"))
    assert response.status_code == 200
    return response.context["form"]["submit_token"].value()


def test_each_form_shown_carries_its_own_token(client, operator):
    # given
    client.force_login(operator)
    # when
    tokens = [form_token(client), form_token(client)]
    # then
    assert all(tokens) and tokens[0] != tokens[1]
    page = client.get(reverse("tickets:call-new")).content.decode()
    assert 'type="hidden" name="submit_token"' in page


def test_a_double_submit_registers_one_ticket_and_one_call(client, operator):
    # given
    client.force_login(operator)
    token = form_token(client)
    # when: the form is sent twice (double click, or resent after the answer was lost)
    first = client.post(reverse("tickets:call-new"), form_post(token))
    second = client.post(reverse("tickets:call-new"), form_post(token), follow=True)
    # then: both land on the same ticket; the second says so
    ticket = Ticket.objects.get()
    assert first.status_code == 302 and first.url == reverse("tickets:detail", args=[ticket.pk])
    assert second.redirect_chain[-1][0] == reverse("tickets:detail", args=[ticket.pk])
    assert "此表单已提交过" in second.content.decode() and ticket.number in second.content.decode()
    assert Call.objects.count() == 1 and registered_events() == 1
    assert ticket.idempotency_key == token


def test_a_new_form_registers_a_new_ticket(client, operator):
    # given
    client.force_login(operator)
    client.post(reverse("tickets:call-new"), form_post(form_token(client)))
    # when: the next call, on a freshly shown form, with the same content
    client.post(reverse("tickets:call-new"), form_post(form_token(client)))
    # then
    assert Ticket.objects.count() == 2 and Call.objects.count() == 2


def test_a_resubmit_with_changed_content_is_refused_and_offers_a_fresh_form(client, operator):
    # given: the form went through, then was edited and sent again with its old token
    client.force_login(operator)
    token = form_token(client)
    client.post(reverse("tickets:call-new"), form_post(token))
    # when
    response = client.post(reverse("tickets:call-new"), form_post(token, content="其实是路灯不亮。"))
    # then: a Chinese error, nothing written, and the form now carries a new token
    assert response.status_code == 400
    text = response.content.decode()
    assert "内容与当时不同" in text and Ticket.objects.get().number in text
    assert Ticket.objects.count() == 1 and Call.objects.count() == 1
    new_token = response.context["form"]["submit_token"].value()
    assert new_token and new_token != token
    # ... which registers the edited call as a new ticket
    client.post(reverse("tickets:call-new"), form_post(new_token, content="其实是路灯不亮。"))
    assert Ticket.objects.count() == 2


def test_a_tampered_token_is_refused(client, operator):
    client.force_login(operator)
    response = client.post(reverse("tickets:call-new"), form_post("not a token"))
    assert response.status_code == 400 and "表单已失效" in response.content.decode()
    assert Ticket.objects.count() == 0 and Call.objects.count() == 0


def test_a_form_without_token_still_registers(client, operator):
    client.force_login(operator)
    for _ in range(2):
        assert client.post(reverse("tickets:call-new"), form_post(None)).status_code == 302
    assert Ticket.objects.count() == 2


# --------------------------------------------------------------------------------------------
# Racing requests with one key (PostgreSQL: real concurrent connections)
# --------------------------------------------------------------------------------------------




@pytest.fixture
def postgres_only(request):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections and row locks: set DATABASE_URL=postgres://…")
    request.getfixturevalue("directory")  # transactional tests flush the tables: reload them


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_registrations_with_one_key_make_one_ticket(postgres_only):
    # given
    operator = make_user("op_race", Role.OPERATOR)
    kwargs = ticket_kwargs()
    # when: eight requests with the same key at once
    results = race(8, lambda i: services.ticket_create_idempotent(actor=operator, idempotency_key="race-1",
                                                                  **kwargs))
    # then: one ticket; every request answered with it, exactly one as its creator
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == [], errors
    assert len({ticket.pk for ticket, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert Ticket.objects.count() == 1 and registered_events() == 1
    assert TicketSequence.objects.get().value == 1  # the losers gave their numbers back


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_api_requests_with_one_key_answer_one_201_and_replays(postgres_only):
    # given
    operator = make_user("op_race_api", Role.OPERATOR)
    token = Token.objects.create(user=operator).key
    data = body()

    def send(i):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = post(client, data, key="race-api")
        return response.status_code, response.json().get("id"), response.headers.get("Idempotent-Replayed")

    # when
    results = race(6, send)
    # then
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(status for status, _, _ in results) == [200] * 5 + [201], results
    assert len({ticket_id for _, ticket_id, _ in results}) == 1
    assert all(replayed == "true" for status, _, replayed in results if status == 200)
    assert Ticket.objects.count() == 1 and registered_events() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_keys_with_different_content_one_wins_the_other_is_409(postgres_only):
    # given
    operator = make_user("op_race_409", Role.OPERATOR)
    # when
    results = race(2, lambda i: services.ticket_create_idempotent(
        actor=operator, idempotency_key="race-2", **ticket_kwargs(content=f"诉求{i}")))
    # then
    ok = [r for r in results if not isinstance(r, Exception)]
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(ok) == 1 and len(errors) == 1, results
    assert isinstance(errors[0], Conflict) and errors[0].code == "idempotency_key_reused"
    assert Ticket.objects.count() == 1 and Ticket.objects.get().content == ok[0][0].content
