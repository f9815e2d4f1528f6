import io
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from tickets.imports import import_file
from tickets.models import AccessAction, CallerDataAccess, Ticket

from .import_helpers import TICKET_HEADERS, csv_bytes, ticket_row

pytestmark = pytest.mark.django_db


def export(user, query=""):
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/api/tickets/export.xlsx{query}")
    assert response.status_code == 200, response
    assert response.streaming  # written to a temporary file and streamed, not built in memory
    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content)).active
    return SimpleNamespace(content=content, headers=response.headers), [list(r) for r in sheet.iter_rows(values_only=True)]


def rows_fixture():
    return [
        ticket_row(),
        ticket_row(**{"工单编号": "RZ2024040100002", "办理方式": "协调办理", "承办单位": "", "派单时间": "",
                      "签收时间": "", "办结时间": "2024-04-01 09:00:00", "回访结果": "", "是否解决": ""}),
        ticket_row(**{"工单编号": "RZ2024040100003", "来源": "上级交办", "来源渠道": "平顶山市热线中心",
                      "上级工单编号": "PDS-1", "办理方式": "", "办结时间": "", "回访结果": "", "是否解决": ""}),
    ]


def test_export_has_the_import_layout_and_round_trips(directory, dispatcher):
    # given
    import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, rows_fixture()))
    before = list(Ticket.objects.order_by("pk").values())
    # when: a full export (with a reason), which the dispatcher may make
    response, rows = export(dispatcher, "?full=true&reason=核对")
    again = import_file(kind="tickets", data=response.content, name="export.xlsx")
    # then
    # the import's own layout: every column it reads, the answer (答复内容) last
    assert rows[0] == [*TICKET_HEADERS, "答复内容"]
    assert [r[0] for r in rows[1:]] == ["RZ2024040100001", "RZ2024040100002", "RZ2024040100003"]
    assert rows[1][9:11] == ["张三", "13812345678"]
    assert again == {"rows": 3, "created": 0, "updated": 0, "unchanged": 3, "events": 0,
                     "new_categories": 0, "new_platforms": 0}
    assert list(Ticket.objects.order_by("pk").values()) == before


def test_export_masks_caller_data_for_roles_that_may_not_see_it_and_is_logged(directory, leader):
    # given
    import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, rows_fixture()))
    # when
    _, rows = export(leader, "?source=upper")
    # then
    assert [r[0] for r in rows[1:]] == ["RZ2024040100003"]
    assert rows[1][9:11] == ["张*", "138****5678"]
    log = CallerDataAccess.objects.get()
    assert (log.user, log.action) == (leader, AccessAction.EXPORT)
    assert "导出工单1件" in log.detail and "source=upper" in log.detail


def test_unit_handlers_export_only_their_units_tickets(directory, unit_handler, ticket_in):
    # given
    mine = ticket_in("handling")
    import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, rows_fixture()))  # 自来水公司 / 纸坊镇 mix
    # when
    _, rows = export(unit_handler)
    # then
    numbers = {r[0] for r in rows[1:]}
    assert mine.number in numbers
    assert numbers == set(Ticket.objects.filter(unit=unit_handler.unit).values_list("number", flat=True))


# --- masked by default; a full export needs a reason, a role, a size; every ticket logged ----------

FULL_ROLES = ["operator", "dispatcher", "admin_user"]
OTHER_ROLES = ["leader", "assessor", "editor", "unit_handler"]


def api_get(user, query):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client.get(f"/api/tickets/export.xlsx{query}")


@pytest.mark.parametrize("role", FULL_ROLES + OTHER_ROLES)
def test_exports_are_masked_by_default_for_every_role(request, directory, role, ticket_in):
    # given: a ticket of 纸坊镇 whose caller the unit may contact (the detail page shows it in full)
    ticket = ticket_in("handling")
    Ticket.objects.filter(pk=ticket.pk).update(contact_granted=True)
    user = request.getfixturevalue(role)
    # when
    _, rows = export(user)
    # then
    caller = {tuple(r[9:11]) for r in rows[1:]}
    assert caller == {("张*", "138****5678")}
    log = CallerDataAccess.objects.get()
    assert (log.action, log.ticket, log.user) == (AccessAction.EXPORT, None, user)


@pytest.mark.parametrize("role", FULL_ROLES)
def test_a_full_export_with_a_reason_logs_every_ticket(request, directory, role):
    # given
    import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, rows_fixture()))
    user = request.getfixturevalue(role)
    # when
    _, rows = export(user, "?full=1&reason=%E4%B8%8A%E7%BA%A7%E7%9D%A3%E6%9F%A5%E6%A0%B8%E5%AE%9E&source=local")
    # then
    assert [r[9:11] for r in rows[1:]] == [["张三", "13812345678"]] * 2
    logs = CallerDataAccess.objects.order_by("ticket__number")
    assert [log.ticket.number for log in logs] == ["RZ2024040100001", "RZ2024040100002"]
    for log in logs:
        assert (log.user, log.action) == (user, AccessAction.EXPORT)
        assert log.detail == "完整导出2件 理由：上级督查核实 source=local"


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_roles_without_full_caller_data_cannot_export_it(request, directory, role, ticket_in):
    # given
    ticket_in("handling")
    # when
    response = api_get(request.getfixturevalue(role), "?full=true&reason=想看")
    # then
    assert response.status_code == 403 and response.json()["code"] == "export_full_forbidden"
    assert not CallerDataAccess.objects.exists()


def test_anonymous_cannot_export(directory):
    # then
    assert api_get(None, "").status_code in (401, 403)
    assert api_get(None, "?full=true&reason=x").status_code in (401, 403)


@pytest.mark.parametrize("query", ["?full=true", "?full=true&reason=", "?full=true&reason=%20%20"])
def test_a_full_export_needs_a_reason(dispatcher, ticket_in, query):
    # given
    ticket_in("handling")
    # when
    response = api_get(dispatcher, query)
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "export_reason_required"
    assert response.json()["detail"] == "导出完整的来电人信息须填写导出理由。"
    assert not CallerDataAccess.objects.exists()


def test_a_full_export_is_limited_in_rows(directory, dispatcher, settings):
    # given
    settings.HOTLINE_EXPORT_FULL_MAX_ROWS = 2
    import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, rows_fixture()))
    # when
    over = api_get(dispatcher, "?full=true&reason=核对")
    within = api_get(dispatcher, "?full=true&reason=核对&source=local")
    # then
    assert over.status_code == 400 and over.json()["code"] == "export_too_large"
    assert "最多2件" in over.json()["detail"]
    assert within.status_code == 200
    assert CallerDataAccess.objects.filter(ticket__isnull=False).count() == 2
    # the masked export is not limited
    assert len(export(dispatcher)[1]) == 4


# --- the page -----------------------------------------------------------------------------------


def page_export(client, user, *, reason=None, query=""):
    client.force_login(user)
    if reason is None:
        return client.get(f"/tickets/export.xlsx{query}")
    return client.post(f"/tickets/export.xlsx{query}", {"reason": reason})


def workbook_rows(response):
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("role", FULL_ROLES + OTHER_ROLES)
def test_the_page_export_is_masked_for_every_role(client, request, directory, role, ticket_in):
    # given
    ticket_in("handling")
    # when
    response = page_export(client, request.getfixturevalue(role))
    # then
    assert response.status_code == 200
    assert [r[9:11] for r in workbook_rows(response)[1:]] == [["张*", "138****5678"]]


@pytest.mark.parametrize("role", FULL_ROLES)
def test_the_list_page_offers_the_full_export_with_a_reason_to_full_roles(client, request, directory, role,
                                                                          ticket_in):
    # given
    ticket = ticket_in("handling")
    user = request.getfixturevalue(role)
    client.force_login(user)
    # when
    html = client.get("/tickets/?status=handling").content.decode()
    response = page_export(client, user, reason="回访核实", query="?status=handling")
    # then
    assert 'id="export-full"' in html and 'name="reason"' in html and "最多5000件" in html
    assert 'action="/tickets/export.xlsx?status=handling"' in html
    assert response.status_code == 200
    assert [r[9:11] for r in workbook_rows(response)[1:]] == [["张三", "13812345678"]]
    log = CallerDataAccess.objects.get()
    assert (log.ticket, log.user) == (ticket, user) and "理由：回访核实" in log.detail


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_the_page_refuses_a_full_export_to_other_roles(client, request, directory, role, ticket_in):
    # given
    ticket_in("handling")
    user = request.getfixturevalue(role)
    # when
    client.force_login(user)
    html = client.get("/tickets/").content.decode()
    response = page_export(client, user, reason="想看", query="?status=handling")
    # then
    assert 'id="export-full"' not in html
    assert response.status_code == 302 and response["Location"] == "/tickets/?status=handling"
    assert "您的角色不能导出完整的来电人信息" in client.get(response["Location"]).content.decode()
    assert not CallerDataAccess.objects.exists()


def test_the_page_asks_for_a_reason(client, dispatcher, ticket_in):
    # given
    ticket_in("handling")
    # when
    response = page_export(client, dispatcher, reason="  ")
    # then
    assert response.status_code == 302
    assert "须填写导出理由" in client.get(response["Location"]).content.decode()
    assert not CallerDataAccess.objects.exists()


def test_anonymous_is_sent_to_login(client, directory):
    # then
    assert client.get("/tickets/export.xlsx").status_code == 302
    assert client.post("/tickets/export.xlsx", {"reason": "x"}).status_code in (302, 403)
