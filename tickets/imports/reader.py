"""Reading CSV (UTF-8, with or without BOM) and XLSX (first sheet) into rows of strings.

Rows are numbered as a spreadsheet shows them: the header is row 1. Blank rows are skipped.
Anything that is not such a file raises ``ImportFailed`` with a readable reason.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time

from .errors import ImportFailed, RowError

MAX_CELL_CHARS = 5000  # the longest text a ticket field holds
MAX_FILE_BYTES = 200 * 1024 * 1024
csv.field_size_limit(MAX_FILE_BYTES)  # enormous cells are reported per cell, not by the csv module


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[object]]]  # (row number, cells)

    def __len__(self) -> int:
        return len(self.rows)


def _fail(reason: str) -> ImportFailed:
    return ImportFailed([RowError(0, "", reason)])


def read_table(data: bytes, name: str = "") -> Table:
    if not data or not data.strip():
        raise _fail("文件为空。")
    if len(data) > MAX_FILE_BYTES:
        raise _fail(f"文件过大（超过{MAX_FILE_BYTES // 1024 // 1024}MB）。")
    if data[:4] == b"PK\x03\x04":
        raw_rows = _xlsx_rows(data)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise _fail("不支持旧版Excel（.xls）文件，请另存为.xlsx或CSV（UTF-8）后再导入。")
    else:
        raw_rows = _csv_rows(data)
    headers: list[str] | None = None
    rows: list[tuple[int, list[object]]] = []
    for number, cells in enumerate(raw_rows, start=1):
        if headers is None:
            if number == 1:
                headers = [("" if c is None else str(c)).strip().lstrip("\ufeff").strip() for c in cells]
                while headers and not headers[-1]:
                    headers.pop()
                if not any(headers):
                    raise ImportFailed([RowError(1, "", "第一行应为表头，但它是空的。")])
            continue
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        rows.append((number, cells))
    if headers is None:
        raise _fail("文件为空。")
    if not rows:
        raise ImportFailed([RowError(2, "", "文件只有表头，没有数据行。")])
    return Table(headers=headers, rows=rows)


def _csv_rows(data: bytes):
    if b"\x00" in data[:65536]:
        raise _fail("文件不是CSV或XLSX表格（含有二进制内容）。")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(
            "文件不是UTF-8编码的CSV，也不是XLSX表格（若为GBK编码的CSV，请另存为“CSV UTF-8”）。"
        ) from exc
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise _fail(f"CSV格式错误：{exc}") from exc


def _xlsx_rows(data: bytes):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise _fail("文件不是有效的XLSX表格（可能已损坏，或是改了扩展名的其他文件）。") from exc
    except Exception as exc:  # openpyxl raises many kinds of errors on foreign zip files
        raise _fail("文件不是有效的XLSX表格。") from exc
    try:
        sheet = workbook.worksheets[0]
        return [[_xlsx_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _xlsx_cell(value):
    """Numbers typed into Excel come back as floats: 13812345678.0 → "13812345678"."""
    if value is None or isinstance(value, (datetime, date, time)):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
