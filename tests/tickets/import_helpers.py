"""Building spreadsheet files for the import tests."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

TICKET_HEADERS = [
    "工单编号", "登记时间", "来源", "来源渠道", "上级工单编号", "办理方式", "诉求类型", "问题分类", "诉求内容",
    "来电人", "联系电话", "事发地址", "所属乡镇", "承办单位", "派单时间", "签收时间", "签收时限", "办结时间",
    "办理时限", "退单次数", "延期次数", "回访结果", "是否解决",
]


def csv_bytes(headers: list[str], rows: list[list], *, bom: bool = False) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode()


def xlsx_bytes(headers: list[str], rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ticket_row(**values) -> list:
    """A good 交办处理 row, closed with a callback; keyword args override columns by header."""
    row = {
        "工单编号": "RZ2024040100001", "登记时间": "2024-04-01 09:00", "来源": "本级登记", "来源渠道": "电话",
        "上级工单编号": "", "办理方式": "交办处理", "诉求类型": "问题处理", "问题分类": "公共服务—水电气暖",
        "诉求内容": "小区停水两天。", "来电人": "张三", "联系电话": "13812345678", "事发地址": "纸坊镇某村",
        "所属乡镇": "纸坊镇", "承办单位": "自来水公司", "派单时间": "2024-04-01 10:00",
        "签收时间": "2024-04-01 11:00", "签收时限": "", "办结时间": "2024-04-03 16:30:00", "办理时限": "",
        "退单次数": "0", "延期次数": "0", "回访结果": "满意", "是否解决": "是",
    }
    unknown = set(values) - set(row)
    assert not unknown, unknown
    row.update(values)
    return [row[h] for h in TICKET_HEADERS]


def errors_of(exc) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.reason) for e in exc.errors]
