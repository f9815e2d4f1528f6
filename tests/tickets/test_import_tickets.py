from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tickets.imports import ImportFailed, import_file
from tickets.models import Category, EventType, Status, Ticket, TicketEvent, TicketSequence, UpperPlatform

from .import_helpers import TICKET_HEADERS, csv_bytes, errors_of, ticket_row, xlsx_bytes

TZ = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def snapshot():
    return (
        list(Ticket.objects.order_by("pk").values()),
        list(TicketEvent.objects.order_by("pk").values_list("pk", flat=True)),
        Category.objects.count(),
        UpperPlatform.objects.count(),
        list(TicketSequence.objects.values_list("key", "value")),
    )


def good_rows():
    return [
        ticket_row(),
        ticket_row(**{"工单编号": "RZ2024040100002", "办理方式": "协调办理", "承办单位": "", "派单时间": "",
                      "签收时间": "", "办结时间": "", "回访结果": "", "是否解决": "", "诉求类型": "咨询"}),
        ticket_row(**{"工单编号": "RZ2024040100003", "来源": "上级交办", "来源渠道": "平顶山市热线中心",
                      "上级工单编号": "PDS-1", "办理方式": "", "签收时间": "", "办结时间": "", "回访结果": "",
                      "是否解决": "", "承办单位": "纸坊镇"}),
        ticket_row(**{"工单编号": "RZ2024040100004", "承办单位": "", "派单时间": "", "签收时间": "",
                      "办结时间": "", "回访结果": "", "是否解决": ""}),
    ]


def test_good_csv_creates_tickets_in_their_states_with_events_and_deadlines(directory, dispatcher):
    # given
    data = csv_bytes(TICKET_HEADERS, good_rows(), bom=True)
    # when
    summary = import_file(kind="tickets", data=data, name="t.csv", actor=dispatcher)
    # then
    assert summary["created"] == 4 and summary["updated"] == 0
    closed, coordinated, upper, registered = (Ticket.objects.get(number=f"RZ20240401{n:05d}") for n in range(1, 5))
    assert closed.status == Status.CLOSED and closed.unit.short_name == "自来水公司"
    assert closed.callback_result == "satisfied" and closed.callback_resolved is True
    assert closed.closed_at == datetime(2024, 4, 3, 16, 30, tzinfo=TZ)
    # 5 working days from Mon 2024-04-01 10:00, with 清明 (Thu 4 – Sat 6 Apr) off and Sun 7 Apr worked
    assert closed.handle_deadline == datetime(2024, 4, 9, 10, 0, tzinfo=TZ)
    assert closed.caller_phone_digest and closed.caller_phone == "13812345678"
    types = list(closed.events.values_list("type", flat=True))
    assert types == [EventType.REGISTERED, EventType.DISPATCHED, EventType.SIGNED, EventType.CALLBACK,
                     EventType.IMPORTED]
    assert coordinated.status == Status.CLOSED and coordinated.handling_mode == "coordinated"
    assert list(coordinated.events.values_list("type", flat=True)) == [
        EventType.REGISTERED, EventType.CLOSED_DIRECTLY, EventType.IMPORTED]
    assert upper.status == Status.PENDING_SIGN and upper.platform.code == "pds" and upper.upstream_number == "PDS-1"
    assert upper.channel is None and upper.source == "upper"
    assert registered.status == Status.PENDING_DISPATCH and registered.unit is None
    assert registered.dispatch_deadline == datetime(2024, 4, 2, 9, 0, tzinfo=TZ)
    # the day's counter moved past the imported numbers
    assert TicketSequence.objects.get(key="20240401").value == 4


def test_xlsx_with_typed_cells_imports_the_same(directory):
    # given: Excel turns phone numbers into numbers and times into datetimes
    row = ticket_row(**{"联系电话": 13812345678, "登记时间": datetime(2024, 4, 1, 9, 0), "退单次数": 2})
    # when
    import_file(kind="tickets", data=xlsx_bytes(TICKET_HEADERS, [row]), name="t.xlsx")
    # then
    ticket = Ticket.objects.get(number="RZ2024040100001")
    assert ticket.caller_phone == "13812345678"
    assert ticket.registered_at == datetime(2024, 4, 1, 9, 0, tzinfo=TZ)
    assert ticket.return_count == 2


def test_importing_twice_changes_nothing_the_second_time(directory):
    # given
    data = csv_bytes(TICKET_HEADERS, good_rows())
    import_file(kind="tickets", data=data)
    before = snapshot()
    # when
    summary = import_file(kind="tickets", data=data)
    # then
    assert summary["created"] == 0 and summary["updated"] == 0 and summary["unchanged"] == 4
    assert snapshot() == before


def test_a_changed_row_updates_the_ticket_with_one_event(directory):
    # given
    import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, [ticket_row(**{"办结时间": "", "回访结果": "",
                                                                               "是否解决": ""})]))
    # when
    summary = import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, [ticket_row()]))
    # then
    ticket = Ticket.objects.get(number="RZ2024040100001")
    assert summary["updated"] == 1 and Ticket.objects.count() == 1
    assert ticket.status == Status.CLOSED
    last = ticket.events.last()
    assert last.type == EventType.IMPORTED and last.from_status == "handling" and last.to_status == "closed"
    assert "closed_at" in last.data["changed"]


def test_unknown_categories_and_platforms_are_created(directory):
    # given
    row = ticket_row(**{"问题分类": "新领域/新问题", "来源": "上级交办", "来源渠道": "某新平台", "上级工单编号": "X1"})
    # when
    summary = import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, [row]))
    # then
    ticket = Ticket.objects.get()
    assert ticket.category.name == "新问题" and ticket.category.parent.name == "新领域"
    assert ticket.category.code.startswith(ticket.category.parent.code) and len(ticket.category.code) == 4
    assert ticket.platform.name == "某新平台"
    assert summary["new_categories"] == 1 and summary["new_platforms"] == 1


def test_bad_rows_are_all_reported_and_nothing_is_written(directory):
    # given
    rows = [
        ticket_row(),
        ticket_row(**{"工单编号": "RZ2024040100002", "登记时间": "2024-13-01 09:00"}),
        ticket_row(**{"工单编号": "RZ2024040100003", "承办单位": "不存在的局"}),
        ticket_row(**{"工单编号": "RZ2024040100004", "诉求类型": "吐槽"}),
        ticket_row(**{"工单编号": "RZ2024040100001"}),
        ticket_row(**{"工单编号": "RZ2024040100006", "问题分类": "水电气暖"}),
        ticket_row(**{"工单编号": "RZ2024040100007", "所属乡镇": "国网汝州市供电公司"}),
        ticket_row(**{"工单编号": "RZ2024040100008", "联系电话": "12ab", "回访结果": "还行"}),
        ticket_row(**{"工单编号": "RZ2024040100009", "诉求内容": "长" * 6000}),
        ticket_row(**{"工单编号": "RZ2024040100010", "派单时间": "2024-03-31 09:00", "办理方式": "随便"}),
        ticket_row(**{"工单编号": "", "来源渠道": "飞鸽"}),
    ]
    before = snapshot()
    # when
    with pytest.raises(ImportFailed) as caught:
        import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, rows))
    # then
    assert errors_of(caught.value) == [
        (3, "登记时间", "时间“2024-13-01 09:00”无效，应为 YYYY-MM-DD HH:MM 或 YYYY-MM-DD HH:MM:SS。"),
        (4, "承办单位", "未知的承办单位“不存在的局”（请先导入单位）。"),
        (5, "诉求类型", "“吐槽”不是有效值，应为：咨询、问题处理、投诉举报、建议、其他。"),
        (6, "工单编号", "工单编号RZ2024040100001与第2行重复。"),
        (7, "问题分类", "“水电气暖”应写成“一级—二级”，例如“公共服务—水电气暖”。"),
        (8, "所属乡镇", "“国网汝州市供电公司”不是乡镇街道。"),
        (9, "回访结果", "“还行”不是有效值，应为：满意、基本满意、不满意。"),
        (9, "联系电话", "联系电话格式不正确：只能包含数字、空格、“-”或“+86”。"),
        (10, "诉求内容", "内容过长（6000字），不能超过5000字。"),
        (11, "办理方式", "“随便”不是有效值，应为：协调办理、交办处理。"),
        (11, "派单时间", "派单时间早于登记时间。"),
        (12, "工单编号", "必填，不能为空。"),
        (12, "来源渠道", "“飞鸽”不是本级登记的来源渠道，应为：电话、微信、网站、APP、110转入、其他。"),
    ]
    assert snapshot() == before


def test_missing_headers_are_reported_on_row_one(directory):
    # given
    headers = [h for h in TICKET_HEADERS if h not in ("登记时间", "诉求内容")] + ["工单编号", "备注"]
    # when
    with pytest.raises(ImportFailed) as caught:
        import_file(kind="tickets", data=csv_bytes(headers, [["x"] * len(headers)]))
    # then
    assert errors_of(caught.value) == [
        (1, "工单编号", "列名重复。"), (1, "登记时间", "缺少必填列。"), (1, "诉求内容", "缺少必填列。")]
    assert Ticket.objects.count() == 0


def test_upstream_number_already_registered_for_another_ticket_is_an_error(directory, new_ticket, upper_platform):
    # given
    new_ticket(source="upper", platform=upper_platform, upstream_number="PDS-9", channel=None)
    row = ticket_row(**{"来源": "上级交办", "来源渠道": "平顶山市热线中心", "上级工单编号": "PDS-9"})
    # when
    with pytest.raises(ImportFailed) as caught:
        import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, [row]))
    # then
    number = Ticket.objects.get().number
    assert errors_of(caught.value) == [(2, "上级工单编号", f"上级工单编号PDS-9已登记为工单{number}。")]
    assert Ticket.objects.count() == 1


def test_dispatched_row_without_unit_is_an_error(directory):
    # given
    row = ticket_row(**{"承办单位": ""})
    # when
    with pytest.raises(ImportFailed) as caught:
        import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, [row]))
    # then
    assert errors_of(caught.value) == [(2, "承办单位", "交办处理的工单已派单或办结，必须填写承办单位。")]


def test_the_units_answer_is_imported_when_the_file_has_it(directory, dispatcher):
    # given a file with the optional 答复内容 column (the dispatch suggester and typical cases use it)
    row = ticket_row()
    data = csv_bytes([*TICKET_HEADERS, "答复内容"], [[*row, "已抢修管道，当日恢复供水。"]])
    # when
    import_file(kind="tickets", data=data, name="t.csv", actor=dispatcher)
    # then; and a file without the column leaves the answer empty
    assert Ticket.objects.get(number="RZ2024040100001").reply_text == "已抢修管道，当日恢复供水。"
    import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, [ticket_row(**{"工单编号": "RZ2024040100009"})]),
                name="u.csv", actor=dispatcher)
    assert Ticket.objects.get(number="RZ2024040100009").reply_text == ""


def test_reimport_without_the_answer_column_keeps_the_answer(directory, dispatcher):
    import_file(kind="tickets", data=csv_bytes([*TICKET_HEADERS, "答复内容"], [[*ticket_row(), "已恢复供水。"]]),
                name="t.csv", actor=dispatcher)
    import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, [ticket_row(**{"诉求内容": "小区停水三天。"})]),
                name="t2.csv", actor=dispatcher)
    ticket = Ticket.objects.get(number="RZ2024040100001")
    assert ticket.content == "小区停水三天。" and ticket.reply_text == "已恢复供水。"
