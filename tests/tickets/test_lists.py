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
    html = client.get("/tickets/", {"q": "路灯"}).content.decode()
    assert rows(html) == 20 and "第 1 / 3 页" in html
    assert 'name="page" min="1" max="3"' in html
    assert all(f'<option value="{s}"' in html for s in (20, 50, 100))
    # the filter is kept by the form (hidden field) and by the links
    assert '<input type="hidden" name="q" value="路灯">' in html
    assert 'href="?q=%E8%B7%AF%E7%81%AF&amp;page=2"' in html
    # 50 a page: 2 pages; jump to page 2 keeps the size and the filter
    html = client.get("/tickets/", {"q": "路灯", "size": "50"}).content.decode()
    assert rows(html) == 50 and "第 1 / 2 页" in html and '<option value="50" selected>' in html
    html = client.get("/tickets/", {"q": "路灯", "size": "50", "page": "2"}).content.decode()
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
