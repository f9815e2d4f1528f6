"""What every importer shares: header checks, cell parsers that record row errors, progress."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime

from django.db import transaction

from ..workcalendar import local_tz
from .errors import ImportFailed, RowError, RowErrors, invalid_choice
from .reader import MAX_CELL_CHARS, Table

TIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?$")
MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
PROGRESS_EVERY = 2000

Progress = Callable[[int, int, str], None]


def _no_progress(done: int, total: int, phase: str = "") -> None:
    pass


class Importer:
    """Subclasses declare ``columns`` {header: required} and implement ``prepare`` (validate every
    row, collecting errors, no writes) and ``write`` (inside one transaction)."""

    kind = ""
    label = ""
    columns: dict[str, bool] = {}

    def __init__(self, *, actor=None, progress: Progress | None = None, source_name: str = ""):
        self.actor = actor
        self.progress = progress or _no_progress
        self.source_name = source_name
        self.errors = RowErrors()  # every error counted, the first HOTLINE_IMPORT_MAX_STORED_ERRORS kept
        self.tz = local_tz()

    # -- the run --------------------------------------------------------------------------
    def run(self, table: Table) -> dict:
        self.check_headers(table.headers)
        self.index = {h: i for i, h in enumerate(table.headers) if h in self.columns}
        records = self.prepare(table)
        if self.errors:
            raise ImportFailed(self.errors)
        with transaction.atomic():
            summary = self.write(records)
            if self.errors:  # conflicts only visible while writing
                raise ImportFailed(self.errors)
            days = self.volume_days(records)
            if days:  # the dashboard's roll-up of those days is dropped with the import (reports/rollup.py)
                from reports.rollup import rollup_forget

                rollup_forget(days)
        return {"rows": len(table), **summary}

    def volume_days(self, records: list[dict]) -> set:
        """The local days whose calls or tickets this import changed (none: the directory)."""
        return set()

    def check_headers(self, headers: list[str]) -> None:
        errors, seen = [], set()
        for header in headers:
            if header in seen and header in self.columns:
                errors.append(RowError(1, header, "列名重复。"))
            seen.add(header)
        for header, required in self.columns.items():
            if required and header not in seen:
                errors.append(RowError(1, header, "缺少必填列。"))
        if errors:
            raise ImportFailed(errors)

    def rows(self, table: Table):
        """Yield (row number, {header: cell}) and report progress while validating."""
        total = len(table)
        for done, (number, cells) in enumerate(table.rows, start=1):
            yield number, {h: (cells[i] if i < len(cells) else None) for h, i in self.index.items()}
            if done % PROGRESS_EVERY == 0 or done == total:
                self.progress(done, total, "校验")

    # -- cell parsers: return a value or None, recording an error ------------------------------
    def error(self, row: int, column: str, reason: str) -> None:
        self.errors.append(RowError(row, column, reason))

    def text(self, row: int, cells: dict, column: str, *, required: bool = False, max_length: int | None = None
             ) -> str:
        value = cells.get(column)
        if value.__class__ is str:
            value = value.strip()
        elif isinstance(value, datetime):
            value = value.strftime("%Y-%m-%d %H:%M:%S")
        elif isinstance(value, date):
            value = value.isoformat()
        else:
            value = "" if value is None else str(value).strip()
        if not value:
            if required:
                self.error(row, column, "必填，不能为空。")
            return ""
        limit = min(max_length or MAX_CELL_CHARS, MAX_CELL_CHARS)
        if len(value) > limit:
            self.error(row, column, f"内容过长（{len(value)}字），不能超过{limit}字。")
            return ""
        return value

    def time(self, row: int, cells: dict, column: str, *, required: bool = False) -> datetime | None:
        value = cells.get(column)
        if isinstance(value, datetime):
            return value.replace(tzinfo=self.tz) if value.tzinfo is None else value
        text = self.text(row, cells, column, required=required, max_length=40)
        if not text:
            return None
        if TIME_RE.match(text):
            try:
                return datetime.fromisoformat(text).replace(tzinfo=self.tz)
            except ValueError:
                pass
        self.error(row, column, f"时间“{text[:40]}”无效，应为 YYYY-MM-DD HH:MM 或 YYYY-MM-DD HH:MM:SS。")
        return None

    def month(self, row: int, cells: dict, column: str) -> date | None:
        value = cells.get(column)
        if isinstance(value, (datetime, date)):
            return date(value.year, value.month, 1)
        text = self.text(row, cells, column, required=True, max_length=20)
        if not text:
            return None
        match = MONTH_RE.match(text)
        if match and 1 <= int(match.group(2)) <= 12:
            return date(int(match.group(1)), int(match.group(2)), 1)
        self.error(row, column, f"月份“{text}”无效，应为 YYYY-MM，例如 2024-04。")
        return None

    def integer(self, row: int, cells: dict, column: str, *, default: int | None = 0,
                maximum: int = 2_147_483_647) -> int | None:
        text = self.text(row, cells, column, max_length=20)
        if not text:
            return default
        if not re.fullmatch(r"\d+", text):
            self.error(row, column, f"“{text}”不是非负整数。")
            return default
        value = int(text)
        if value > maximum:
            self.error(row, column, f"数值{value}过大（最大{maximum}）。")
            return default
        return value

    def choice(self, row: int, cells: dict, column: str, choices: dict, *, required: bool = False,
               default=None):
        text = self.text(row, cells, column, required=required, max_length=50)
        if not text:
            return default
        if text not in choices:
            self.error(row, column, invalid_choice(text, choices, noun=column))
            return default
        return choices[text]
