"""The database unavailable, simulated (runs on SQLite too): API and pages answer 503 with
``Retry-After`` — never 500 — nothing is half-written, the outage is logged once at WARNING without
request data, and Celery tasks retry. The real thing: ``test_postgres_restart.py``."""

from __future__ import annotations

import logging
from unittest import mock

import psycopg
import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import InterfaceError, OperationalError
from django.test import Client
from rest_framework.test import APIClient

from tickets.models import Ticket, TicketEvent, TicketSequence

pytestmark = pytest.mark.django_db

DOWN = [
    OperationalError("connection failed: connection to server at \"127.0.0.1\", port 5432 failed: Connection refused"),
    InterfaceError("connection already closed"),
    psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"),
]


def api(user, **kwargs) -> APIClient:
    client = APIClient(**kwargs)
    client.force_login(user)
    return client


def assert_api_503(response):
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5" and response["Content-Type"] == "application/json"
    assert response.json() == {"code": "database_unavailable", "detail": "数据库暂时不可用，请稍后重试。",
                               "retry_after_seconds": 5}


def warnings_of(caplog):
    return [r for r in caplog.records if r.name == "tickets.database"]


@pytest.mark.parametrize("error", DOWN, ids=["django-operational", "django-interface", "psycopg-operational"])
def test_an_api_read_answers_503_with_retry_after(operator, error, caplog):
    # given
    client = api(operator)
    # when
    with mock.patch("tickets.apis.tickets.ticket_queryset_for_user", side_effect=error), \
            caplog.at_level(logging.WARNING):
        response = client.get("/api/tickets/?phone=13900001111")
    # then
    assert_api_503(response)
    [record] = warnings_of(caplog)
    assert record.levelno == logging.WARNING and "GET /api/tickets/ -> 503" in record.getMessage()
    assert "13900001111" not in caplog.text  # no query string, no body
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no "Service Unavailable" traceback


def test_a_registration_cut_off_by_the_database_writes_nothing(operator, unit_a, caplog):
    # given: the connection drops after the ticket row was inserted, before its event
    body = {"channel": "phone", "appeal_type": "problem", "category": "0201", "content": "小区停水两天。",
            "caller_name": "张三", "caller_phone": "13900002222", "township": unit_a.pk}
    sequences = list(TicketSequence.objects.values_list("key", "value"))
    # when
    with mock.patch("tickets.services.registration.event_record", side_effect=DOWN[0]), \
            caplog.at_level(logging.WARNING):
        response = api(operator).post("/api/tickets/", body, format="json")
    # then
    assert_api_503(response)
    assert not Ticket.objects.exists() and not TicketEvent.objects.exists()
    assert list(TicketSequence.objects.values_list("key", "value")) == sequences  # the number was given back
    assert len(warnings_of(caplog)) == 1
    assert "13900002222" not in caplog.text and "停水" not in caplog.text


def test_the_same_registration_succeeds_once_the_database_is_back(operator, unit_a):
    # given
    body = {"channel": "phone", "appeal_type": "problem", "category": "0201", "content": "小区停水两天。",
            "township": unit_a.pk}
    client = api(operator)
    with mock.patch("tickets.services.registration.event_record", side_effect=DOWN[0]):
        assert client.post("/api/tickets/", body, format="json").status_code == 503
    # when
    response = client.post("/api/tickets/", body, format="json")
    # then
    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert list(ticket.events.values_list("type", flat=True)) == ["registered"]
    assert ticket.number.endswith("00001")


def test_a_workflow_action_answers_503_and_leaves_the_ticket_as_it_was(ticket_in, dispatcher, unit_a):
    # given
    ticket = ticket_in("pending_dispatch")
    # when
    with mock.patch("tickets.services.common.TicketEvent.save", side_effect=DOWN[0]):
        response = api(dispatcher).post(f"/api/tickets/{ticket.pk}/dispatch/", {"unit": unit_a.pk}, format="json")
    # then
    assert_api_503(response)
    ticket.refresh_from_db()
    assert ticket.status == "pending_dispatch" and ticket.unit_id is None
    assert list(ticket.events.values_list("type", flat=True)) == ["registered"]


@pytest.mark.parametrize("persona", ["dispatcher", "unit_handler", "leader"])
def test_a_page_answers_a_chinese_503_page(personas, persona, caplog):
    # given
    client = Client()
    client.force_login(personas[persona])
    # when
    with mock.patch("tickets.views.ticket_queryset_for_user", side_effect=DOWN[0]), caplog.at_level(logging.WARNING):
        response = client.get("/tickets/")
    # then
    assert response.status_code == 503
    assert response["Retry-After"] == "5" and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "服务暂时不可用" in page and "数据库暂时不可用" in page and "Traceback" not in page
    assert personas[persona].username not in page  # the page reads no user (and so no session)
    [record] = warnings_of(caplog)
    assert "GET /tickets/ -> 503" in record.getMessage()


def test_an_error_outside_the_views_answers_503_too(operator, caplog):
    # given: the session middleware fails on the way out (it saves the session in the database)
    client = api(operator, raise_request_exception=False)
    # when
    with mock.patch.object(SessionMiddleware, "process_response", side_effect=DOWN[1]), \
            caplog.at_level(logging.WARNING):
        api_response = client.get("/api/me/")
        page_response = client.get("/tickets/")
    # then
    assert_api_503(api_response)
    assert page_response.status_code == 503 and "数据库暂时不可用" in page_response.content.decode()
    assert len(warnings_of(caplog)) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_other_errors_still_answer_500(operator):
    # given: a bug, not an outage
    client = api(operator, raise_request_exception=False)
    # when
    with mock.patch("tickets.apis.tickets.ticket_queryset_for_user", side_effect=RuntimeError("bug")):
        response = client.get("/api/tickets/")
    with mock.patch("tickets.views.ticket_queryset_for_user", side_effect=RuntimeError("bug")):
        page = client.get("/tickets/")
    # then
    assert response.status_code == 500 and response.json()["code"] == "server_error"
    assert page.status_code == 500


def test_an_error_raised_from_a_database_error_counts_as_unavailable():
    from tickets.exceptions import is_database_unavailable

    try:
        try:
            raise DOWN[0]
        except OperationalError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        assert is_database_unavailable(wrapped)
    assert not is_database_unavailable(RuntimeError("bug"))
    assert not is_database_unavailable(None)


# --- Celery tasks retry while the database restarts ------------------------------------------------


@pytest.fixture
def eager_retries():
    """Run a task's retries in place, as a worker would run them later (tests propagate errors
    of eager tasks, which stops at the first retry)."""
    from hotline.celery import app

    saved = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = saved


def test_the_auto_urge_task_retries_when_the_database_is_unavailable(directory, eager_retries):
    from tickets.tasks import ticket_auto_urge_task

    # given: the first run finds the database down, the retry finds it back
    with mock.patch("tickets.tasks.auto_urge_candidates", side_effect=[DOWN[0], []]) as candidates:
        # when
        result = ticket_auto_urge_task.apply()
    # then
    assert result.successful() and result.get() == 0
    assert candidates.call_count == 2


def test_the_bulletin_task_retries_when_the_database_is_unavailable(directory, eager_retries):
    from reports import tasks

    # given
    with mock.patch.object(tasks.services, "bulletin_build", side_effect=[DOWN[2], mock.Mock(period="2024-04")]) \
            as build:
        # when
        result = tasks.bulletin_build_task.apply(args=["2024-04"])
    # then
    assert result.successful() and result.get() == "2024-04"
    assert build.call_count == 2


def test_a_task_gives_up_after_its_retries(directory, eager_retries):
    from tickets.tasks import ticket_auto_urge_task

    # given: the database stays down
    with mock.patch("tickets.tasks.auto_urge_candidates", side_effect=DOWN[0]) as candidates:
        # when
        result = ticket_auto_urge_task.apply()
    # then
    assert result.failed() and isinstance(result.result, OperationalError)
    assert candidates.call_count == 1 + ticket_auto_urge_task.max_retries
