"""Importing tickets from CSV on PostgreSQL: ``python -m bench import_tickets [-- --rows N]``.

Builds a fresh database (``BENCH_DATABASE_URL`` with ``_imports`` appended to its name), loads the
Ruzhou directory, generates an N-row CSV (default 100,000) with the April 2024 mix — two thirds
协调办理, the rest dispatched in every state, some 上级交办 — and times ``manage.py import_tickets``
end to end (process start included), then the same file again (idempotent: nothing changes), then
a later export of the same tickets in which every open dispatched ticket moved one step on (signed, or
closed with a callback): those rows go through the lifecycle's transitions.
Target: at least 2,000 rows/s. Never asserts timings.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from .common import bench_database_url, bench_env, database_recreate, manage

HEADERS = [
    "工单编号", "登记时间", "来源", "来源渠道", "上级工单编号", "办理方式", "诉求类型", "问题分类", "诉求内容",
    "来电人", "联系电话", "事发地址", "所属乡镇", "承办单位", "派单时间", "签收时间", "签收时限", "办结时间",
    "办理时限", "退单次数", "延期次数", "回访结果", "是否解决",
]
TOWNSHIPS = ["纸坊镇", "煤山街道", "风穴路街道", "钟楼街道", "临汝镇", "寄料镇", "温泉镇", "小屯镇", "杨楼镇"]
UNITS = ["国网汝州市供电公司", "自来水公司", "市场监督管理局", "城市管理局", "住房和城乡建设局", *TOWNSHIPS]
CATEGORIES = ["政务服务—网点服务", "公共服务—水电气暖", "城乡建设—物业管理", "劳动人事—薪资纠纷",
              "环境污染—噪音扰民", "交通运输—道路通行", "城市管理—占道经营", "社会保险—医疗保险"]
APPEALS = ["咨询", "问题处理", "投诉举报", "建议", "其他"]
CHANNELS = ["电话", "电话", "电话", "微信", "网站", "APP"]
PLATFORMS = ["平顶山市热线中心", "河南政务服务平台", "中国政府网群众留言"]
CALLBACKS = ["满意", "满意", "满意", "基本满意", "不满意"]


def _t(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def generate(path: Path, rows: int, seed: int = 12345, *, later: bool = False) -> None:
    """``later``: the same tickets one step further (open dispatched ones signed or closed)."""
    rng = random.Random(seed)
    start = datetime(2024, 4, 1, 0, 0)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for i in range(rows):
            registered = start + timedelta(seconds=rng.randrange(0, 30 * 86400))
            row = dict.fromkeys(HEADERS, "")
            row.update({
                "工单编号": f"BENCH{i:09d}", "登记时间": _t(registered), "诉求类型": rng.choice(APPEALS),
                "问题分类": rng.choice(CATEGORIES), "诉求内容": f"群众反映第{i}号问题，请尽快处理。" * 3,
                "来电人": "王先生", "联系电话": f"13{rng.randrange(10**9):09d}", "事发地址": "某小区某号楼",
                "所属乡镇": rng.choice(TOWNSHIPS), "退单次数": "0", "延期次数": "0",
            })
            kind = rng.random()
            if kind < 0.07:
                row.update({"来源": "上级交办", "来源渠道": rng.choice(PLATFORMS), "上级工单编号": f"UP{i:09d}"})
            else:
                row.update({"来源": "本级登记", "来源渠道": rng.choice(CHANNELS)})
            if kind >= 0.07 and kind < 0.69:
                row["办理方式"] = "协调办理"
            else:
                if row["来源"] == "本级登记":
                    row["办理方式"] = "交办处理"
                state = rng.random()
                if state > 0.03:
                    dispatched = registered + timedelta(minutes=rng.randrange(5, 600))
                    row.update({"承办单位": rng.choice(UNITS), "派单时间": _t(dispatched)})
                    if state > 0.08:
                        signed = dispatched + timedelta(minutes=rng.randrange(5, 1200))
                        row["签收时间"] = _t(signed)
                        if state > 0.25:
                            row["办结时间"] = _t(signed + timedelta(hours=rng.randrange(1, 200)))
                            row["回访结果"] = rng.choice(CALLBACKS)
                            row["是否解决"] = "是" if row["回访结果"] != "不满意" else "否"
                        elif later:
                            row.update({"办结时间": _t(signed + timedelta(hours=48)), "回访结果": "满意", "是否解决": "是"})
                    elif later:
                        row["签收时间"] = _t(dispatched + timedelta(minutes=30))
            writer.writerow([row[h] for h in HEADERS])


def run(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="bench import_tickets")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    database_url = bench_database_url("_imports")
    database_recreate(database_url)
    env = bench_env(database_url)
    manage(env, "migrate", "--noinput")
    manage(env, "load_ruzhou")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tickets.csv"
        began = time.perf_counter()
        generate(path, args.rows)
        generated = time.perf_counter() - began
        began = time.perf_counter()
        first = manage(env, "import_tickets", str(path), "--no-progress", timeout=3600)
        elapsed = time.perf_counter() - began
        began = time.perf_counter()
        second = manage(env, "import_tickets", str(path), "--no-progress", timeout=3600)
        again = time.perf_counter() - began
        size = path.stat().st_size
        generate(path, args.rows, later=True)
        began = time.perf_counter()
        third = manage(env, "import_tickets", str(path), "--no-progress", timeout=3600)
        moved = time.perf_counter() - began
    return {
        "rows": args.rows,
        "file_mb": size / 1024 / 1024,
        "generate_s": generated,
        "import_s": elapsed,
        "rows_per_s": args.rows / elapsed,
        "target_rows_per_s": 2000,
        "first_import": first.strip().splitlines()[-1],
        "reimport_s": again,
        "reimport_rows_per_s": args.rows / again,
        "second_import": second.strip().splitlines()[-1],
        "later_file_s": moved,
        "later_file_rows_per_s": args.rows / moved,
        "later_import": third.strip().splitlines()[-1],
    }
