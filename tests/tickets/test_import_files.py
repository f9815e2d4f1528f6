"""File-level errors shared by every import: not a spreadsheet, empty, wrong encoding, huge cells."""

import io
import zipfile

import pytest
from django.core.management import CommandError, call_command

from tickets.imports import ImportFailed, import_file
from tickets.models import Ticket, Unit

from .import_helpers import TICKET_HEADERS, csv_bytes, errors_of, ticket_row

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "文件为空。"),
        (b"  \n\n", "文件为空。"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "文件不是CSV或XLSX表格（含有二进制内容）。"),
        ("单位名称,简称\n纸坊镇人民政府,纸坊镇\n".encode("gbk"),
         "文件不是UTF-8编码的CSV，也不是XLSX表格（若为GBK编码的CSV，请另存为“CSV UTF-8”）。"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
         "不支持旧版Excel（.xls）文件，请另存为.xlsx或CSV（UTF-8）后再导入。"),
        (b"PK\x03\x04 not really a zip", "文件不是有效的XLSX表格（可能已损坏，或是改了扩展名的其他文件）。"),
    ],
    ids=["empty", "blank", "png", "gbk", "xls", "broken-zip"],
)
def test_files_that_are_not_readable_spreadsheets_are_refused(directory, data, reason):
    # given
    units = Unit.objects.count()
    # when
    with pytest.raises(ImportFailed) as caught:
        import_file(kind="units", data=data, name="x")
    # then
    assert errors_of(caught.value) == [(0, "", reason)]
    assert str(caught.value.errors[0]) == f"文件：{reason}"
    assert Unit.objects.count() == units


def test_a_zip_that_is_not_a_workbook_is_refused(directory):
    # given
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    # when
    with pytest.raises(ImportFailed) as caught:
        import_file(kind="tickets", data=buffer.getvalue())
    # then
    assert caught.value.errors[0].row == 0 and "XLSX" in caught.value.errors[0].reason


def test_header_only_file_has_no_data_rows(directory):
    # when
    with pytest.raises(ImportFailed) as caught:
        import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, []))
    # then
    assert errors_of(caught.value) == [(2, "", "文件只有表头，没有数据行。")]


def test_an_enormous_cell_beyond_the_csv_module_limit_is_a_row_error(directory):
    # given: 300,000 characters in one cell (Python's csv refuses > 131,072 by default)
    rows = [ticket_row(), ticket_row(**{"工单编号": "RZ2024040100002", "事发地址": "路" * 300_000})]
    # when
    with pytest.raises(ImportFailed) as caught:
        import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, rows))
    # then
    assert errors_of(caught.value) == [(3, "事发地址", "内容过长（300000字），不能超过200字。")]
    assert Ticket.objects.count() == 0


def test_blank_rows_are_skipped_and_row_numbers_stay_those_of_the_sheet(directory):
    # given
    rows = [ticket_row(), ["", "", ""], ticket_row(**{"工单编号": "RZ2024040100002", "诉求类型": "?"})]
    # when
    with pytest.raises(ImportFailed) as caught:
        import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, rows))
    # then
    assert [(e.row, e.column) for e in caught.value.errors] == [(4, "诉求类型")]


def test_command_prints_every_error_and_exits_non_zero(directory, tmp_path, capsys):
    # given
    path = tmp_path / "t.csv"
    path.write_bytes(csv_bytes(TICKET_HEADERS, [ticket_row(**{"登记时间": "昨天"})]))
    # when
    with pytest.raises(CommandError) as caught:
        call_command("import_tickets", str(path))
    # then
    assert "导入失败：共1处错误" in str(caught.value)
    assert "第2行「登记时间」：时间“昨天”无效" in capsys.readouterr().err
    assert Ticket.objects.count() == 0


def test_command_shows_a_progress_bar_and_a_summary(directory, tmp_path, capsys):
    # given
    path = tmp_path / "t.csv"
    path.write_bytes(csv_bytes(TICKET_HEADERS, [ticket_row()]))
    # when
    call_command("import_tickets", str(path))
    # then
    out = capsys.readouterr()
    assert "导入工单 校验 [" in out.err and "100% 1/1" in out.err
    assert "导入工单完成：rows=1，created=1" in out.out


def test_command_with_a_missing_file_fails_readably(directory):
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("import_units", "/nonexistent/units.csv")
