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


# --- the editor's 工作台, empty states ----------------------------------------------------------


def test_the_editors_workbench_lists_the_months_bulletin_tasks(editor):
    import datetime as dt

    from django.utils import timezone

    from reports import selectors
    from reports.models import Bulletin, BulletinStatus

    client = Client()
    client.force_login(editor)
    last = selectors.month_previous(timezone.localdate().replace(day=1))
    period = selectors.period_of(last)
    # no bulletin for last month yet: build it (the link presets the month picker)
    html = client.get("/").content.decode()
    assert f"生成{last.year}年{last.month}月简报草稿" in html
    assert f'/reports/bulletins/?period={period}' in html
    manage = client.get(f"/reports/bulletins/?period={period}").content.decode()
    assert f'type="month" id="id_period" name="period" value="{period}"' in manage
    # a draft: edit and publish it; an older draft is listed too
    Bulletin.objects.create(period=period, month=last, title="t", office="o", number_in_year=1, number_total=1,
                            data={})
    Bulletin.objects.create(period="2024-04", month=dt.date(2024, 4, 1), title="t", office="o", number_in_year=4,
                            number_total=4, data={})
    html = client.get("/").content.decode()
    assert f"编辑并发布{last.year}年{last.month}月简报（草稿）" in html and "发布2024年4月简报（草稿）" in html
    assert f"/reports/bulletins/{period}/edit/" in html
    # all published: nothing to do, said in Chinese
    Bulletin.objects.update(status=BulletinStatus.PUBLISHED)
    assert "暂无待办" in client.get("/").content.decode()


@pytest.mark.parametrize("role", ["operator", "dispatcher", "unit_handler", "leader"])
def test_no_bulletin_tasks_for_those_who_do_not_make_it(personas, role):
    client = Client()
    client.force_login(personas[role])
    assert 'id="bulletin-tasks"' not in client.get("/").content.decode()


def test_an_empty_inbox_says_so_in_chinese(unit_handler):
    client = Client()
    client.force_login(unit_handler)
    html = client.get("/").content.decode()
    assert "暂无待办" in html


def test_the_bulletin_month_is_a_month_picker_still_checked_by_the_server(editor):
    from reports.models import Bulletin

    client = Client()
    client.force_login(editor)
    assert 'type="month"' in client.get("/reports/bulletins/").content.decode()
    response = client.post("/reports/bulletins/", {"period": "2024-13"}, follow=True)
    assert "期间格式应为 YYYY-MM" in response.content.decode() or "月份" in response.content.decode()
    assert not Bulletin.objects.exists()
