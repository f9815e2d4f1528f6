"""Reads the published April 2024 bulletin (a copy of the seed in ``data/``) into the figures the
demo must reproduce, so that tests compare against the document itself, not typed-in numbers."""

from __future__ import annotations

import re
from pathlib import Path

SEED = Path(__file__).parent / "data" / "ruzhou-12345-bulletin-2024-04.md"


def _table_after(lines: list[str], marker: str) -> list[list[str]]:
    start = next(i for i, line in enumerate(lines) if marker in line)
    rows, seen = [], False
    for line in lines[start + 1:]:
        if line.startswith("|"):
            seen = True
            cells = [re.sub(r"</?b>", "", c).strip() for c in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif seen:
            break
    return rows[1:]  # without the header row


def seed_figures() -> dict:
    text = SEED.read_text(encoding="utf-8")
    lines = text.splitlines()
    m = re.search(r"(\d{4})年第(\d+)期", text)
    total = int(re.search(r"\(总第(\d+)期\)", text).group(1))
    calls = re.search(r"总话务量(约\d+)人次，办理各类事项(\d+)件", text)
    local = re.search(r"本级登记事项(\d+)件。其中，协调办理(\d+)件，交办处理(\d+)件", text)
    upper = re.search(r"上级交办事项(\d+)件。其中，(.+?)。\n", text)
    platforms = [
        {"name": re.sub(r"(交办事项)?\d+[件条]$", "", part), "count": int(re.search(r"(\d+)[件条]$", part).group(1))}
        for part in upper.group(2).split("；")
    ]
    units = re.search(r"办理较好的单位有(.+?)；办理较差的单位有：(.+?)。", text)
    stationing = re.search(r"\(三\) (\S+?)未按规定完成人员派驻工作", text)
    appeal = _table_after(lines, "诉求类型统计表")
    hot = _table_after(lines, "热点问题统计表")
    townships = _table_after(lines, "乡镇街道考核表")
    city = _table_after(lines, "## 四月份市直单位考核表")
    return {
        "issue": {"year": int(m.group(1)), "number_in_year": int(m.group(2)), "number_total": total},
        "calls_printed": calls.group(1),
        "tickets_total": int(calls.group(2)),
        "local": {"total": int(local.group(1)), "coordinated": int(local.group(2)), "dispatched": int(local.group(3))},
        "upper": {"total": int(upper.group(1)), "platforms": platforms},
        "good_units": units.group(1).split("、"),
        "poor_units": units.group(2).split("、"),
        "stationing_incomplete": [stationing.group(1)],
        "appeal_types": [(r[0], int(r[1]), r[2].rstrip("%")) for r in appeal],
        "hot_topics": [(r[0], int(r[1]), r[2].rstrip("%")) for r in hot],
        "townships": [(r[0], r[1], int(r[2])) for r in townships],
        "city": [(r[0], r[1], int(r[2])) for r in city],
        "date": "2024-05-24" if "2024年5月24日" in text else None,
        "office": "汝州市人民政府办公室" if "汝州市人民政府办公室" in text else None,
    }
