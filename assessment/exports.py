"""XLSX of a month's tables in the bulletin's layout: one sheet per group (单位 / 考核总分 / 排名),
then the units not assessed and the note on the threshold."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from tickets.spreadsheets import spreadsheet_row

from .selectors import group_tables

CN_MONTHS = "一二三四五六七八九十"


def month_cn(month) -> str:
    n = month.month
    return {10: "十", 11: "十一", 12: "十二"}.get(n) or CN_MONTHS[n - 1]


def tables_xlsx(*, month) -> bytes:
    tables = group_tables(month=month)
    run = tables["run"]
    min_tickets = run.rule_set.min_tickets if run else 9
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center")
    wb = Workbook()
    wb.remove(wb.active)
    for number, group in enumerate(tables["groups"], start=1):
        ws = wb.create_sheet(title=group["name"])
        ws.append(spreadsheet_row([f"附件{number}"]))
        ws.append(spreadsheet_row([f"{month_cn(tables['month'])}月份{group['name']}考核表"]))
        ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=3)
        ws["A2"].font = Font(bold=True, size=14)
        ws["A2"].alignment = center
        ws.append(["单位", "考核总分", "排名"])
        for cell in ws[3]:
            cell.font = Font(bold=True)
            cell.alignment = center
            cell.border = border
        for row in group["rows"]:
            score = row.score.normalize() if row.score % 1 else int(row.score)
            ws.append(spreadsheet_row([row.unit_short_name, score, row.rank]))
            for cell in ws[ws.max_row]:
                cell.border = border
                cell.alignment = center
        ws.append([])
        if group["not_assessed"]:
            names = "、".join(f"{r.unit_short_name}（{r.tickets}件）" for r in group["not_assessed"])
            ws.append(spreadsheet_row([f"未计入考核：{names}"]))
        ws.append(spreadsheet_row([f"注：工单量小于{min_tickets}件的单位未计入本次考核。"]))
        ws.column_dimensions["A"].width = 30
        ws.column_dimensions["B"].width = 12
        ws.column_dimensions["C"].width = 8
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
