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
