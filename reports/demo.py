"""The Ruzhou April 2024 demo: import files whose aggregates are exactly the published bulletin.

``demo_generate(out_dir, seed)`` writes four CSV files (units, stationing, tickets, calls) in the
formats of exchange.md. The figures below are the seed bulletin's (docs/…/ruzhou-12345-bulletin-
2024-04.md); everything else — each unit's ticket count and outcomes, times, texts, callers — is
generated, deterministically for a given seed:

- For each assessed unit, ``solve_unit`` searches counts of on-time sign/reply, callbacks with a
  result, resolved, 满意/基本满意 so that the default rule (assessment.md) rounds to the printed
  score. Ticket counts are chosen so that equal scores list in the printed order (more tickets
  first) and add up to the 1,470 dispatched + 330 upper tickets.
- Categories, appeal types, channels and platforms are drawn from pools with the printed counts.

``demo_load(out_dir)`` runs the real import commands, ``compute_assessment``, ``build_bulletin``,
enters the seed's narrative as the editor's text and publishes.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

from tickets import directory_data as dd
from tickets.spreadsheets import spreadsheet_row

TZ = ZoneInfo("Asia/Shanghai")
PERIOD = "2024-04"
DEFAULT_SEED = 20240430

# --- The seed bulletin's figures ------------------------------------------------------------
CALLS_TOTAL = 8712  # printed 约8700
LOCAL_COORDINATED = 3198
LOCAL_DISPATCHED = 1470
UPPER_PLATFORMS = [("平顶山市热线中心", 231), ("河南政务服务平台", 88), ("中国政府网群众留言", 11)]
APPEAL_TYPES = [("咨询", 1877), ("问题处理", 928), ("投诉举报", 1045), ("建议", 28), ("其他", 1120)]
HOT_TOPICS = [
    ("0101", 1187), ("0201", 193), ("0301", 161), ("0401", 153), ("0501", 132),
    ("0601", 129), ("0102", 123), ("0701", 121), ("0202", 116), ("0801", 108),
]
TOWNSHIP_SCORES = [
    ("纸坊镇", "100"), ("杨楼镇", "99.26"), ("煤山街道", "99.09"), ("陵头镇", "98.4"), ("洗耳河街道", "98"),
    ("蟒川镇", "97.83"), ("骑岭乡", "97.09"), ("夏店镇", "95.5"), ("焦村镇", "94.55"), ("钟楼街道", "94.39"),
    ("寄料镇", "93.46"), ("临汝镇", "92.33"), ("温泉镇", "92"), ("庙下镇", "90"), ("汝南街道", "89.78"),
    ("风穴路街道", "89.49"), ("王寨乡", "89.14"), ("米庙镇", "81"), ("小屯镇", "77.06"), ("大峪镇", "76.67"),
    ("紫云路街道", "76.26"),
]
CITY_SCORES = [
    ("国网汝州市供电公司", "100"), ("自来水公司", "100"), ("汝州市消防大队", "100"), ("市场监督管理局", "97.67"),
    ("城市管理局", "97.08"), ("移动公司", "96.97"), ("住房和城乡建设局", "96.61"), ("人力资源和社会保障局", "96.57"),
    ("国资事务中心", "95.96"), ("交通运输局", "95.23"), ("卫生健康委员会", "94.46"), ("应急管理局", "93.5"),
    ("教体局<教育>", "92.24"), ("平顶山市生态环境局汝州分局", "92"), ("税务局", "92"), ("医疗保障局", "90.77"),
    ("公安局", "90.59"), ("煤矿安全监察局", "89.46"), ("文广旅游局", "88.5"), ("公路管理局", "88.33"),
    ("民政局", "88"), ("司法局", "88"), ("自然资源和规划局", "87.2"),
]
STATIONING_INCOMPLETE = ["自然资源和规划局"]
STATIONING_DEDUCTION = 5
ISSUE_DATE = dt.date(2024, 5, 24)

# The seed's narrative, entered as the editor's text (**…** is bold).
NARRATIVE = {
    "hot_issues": (
        "**1、占道经营问题。**主要反映个别夜间排档、烧烤等餐饮门店和流动商贩存在占道经营、油烟污染、噪音扰民等问题。"
        "**2、生活用水问题。**主要反映小屯镇宗庄村、米庙镇焦岭村等地个别供水管路故障，维修不及时问题。"
        "**3、液化气使用问题。**主要反映液化气罐更换及充装气价争议等问题。"
        "**4、燃气管线挪移问题。**主要反映管线挪移等待时间过长及价格争议问题。"
        "**5、道路通行问题。**主要反映双拥路北段路面坑洼，影响车辆通行等问题。"
        "**6、杨柳飞絮问题。**主要反映杨柳飞絮影响视线、引起过敏及火灾隐患等问题。"
    ),
    "typical_cases": (
        "市住房和城乡建设局在处理“某小区单元楼疑似燃气泄漏”问题时，第一时间协调燃气抢修队工作人员赶赴现场处置，"
        "并对周边进行排查，及时消除安全隐患。\n"
        "市交通运输局在处理“某公司运输车辆无法提档过户”问题时，积极与运输公司负责人沟通，研究双方纠纷争议，"
        "协助诉求人提档过户，使问题得以圆满化解。"
    ),
    "work": (
        "（一）4月3日，市委常委、常务副市长、宣传部长赵战营莅临市12345政务服务便民热线指挥中心调研指导工作。\n"
        "（二）4月10日，平顶山市政府办公室召开“群众诉求办理情况回头看”工作部署会。会议对热线事项办理流程、办结"
        "标准及疑难问题答复等进行了强调和规范，并对各单位历史工单事项查漏补缺提出具体要求。\n"
        "（三）为提高处突能力，提升服务水平，4月17日，110报警服务台、12345政务热线与水、电、气、油等国计民生部门"
        "进行座谈，明确制度建设要求，推动部门对接联动，确保公众诉求渠道畅通并得到及时有效处置。"
    ),
    "stationing": "市自然资源和规划局未按规定完成人员派驻工作，特此通报。",
}

# --------------------------------------------------------------------------------------------
# The solver: per-unit outcomes that round to the printed score under the default rule
# --------------------------------------------------------------------------------------------

W_SIGN, W_CLOSE, W_RESOLVED, W_SATISFIED = Fraction(1, 10), Fraction(2, 10), Fraction(35, 100), Fraction(35, 100)
BASIC = Fraction(9, 10)


@dataclass(frozen=True)
class Outcome:
    tickets: int
    sign_on_time: int
    close_on_time: int
    callbacks: int
    resolved: int
    satisfied: int
    basic: int

    @property
    def unsatisfied(self) -> int:
        return self.callbacks - self.satisfied - self.basic


def score_of(o: Outcome, deduction: int = 0) -> Decimal:
    """The default rule of assessment.md, exactly: fractions, clamp, then one half-up rounding."""
    n, r = o.tickets, o.callbacks

    def ratio(a, b):
        return Fraction(1) if b == 0 else Fraction(a, b)

    satisfied = Fraction(1) if r == 0 else (o.satisfied + BASIC * o.basic) / r
    raw = 100 * (
        W_SIGN * ratio(o.sign_on_time, n) + W_CLOSE * ratio(o.close_on_time, n)
        + W_RESOLVED * ratio(o.resolved, r) + W_SATISFIED * satisfied
    ) - deduction
    raw = min(max(raw, Fraction(0)), Fraction(100))
    scaled = raw * 100
    q, rem = divmod(scaled.numerator, scaled.denominator)
    if rem * 2 >= scaled.denominator:
        q += 1
    return Decimal(q) / 100


def format_score(value: Decimal) -> str:
    text = f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _split_b10(b10: int, callbacks: int) -> tuple[int, int, int] | None:
    """10·resolved + 10·满意 + 9·基本满意 = b10 with resolved ≤ R and 满意 + 基本满意 ≤ R;
    prefers about a tenth 基本满意 and resolved close to 满意."""
    first = (-b10) % 10
    candidates = sorted(range(first, callbacks + 1, 10), key=lambda b: abs(b - callbacks // 10))
    for basic in candidates:
        rest = b10 - 9 * basic
        if rest < 0 or rest % 10:
            continue
        rest //= 10  # resolved + satisfied
        satisfied = min(callbacks - basic, rest // 2)
        resolved = rest - satisfied
        if resolved > callbacks:
            resolved = callbacks
            satisfied = rest - resolved
        if 0 <= satisfied <= callbacks - basic and 0 <= resolved <= callbacks:
            return resolved, satisfied, basic
    return None


def solve_unit(target: str, tickets: int, deduction: int = 0) -> Outcome | None:
    """Counts for ``tickets`` tickets whose score prints as ``target``; None if none exists."""
    goal = Decimal(target)
    n = tickets
    r_order = sorted(range(max(1, n // 2), n + 1), key=lambda r: abs(r - round(n * 0.8)))
    # a = sign_on_time + 2·close_on_time, tried from a plausible on-time share for the score out.
    share = min(Fraction(1), Fraction(2, 5) + Fraction(3, 5) * Fraction(str(goal)) / 100)
    for a in sorted(range(3 * n + 1), key=lambda a: (abs(a - share * 3 * n), -a)):
        part_a = Fraction(10 * a, n)
        for r in r_order:
            # score + deduction = part_a + 3.5·b10/R  →  b10 = (goal + deduction − part_a)·R/3.5
            exact = (Fraction(str(goal)) + deduction - part_a) * r / Fraction(7, 2)
            for b10 in {int(exact), int(exact) + 1, int(exact) - 1}:
                if not 0 <= b10 <= 20 * r:
                    continue
                split = _split_b10(b10, r)
                if split is None:
                    continue
                resolved, satisfied, basic = split
                for sign in range(n, -1, -1):
                    close2 = a - sign
                    if close2 % 2 == 0 and 0 <= close2 // 2 <= n:
                        o = Outcome(n, sign, close2 // 2, r, resolved, satisfied, basic)
                        if score_of(o, deduction) == goal:
                            return o
                        break
    return None


def solve_all(rng: random.Random) -> dict[str, Outcome]:
    """Each assessed unit's N (≥ 9) and outcomes: N near a random draw, summing to dispatched +
    upper; units with equal scores get strictly decreasing N in the printed order, so that "more
    tickets first" lists them as printed. An N with no exact solution is moved to a neighbour."""
    total = LOCAL_DISPATCHED + sum(c for _, c in UPPER_PLATFORMS)
    scores = dict(TOWNSHIP_SCORES + CITY_SCORES)
    wanted = {short: rng.randint(30, 62) for short, _ in TOWNSHIP_SCORES}
    wanted.update({short: rng.randint(12, 60) for short, _ in CITY_SCORES})
    wanted.update({"纸坊镇": 57, "国网汝州市供电公司": 96, "自来水公司": 71})
    cache: dict[tuple[str, int], Outcome | None] = {}

    def solve(short: str, n: int) -> Outcome | None:
        if (short, n) not in cache:
            deduction = STATIONING_DEDUCTION if short in STATIONING_INCOMPLETE else 0
            cache[short, n] = solve_unit(scores[short], n, deduction) if n >= 9 else None
        return cache[short, n]

    def nearest(short: str, n: int, below: int | None = None) -> int:
        for step in range(0, 60):
            for candidate in (n - step, n + step):
                if below is not None and candidate >= below:
                    continue
                if candidate >= 9 and solve(short, candidate):
                    return candidate
        raise RuntimeError(f"no outcome for {short} near {n} tickets scoring {scores[short]}")

    counts: dict[str, int] = {}
    tied: set[str] = set()
    for group in (TOWNSHIP_SCORES, CITY_SCORES):
        previous = None
        for short, score in group:
            if previous and scores[previous] == score:
                counts[short] = nearest(short, min(wanted[short], counts[previous] - 1), below=counts[previous])
                tied.update({short, previous})
            else:
                counts[short] = nearest(short, wanted[short])
            previous = short
    adjustable = [s for s in counts if s not in tied and s != "纸坊镇"]
    i = 0
    while (diff := total - sum(counts.values())) != 0:
        short = adjustable[i % len(adjustable)]
        step = 1 if diff > 0 else -1
        candidate = counts[short] + step
        if candidate >= 12 and solve(short, candidate):
            counts[short] = candidate
        i += 1
        if i > 100000:
            raise RuntimeError("cannot make the ticket counts add up")
    return {short: solve(short, n) for short, n in counts.items()}


# --------------------------------------------------------------------------------------------
# Texts
# --------------------------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = ["建国", "秀英", "桂兰", "志强", "海燕", "春梅", "国庆", "玉兰", "红霞", "振华", "淑珍", "晓东", "丽娟", "德明",
         "文杰", "冬梅", "俊峰", "雪芳", "卫东", "爱华", "明轩", "子涵", "浩然", "梓萱", "宏伟", "凤英", "永强", "金凤",
         "利民", "新民", "雅琴", "素梅", "广义", "保国", "长河", "秋菊", "艳玲", "建军", "瑞霞", "留柱"]
VILLAGES = ["宗庄村", "焦岭村", "东关村", "西街村", "杨庄村", "王庄村", "李寨村", "刘湾村", "张沟村", "前营村", "后营村",
            "北坡村", "南街村", "大王庄村", "小河村", "柳树村"]
ROADS = ["双拥路北段", "丹阳路", "广成路", "望嵩路", "朝阳路", "紫云路", "洗耳河路", "向阳路", "汝瓷大道", "钟楼路"]
COMMUNITIES = ["阳光小区", "锦绣花园", "凤凰城小区", "滨河小区", "书香苑", "金色家园", "汝河湾小区", "中央花园"]
COMPANIES = ["某商贸公司", "某建筑公司", "某物流公司", "某餐饮店", "某超市", "某培训机构", "某运输公司"]

TEMPLATES = {
    "0101": ["来电人咨询在{twp}便民服务中心办理{svc}需要准备哪些材料，办理时间是否需要预约。",
             "来电人反映到市民之家{svc}窗口办事，排队时间长，窗口人员解释不清楚，希望优化服务。",
             "来电人咨询{svc}能否在网上办理，线下网点周末是否上班。"],
    "0102": ["来电人反映到{unit}办理业务多次被要求补充材料，办事拖延，希望相关部门提高办事效率。",
             "来电人反映{unit}工作人员推诿，电话长期无人接听，事项迟迟未办结。"],
    "0201": ["来电人反映{twp}{village}自来水管路故障停水已两天，维修不及时，影响生活用水。",
             "来电人反映{community}液化气罐更换不便，充装气价比以前上涨，对价格有争议。",
             "来电人反映{road}附近停电频繁，供电不稳定，希望供电部门尽快检修。",
             "来电人反映{community}燃气管线挪移已申请一个多月，等待时间过长，对收费标准有异议。"],
    "0202": ["来电人反映{twp}{village}手机信号差，宽带经常断网，希望通信公司尽快处理。",
             "来电人反映话费被扣取不明增值业务费用，要求退还。"],
    "0301": ["来电人反映在{company}购买的商品存在质量问题，商家拒绝退换，要求维权。",
             "来电人反映在{company}办理预付卡后商家关门，无法退款。"],
    "0401": ["来电人反映在{company}务工，被拖欠工资{money}元，多次讨要无果，要求帮助追讨。",
             "来电人反映{twp}某工地拖欠农民工工资，涉及多人，希望劳动监察部门介入。"],
    "0501": ["来电人反映{road}附近夜间排档、烧烤店经营到凌晨，噪音扰民，影响休息。",
             "来电人反映{community}附近工地夜间施工，噪音很大，影响居民休息。"],
    "0601": ["来电人反映{twp}某学校周末组织学生补课并收取费用，希望教育部门调查。",
             "来电人咨询孩子转学需要办理哪些手续。"],
    "0701": ["来电人咨询异地就医医保报销比例及备案流程。",
             "来电人反映医保卡无法正常使用，报销迟迟未到账。"],
    "0801": ["来电人反映{twp}{village}村内垃圾长期无人清运，影响村容村貌。",
             "来电人反映{twp}{village}生活污水直排路面，人居环境差。"],
    "0905": ["来电人反映{community}燃气管道需要挪移，申请后迟迟未安排施工。"],
    "1001": ["来电人反映{road}路面坑洼不平，雨天积水，影响车辆通行。",
             "来电人反映{twp}{village}通村道路损毁严重，希望尽快修复。"],
    "1004": ["来电人反映{company}运输车辆无法提档过户，双方存在纠纷，希望协助解决。"],
    "1101": ["来电人反映{road}夜间排档、流动商贩占道经营，油烟污染严重，影响通行。",
             "来电人反映{community}门口流动商贩占道经营，造成交通拥堵。"],
    "1103": ["来电人反映{road}杨柳飞絮严重，影响视线，容易引起过敏，存在火灾隐患。"],
    "0901": ["来电人反映{community}物业服务差，电梯经常停运，物业费却上涨。"],
    "1602": ["来电人反映{community}消防通道被车辆长期占用，存在安全隐患。"],
}
GENERIC = [
    "来电人反映{twp}{village}存在{name}方面的问题，希望相关部门尽快核实处理。",
    "来电人咨询{name}相关政策及办理流程。",
    "来电人反映{road}附近{name}问题长期得不到解决，要求有关部门处理。",
]
SERVICES = ["社保卡", "身份证", "营业执照", "不动产登记", "居住证", "医保备案", "公积金提取", "户口迁移"]

# Which categories each unit typically handles (the rest is drawn from whatever remains).
UNIT_CATEGORIES = {
    "国网汝州市供电公司": ["0201"], "自来水公司": ["0201"], "汝州市消防大队": ["1602"],
    "市场监督管理局": ["0301", "0302", "0303", "0304"], "城市管理局": ["1101", "1102", "1103", "1104"],
    "移动公司": ["0202"], "住房和城乡建设局": ["0901", "0905", "0904", "0902"],
    "人力资源和社会保障局": ["0401", "0402", "0702", "0403"], "国资事务中心": ["9901"],
    "交通运输局": ["1001", "1004", "1002", "1003"], "卫生健康委员会": ["1301", "1302", "1303"],
    "应急管理局": ["1601", "1603"], "教体局<教育>": ["0601", "0602"], "平顶山市生态环境局汝州分局": ["0501", "0502", "0503"],
    "税务局": ["1701"], "医疗保障局": ["0701"], "公安局": ["1201", "1202", "1203"], "煤矿安全监察局": ["1601"],
    "文广旅游局": ["0603", "0604"], "公路管理局": ["1001"], "民政局": ["1501", "1502", "1503"],
    "司法局": ["1204"], "自然资源和规划局": ["1401", "1402", "1403"],
}
TOWNSHIP_CATEGORIES = ["0801", "0804", "0803", "1001", "0501", "0401", "1501", "0201", "0906", "0802"]


def _all_categories() -> dict[str, str]:
    """code → "一级—二级" for every second-level category of the Ruzhou tree."""
    result = {}
    for _code, name, _kw, children in dd.CATEGORIES:
        for code, child, _ckw in children:
            result[code] = f"{name}—{child}"
    return result


def _category_pool(rng: random.Random) -> dict[str, int]:
    names = _all_categories()
    pool = dict(HOT_TOPICS)
    rest = [c for c in names if c not in pool]
    remaining = sum(c for _, c in APPEAL_TYPES) - sum(pool.values())
    weights = {c: rng.uniform(0.3, 1.0) for c in rest}
    scale = remaining / sum(weights.values())
    cap = min(c for _, c in HOT_TOPICS) - 8  # stays below the tenth hot topic
    for c in rest:
        pool[c] = min(cap, int(weights[c] * scale))
    i = 0
    while sum(pool[c] for c in rest) < remaining:
        c = rest[i % len(rest)]
        if pool[c] < cap:
            pool[c] += 1
        i += 1
    return pool


# --------------------------------------------------------------------------------------------
# Routing like a real county: which unit handles which matter
# --------------------------------------------------------------------------------------------

# The units' own matters, most specific first. 燃气公司 is not among April's assessed units, so April
# has no gas tickets at a unit (its gas calls were settled on the spot); 表扬感谢 goes with whoever was
# praised, so it is no unit's own matter either.
COUNTY_HOMES = {
    "国网汝州市供电公司": ["0201"], "自来水公司": ["0201"], "煤矿安全监察局": ["1601"], "汝州市消防大队": ["1602"],
    "税务局": ["1701"], "医疗保障局": ["0701"], "移动公司": ["0202"], "国资事务中心": ["9901"],
    "司法局": ["1204"], "公路管理局": ["1001"], "应急管理局": ["1601", "1603"],
    "教体局<教育>": ["0601", "0602"], "文广旅游局": ["0603", "0604"],
    "平顶山市生态环境局汝州分局": ["0502", "0504", "0501"],
    "市场监督管理局": ["0301", "0302", "0303", "0304"], "城市管理局": ["1101", "0503", "1102", "1103", "1104", "0501"],
    "住房和城乡建设局": ["0905", "0901", "0904", "0902", "0903"],
    "人力资源和社会保障局": ["0401", "0402", "0702", "0403", "0703"], "交通运输局": ["1004", "1002", "1003", "1001"],
    "卫生健康委员会": ["1301", "1302", "1303"], "公安局": ["1201", "1202", "1203"],
    "民政局": ["1501", "1502", "1503"], "自然资源和规划局": ["1401", "1402", "1403"],
}
# Every unit has a service window: complaints about it (网点服务, 行政效能) go to whoever it is.
ANY_UNIT = ["0101", "0102"]
# A township's own affairs (属地管理).
TOWNSHIP_OWN = ["0801", "0802", "0803", "0804", "0906", "1001", "1501", "0505", "1603"]
# 0201 texts by who handles them
UTILITY_TEXTS = {
    "国网汝州市供电公司": ["来电人反映{road}附近停电频繁，供电不稳定，希望供电部门尽快检修。",
                    "来电人反映{twp}{village}电压低、经常跳闸停电，希望供电公司尽快检修线路。"],
    "自来水公司": ["来电人反映{twp}{village}自来水管路故障停水已两天，维修不及时，影响生活用水。",
              "来电人反映{community}自来水水压低、停水无通知，希望自来水公司尽快恢复供水。"],
}
UNIT_SERVICES = {"人力资源和社会保障局": "社保卡", "公安局": "身份证", "自然资源和规划局": "不动产登记",
                 "医疗保障局": "医保备案", "税务局": "发票代开", "国网汝州市供电公司": "用电报装", "自来水公司": "用水报装",
                 "移动公司": "宽带办理", "市场监督管理局": "营业执照"}


def _route_like_a_county(rows: list[list], short_of: dict[str, str], townships: set[str], seed: int) -> int:
    """Re-pair categories with tickets so that each unit handles its own matters (water →
    自来水公司, power → 供电公司, a township's affairs → that township); the matters no unit of the
    month owns go to the tickets settled on the spot (协调办理). Texts and answers follow. Only the
    pairing changes: every unit keeps its ticket count and outcomes, every category its count, every
    other field its value, so all the bulletin's figures stay as printed. Uses its own random
    stream (the main one is untouched). Returns how many dispatched tickets got a matter outside
    their unit's list (none fitted)."""
    from collections import Counter

    rng = random.Random(f"{seed}-routing")
    names = _all_categories()
    code_of = {name: code for code, name in names.items()}
    dispatched = [row for row in rows if row[13]]
    on_the_spot = [row for row in rows if not row[13]]
    units = [short_of[row[13]] for row in dispatched]
    left = Counter(code_of[row[7]] for row in rows)
    need = Counter(units)
    given: dict[str, list[str]] = {u: [] for u in need}

    def give(unit: str, codes: list[str], most: int | None = None) -> None:
        for code in codes:
            n = min(need[unit], left[code], most or need[unit])
            if n > 0:
                given[unit] += [code] * n
                need[unit] -= n
                left[code] -= n

    for unit, codes in COUNTY_HOMES.items():  # each city unit its own matters, spread over them
        while unit in need and need[unit] > 0 and any(left[c] > 0 for c in codes):
            for code in codes:
                give(unit, [code], most=1)
    for pool, wanted in ((TOWNSHIP_OWN, lambda u: u in townships), (ANY_UNIT, lambda u: True)):
        slots = [u for u in sorted(need) if wanted(u) for _ in range(need[u])]
        rng.shuffle(slots)
        for unit in slots:  # shared matters, one ticket at a time at random
            fitting = [c for c in pool if left[c] > 0]
            if fitting:
                give(unit, [rng.choice(fitting)], most=1)
    rest = [c for c in sorted(left) for _ in range(left[c])]
    rng.shuffle(rest)
    misfits = 0
    for unit in sorted(need):
        while need[unit] > 0:
            code = rest.pop()
            given[unit].append(code)
            left[code] -= 1
            need[unit] -= 1
            misfits += 1
    for unit in given:
        rng.shuffle(given[unit])
    for row, unit in zip(dispatched, units, strict=True):
        code = given[unit].pop()
        row[7] = names[code]
        row[8] = _routed_text(rng, code, names[code], row[12], unit, unit in townships)
        row[-1] = _reply_text(rng, code, names[code], unit, row[13])
    # the tickets settled on the spot keep their matter where it is left over, else take one
    changed = []
    for row in on_the_spot:
        code = code_of[row[7]]
        if left[code] > 0:
            left[code] -= 1
        else:
            changed.append(row)
    rest = [c for c in sorted(left) for _ in range(left[c])]
    rng.shuffle(rest)
    for row, code in zip(changed, rest, strict=True):
        row[7] = names[code]
        row[8] = _routed_text(rng, code, names[code], row[12], "", False)
    return misfits


REPLIES = {
    "国网汝州市供电公司": "经查为线路老化导致跳闸，供电所已更换线路和开关，供电恢复正常，已向来电人反馈。",
    "自来水公司": "经核实系供水管道破裂，已组织抢修并恢复供水，今后停水检修将提前公告。",
}


def _reply_text(rng: random.Random, code: str, name: str, unit: str, full_name: str) -> str:
    """The unit's public answer (答复内容) of a handled April ticket."""
    if code == "0201" and unit in REPLIES:
        return REPLIES[unit]
    topic = name.split("—")[-1]
    return rng.choice([
        f"{full_name}已安排工作人员现场核实{topic}问题，已按规定处理，并将结果告知来电人。",
        f"经{full_name}调查，来电人反映的{topic}问题属实，已督促整改到位，来电人表示认可。",
        f"{full_name}已电话联系来电人，就{topic}问题作了政策解释并现场处理，问题已解决。",
    ])


def _routed_text(rng: random.Random, code: str, name: str, township: str, unit: str, is_township: bool) -> str:
    if code == "0201":
        templates = UTILITY_TEXTS.get(unit, TEMPLATES["0201"])
    elif code == "0101" and is_township:
        templates = ["来电人咨询在{twp}便民服务中心办理{svc}需要准备哪些材料，办理时间是否需要预约。"]
    elif code == "0101" and unit in UNIT_SERVICES:
        templates = ["来电人反映到" + unit + "{svc}窗口办事，排队时间长，窗口人员解释不清楚，希望优化服务。",
                     "来电人咨询" + unit + "{svc}能否在网上办理，线下网点周末是否上班。"]
    elif code == "0102" and unit:
        who = f"{township}便民服务中心" if is_township else unit
        templates = ["来电人反映到" + who + "办理业务多次被要求补充材料，办事拖延，希望提高办事效率。",
                     "来电人反映" + who + "工作人员推诿，电话长期无人接听，事项迟迟未办结。"]
    else:
        templates = TEMPLATES.get(code) or GENERIC
    return rng.choice(templates).format(
        twp=township, village=rng.choice(VILLAGES), road=rng.choice(ROADS), community=rng.choice(COMMUNITIES),
        company=rng.choice(COMPANIES), svc=UNIT_SERVICES.get(unit) or rng.choice(SERVICES),
        money=rng.choice([3000, 5600, 8000, 12000, 26000]), unit=unit, name=name.split("—")[-1])


def _text(rng: random.Random, code: str, name: str, township: str) -> str:
    template = rng.choice(TEMPLATES.get(code) or GENERIC)
    return template.format(
        twp=township, village=rng.choice(VILLAGES), road=rng.choice(ROADS), community=rng.choice(COMMUNITIES),
        company=rng.choice(COMPANIES), svc=rng.choice(SERVICES), money=rng.choice([3000, 5600, 8000, 12000, 26000]),
        unit=rng.choice(["某窗口单位", "某办事网点"]), name=name.split("—")[-1],
    )


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def _fmt(t: dt.datetime) -> str:
    return t.astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S")


def _write(path: Path, headers: list[str], rows: list[list]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(spreadsheet_row(row) for row in rows)  # as every spreadsheet the product writes


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('35789')}{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"


def demo_generate(out_dir: Path | str, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Write units.csv, stationing.csv, tickets.csv and calls.csv for April 2024 into ``out_dir``."""
    rng = random.Random(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {k: out / f"{k}.csv" for k in ("units", "stationing", "tickets", "calls")}

    # Units: the whole Ruzhou directory, in printed order; stationing for every unit that must station.
    unit_rows, stationing_rows, full_names = [], [], {}
    for i, (short, full) in enumerate(dd.TOWNSHIPS, start=1):
        unit_rows.append([full, short, "乡镇街道", i, "否"])
        full_names[short] = full
    for i, (short, full, stationing) in enumerate(dd.CITY_UNITS, start=1):
        unit_rows.append([full, short, "市直单位", i, "是" if stationing else "否"])
        full_names[short] = full
        if stationing:
            stationing_rows.append([full, PERIOD, "未完成" if short in STATIONING_INCOMPLETE else "已完成"])
    _write(files["units"], ["单位名称", "简称", "考核分组", "排序", "需派驻"], unit_rows)
    _write(files["stationing"], ["单位名称", "月份", "派驻情况"], stationing_rows)

    outcomes = solve_all(rng)
    categories = _all_categories()
    pool = _category_pool(rng)

    def take_category(preferred: list[str]) -> str:
        choices = [c for c in preferred if pool.get(c, 0) > 0]
        if not choices:
            choices = [c for c, n in pool.items() if n > 0]
            weights = [pool[c] for c in choices]
            code = rng.choices(choices, weights)[0]
        else:
            code = rng.choice(choices)
        pool[code] -= 1
        return code

    appeal_pool = [name for name, n in APPEAL_TYPES for _ in range(n)]
    rng.shuffle(appeal_pool)
    townships = [short for short, _ in dd.TOWNSHIPS]

    # The assessed tickets: one slot per (unit, outcome) ticket; the first 330 slots are upper.
    slots = []
    for short, o in outcomes.items():
        flags = []
        for i in range(o.tickets):
            if i < o.satisfied:
                callback = "满意"
            elif i < o.satisfied + o.basic:
                callback = "基本满意"
            elif i < o.callbacks:
                callback = "不满意"
            else:
                callback = ""
            flags.append([callback, i < o.resolved if callback else None])
        sign = [i < o.sign_on_time for i in range(o.tickets)]
        close = [i < o.close_on_time for i in range(o.tickets)]
        rng.shuffle(sign)
        rng.shuffle(close)
        for i in range(o.tickets):
            slots.append((short, sign[i], close[i], flags[i][0], flags[i][1]))
    rng.shuffle(slots)
    upper_sources = [name for name, n in UPPER_PLATFORMS for _ in range(n)]

    start = dt.datetime(2024, 4, 1, tzinfo=TZ)
    ticket_rows, phone_tickets = [], []
    handling_days = {name: days for _code, name, days in dd.APPEAL_TYPES}
    per_day: dict[str, int] = {}
    channels = ["电话"] * 80 + ["微信"] * 7 + ["网站"] * 5 + ["APP"] * 4 + ["110转入"] * 3 + ["其他"]

    def registered() -> dt.datetime:
        day = rng.randint(0, 28)
        return start + dt.timedelta(days=day, hours=rng.randint(8, 20), minutes=rng.randint(0, 59),
                                    seconds=rng.randint(0, 59))

    def number(at: dt.datetime) -> str:
        key = at.strftime("%Y%m%d")
        per_day[key] = per_day.get(key, 0) + 1
        return f"RZ{key}{per_day[key]:04d}"

    def caller() -> tuple[str, str]:
        return rng.choice(SURNAMES) + rng.choice(GIVEN), _phone(rng)

    for index, (short, sign_ok, close_ok, callback, resolved) in enumerate(slots):
        at = registered()
        appeal = appeal_pool.pop()
        group_is_township = short in full_names and short in townships
        code = take_category(TOWNSHIP_CATEGORIES if group_is_township else UNIT_CATEGORIES.get(short, []))
        twp = short if group_is_township else rng.choice(townships)
        upper = index < len(upper_sources)
        dispatched = at + dt.timedelta(minutes=rng.randint(10, 180))
        sign_deadline = dispatched + dt.timedelta(hours=24)
        signed = dispatched + (dt.timedelta(hours=rng.randint(1, 20)) if sign_ok
                               else dt.timedelta(hours=rng.randint(26, 60)))
        handle_deadline = dispatched + dt.timedelta(days=handling_days[appeal] + 2)
        closed = (handle_deadline - dt.timedelta(hours=rng.randint(4, 40)) if close_ok
                  else handle_deadline + dt.timedelta(hours=rng.randint(6, 72)))
        closed = max(closed, signed + dt.timedelta(hours=1))
        name, phone = caller()
        num = number(at)
        platform = upper_sources[index] if upper else ""
        channel = platform if upper else rng.choice(channels)
        if channel == "电话":
            phone_tickets.append((num, at, phone))
        ticket_rows.append([
            num, _fmt(at), "上级交办" if upper else "本级登记", channel,
            f"{'PDS' if platform.startswith('平顶山') else 'HN' if platform.startswith('河南') else 'GOV'}"
            f"{at:%Y%m%d}{index:05d}" if upper else "",
            "" if upper else "交办处理", appeal, categories[code], _text(rng, code, categories[code], twp),
            name, phone, f"{twp}{rng.choice(VILLAGES)}", twp, full_names[short],
            _fmt(dispatched), _fmt(signed), _fmt(sign_deadline), _fmt(closed), _fmt(handle_deadline),
            0, 0, callback, "" if resolved is None else ("是" if resolved else "否"), "",
        ])
    for _ in range(LOCAL_COORDINATED):
        at = registered()
        appeal = appeal_pool.pop()
        code = take_category([])
        twp = rng.choice(townships)
        name, phone = caller()
        num = number(at)
        channel = rng.choice(channels)
        if channel == "电话":
            phone_tickets.append((num, at, phone))
        ticket_rows.append([
            num, _fmt(at), "本级登记", channel, "", "协调办理", appeal, categories[code],
            _text(rng, code, categories[code], twp), name, phone, f"{twp}{rng.choice(VILLAGES)}", twp, "",
            "", "", "", _fmt(at + dt.timedelta(minutes=rng.randint(3, 50))), "", 0, 0, "", "", "",
        ])
    assert not appeal_pool and not any(pool.values())
    _route_like_a_county(ticket_rows, {full: short for short, full in full_names.items()}, set(townships), seed)
    ticket_rows.sort(key=lambda r: r[0])
    _write(files["tickets"], [
        "工单编号", "登记时间", "来源", "来源渠道", "上级工单编号", "办理方式", "诉求类型", "问题分类", "诉求内容",
        "来电人", "联系电话", "事发地址", "所属乡镇", "承办单位", "派单时间", "签收时间", "签收时限", "办结时间",
        "办理时限", "退单次数", "延期次数", "回访结果", "是否解决", "答复内容",
    ], ticket_rows)

    # Calls: one per phone ticket (a minute before registration), the rest without a ticket
    # (hang-ups, repeat calls, progress queries), all in April.
    call_rows = []
    for num, at, phone in phone_tickets:
        call_rows.append([_fmt(at - dt.timedelta(minutes=rng.randint(1, 9))), phone, f"{rng.randint(1, 40):03d}",
                          rng.randint(60, 600), num])
    seen = set()
    while len(call_rows) < CALLS_TOTAL:
        at = start + dt.timedelta(seconds=rng.randint(0, 30 * 86400 - 1))
        agent = f"{rng.randint(1, 40):03d}"
        if (at, agent) in seen:
            continue
        seen.add((at, agent))
        call_rows.append([_fmt(at), _phone(rng), agent, rng.randint(5, 300), ""])
    call_rows.sort(key=lambda r: r[0])
    _write(files["calls"], ["来电时间", "主叫号码", "坐席工号", "通话时长", "工单编号"], call_rows)
    return files


# --------------------------------------------------------------------------------------------
# Loading through the real commands
# --------------------------------------------------------------------------------------------


def demo_load(out_dir: Path | str, *, stdout=None, publish: bool = True):
    """Import the files, score April 2024, build its bulletin, enter the narrative, publish."""
    import io

    from django.core.management import call_command

    from tickets.models import Role, User

    from . import selectors, services
    from .models import Bulletin

    out = Path(out_dir)
    sink = stdout or io.StringIO()
    for kind in ("units", "stationing", "tickets", "calls"):
        call_command(f"import_{kind}", str(out / f"{kind}.csv"), "--no-progress", stdout=sink, stderr=sink)
    call_command("compute_assessment", PERIOD, "--quiet-table", stdout=sink, stderr=sink)
    existing = Bulletin.objects.filter(period=PERIOD).first()
    editor = User.objects.filter(role=Role.EDITOR, is_active=True).order_by("id").first()
    if existing and existing.is_published:
        services.bulletin_unpublish(bulletin=existing, actor=editor)
    bulletin = services.bulletin_build(month=selectors.period_parse(PERIOD))
    bulletin = services.bulletin_update(bulletin=bulletin, actor=editor, sections=NARRATIVE, issue_date=ISSUE_DATE)
    if publish:
        bulletin = services.bulletin_publish(bulletin=bulletin, actor=editor)
    return bulletin
