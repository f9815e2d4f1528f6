"""Each role's main menu reaches every page that role may use, and nothing else: every entry opens
(200, or a redirect to a page that opens) and every page of the menu that is not shown refuses (403)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tickets.menu import ENTRIES

pytestmark = pytest.mark.django_db

ROLES = ["operator", "dispatcher", "unit_handler", "assessor", "editor", "leader", "admin"]
NAV = re.compile(r'<nav class="mainnav"[^>]*>(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"[^>]*>([^<]+)</a>')

EXPECTED = {
    "operator": ["工作台", "新来电", "工单查询", "简报公开页"],
    "dispatcher": ["工作台", "新来电", "工单查询", "导入", "上报上级", "领导驾驶舱", "考核", "简报公开页"],
    "unit_handler": ["本单位待办", "工单查询", "考核", "简报公开页"],
    "assessor": ["工作台", "工单查询", "导入", "领导驾驶舱", "考核", "工作简报", "简报公开页"],
    "editor": ["工作台", "工单查询", "领导驾驶舱", "考核", "工作简报", "简报公开页"],
    "leader": ["工作台", "工单查询", "领导驾驶舱", "考核", "简报公开页"],
    "admin": ["工作台", "新来电", "工单查询", "导入", "上报上级", "领导驾驶舱", "考核", "工作简报", "简报公开页",
              "管理后台"],
}


def menu_of(client) -> list[tuple[str, str]]:
    html = client.get("/", follow=True).content.decode()
    return LINK.findall(NAV.search(html).group(1))


def opens(client, url) -> bool:
    response = client.get(url, follow=True)
    return response.status_code == 200 and "/accounts/login/" not in response.redirect_chain[-1][0] \
        if response.redirect_chain else response.status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_the_menu_reaches_every_page_of_the_role_and_only_those(personas, role):
    client = Client()
    client.force_login(personas[role])
    menu = menu_of(client)
    # then the entries are the role's
    assert [label for _, label in menu] == EXPECTED[role]
    # and each opens
    for url, label in menu:
        assert opens(client, url), (role, label, url)
    # and every page of the menu not shown to the role refuses it
    shown = {url for url, _ in menu}
    for entry in ENTRIES:
        url = reverse(entry.url_name)
        if url not in shown:
            response = client.get(url)
            refused = response.status_code in (403, 404) or (
                response.status_code == 302 and "login" in response["Location"])
            assert refused, (role, entry.label, url, response.status_code)


def test_anonymous_sees_no_menu(directory):
    html = Client().get("/accounts/login/").content.decode()
    assert 'class="mainnav"' not in html


def test_the_current_page_is_marked(dispatcher):
    client = Client()
    client.force_login(dispatcher)
    html = client.get("/exchange/outbox/").content.decode()
    assert re.search(r'<a href="/exchange/outbox/" aria-current="page">上报上级</a>', html)
