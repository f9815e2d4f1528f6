"""The main menu: each entry shown to exactly the users its page lets in.

Every entry's ``visible`` is the predicate its view checks (imported from where the view gets it), not a
copy of the roles, so a role gains or loses an entry when it gains or loses the page. Rendered by
``base.html`` through the ``main_menu`` context processor; tests/tickets/test_menu.py opens every entry
as every role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from .models import Role
from .permissions import MANAGEMENT_READ_ROLES, REGISTER_ROLES, has_role


@dataclass(frozen=True)
class Entry:
    label: str
    url_name: str
    visible: Callable
    active: Callable  # (resolver_match) -> bool
    hotkey: str = ""


def _signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def _may_import(user) -> bool:
    from .imports.jobs import import_kinds_for

    return bool(import_kinds_for(user))


def _may_see_outbox(user) -> bool:
    from .exchange.views import may_see_outbox

    return may_see_outbox(user)


def _may_open_assessment(user) -> bool:
    from assessment.selectors import can_open_assessment

    return can_open_assessment(user)


def _may_manage_bulletins(user) -> bool:
    from reports.services import may_manage_bulletins

    return may_manage_bulletins(user)


def _url_name(*names):
    return lambda match: bool(match) and match.url_name in names and match.app_name in ("", "tickets")


def _app(*apps):
    return lambda match: bool(match) and match.app_name in apps


ENTRIES = [
    Entry("工作台", "home", _signed_in, _url_name("home")),
    Entry("新来电", "tickets:call-new", lambda u: has_role(u, REGISTER_ROLES), _url_name("call-new"), hotkey="n"),
    Entry("工单查询", "tickets:list", _signed_in, _url_name("list")),
    Entry("导入", "imports:upload", _may_import, _app("imports")),
    Entry("上报上级", "exchange:outbox", _may_see_outbox, _app("exchange")),
    Entry("领导驾驶舱", "reports:dashboard", lambda u: has_role(u, MANAGEMENT_READ_ROLES),
          lambda match: bool(match) and match.app_name == "reports" and match.url_name == "dashboard"),
    Entry("考核", "assessment:index", _may_open_assessment, _app("assessment")),
    Entry("工作简报", "reports:bulletin-manage", _may_manage_bulletins,
          lambda match: bool(match) and match.app_name == "reports" and match.url_name != "dashboard"),
    Entry("简报公开页", "bulletins:archive", _signed_in, _app("bulletins")),
    Entry("管理后台", "admin:index", lambda u: bool(_signed_in(u) and u.is_staff), _app("admin")),
]


def menu_for(user, match=None) -> list[dict]:
    items = []
    for entry in ENTRIES:
        if not entry.visible(user):
            continue
        label = entry.label
        if entry.url_name == "home" and user.role == Role.UNIT_HANDLER:
            label = "本单位待办"
        items.append({"label": label, "url": reverse(entry.url_name), "current": entry.active(match),
                      "hotkey": entry.hotkey})
    return items


def main_menu(request) -> dict:
    """Context processor: ``main_menu`` for the signed-in user (empty otherwise)."""
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {"main_menu": []}
    return {"main_menu": menu_for(user, getattr(request, "resolver_match", None))}
