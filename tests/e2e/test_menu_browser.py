"""Each role's main menu in chromium: every entry is followed to its page, which opens (no error page,
no console error, nothing fetched from outside); screenshots in artifacts/screenshots/menu-*.png."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

USERNAMES = {"operator": "op", "dispatcher": "disp", "unit_handler": "handler_a", "assessor": "assessor",
             "editor": "editor", "leader": "leader", "admin": "root"}
SLUG = {"工作台": "home", "本单位待办": "home", "新来电": "call-new", "工单查询": "list", "导入": "imports",
        "上报上级": "outbox", "领导驾驶舱": "dashboard", "考核": "assessment", "工作简报": "bulletins-manage",
        "简报公开页": "bulletins-public", "管理后台": "admin"}


@pytest.mark.parametrize("role", list(USERNAMES))
def test_each_menu_entry_opens_its_page(session, personas, ticket_in, role):
    from tickets.menu import menu_for

    ticket_in("pending_sign")  # the unit handler's inbox and the lists have something to show
    ticket_in("handling")
    user = personas[role]
    s = session(role)
    s.login(USERNAMES[role])
    s.shot(f"menu-{role}-0-home")
    links = s.page.locator("nav.mainnav a")
    entries = [(links.nth(i).inner_text().strip(), links.nth(i).get_attribute("href")) for i in range(links.count())]
    # the browser shows what the menu module computes for the role
    assert [label for label, _ in entries] == [item["label"] for item in menu_for(user)]
    for n, (label, href) in enumerate(entries, start=1):
        response = s.goto(href)
        assert response.status < 400, (role, label, href, response.status)
        assert s.page.locator("body").inner_text().find("无权") == -1, (role, label)
        if not href.startswith(("/admin/", "/bulletins/")):
            # the entry is marked as the current page (the admin and the public pages have their own layout)
            current = s.page.locator('nav.mainnav a[aria-current="page"]')
            assert current.count() == 1 and current.inner_text().strip() == label, (role, label)
        s.shot(f"menu-{role}-{n}-{SLUG.get(label, n)}")
    # and the user menu's 修改密码
    s.goto("/")
    s.page.click("header .who >> text=修改密码")
    s.page.wait_for_selector("#id_old_password")
    s.shot(f"menu-{role}-password")
    assert ARTIFACTS.exists()
