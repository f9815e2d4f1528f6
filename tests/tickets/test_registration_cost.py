"""Registration (``POST /api/tickets/``) on its fewest queries: the directory looked up from the
per-process cache (tickets/directory_cache.py), no caller-data access row for echoing back what the
operator just typed, one transaction: the day's number, the ticket, its event. And the cache
follows every change of the directory."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tickets import directory_cache
from tickets.models import CallerDataAccess, Category, Ticket, Unit

pytestmark = pytest.mark.django_db

BODY = {"appeal_type": "problem", "category": "0201", "channel": "phone", "content": "小区停水两天，无人维修。",
        "caller_name": "张三", "caller_phone": "13812345678", "address": "纸坊镇某村"}


@pytest.fixture
def api(operator):
    client = APIClient()
    client.force_authenticate(operator)
    return client


def writes(queries):
    return [q["sql"] for q in queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]


def test_a_registration_takes_three_statements_and_no_directory_query(api):
    # given a warm process (the first request of a process loads the directory)
    township = Unit.objects.get(short_name="纸坊镇").pk
    assert api.post("/api/tickets/", {**BODY, "township": township}, format="json").status_code == 201

    # when
    with CaptureQueriesContext(connection) as ctx:
        response = api.post("/api/tickets/", {**BODY, "township": township}, format="json")

    # then: the day's number, the ticket and its event — nothing else reaches the database
    assert response.status_code == 201, response.content
    statements = [q["sql"] for q in ctx.captured_queries if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == 3, statements
    assert [s.split()[0].upper() for s in statements] == ["UPDATE", "INSERT", "INSERT"]
    assert "tickets_ticketsequence" in statements[0]
    assert "tickets_ticket" in statements[1] and "tickets_ticketevent" in statements[2]
    # the response still carries the caller's data, in full, for the operator who typed it
    assert response.json()["caller_phone"] == "13812345678"


def test_echoing_back_a_registration_is_not_logged_but_a_later_view_is(api):
    # when
    response = api.post("/api/tickets/", BODY, format="json")
    # then
    assert response.status_code == 201 and CallerDataAccess.objects.count() == 0
    # and a look at the stored ticket is logged as before
    assert api.get(f"/api/tickets/{response.json()['id']}/").status_code == 200
    assert CallerDataAccess.objects.filter(ticket_id=response.json()["id"]).count() == 1


def test_the_cached_directory_follows_a_deactivated_category(api):
    # given the category is in this process's cache
    assert api.post("/api/tickets/", BODY, format="json").status_code == 201
    # when an administrator deactivates it (a save: the receiver invalidates)
    category = Category.objects.get(code="0201")
    category.active = False
    category.save()
    # then the next registration sees it at once
    response = api.post("/api/tickets/", BODY, format="json")
    assert response.status_code == 400 and "category" in response.json()["fields"]
    assert Ticket.objects.count() == 1


def test_an_unknown_code_or_unit_is_still_a_400(api):
    assert api.post("/api/tickets/", {**BODY, "category": "9999"}, format="json").status_code == 400
    assert api.post("/api/tickets/", {**BODY, "township": 10**9}, format="json").status_code == 400
    assert Ticket.objects.count() == 0


def test_another_process_notices_a_change_through_the_shared_version():
    # given this process holds the directory, outside any transaction of its own
    cache = directory_cache._directory
    first = cache.get()
    assert cache.get() is first
    # when another process changes a unit: it sets a new version in the shared cache
    from django.core.cache import cache as shared

    shared.set(cache.key, "another-process")
    # then the next read here reloads
    assert cache.get() is not first


def test_the_directory_cache_tells_querysets_apart_by_their_conditions(directory):
    # given: a category made inactive, looked up through an "active only" queryset and through all
    from tickets.models import Category

    category = Category.objects.filter(parent__isnull=False).order_by("code").first()
    Category.objects.filter(pk=category.pk).update(active=False)
    directory_cache.invalidate()
    active = Category.objects.filter(parent__isnull=False, active=True)

    # when / then: each queryset answers with its own rows, however often it is asked, and a copy of the
    # same queryset (a serializer field is copied for each request) shares the first one's index
    assert directory_cache.directory_lookup(active, "code", category.code) is None
    assert directory_cache.directory_lookup(Category.objects.all(), "code", category.code) == category
    assert directory_cache.directory_lookup(active.all(), "code", category.code) is None
    assert directory_cache.directory_lookup(Category.objects.filter(parent__isnull=False)[:0], "code",
                                            category.code) is None
    keys = [k for k in directory_cache._directory.get() if k[0] == "tickets.Category"]
    assert len(keys) == 3
