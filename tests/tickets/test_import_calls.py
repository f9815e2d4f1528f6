import pytest

from tickets.imports import ImportFailed, import_file
from tickets.models import Call, CallKind

from .import_helpers import csv_bytes, errors_of

pytestmark = pytest.mark.django_db
HEADERS = ["来电时间", "主叫号码", "坐席工号", "通话时长", "工单编号"]


def test_calls_are_imported_with_protected_numbers_and_linked_tickets(directory, new_ticket):
    # given
    ticket = new_ticket()
    rows = [["2024-04-01 08:01:02", "138-1234-5678", "1001", "95", ticket.number],
            ["2024-04-01 08:03", "+86 13900001111", "", "", ""]]
    # when
    summary = import_file(kind="calls", data=csv_bytes(HEADERS, rows))
    # then
    assert summary == {"rows": 2, "created": 2, "updated": 0, "unchanged": 0}
    first, second = Call.objects.order_by("called_at")
    assert (first.caller_phone, first.agent_no, first.duration_seconds, first.ticket) == (
        "13812345678", "1001", 95, ticket)
    assert first.kind == CallKind.NEW and second.kind == CallKind.OTHER and second.ticket is None
    assert first.caller_phone_digest and first.external_key.startswith("h:")


def test_calls_import_twice_changes_nothing_and_updates_changed_duration(directory):
    # given
    data = csv_bytes(HEADERS, [["2024-04-01 08:01", "13812345678", "1001", "95", ""]])
    import_file(kind="calls", data=data)
    before = list(Call.objects.values())
    # when
    again = import_file(kind="calls", data=data)
    changed = import_file(kind="calls", data=csv_bytes(HEADERS, [["2024-04-01 08:01", "13812345678", "1001",
                                                                  "96", ""]]))
    # then
    assert again["unchanged"] == 1 and changed["updated"] == 1
    assert Call.objects.count() == 1 and before[0]["duration_seconds"] == 95
    assert Call.objects.get().duration_seconds == 96


def test_bad_call_rows(directory):
    # given
    rows = [
        ["2024-04-01 8:01", "13812345678", "", "", ""],
        ["2024-04-01 08:01", "abc", "", "-5", ""],
        ["2024-04-01 08:02", "13812345678", "7", "", "RZ-NOPE"],
        ["2024-04-01 08:02", "13812345678", "7", "30", ""],
    ]
    # when
    with pytest.raises(ImportFailed) as caught:
        import_file(kind="calls", data=csv_bytes(HEADERS, rows))
    # then
    assert errors_of(caught.value) == [
        (2, "来电时间", "时间“2024-04-01 8:01”无效，应为 YYYY-MM-DD HH:MM 或 YYYY-MM-DD HH:MM:SS。"),
        (3, "通话时长", "“-5”不是非负整数。"),
        (3, "主叫号码", "联系电话格式不正确：只能包含数字、空格、“-”或“+86”。"),
        (4, "工单编号", "工单RZ-NOPE不存在（请先导入工单）。"),
        (5, "来电时间", "与第4行是同一通来电（时间、主叫号码、坐席工号相同）。"),
    ]
    assert Call.objects.count() == 0
