"""Any county can start: a fictional county (某某县) that is not Ruzhou runs ``migrate`` and then only
the commands of exchange.md on its own files, and gets its bulletin — no ``load_ruzhou``, no other
step. Each command runs as its own ``manage.py`` process on a fresh SQLite database."""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2025-03"
CENTRE = "某某县12345政务服务便民热线"

# (full name, short name, group, needs stationing)
UNITS = [
    ("某某县城关镇人民政府", "城关镇", "乡镇街道", "是"),
    ("某某县河东乡人民政府", "河东乡", "乡镇街道", "否"),
    ("某某县西岭镇人民政府", "西岭镇", "乡镇街道", "否"),
    # Short names every county has: they collide with Ruzhou's directory, so load_ruzhou is no way in.
    ("某某县公安局", "公安局", "市直单位", "是"),
    ("某某县自来水公司", "自来水公司", "市直单位", "否"),
    ("某某县民政局", "民政局", "市直单位", "否"),
    ("某某县档案馆", "档案馆", "不考核", "否"),
]
CATEGORIES = ["公共服务—供水供电", "城乡建设—道路维修", "社会保障—低保救助", "治安管理—邻里纠纷"]
APPEALS = ["咨询", "问题处理", "投诉举报", "建议", "其他"]
CALLBACKS = ["满意", "满意", "基本满意", "不满意"]
DISPATCHED_UNITS = ["城关镇", "河东乡", "公安局", "自来水公司", "民政局"]


def _t(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def write_files(folder: Path) -> dict[str, Path]:
    rng = random.Random(7)
    files = {kind: folder / f"{kind}.csv" for kind in ("units", "stationing", "tickets", "calls")}
    with files["units"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["单位名称", "简称", "考核分组", "排序", "需派驻"])
        for order, (full, short, group, stationing) in enumerate(UNITS, start=1):
            writer.writerow([full, short, group, order, stationing])
    with files["stationing"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["单位名称", "月份", "派驻情况"])
        writer.writerow(["城关镇", PERIOD, "已完成"])
        writer.writerow(["某某县公安局", PERIOD, "未完成"])
    headers = ["工单编号", "登记时间", "来源", "来源渠道", "上级工单编号", "办理方式", "诉求类型", "问题分类",
               "诉求内容", "联系电话", "所属乡镇", "承办单位", "派单时间", "签收时间", "办结时间", "回访结果",
               "是否解决"]
    numbers = []
    with files["tickets"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for i in range(60):
            registered = datetime(2025, 3, 3, 8, 30) + timedelta(hours=rng.randrange(0, 24 * 24))
            row = dict.fromkeys(headers, "")
            number = f"MM2025{i:05d}"
            numbers.append((number, registered))
            row.update({"工单编号": number, "登记时间": _t(registered), "来源": "本级登记", "来源渠道": "电话",
                        "诉求类型": APPEALS[i % 5], "问题分类": CATEGORIES[i % 4],
                        "诉求内容": f"群众反映第{i}号事项，请核实处理。", "联系电话": f"1390000{i:04d}",
                        "所属乡镇": ["城关镇", "河东乡", "西岭镇"][i % 3]})
            if i < 10:
                row["办理方式"] = "协调办理"
            else:
                if i % 10 == 0:
                    row.update({"来源": "上级交办", "来源渠道": "某某市12345热线", "上级工单编号": f"SJ{i:04d}"})
                else:
                    row["办理方式"] = "交办处理"
                dispatched = registered + timedelta(minutes=30)
                signed = dispatched + timedelta(hours=2)
                row.update({"承办单位": DISPATCHED_UNITS[i % 5], "派单时间": _t(dispatched), "签收时间": _t(signed)})
                if i % 7:
                    callback = CALLBACKS[i % 4]
                    row.update({"办结时间": _t(signed + timedelta(hours=20)), "回访结果": callback,
                                "是否解决": "否" if callback == "不满意" else "是"})
            writer.writerow([row[h] for h in headers])
    with files["calls"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["来电时间", "主叫号码", "坐席工号", "通话时长", "工单编号"])
        for i, (number, registered) in enumerate(numbers):
            writer.writerow([_t(registered - timedelta(minutes=3)), f"1390000{i:04d}", "1001", 180, number])
        for i in range(90):
            writer.writerow([_t(datetime(2025, 3, 4, 9, 0) + timedelta(hours=5 * i)), f"1380000{i:04d}", "1002", 60, ""])
    return files


def manage(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture
def county_env(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "CELERY_", "HOTLINE_")) and k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "hotline.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'county.sqlite3'}",
        "HOTLINE_CENTRE_NAME": CENTRE,
        "HOTLINE_BULLETIN_OFFICE": "某某县人民政府办公室",
        "HOTLINE_BULLETIN_START": f"{PERIOD}:1",
        "HOTLINE_TICKET_PREFIX": "MM",
        "PYTHONPATH": str(ROOT),
    })
    return env


def test_a_county_other_than_ruzhou_gets_its_bulletin_from_migrate_and_its_own_files(tmp_path, county_env):
    # given: a fresh database and the county's four files
    files = write_files(tmp_path)
    manage(county_env, "migrate", "--noinput")
    # when: exactly the commands of exchange.md
    for kind in ("units", "stationing", "tickets", "calls"):
        manage(county_env, f"import_{kind}", str(files[kind]), "--no-progress")
    manage(county_env, "compute_assessment", PERIOD)
    data = json.loads(manage(county_env, "build_bulletin", PERIOD, "--json"))
    # then: the county's own bulletin
    assert data["title"] == f"{CENTRE}三月份工作简报"
    assert data["calls"]["total"] == 150
    assert data["tickets"]["total"] == 60
    assert data["tickets"]["local"] == {"total": 55, "coordinated": 10, "dispatched": 45}
    assert data["tickets"]["upper"]["platforms"] == [{"name": "某某市12345热线", "count": 5}]
    assert [r["name"] for r in data["appeal_types"]["rows"]] == APPEALS
    assert [r["count"] for r in data["appeal_types"]["rows"]] == [12] * 5
    assert {r["name"] for r in data["hot_topics"]["rows"]} == set(CATEGORIES)
    groups = {g["name"]: g for g in data["assessment"]["groups"]}
    assessed = {r["unit"] for g in groups.values() for r in g["rows"]}
    assert assessed == {"城关镇", "河东乡", "公安局", "自来水公司", "民政局"}
    assert all(r["score"] for g in groups.values() for r in g["rows"])
    assert data["stationing_incomplete"] == ["某某县公安局"]
