"""Row errors and the exception that carries all of them."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..exceptions import InvalidInput


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


class ImportFailed(InvalidInput):
    """Nothing was written; ``errors`` lists every bad row."""

    code = "import_invalid"

    def __init__(self, errors: list[RowError]):
        self.errors = sorted(errors, key=lambda e: e.row)  # stable: columns stay in check order
        super().__init__(
            f"导入失败：共{len(self.errors)}处错误，未写入任何数据。",
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
