"""Row errors and the exception that carries them (the first ``HOTLINE_IMPORT_MAX_STORED_ERRORS``
and how many there were in all)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.conf import settings

from ..exceptions import InvalidInput


def max_stored_errors() -> int:
    return max(1, int(settings.HOTLINE_IMPORT_MAX_STORED_ERRORS))


@dataclass(frozen=True)
class RowError:
    """A bad cell: ``row`` is the spreadsheet row (the header is row 1), ``column`` the header."""

    row: int
    column: str
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = f"第{self.row}行" if self.row else "文件"
        return f"{where}「{self.column}」：{self.reason}" if self.column else f"{where}：{self.reason}"


class RowErrors:
    """The row errors of one import: every one counted (``len``), only the first ``keep`` kept, so
    20,000 junk rows cost a counter, not 140,000 stored messages. ``since(row, mark)``: whether
    ``row`` had an error after ``len()`` was ``mark``."""

    def __init__(self, keep: int | None = None):
        self.keep = keep if keep is not None else max_stored_errors()
        self.kept: list[RowError] = []
        self.count = 0
        self._last_by_row: dict[int, int] = {}

    def append(self, error: RowError) -> None:
        self._last_by_row[error.row] = self.count
        self.count += 1
        if len(self.kept) < self.keep:
            self.kept.append(error)

    def since(self, row: int, mark: int) -> bool:
        return self._last_by_row.get(row, -1) >= mark

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        return iter(self.kept)


class ImportFailed(InvalidInput):
    """Nothing was written; ``errors`` lists the first bad cells (at most the stored-errors cap),
    ``count`` how many there were."""

    code = "import_invalid"

    def __init__(self, errors, *, code: str | None = None, message: str | None = None):
        count = len(errors)
        keep = max_stored_errors()
        self.errors = sorted(errors, key=lambda e: e.row)[:keep]  # stable: columns stay in check order
        self.count = count
        more = f"（只列出前{len(self.errors)}处）" if count > len(self.errors) else ""
        super().__init__(
            message or f"导入失败：共{count}处错误{more}，未写入任何数据。",
            code=code,
            fields={"errors": [str(e) for e in self.errors]},
        )


SETUP_HINT = "执行 python manage.py migrate（载入全国通用的诉求类型、来源渠道、时限规则和工作日历），或由管理员在后台添加"


def invalid_choice(value: str, allowed, *, noun: str, kind: str = "有效值", hint: str = SETUP_HINT) -> str:
    """The one message for "not one of the allowed values": it lists them, and when there are none
    says so and what to do instead of printing an empty list."""
    names = "、".join(str(a) for a in allowed if a)
    if names:
        return f"“{value}”不是{kind}，应为：{names}。"
    return f"“{value}”不是{kind}：尚未配置任何{noun}，请先{hint}。"
