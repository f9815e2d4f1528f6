"""One bulletin, four outputs. ``bulletin_blocks(data)`` turns the bulletin JSON into a list of
blocks (headings, paragraphs of runs, tables) laid out like the printed Ruzhou bulletin; the web
page and the PDF render those blocks through the same template, the DOCX writes them with
python-docx, and the XLSX holds the two assessment tables.

Only the bulletin JSON goes in, and it carries no personal data: nothing here reads tickets.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field

from django.template.loader import render_to_string

from .selectors import CHINESE_MONTHS

NUMERALS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五"]
BOLD_RE = re.compile(r"\*\*(.+?)\*\*", re.S)
SECTION_HEADINGS = [
    ("hot_issues", "热点难点问题"),
    ("typical_cases", "典型案例"),
    ("work", "业务工作"),
    ("stationing", "派驻工作"),
]


@dataclass
class Block:
    kind: str  # issue | title | h2 | h3 | p | table | note | attachments | pagebreak
    text: str = ""
    runs: list[tuple[str, bool]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    total: list[str] | None = None
    lines: list[str] = field(default_factory=list)
    css: str = ""


def runs_of(text: str) -> list[tuple[str, bool]]:
    """``"**1、占道经营问题。**主要反映……"`` → [("1、占道经营问题。", True), ("主要反映……", False)]."""
    runs: list[tuple[str, bool]] = []
    pos = 0
    for match in BOLD_RE.finditer(text):
        if match.start() > pos:
            runs.append((text[pos:match.start()], False))
        runs.append((match.group(1), True))
        pos = match.end()
    if pos < len(text):
        runs.append((text[pos:], False))
    return runs


def paragraphs(text: str) -> list[Block]:
    return [Block("p", runs=runs_of(line.strip())) for line in (text or "").split("\n") if line.strip()]


def chinese_date(value: str | None) -> str:
    if not value:
        return ""
    day = dt.date.fromisoformat(value)
    return f"{day.year}年{day.month}月{day.day}日"


def appeal_label(name: str) -> str:
    return name if name == "其他" else f"{name}类"


def platform_phrase(row: dict) -> str:
    if row["name"].endswith("留言"):
        return f"{row['name']}{row['count']}条"
    return f"{row['name']}交办事项{row['count']}件"


def score_tables(data: dict) -> list[dict]:
    """Each assessment group as a printable table (attachment order)."""
    month = int(data["period"][5:7])
    tables = []
    for number, group in enumerate(data.get("assessment", {}).get("groups", []), start=1):
        tables.append(
            {
                "number": number,
                "title": f"{CHINESE_MONTHS[month - 1]}月份{group['name']}考核表",
                "group": group["name"],
                "headers": ["单位", "考核总分", "排名"],
                "rows": [[r["unit"], str(r["score"]), str(r["rank"])] for r in group.get("rows", [])],
                "not_assessed": group.get("not_assessed", []),
            }
        )
    return tables


def bulletin_blocks(data: dict) -> list[Block]:
    month_name = CHINESE_MONTHS[int(data["period"][5:7]) - 1] + "月份"
    issue = data["issue"]
    tickets = data["tickets"]
    blocks = [
        Block(
            "issue",
            lines=[
                f"{issue['year']}年第{issue['number_in_year']}期",
                f"(总第{issue['number_total']}期)",
                data.get("office") or "",
                chinese_date(data.get("date")),
            ],
        ),
        Block("title", text=data["title"]),
        Block(
            "p",
            runs=[(f"{month_name}，{data['title'].split(month_name)[0]}总话务量{data['calls']['printed']}人次，"
                   f"办理各类事项{tickets['total']}件。", False)],
        ),
    ]
    numeral = iter(NUMERALS)
    blocks.append(Block("h2", text=f"{next(numeral)}、工作概况"))
    local, upper = tickets["local"], tickets["upper"]
    overview = [
        f"本级登记事项{local['total']}件。其中，协调办理{local['coordinated']}件，交办处理{local['dispatched']}件。",
    ]
    upper_text = f"上级交办事项{upper['total']}件。"
    if upper["platforms"]:
        upper_text += "其中，" + "；".join(platform_phrase(p) for p in upper["platforms"]) + "。"
    overview.append(upper_text)
    if data.get("good_units") or data.get("poor_units"):
        overview.append(
            f"办理较好的单位有{'、'.join(data.get('good_units', []))}；"
            f"办理较差的单位有：{'、'.join(data.get('poor_units', []))}。"
        )
    if data.get("stationing_incomplete"):
        overview.append(f"{'、'.join(data['stationing_incomplete'])}未按规定完成人员派驻工作。")
    for i, text in enumerate(overview):
        blocks.append(Block("p", runs=[(f"({NUMERALS[i]}) {text}", False)]))

    blocks.append(Block("h2", text=f"{next(numeral)}、数据分析"))
    at = data["appeal_types"]
    blocks.append(
        Block(
            "table", text="诉求类型统计表", headers=["类型", "数量（件）", "占比"],
            rows=[[appeal_label(r["name"]), str(r["count"]), f"{r['percent']}%"] for r in at["rows"]],
            total=["合计", str(at["total"]["count"]), f"{at['total']['percent']}%"],
        )
    )
    hot = data["hot_topics"]
    blocks.append(
        Block(
            "table", text="热点问题统计表", headers=["类型", "数量（件）", "占比"],
            rows=[[r["name"], str(r["count"]), f"{r['percent']}%"] for r in hot["rows"]],
            total=["合计", str(hot["total"]["count"]), f"{hot['total']['percent']}%"],
        )
    )
    sections = data.get("sections", {})
    for key, heading in SECTION_HEADINGS:
        text = sections.get(key, "")
        if not (text or "").strip():
            continue
        blocks.append(Block("h2", text=f"{next(numeral)}、{heading}"))
        blocks.extend(paragraphs(text))
    for extra in sections.get("extra", []) or []:
        blocks.append(Block("h2", text=f"{next(numeral)}、{extra['title']}"))
        blocks.extend(paragraphs(extra.get("text", "")))

    tables = score_tables(data)
    if tables:
        blocks.append(
            Block("attachments", lines=[f"{t['number']}. {t['title']}" for t in tables])
        )
    office = data.get("office") or ""
    if office:
        site = office.removesuffix("办公室")
        blocks.append(Block("note", text=f"（本简报在{site}网站予以公开）"))
    min_tickets = data.get("assessment", {}).get("min_tickets", 9)
    for t in tables:
        blocks.append(Block("pagebreak"))
        blocks.append(Block("h3", text=f"附件{t['number']}", css="attachment-no"))
        blocks.append(Block("table", text=t["title"], headers=t["headers"], rows=t["rows"], css="score"))
        if t["not_assessed"]:
            names = "、".join(f"{x['unit']}（{x['tickets']}件）" for x in t["not_assessed"])
            blocks.append(Block("note", text=f"未计入考核：{names}"))
    if tables:
        blocks.append(Block("note", text=f"注：工单量小于{min_tickets}件的单位未计入本次考核。"))
    return blocks


# --------------------------------------------------------------------------------------------
# HTML / PDF
# --------------------------------------------------------------------------------------------


# The PDF's styles: the same sheet as the public page, then the printed page's (size, numbers). Files,
# not an inline style block, so that the one stylesheet serves the browser (under the CSP) and the PDF.
PDF_STYLESHEETS = ("css/bulletin.css", "css/bulletin_print.css")


def render_html(data: dict, *, standalone: bool = True, request=None) -> str:
    """The bulletin as a standalone HTML document (what the PDF prints, with ``PDF_STYLESHEETS``)."""
    return render_to_string(
        "reports/bulletin_print.html", {"data": data, "blocks": bulletin_blocks(data)}, request=request
    )


def render_pdf(data: dict) -> bytes:
    from django.contrib.staticfiles import finders
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    # the font configuration is what makes WeasyPrint load the sheets' @font-face (the bundled CJK font)
    fonts = FontConfiguration()
    stylesheets = [CSS(filename=finders.find(name), font_config=fonts) for name in PDF_STYLESHEETS]
    return HTML(string=render_html(data)).write_pdf(stylesheets=stylesheets, font_config=fonts)


# --------------------------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------------------------


def render_docx(data: dict) -> bytes:
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = Document()
    style = document.styles["Normal"]
    style.font.name = "宋体"
    style.font.size = Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    core = document.core_properties
    core.title, core.author, core.comments = data["title"], data.get("office") or "", ""

    def cjk(run, font="宋体", size=None, bold=False):
        run.font.name = font
        run._element.rPr.rFonts.set(qn("w:eastAsia"), font)
        run.bold = bold
        if size:
            run.font.size = Pt(size)

    for block in bulletin_blocks(data):
        if block.kind == "issue":
            for line in block.lines:
                if line:
                    p = document.add_paragraph()
                    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                    cjk(p.add_run(line))
        elif block.kind == "title":
            p = document.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            cjk(p.add_run(block.text), font="黑体", size=20, bold=True)
        elif block.kind in ("h2", "h3"):
            p = document.add_paragraph()
            cjk(p.add_run(block.text), font="黑体", size=16 if block.kind == "h2" else 14, bold=True)
        elif block.kind == "p":
            p = document.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(28)
            for text, bold in block.runs:
                cjk(p.add_run(text), bold=bold)
        elif block.kind in ("note", "attachments"):
            for line in block.lines or [block.text]:
                cjk(document.add_paragraph().add_run(line if block.kind == "note" else f"附件：{line}"))
        elif block.kind == "pagebreak":
            document.add_section(WD_SECTION.NEW_PAGE)
        elif block.kind == "table":
            p = document.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            cjk(p.add_run(block.text), font="黑体", bold=True)
            rows = block.rows + ([block.total] if block.total else [])
            table = document.add_table(rows=1 + len(rows), cols=len(block.headers))
            table.style = "Table Grid"
            for col, header in enumerate(block.headers):
                cell = table.cell(0, col)
                cell.text = ""
                cjk(cell.paragraphs[0].add_run(header), bold=True)
            for r, row in enumerate(rows, start=1):
                for col, value in enumerate(row):
                    cell = table.cell(r, col)
                    cell.text = ""
                    cjk(cell.paragraphs[0].add_run(value), bold=block.total is not None and r == len(rows))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# XLSX (the two assessment tables)
# --------------------------------------------------------------------------------------------


def render_xlsx(data: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from tickets.spreadsheets import spreadsheet_row

    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in score_tables(data):
        sheet = workbook.create_sheet(title=table["group"][:31])
        sheet.append(spreadsheet_row([table["title"]]))
        sheet["A1"].font = Font(bold=True, size=14)
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=3)
        sheet["A1"].alignment = Alignment(horizontal="center")
        sheet.append(spreadsheet_row(table["headers"]))
        for row in table["rows"]:
            unit, score, rank = row
            sheet.append(spreadsheet_row([unit, float(score) if "." in score else int(score), int(rank)]))
        for x in table["not_assessed"]:
            sheet.append(spreadsheet_row([x["unit"], "未计入考核", None, f"{x['tickets']}件"]))
        sheet.column_dimensions["A"].width = 30
        sheet.column_dimensions["B"].width = 12
        sheet.column_dimensions["C"].width = 8
    if not workbook.sheetnames:
        workbook.create_sheet(title="考核表")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
