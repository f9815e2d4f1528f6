import io

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
    assert response.status_code == 200, response.content[:300]
    sheet = load_workbook(io.BytesIO(response.content)).active
    return response, [list(r) for r in sheet.iter_rows(values_only=True)]


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
    # when
    response, rows = export(dispatcher)
    again = import_file(kind="tickets", data=response.content, name="export.xlsx")
    # then
    assert rows[0] == TICKET_HEADERS
    assert [r[0] for r in rows[1:]] == ["RZ2024040100001", "RZ2024040100002", "RZ2024040100003"]
    assert rows[1][9:11] == ["张三", "13812345678"]  # the dispatcher may see caller data
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
