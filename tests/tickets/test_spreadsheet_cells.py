"""No live formulas in any spreadsheet the product writes (issue 13, item 1): text starting with
``= + - @`` or a tab / CR is written as text with an apostrophe in front, and the import reader
removes it, so an export imports back unchanged."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from reports.renderers import render_xlsx
from tickets.imports import import_file
from tickets.imports.reader import read_table
from tickets.models import Ticket
from tickets.spreadsheets import spreadsheet_cell, spreadsheet_cell_read, spreadsheet_row

from .import_helpers import TICKET_HEADERS, csv_bytes, ticket_row

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/","点击")'
DDE = "=cmd|' /C calc'!A0"
DANGEROUS = [HYPERLINK, DDE, "+1+2", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "'=1", "''+2"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_formula_like_text_gets_one_apostrophe_and_reads_back_unchanged(text):
    # when
    written = spreadsheet_cell(text)
    # then
    assert written == "'" + text
    assert spreadsheet_cell_read(written) == text


@pytest.mark.parametrize("value", ["纸坊镇", "13812345678", "a=b", "'quoted", "", 12, -3, 1.5, None])
def test_other_values_are_left_alone(value):
    # then
    assert spreadsheet_cell(value) == value
    assert spreadsheet_cell_read(value) == value
    assert spreadsheet_row([value, HYPERLINK]) == [value, "'" + HYPERLINK]


def _cells(content: bytes, sheet=None):
    book = load_workbook(io.BytesIO(content))
    return [cell for row in (book[sheet] if sheet else book.active).iter_rows() for cell in row]


def _export(user, query=""):
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/api/tickets/export.xlsx{query}")
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("role", ["dispatcher", "leader"])
def test_the_ticket_export_writes_no_formula_masked_or_full(personas, role):
    # given: a complaint and a caller name that are formulas
    import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, [
        ticket_row(**{"诉求内容": HYPERLINK, "来电人": DDE, "事发地址": "@SUM(A1)"})]))
    # when
    content = _export(personas[role])
    # then: every cell is text or a number, none a formula; the masked name "=***…" too
    cells = _cells(content)
    assert not [c for c in cells if c.data_type == "f"]
    values = {c.value for c in cells}
    assert "'" + HYPERLINK in values and "'@SUM(A1)" in values
    assert "'=" + "*" * (len(DDE) - 1) in values  # masked, and still not a formula


def test_a_full_export_with_formulas_imports_back_unchanged(dispatcher):
    # given
    import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, [
        ticket_row(**{"诉求内容": HYPERLINK, "来电人": DDE, "事发地址": "-3号楼"})]))
    before = list(Ticket.objects.values())
    # when
    content = _export(dispatcher, "?full=true&reason=核对导入")
    again = import_file(kind="tickets", data=content, name="export.xlsx")
    # then
    assert again["unchanged"] == 1 and again["updated"] == 0
    assert list(Ticket.objects.values()) == before
    assert Ticket.objects.get().content == HYPERLINK and Ticket.objects.get().caller_name == DDE


def test_the_reader_reverses_the_apostrophe_in_csv_and_xlsx(directory):
    # given
    rows = [ticket_row(**{"诉求内容": "'" + HYPERLINK, "事发地址": "'quoted"})]
    # when
    table = read_table(csv_bytes(TICKET_HEADERS, rows))
    # then
    cells = dict(zip(TICKET_HEADERS, table.rows[0][1], strict=False))
    assert cells["诉求内容"] == HYPERLINK and cells["事发地址"] == "'quoted"


def test_the_bulletin_tables_write_no_formula():
    # given: unit names as a tampered directory could hold them
    data = {"period": "2024-04", "assessment": {"groups": [{
        "name": "乡镇街道",
        "rows": [{"unit": HYPERLINK, "score": "-3", "rank": 1}, {"unit": "+纸坊镇", "score": "99.5", "rank": 2}],
        "not_assessed": [{"unit": "@陵头镇", "tickets": 4}],
    }]}}
    # when
    cells = _cells(render_xlsx(data), "乡镇街道")
    # then
    assert not [c for c in cells if c.data_type == "f"]
    values = [c.value for c in cells]
    assert "'" + HYPERLINK in values and "'+纸坊镇" in values and "'@陵头镇" in values
    assert -3 in values and 99.5 in values  # numbers stay numbers
