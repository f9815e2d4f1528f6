"""Lists: page size (20/50/100) and jump-to-page, keeping the filters; the callback number shown at
once to whoever calls back (still logged)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tickets.models import CallerDataAccess

pytestmark = pytest.mark.django_db

ROLES = ["operator", "dispatcher", "unit_handler", "assessor", "editor", "leader", "admin"]


def rows(html: str) -> int:
    """Ticket rows in the page's table (each links its number to the detail page)."""
    return len(re.findall(r'<td class="nowrap"><a href="/tickets/\d+/">', html))


@pytest.fixture
def many(new_ticket):
    return [new_ticket(content=f"路灯不亮{i}") for i in range(55)]


@pytest.mark.parametrize("role", [r for r in ROLES if r != "unit_handler"])
def test_the_ticket_list_offers_page_sizes_and_a_jump_to_page(personas, role, many):
    client = Client()
    client.force_login(personas[role])
    # default 20 rows, 3 pages, with the jump form and the sizes
    html = client.get("/tickets/", {"status": "pending_dispatch"}).content.decode()
    assert rows(html) == 20 and "第 1 / 3 页" in html
    assert 'name="page" min="1" max="3"' in html
    assert all(f'<option value="{s}"' in html for s in (20, 50, 100))
    # the filter is kept by the form (hidden field) and by the links
    assert '<input type="hidden" name="status" value="pending_dispatch">' in html
    assert 'href="?status=pending_dispatch&amp;page=2"' in html
    # 50 a page: 2 pages; jump to page 2 keeps the size and the filter
    html = client.get("/tickets/", {"status": "pending_dispatch", "size": "50"}).content.decode()
    assert rows(html) == 50 and "第 1 / 2 页" in html and '<option value="50" selected>' in html
    html = client.get("/tickets/", {"status": "pending_dispatch", "size": "50", "page": "2"}).content.decode()
    assert rows(html) == 5 and "第 2 / 2 页" in html
    assert "size=50" in html
    # 100: one page
    assert "第 1 / 1 页" in client.get("/tickets/", {"size": "100"}).content.decode()


@pytest.mark.parametrize("size", ["7", "1000", "abc", "-1", "50\x00"])
def test_an_unknown_page_size_is_the_default(dispatcher, many, size):
    client = Client()
    client.force_login(dispatcher)
    response = client.get("/tickets/", {"size": size})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert rows(response.content.decode()) == 20


def test_a_page_past_the_end_shows_the_last(dispatcher, many):
    client = Client()
    client.force_login(dispatcher)
    html = client.get("/tickets/", {"page": "999"}).content.decode()
    assert "第 3 / 3 页" in html


def test_the_workbench_queue_has_page_sizes_too(dispatcher, many):
    client = Client()
    client.force_login(dispatcher)
    html = client.get("/", {"queue": "pending_dispatch", "size": "50"}).content.decode()
    assert rows(html) == 50
    assert '<input type="hidden" name="queue" value="pending_dispatch">' in html


# --- the callback number ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["dispatcher", "admin"])
def test_the_callback_operator_sees_the_number_without_a_click_and_it_is_logged(personas, role, ticket_in):
    ticket = ticket_in("pending_callback")
    client = Client()
    client.force_login(personas[role])
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert ticket.caller_phone in html and ticket.caller_name in html
    assert "查看完整信息（将被记录）" not in html
    log = CallerDataAccess.objects.filter(user=personas[role], ticket=ticket)
    assert log.count() == 1 and log.get().detail == "工单回访：显示完整来电人信息"


@pytest.mark.parametrize("role", ["dispatcher", "admin"])
def test_before_the_callback_the_number_still_needs_the_reveal(personas, role, ticket_in):
    ticket = ticket_in("handling")
    client = Client()
    client.force_login(personas[role])
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert ticket.caller_phone not in html and "查看完整信息（将被记录）" in html
    assert not CallerDataAccess.objects.filter(ticket=ticket).exists()


@pytest.mark.parametrize("role", ["operator", "assessor", "editor", "leader"])
def test_roles_that_do_not_call_back_see_it_masked(personas, role, ticket_in):
    ticket = ticket_in("pending_callback")
    client = Client()
    client.force_login(personas[role])
    response = client.get(f"/tickets/{ticket.pk}/")
    assert ticket.caller_phone not in response.content.decode()
    assert not CallerDataAccess.objects.filter(ticket=ticket, user=personas[role]).exists()


def test_a_unit_handler_does_not_see_the_callback_number(unit_handler, ticket_in):
    ticket = ticket_in("pending_callback")
    client = Client()
    client.force_login(unit_handler)
    assert ticket.caller_phone not in client.get(f"/tickets/{ticket.pk}/").content.decode()


# --- counts stop at HOTLINE_LIST_COUNT_LIMIT (tickets/pagination.py) --------------------------------


@pytest.mark.parametrize("role", [r for r in ROLES if r != "unit_handler"])
def test_a_list_past_the_count_limit_says_more_and_pages_only_through_the_limit(personas, role, many, settings):
    # given: 55 tickets and a count limit of 30
    settings.HOTLINE_LIST_COUNT_LIMIT = 30
    client = Client()
    client.force_login(personas[role])
    # when: the list is opened, then its last offered page
    html = client.get("/tickets/", {"status": "pending_dispatch"}).content.decode()
    # then: it counts to the limit, says there are more, and offers the limit's pages only
    assert "共 30+ 件，第 1 / 2 页" in html and "请用筛选条件缩小范围" in html
    assert 'name="page" min="1" max="2"' in html
    html = client.get("/tickets/", {"status": "pending_dispatch", "page": "9"}).content.decode()
    assert rows(html) == 10 and "第 2 / 2 页" in html
    # a filter under the limit is counted exactly
    html = client.get("/tickets/", {"status": "pending_dispatch", "size": "50", "page": "1"}).content.decode()
    assert "共 30+ 件" in html
    settings.HOTLINE_LIST_COUNT_LIMIT = 100
    html = client.get("/tickets/", {"status": "pending_dispatch"}).content.decode()
    assert "共 55 件" in html and "+" not in re.search(r"共 [^件]*件", html).group(0)


def test_the_workbench_counts_to_the_limit(dispatcher, many, settings):
    settings.HOTLINE_LIST_COUNT_LIMIT = 30
    client = Client()
    client.force_login(dispatcher)
    html = client.get("/").content.decode()
    assert "可查看工单 30+ 件" in html
    # the 待派单 tile: 55 waiting, counted to 30
    assert re.search(r'data-queue="pending_dispatch">\s*<span class="tile-label">[^<]*</span>\s*'
                     r'<span class="tile-count">30\+</span>', html)
    settings.HOTLINE_LIST_COUNT_LIMIT = 10000
    html = client.get("/").content.decode()
    assert "可查看工单 55 件" in html


def test_a_unit_handler_counts_only_its_own_tickets(unit_handler, ticket_in, many, settings):
    settings.HOTLINE_LIST_COUNT_LIMIT = 30
    ticket_in("pending_sign")
    client = Client()
    client.force_login(unit_handler)
    html = client.get("/tickets/").content.decode()
    assert "共 1 件" in html and "30+" not in html


def test_the_api_counts_to_the_limit_and_says_so(personas, many, settings):
    settings.HOTLINE_LIST_COUNT_LIMIT = 30
    client = Client()
    client.force_login(personas["dispatcher"])
    body = client.get("/api/tickets/", {"page_size": 20}).json()
    assert body["count"] == 30 and body["count_limited"] is True and len(body["results"]) == 20
    assert client.get("/api/tickets/", {"page_size": 20, "page": 2}).json()["next"] is None
    assert client.get("/api/tickets/", {"page_size": 20, "page": 3}).status_code == 404
    settings.HOTLINE_LIST_COUNT_LIMIT = 100
    body = client.get("/api/tickets/").json()
    assert body["count"] == 55 and body["count_limited"] is False
    # a unit handler sees none of these (not dispatched): an exact zero
    client.force_login(personas["unit_handler"])
    body = client.get("/api/tickets/").json()
    assert body["count"] == 0 and body["count_limited"] is False


@pytest.mark.parametrize("role", [r for r in ROLES if r != "unit_handler"])
def test_a_keyword_search_is_paged_by_next_without_a_count(personas, role, many, django_assert_max_num_queries):
    """Counting a common word's matches read one table page per match (~3 s for 10,000 at 10 M tickets):
    a keyword search fetches a page and one row more, and is counted only once its last page is reached."""
    client = Client()
    client.force_login(personas[role])
    # when: the first page of a word that 55 tickets contain
    html = client.get("/tickets/", {"q": "路灯"}).content.decode()
    # then: 20 rows, a next page, no total and no "last page" link
    assert rows(html) == 20 and "第 1 页，后面还有" in html and "共 " not in html and "末页" not in html
    assert 'href="?q=%E8%B7%AF%E7%81%AF&amp;page=2"' in html
    # the last page says how many were found
    html = client.get("/tickets/", {"q": "路灯", "page": "3"}).content.decode()
    assert rows(html) == 15 and "共 55 件，第 3 页" in html and "下一页" not in html
    # past the end: the first page (the last is not known without counting)
    html = client.get("/tickets/", {"q": "路灯", "page": "7"}).content.decode()
    assert rows(html) == 20 and "第 1 页，后面还有" in html
    # a word with one page of matches
    html = client.get("/tickets/", {"q": "路灯不亮5"}).content.decode()
    assert rows(html) == 6 and "共 6 件，第 1 页" in html
    # a ticket number is counted as before
    number = many[0].number
    assert "共 1 件，第 1 / 1 页" in client.get("/tickets/", {"q": number}).content.decode()


def test_a_keyword_search_stops_at_the_count_limit(dispatcher, many, settings):
    settings.HOTLINE_LIST_COUNT_LIMIT = 40
    client = Client()
    client.force_login(dispatcher)
    html = client.get("/tickets/", {"q": "路灯", "page": "2"}).content.decode()
    assert rows(html) == 20 and "只能翻阅前 40 件" in html and "下一页" not in html


def test_the_api_does_not_count_a_keyword_search(personas, many):
    client = Client()
    client.force_login(personas["dispatcher"])
    body = client.get("/api/tickets/", {"q": "路灯"}).json()
    assert body["count"] is None and body["count_limited"] is False and len(body["results"]) == 20
    assert body["next"] and "page=2" in body["next"]
    last = client.get("/api/tickets/", {"q": "路灯", "page": 3}).json()
    assert last["next"] is None and len(last["results"]) == 15
    assert client.get("/api/tickets/", {"q": "路灯", "page": 4}).status_code == 404
    # other lists still count their ?q=, and a number search is counted
    assert client.get("/api/tickets/", {"q": many[0].number}).json()["count"] == 1
    # a unit handler sees none of these
    client.force_login(personas["unit_handler"])
    body = client.get("/api/tickets/", {"q": "路灯"}).json()
    assert body["results"] == [] and body["next"] is None


def test_a_newest_first_keyword_page_is_the_same_rows_from_the_recent_window_or_from_all(dispatcher, many, new_ticket):
    """tickets/pagination.py looks for a keyword page among the last week's tickets first (walking the
    registration index): the rows must be exactly those of the whole ordering, whichever way they come."""
    from datetime import timedelta

    from django.utils import timezone

    from tickets.models import Ticket
    from tickets.pagination import newest_first_rows
    from tickets.search import ticket_search
    from tickets.selectors import ticket_queryset_for_user

    # given: 55 matches this week, and 5 older ones
    for days in (10, 20, 30, 40, 50):
        old = new_ticket(content="路灯不亮很久了")
        Ticket.objects.filter(pk=old.pk).update(registered_at=timezone.now() - timedelta(days=days))
    qs = ticket_search(ticket_queryset_for_user(user=dispatcher), "路灯不亮").order_by("-registered_at", "-id")
    # when / then: a page inside the week, a page reaching past it, and the last rows
    for offset, limit in ((0, 21), (20, 21), (40, 21), (50, 21), (58, 5)):
        assert [t.pk for t in newest_first_rows(qs, offset, limit)] == [t.pk for t in qs[offset:offset + limit]]


@pytest.mark.django_db(transaction=True)
def test_the_recent_window_leaves_the_planner_settings_of_an_enclosing_transaction_alone(dispatcher, many):
    from django.db import connection, transaction

    from tickets.pagination import newest_first_rows
    from tickets.search import ticket_search
    from tickets.selectors import ticket_queryset_for_user

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL planner setting")
    qs = ticket_search(ticket_queryset_for_user(user=dispatcher), "路灯").order_by("-registered_at", "-id")
    with transaction.atomic(), connection.cursor() as cursor:
        assert len(newest_first_rows(qs, 0, 21)) == 21
        cursor.execute("SHOW enable_bitmapscan")
        assert cursor.fetchone()[0] == "on"
