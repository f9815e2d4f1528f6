"""Reading CSV (UTF-8, with or without BOM) and XLSX (first sheet) into rows of strings.

Rows are numbered as a spreadsheet shows them: the header is row 1. Blank rows are skipped.
Anything that is not such a file raises ``ImportFailed`` with a readable reason.

Caps (settings ``HOTLINE_IMPORT_MAX_*``, docs/operations.md) are checked while the file is streamed,
before the cells are kept: bytes per file (an XLSX's uncompressed parts count too), data rows, bytes
per cell, and columns. An XLSX is first scanned with expat, part by part and in chunks, so a 100 MB
cell in a 100 KB file is refused before openpyxl (which loads every shared string at once) sees it.
Over a cap the whole file is refused with a stable ``code`` (``LIMIT_CODES``); nothing is written.
Every cell is read back with ``spreadsheet_cell_read`` (the reverse of what exports write).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from xml.parsers import expat

from django.conf import settings

from ..spreadsheets import spreadsheet_cell_read
from .errors import ImportFailed, RowError

MAX_CELL_CHARS = 5000  # the longest text a ticket field holds
MAX_COLUMNS = 200  # the widest import layout has 23 columns
CHUNK = 64 * 1024
LIMIT_CODES = ("import_file_too_large", "import_too_many_rows", "import_cell_too_large", "import_too_many_columns")


@dataclass(frozen=True)
class Limits:
    rows: int
    cell_bytes: int
    file_bytes: int

    @classmethod
    def current(cls) -> Limits:
        return cls(rows=int(settings.HOTLINE_IMPORT_MAX_ROWS), cell_bytes=int(settings.HOTLINE_IMPORT_MAX_CELL_BYTES),
                   file_bytes=int(settings.HOTLINE_IMPORT_MAX_FILE_BYTES))


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{round(n / 1024 / 1024, 1):g}MB"
    return f"{round(n / 1024, 1):g}KB" if n >= 1024 else f"{n}字节"


def _column_name(index: int) -> str:
    name = ""
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _fail(reason: str) -> ImportFailed:
    return ImportFailed([RowError(0, "", reason)])


def _over(code: str, reason: str, row: int = 0) -> ImportFailed:
    return ImportFailed([RowError(row, "", reason)], code=code, message=f"导入失败：{reason}未写入任何数据。")


def file_too_large(size: int, limits: Limits | None = None) -> ImportFailed:
    limits = limits or Limits.current()
    return _over("import_file_too_large", f"文件过大（{_size(size)}），不能超过{_size(limits.file_bytes)}。")


def _too_many_rows(limits: Limits) -> ImportFailed:
    return _over("import_too_many_rows", f"数据行数超过上限（{limits.rows}行），请分成几个文件导入。")


def _cell_too_large(limits: Limits, row: int, column: int) -> ImportFailed:
    where = f"第{row}行第{_column_name(column)}列" if row else "文件中"
    return _over("import_cell_too_large", f"{where}的单元格内容过大（超过{_size(limits.cell_bytes)}）。", row)


def _too_many_columns(row: int) -> ImportFailed:
    return _over("import_too_many_columns", f"第{row}行超过{MAX_COLUMNS}列，请删除多余的列。", row)


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[object]]]  # (row number, cells)

    def __len__(self) -> int:
        return len(self.rows)


def _kind(data: bytes) -> str:
    if not data or data.isspace():
        raise _fail("文件为空。")
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise _fail("不支持旧版Excel（.xls）文件，请另存为.xlsx或CSV（UTF-8）后再导入。")
    return "csv"


def table_check(data: bytes) -> None:
    """Check the caps without keeping any cell (at upload time, before the file is stored):
    raises ``ImportFailed`` with one of ``LIMIT_CODES`` (or the reason the file is unreadable)."""
    limits = Limits.current()
    if len(data) > limits.file_bytes:
        raise file_too_large(len(data), limits)
    if _kind(data) == "xlsx":
        with _xlsx_open(data) as archive:
            _xlsx_scan(archive, limits)
    else:
        for _ in _csv_rows(data, limits):
            pass


def read_table(data: bytes, name: str = "") -> Table:
    limits = Limits.current()
    if len(data) > limits.file_bytes:
        raise file_too_large(len(data), limits)
    xlsx = _kind(data) == "xlsx"
    raw_rows = _xlsx_rows(data, limits) if xlsx else _csv_rows(data, limits)
    unescape = xlsx or b"'" in data  # a CSV without any apostrophe has nothing to reverse (and reads faster)
    headers: list[str] | None = None
    rows: list[tuple[int, list[object]]] = []
    for number, cells in raw_rows:
        if headers is None:
            if number == 1:
                headers = [("" if c is None else str(spreadsheet_cell_read(c))).strip().lstrip("\ufeff").strip()
                           for c in cells]
                while headers and not headers[-1]:
                    headers.pop()
                if not any(headers):
                    raise ImportFailed([RowError(1, "", "第一行应为表头，但它是空的。")])
            continue
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        rows.append((number, [spreadsheet_cell_read(c) for c in cells] if unescape else cells))
    if headers is None:
        raise _fail("文件为空。")
    if not rows:
        raise ImportFailed([RowError(2, "", "文件只有表头，没有数据行。")])
    return Table(headers=headers, rows=rows)


# --- CSV ---------------------------------------------------------------------------------------

csv.field_size_limit(2**31 - 1)  # the cell cap is checked below, in bytes, with the row and column


def _csv_rows(data: bytes, limits: Limits):
    if b"\x00" in data[:65536]:
        raise _fail("文件不是CSV或XLSX表格（含有二进制内容）。")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(
            "文件不是UTF-8编码的CSV，也不是XLSX表格（若为GBK编码的CSV，请另存为“CSV UTF-8”）。"
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    quick = limits.cell_bytes // 4  # a character is at most 4 bytes in UTF-8
    try:
        for number, cells in enumerate(reader, start=1):
            if number > limits.rows + 1:
                raise _too_many_rows(limits)
            if len(cells) > MAX_COLUMNS:
                raise _too_many_columns(number)
            if max(map(len, cells), default=0) > quick:
                for column, cell in enumerate(cells, start=1):
                    if len(cell) > quick and len(cell.encode()) > limits.cell_bytes:
                        raise _cell_too_large(limits, number, column)
            yield number, cells
    except csv.Error as exc:
        raise _fail(f"CSV格式错误：{exc}") from exc


# --- XLSX --------------------------------------------------------------------------------------


def _xlsx_open(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _fail("文件不是有效的XLSX表格（可能已损坏，或是改了扩展名的其他文件）。") from exc


class _PartScan:
    """expat handlers over one XML part: the text of each cell (``<v>``, ``<t>`` runs of one shared
    or inline string) is counted, never kept; in a worksheet, row numbers and columns too."""

    CELL_STARTS = frozenset({"si", "is", "c"})
    TEXT = frozenset({"t", "v"})

    def __init__(self, limits: Limits, worksheet: bool):
        self.limits, self.worksheet = limits, worksheet
        self.text_bytes = 0
        self.in_text = 0
        self.row = self.column = 0
        self.max_row = self.max_column = 0

    def start(self, name: str, attrs: dict) -> None:
        local = name.rsplit(":", 1)[-1]
        if local in self.TEXT:
            self.in_text += 1
        elif local in self.CELL_STARTS:
            self.text_bytes = 0
            if local == "c" and self.worksheet:
                self._cell(attrs.get("r", ""))
        elif local == "row" and self.worksheet:
            r = attrs.get("r", "")
            self.row = int(r) if r.isdigit() else self.row + 1
            self.column = 0
            self.max_row = max(self.max_row, self.row)
            if self.row > self.limits.rows + 1:
                raise _too_many_rows(self.limits)

    def _cell(self, ref: str) -> None:
        letters = ref.rstrip("0123456789")
        if letters and letters.isalpha() and letters.isascii() and len(letters) <= 3:
            index = 0
            for ch in letters.upper():
                index = index * 26 + ord(ch) - 64
            self.column = index
        else:
            self.column += 1
        if self.column > MAX_COLUMNS:
            raise _too_many_columns(self.row)
        self.max_column = max(self.max_column, self.column)

    def end(self, name: str) -> None:
        if name.rsplit(":", 1)[-1] in self.TEXT:
            self.in_text -= 1

    def text(self, data: str) -> None:
        if self.in_text:
            self.text_bytes += len(data.encode())
            if self.text_bytes > self.limits.cell_bytes:
                raise _cell_too_large(self.limits, self.row if self.worksheet else 0, self.column)


def _scan_part(archive: zipfile.ZipFile, name: str, limits: Limits, worksheet: bool) -> _PartScan:
    scan = _PartScan(limits, worksheet)
    parser = expat.ParserCreate()
    parser.StartElementHandler, parser.EndElementHandler = scan.start, scan.end
    parser.CharacterDataHandler = scan.text
    try:
        with archive.open(name) as part:
            while chunk := part.read(CHUNK):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except (expat.ExpatError, zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError) as exc:
        raise _fail("文件不是有效的XLSX表格（可能已损坏，或是改了扩展名的其他文件）。") from exc
    return scan


def _xlsx_scan(archive: zipfile.ZipFile, limits: Limits) -> dict[str, _PartScan]:
    """Every XML part's cells within the cell cap and the uncompressed total within the file cap;
    worksheets also within the row and column caps. Returns the worksheets' scans by part name."""
    members = archive.infolist()
    unpacked = sum(m.file_size for m in members)
    if unpacked > limits.file_bytes:
        raise _over("import_file_too_large",
                    f"文件解压后过大（{_size(unpacked)}），不能超过{_size(limits.file_bytes)}。")
    sheets = {}
    for member in members:
        name = member.filename
        if name.endswith(".xml"):
            worksheet = name.startswith("xl/worksheets/")
            scan = _scan_part(archive, name, limits, worksheet=worksheet)
            if worksheet:
                sheets[name] = scan
    return sheets


def _xlsx_rows(data: bytes, limits: Limits):
    from openpyxl import load_workbook

    with _xlsx_open(data) as archive:
        sheets = _xlsx_scan(archive, limits)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise _fail("文件不是有效的XLSX表格（可能已损坏，或是改了扩展名的其他文件）。") from exc
    except Exception as exc:  # openpyxl raises many kinds of errors on foreign zip files
        raise _fail("文件不是有效的XLSX表格。") from exc
    try:
        sheet = workbook.worksheets[0]
        scan = sheets.get(getattr(sheet, "_worksheet_path", ""))
        if scan is None:  # not where worksheets live: refuse rather than read it unchecked
            raise _fail("文件不是有效的XLSX表格。")
        if not scan.max_row:
            return
        # The scanned extent, not the sheet's declared dimension (which a file may inflate).
        rows = sheet.iter_rows(min_row=1, max_row=scan.max_row, max_col=max(scan.max_column, 1), values_only=True)
        for number, row in enumerate(rows, start=1):
            cells = [_xlsx_cell(v) for v in row]
            while cells and cells[-1] is None:
                cells.pop()
            yield number, cells
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
