"""Demo data for ``make run``: ~300 tickets over the last 30 days in every state, and ~500 calls.

Everything is written through ``tickets.services`` (with their ``at=`` / ``registered_at=``
parameters), so that events, deadlines and counters are exactly what real work produces.
Callers are fictitious: a surname with 先生/女士 and a 139000xxxxx number. Idempotent: when demo
tickets exist it does nothing. Development only (refuses without ``DJANGO_DEBUG=1``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from tickets import services
from tickets.models import (
    AppealType,
    AssessmentGroup,
    CallKind,
    Category,
    Channel,
    HandlingMode,
    Role,
    Source,
    Status,
    Ticket,
    Unit,
    UpperPlatform,
    User,
)
from tickets.services.deadlines import light_thresholds
from tickets.workcalendar import get_calendar

SEED_PREFIX = "seed_"
DEMO_REPLY_URL = "http://127.0.0.1:8000/exchange/demo-upper-platform/replies/"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
PLACES = ["某村", "某小区", "某社区", "某路口", "某街", "集镇", "某组"]
TOWNSHIP = "<township>"  # the unit is the township where the matter happened


@dataclass(frozen=True)
class Topic:
    category: str
    appeal: str
    title: str
    content: str
    reply: str
    units: tuple[str, ...]


# Realistic matters per category. ``{place}`` becomes "<township><place>".
TOPICS = [
    Topic("0201", "problem", "停水", "{place}从昨天下午开始停水，到现在还没有来水，家里有老人和小孩，生活很不方便，请尽快恢复供水。",
          "经核实，系主供水管道破裂抢修，已于当日恢复供水，已向来电人解释。", ("自来水公司",)),
    Topic("0201", "problem", "频繁停电", "{place}最近一周频繁停电，一天停三四次，没有任何通知，冰箱里的东西都坏了。",
          "经查为线路老化导致跳闸，已更换线路和开关，供电恢复正常。", ("国网汝州市供电公司",)),
    Topic("0201", "problem", "燃气停供", "{place}天然气突然停供，燃气公司电话打不通，做饭都成问题。",
          "经查为小区调压箱检修，已恢复供气，今后检修提前张贴通知。", ("燃气公司",)),
    Topic("0202", "complaint", "手机信号差", "{place}移动手机信号很差，在家里打电话经常断线，多次向营业厅反映没有解决。",
          "已派技术人员现场测试，基站已优化调整，来电人表示信号有改善。", ("移动公司", "联通公司", "电信公司")),
    Topic("0301", "complaint", "预付卡退费难", "来电人在{place}一家健身房办了年卡，现在店铺关门，老板联系不上，要求退费。",
          "已约谈经营者，经调解退还剩余费用，来电人认可。", ("市场监督管理局",)),
    Topic("0303", "complaint", "超市售卖过期食品", "来电人在{place}某超市购买的牛奶已过保质期，要求相关部门查处。",
          "执法人员已现场检查，下架过期食品并依法立案处理，已告知来电人。", ("市场监督管理局",)),
    Topic("0304", "problem", "电梯故障", "{place}3号楼电梯经常停运，上周还困过人，物业不管，请求安全检查。",
          "已督促维保单位检修并更换主板，电梯经检验合格恢复运行。", ("市场监督管理局",)),
    Topic("0401", "complaint", "拖欠农民工工资", "来电人反映在{place}某建筑工地务工三个月，包工头拖欠工资一万二千余元至今未付。",
          "劳动监察大队已约谈施工单位，拖欠工资已全部支付到位。", ("人力资源和社会保障局",)),
    Topic("0403", "consult", "咨询创业贷款", "来电人想在{place}开一家小吃店，咨询创业担保贷款的申请条件和办理地点。",
          "已告知申请条件、所需材料及办理地点（市就业创业服务中心），来电人表示清楚。", ("人力资源和社会保障局",)),
    Topic("0501", "complaint", "夜间施工噪音扰民", "{place}附近工地晚上十一点以后还在施工，机器声音很大，严重影响休息。",
          "已责令施工单位夜间停止高噪声作业，确需连续施工的须办理夜间施工许可。", ("城市管理局", "平顶山市生态环境局汝州分局")),
    Topic("0502", "complaint", "企业排放烟尘", "{place}附近一家厂子晚上偷偷排黑烟，气味刺鼻，窗户都不敢开。",
          "执法人员夜间突击检查，该企业除尘设施未运行，已依法处罚并责令整改。", ("平顶山市生态环境局汝州分局",)),
    Topic("0503", "complaint", "烧烤油烟扰民", "{place}楼下烧烤店油烟直排，半夜十二点还在营业，油烟和噪音影响居民生活。",
          "已要求商户安装油烟净化设施并规范经营时间，将持续巡查。", ("城市管理局",)),
    Topic("0505", "problem", "垃圾多日未清运", "{place}垃圾点的垃圾已经堆放好几天没人清运，天热气味很大，苍蝇很多。",
          "已安排环卫车辆清运，并增加该点位清运频次。", (TOWNSHIP, "城市管理局")),
    Topic("0601", "complaint", "学校有偿补课", "反映{place}某学校老师周末组织学生到校外有偿补课，每人每月收费八百元。",
          "经调查属实，已对相关教师批评教育并责令退费，学校开展专项整治。", ("教体局<教育>",)),
    Topic("0602", "consult", "咨询孩子入学", "来电人户籍不在本地，在{place}租房居住，咨询孩子秋季上小学需要准备哪些材料。",
          "已告知随迁子女入学须提供居住证、租房合同和社保缴费证明等材料。", ("教体局<教育>",)),
    Topic("0701", "consult", "咨询异地就医报销", "来电人在外地住院，咨询医保异地就医备案的办理方式和报销比例。",
          "已告知可通过国家医保服务平台APP备案，并说明报销比例。", ("医疗保障局",)),
    Topic("0702", "consult", "咨询养老保险补缴", "来电人咨询城乡居民养老保险能否补缴以前年度的费用，需要到哪里办理。",
          "已告知补缴政策和办理窗口，来电人表示满意。", ("人力资源和社会保障局",)),
    Topic("0801", "problem", "村内污水横流", "{place}村内排水沟堵塞，污水流到路上，下雨后更严重，村民出行困难。",
          "镇政府已组织人员疏通排水沟，并安排专人定期清理。", (TOWNSHIP,)),
    Topic("0804", "complaint", "低保评定不公", "反映{place}低保评定不公开，有的家庭条件好也吃低保，真正困难的却评不上。",
          "镇村两级已重新入户核查，对不符合条件的予以清退，评定结果已张榜公示。", (TOWNSHIP, "民政局")),
    Topic("0901", "complaint", "物业不作为", "{place}物业收了物业费，但小区门禁坏了两个月不修，楼道灯也不亮。",
          "住建局已约谈物业公司，门禁和楼道灯已修复。", ("住房和城乡建设局",)),
    Topic("0902", "problem", "购房多年办不了房产证", "来电人在{place}购买的商品房已入住五年，开发商一直不给办理不动产权证。",
          "经协调，开发商已补齐相关手续，正在为业主分批办理不动产权证。", ("住房和城乡建设局", "不动产登记中心")),
    Topic("0904", "problem", "路灯不亮", "{place}路段十几盏路灯不亮已经一个多星期，晚上出行很不安全。",
          "已安排维修人员更换灯具和线路，路灯已恢复照明。", ("城市管理局",)),
    Topic("0906", "complaint", "私搭乱建", "{place}有住户在楼顶私自加盖房屋，存在安全隐患，请求查处。",
          "执法人员已现场核查并下达限期拆除通知书，当事人已自行拆除。", (TOWNSHIP, "城市管理综合执法大队")),
    Topic("1001", "problem", "道路坑洼", "{place}通往镇上的道路坑洼不平，下雨天积水严重，电动车经常摔倒，请求修路。",
          "已对破损路面进行修补，纳入今年道路提升计划。", (TOWNSHIP, "交通运输局", "公路管理局")),
    Topic("1002", "suggestion", "建议增开公交线路", "建议增加从{place}到市区的公交班次，早晚高峰等车时间太长。",
          "公交公司已调整运力，早晚高峰增开班次，发车间隔缩短至15分钟。", ("交通运输局", "公交公司")),
    Topic("1101", "complaint", "占道经营", "{place}路口每天晚上都有流动摊贩占道经营，堵塞交通，垃圾遍地。",
          "城管部门已加强巡查，引导摊贩入市经营，路口秩序好转。", ("城市管理局",)),
    Topic("1104", "problem", "车辆乱停堵路", "{place}门口经常有车辆乱停乱放，把消防通道都堵了。",
          "交警已加强巡逻并施划停车泊位，对违停车辆依法处理。", ("交警大队",)),
    Topic("1202", "consult", "咨询户口迁移", "来电人咨询结婚后把户口迁到{place}需要带哪些材料。",
          "已告知需携带结婚证、户口簿、身份证等材料到派出所办理。", ("公安局",)),
    Topic("1501", "problem", "申请临时救助", "来电人家中老人生病住院花费较大，生活困难，咨询能否申请临时救助。",
          "已告知申请流程，民政所已受理并入户调查。", ("民政局", TOWNSHIP)),
    Topic("1502", "consult", "咨询高龄补贴", "来电人的父亲已满八十周岁，咨询高龄津贴怎么申请。",
          "已告知向户籍所在村（社区）提出申请，并说明发放标准。", ("民政局",)),
    Topic("1602", "problem", "消防通道被占", "{place}小区消防通道长期被杂物和车辆占用，存在安全隐患。",
          "消防大队已联合物业清理通道，并设置禁停标识。", ("汝州市消防大队",)),
    Topic("1402", "problem", "不动产登记办理慢", "来电人在不动产登记中心办理过户已经一个月，一直说在审核，没有结果。",
          "经核实，系材料缺少完税证明，已一次性告知补齐，登记已办结。", ("不动产登记中心",)),
    Topic("0104", "consult", "咨询营业执照办理", "来电人咨询个体工商户营业执照怎么网上办理，需要多长时间。",
          "已告知可通过河南政务服务网办理，材料齐全当日可领取。", ("行政审批和政务信息管理局",)),
    Topic("0102", "complaint", "窗口人员态度差", "来电人反映在政务服务大厅办理业务时，窗口工作人员态度冷漠，让其多跑了两趟。",
          "已对相关工作人员批评教育，并向来电人致歉。", ("行政审批和政务信息管理局",)),
    Topic("9902", "other", "表扬供电抢修人员", "来电人表扬{place}供电所抢修人员冒雨连夜抢修线路，及时恢复供电。",
          "已将表扬转达相关单位。", ("国网汝州市供电公司",)),
]

# Matters an operator settles on the spot (协调办理): knowledge base, three-way calls, stationed staff.
COORDINATED = [
    ("0103", "consult", "咨询办事时间", "来电人咨询政务服务大厅周末是否上班。", "已告知周六上午正常办公，周日休息。"),
    ("0701", "consult", "咨询医保缴费", "来电人咨询城乡居民医保今年的缴费标准和截止时间。", "已根据知识库告知缴费标准和截止时间。"),
    ("0201", "problem", "查询停电原因", "来电人反映{place}突然停电，询问原因和恢复时间。",
     "经三方通话联系供电公司驻中心人员，系计划检修，下午六点前恢复，已告知来电人。"),
    ("0201", "problem", "查询停水原因", "来电人反映{place}停水，询问何时来水。", "经联系自来水公司，系管网维修，预计两小时内恢复，已告知。"),
    ("1202", "consult", "咨询身份证补办", "来电人咨询身份证丢失后如何补办，能否异地办理。", "已告知可就近到派出所户籍窗口补办，支持异地办理。"),
    ("0702", "consult", "咨询养老金领取资格认证", "来电人咨询养老金领取资格认证的方式。", "已告知可通过手机APP人脸识别认证。"),
    ("1002", "consult", "咨询公交线路", "来电人咨询从{place}到汝州市人民医院坐几路公交车。", "已告知乘车线路和首末班时间。"),
    ("0105", "consult", "咨询公积金提取", "来电人咨询租房提取住房公积金需要什么材料。", "已告知提取条件和所需材料。"),
    ("9901", "other", "咨询热线受理范围", "来电人询问12345热线可以反映哪些问题。", "已介绍热线受理范围。"),
]

UNSATISFIED_NOTES = ["来电人表示问题没有解决，单位只是电话回复，没有到现场。", "来电人认为答复与实际情况不符。"]
RETURN_REASONS = ["该事项属于供电公司职责，不属于本单位管辖。", "事发地点不在本辖区，请改派属地乡镇。"]


class Command(BaseCommand):
    help = "生成演示数据：近30天约300张各状态工单和约500条来电记录（全部通过业务服务写入）。已有演示数据时不做任何事。"

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=300, help="工单数量（约数）")
        parser.add_argument("--seed", type=int, default=12345, help="随机种子（结果可重现）")

    def handle(self, *args, tickets, seed, **options):
        if not settings.DEBUG:
            raise CommandError("演示数据只能在开发环境（DJANGO_DEBUG=1）中生成。")
        if not Unit.objects.exists() or not Category.objects.exists():
            raise CommandError("目录为空，请先执行 load_ruzhou。")
        if Ticket.objects.filter(registered_by__username__startswith=SEED_PREFIX).exists():
            self.stdout.write("演示数据已存在，未做任何修改。")
            return
        with transaction.atomic():
            counts = Seeder(random.Random(seed), timezone.now(), total=tickets).run()
        # One upper platform of each kind: 平顶山市热线中心 answers on the demo's loopback receiver
        # (接口回传; set after seeding, so nothing is posted before ``make run`` serves it), the others
        # have no reply address (文件交换: their results are exported on the outbox page).
        UpperPlatform.objects.filter(code="pds", reply_url="").update(reply_url=DEMO_REPLY_URL)
        self.stdout.write(self.style.SUCCESS(
            "演示数据已生成：工单{tickets}张（{states}），来电{calls}条。".format(
                tickets=counts["tickets"], calls=counts["calls"],
                states="，".join(f"{Status(k).label}{v}" for k, v in sorted(counts["states"].items())),
            )
        ))


class Seeder:
    def __init__(self, rng: random.Random, now: datetime, *, total: int):
        self.rng = rng
        self.now = now
        self.total = total
        self.calendar = get_calendar()
        self.appeal = {a.code: a for a in AppealType.objects.all()}
        self.categories = {c.code: c for c in Category.objects.filter(parent__isnull=False)}
        self.channels = {c.code: c for c in Channel.objects.all()}
        self.platforms = list(UpperPlatform.objects.filter(active=True))
        self.townships = list(Unit.objects.filter(group=AssessmentGroup.TOWNSHIP, active=True))
        self.units = {u.short_name: u for u in Unit.objects.filter(active=True)}
        self.handlers: dict[int, User] = {}
        self.operators = [self._user(f"{SEED_PREFIX}operator{n}", Role.OPERATOR, name, agent_no=f"80{n:02d}")
                          for n, name in enumerate(["坐席王丽", "坐席陈静", "坐席刘洋"], start=1)]
        self.dispatcher = self._user(f"{SEED_PREFIX}dispatcher", Role.DISPATCHER, "值班长李明")
        self.open_for_calls: list[Ticket] = []
        self.calls = 0
        self.upstream_serial = 0
        self.unsatisfied_closed = 0

    # -- people --------------------------------------------------------------------------------
    def _user(self, username: str, role: str, first_name: str, unit: Unit | None = None, agent_no: str = ""):
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"role": role, "unit": unit, "first_name": first_name, "agent_no": agent_no},
        )
        if created:
            user.set_unusable_password()  # demo actors only: nobody signs in as them
            user.save(update_fields=["password"])
        return user

    def handler(self, unit: Unit) -> User:
        if unit.pk not in self.handlers:
            self.handlers[unit.pk] = self._user(f"{SEED_PREFIX}unit{unit.pk}", Role.UNIT_HANDLER,
                                                f"{unit.short_name}经办人", unit=unit)
        return self.handlers[unit.pk]

    # -- time ----------------------------------------------------------------------------------
    def later(self, start: datetime, low_h: float, high_h: float, *, limit: datetime | None = None) -> datetime:
        """A moment ``low_h``–``high_h`` hours after ``start``, never past ``limit`` (default: now)."""
        limit = limit or self.now - timedelta(minutes=5)
        if start >= limit:  # nothing left before now: the next step follows at once
            return start + timedelta(minutes=1)
        moment = start + timedelta(hours=self.rng.uniform(low_h, high_h))
        if moment >= limit:
            moment = start + (limit - start) * self.rng.uniform(0.3, 0.7)
        return moment

    def days_ago(self, low: float, high: float) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(low, high))

    # -- tickets -------------------------------------------------------------------------------
    def caller(self) -> tuple[str, str]:
        return (self.rng.choice(SURNAMES) + self.rng.choice(["先生", "女士"]),
                f"139000{self.rng.randrange(100000):05d}")

    def register(self, at: datetime, *, upper: bool = False, coordinated: bool = False, urgent: bool = False,
                 confidential: bool = False, topic: Topic | None = None,
                 township: Unit | None = None) -> tuple[Ticket, Topic | None]:
        township = township or self.rng.choice(self.townships)
        place = township.short_name + self.rng.choice(PLACES)
        name, phone = self.caller()
        kwargs = {"caller_name": name, "caller_phone": phone, "address": place, "township": township,
                  "registered_at": at, "actor": self.rng.choice(self.operators), "confidential": confidential,
                  "urgent": urgent}
        if coordinated:
            code, appeal, title, content, reply = self.rng.choice(COORDINATED)
            kwargs.update(handling_mode=HandlingMode.COORDINATED, reply_text=reply, title=title,
                          content=content.format(place=place), category=self.categories[code],
                          appeal_type=self.appeal[appeal],
                          channel=self.channels[self.rng.choice(["phone"] * 8 + ["wechat", "app"])])
            topic = None
        else:
            topic = topic or self.rng.choice(TOPICS)
            kwargs.update(title=topic.title, content=topic.content.format(place=place),
                          category=self.categories[topic.category], appeal_type=self.appeal[topic.appeal])
            if upper:
                platform = self.rng.choice(self.platforms)
                self.upstream_serial += 1
                kwargs.update(source=Source.UPPER, platform=platform,
                              upstream_number=f"{platform.code.upper()}{at:%Y%m%d}{self.upstream_serial:04d}",
                              upstream_deadline=at + timedelta(days=self.rng.choice([3, 5, 7])))
            else:
                kwargs["channel"] = self.channels[self.rng.choice(
                    ["phone"] * 12 + ["wechat", "wechat", "web", "app", "110", "other"])]
        ticket = services.ticket_create(**kwargs)
        if ticket.channel_id and ticket.channel.code == "phone":
            self.call(at - timedelta(minutes=self.rng.randint(2, 12)), CallKind.NEW, ticket=ticket,
                      phone=ticket.caller_phone, operator=ticket.registered_by)
        return ticket, topic

    def unit_for(self, ticket: Ticket, topic: Topic) -> Unit:
        """Routed as a county routes (the dispatch suggester learns from it): a matter the township
        may own goes to the township in a town (镇/乡) and to the first department in a street
        (街道, the urban area); otherwise to the topic's first unit."""
        units = [u for u in topic.units if u != TOWNSHIP]
        rural = not ticket.township.short_name.endswith("街道")
        if TOWNSHIP in topic.units and (rural or not units):
            return ticket.township
        return self.units.get(units[0]) or ticket.township

    def dispatch(self, ticket: Ticket, topic: Topic, at: datetime, unit: Unit | None = None) -> Ticket:
        return services.ticket_dispatch(ticket=ticket, unit=unit or self.unit_for(ticket, topic),
                                        actor=self.dispatcher, at=at)

    def sign(self, ticket: Ticket, at: datetime) -> Ticket:
        return services.ticket_sign(ticket=ticket, actor=self.handler(ticket.unit), at=at)

    def reply(self, ticket: Ticket, topic: Topic, at: datetime) -> Ticket:
        return services.ticket_reply(ticket=ticket, actor=self.handler(ticket.unit), reply_text=topic.reply,
                                     internal_note="已电话联系来电人并现场核实。", at=at)

    def review(self, ticket: Ticket, at: datetime, passed: bool = True) -> Ticket:
        note = "" if passed else "答复过于简单，请补充现场处理情况。"
        return services.ticket_review(ticket=ticket, actor=self.dispatcher, passed=passed, note=note, at=at)

    def callback(self, ticket: Ticket, at: datetime, result: str | None = None) -> Ticket:
        result = result or self.rng.choices(["satisfied", "basic", "unsatisfied"], weights=[80, 14, 6])[0]
        note = self.rng.choice(UNSATISFIED_NOTES) if result == "unsatisfied" else "来电人对处理结果表示认可。"
        return services.ticket_callback(ticket=ticket, actor=self.dispatcher, result=result,
                                        resolved=result != "unsatisfied", note=note, at=at)

    def urge(self, ticket: Ticket, at: datetime) -> None:
        services.ticket_urge(ticket=ticket, actor=self.dispatcher, note="请抓紧办理并及时反馈。", at=at)

    def call(self, at: datetime, kind: str, *, ticket: Ticket | None = None, phone: str | None = None,
             operator: User | None = None) -> None:
        services.call_create(
            actor=operator or self.rng.choice(self.operators), caller_phone=phone or self.caller()[1],
            called_at=at, kind=kind, ticket=ticket, duration_seconds=self.rng.randint(15, 600),
        )
        self.calls += 1

    # -- life stories --------------------------------------------------------------------------
    def to_handling(self, t0: datetime, *, upper=False, urgent=False, confidential=False, sign_gap=(1, 12),
                    topic: Topic | None = None):
        ticket, topic = self.register(t0, upper=upper, urgent=urgent, confidential=confidential, topic=topic)
        ticket = self.dispatch(ticket, topic, self.later(t0, 0.3, 6))
        ticket = self.sign(ticket, self.later(ticket.dispatched_at, *sign_gap))
        return ticket, topic

    def closed(self, t0: datetime, **flags) -> Ticket:
        ticket, topic = self.to_handling(t0, **flags)
        at = ticket.signed_at
        if self.rng.random() < 0.15:
            at = self.later(at, 12, 48)
            self.urge(ticket, at)
        ticket = self.reply(ticket, topic, self.later(at, 6, 72))
        if self.rng.random() < 0.08:  # review failed once, answered again
            ticket = self.review(ticket, at := self.later(ticket.replied_at, 1, 8), passed=False)
            ticket = self.reply(ticket, topic, self.later(at, 4, 24))
        ticket = self.review(ticket, at := self.later(ticket.replied_at, 1, 10))
        result = self.rng.choices(["satisfied", "basic", "unsatisfied"], weights=[78, 15, 7])[0]
        ticket = self.callback(ticket, self.later(at, 2, 24), result)
        if result == "unsatisfied":
            self.unsatisfied_closed += 1
            if self.unsatisfied_closed % 2:  # 重办, then basically satisfied
                ticket = services.ticket_redo(ticket=ticket, actor=self.dispatcher, note="请重新核实处理，并到现场答复来电人。",
                                              at=(at := self.later(ticket.callback_at, 1, 6)))
                ticket = self.reply(ticket, topic, at := self.later(at, 12, 48))
                ticket = self.review(ticket, at := self.later(at, 1, 6))
                ticket = self.callback(ticket, self.later(at, 2, 12), "basic")
            else:  # 研判办结
                ticket = services.ticket_judge_close(ticket=ticket, actor=self.dispatcher,
                                                     note="经研判，单位已按政策答复，诉求超出政策范围，予以办结。",
                                                     at=self.later(ticket.callback_at, 1, 24))
        return ticket

    def returned_then_closed(self, t0: datetime) -> Ticket:
        # First sent to the wrong unit, which returns it; re-dispatched to the unit whose matter it is
        # (the history the dispatch suggester learns from holds the unit that finally handled it).
        ticket, topic = self.register(t0)
        right = self.unit_for(ticket, topic)
        wrong = ticket.township if right != ticket.township else self.units["城市管理局"]
        ticket = self.dispatch(ticket, topic, at := self.later(t0, 0.5, 4), unit=wrong)
        ticket = services.ticket_return_request(ticket=ticket, actor=self.handler(ticket.unit),
                                                reason=f"该事项不属于本单位职责，请改派{right.short_name}。",
                                                at=(at := self.later(at, 1, 8)))
        ticket = services.ticket_return_decide(ticket=ticket, actor=self.dispatcher, approve=True,
                                               note="同意退单，改派。", at=(at := self.later(at, 1, 6)))
        ticket = self.dispatch(ticket, topic, at := self.later(at, 0.5, 3), unit=right)
        ticket = self.sign(ticket, at := self.later(at, 1, 6))
        ticket = self.reply(ticket, topic, at := self.later(at, 12, 72))
        ticket = self.review(ticket, at := self.later(at, 1, 8))
        return self.callback(ticket, self.later(at, 2, 24), "satisfied")

    def handling_due_soon(self, *, confidential=False) -> Ticket | None:
        """A ticket in 办理中 whose handling deadline is in the yellow part of its limit (the lights' own
        rule: ``tickets.services.deadlines.light_thresholds``), at least two hours away."""
        thresholds = light_thresholds(self.now)
        for _ in range(20):
            topic = self.rng.choice([t for t in TOPICS if t.appeal == "consult"])
            days = self.appeal[topic.appeal].handling_days
            for hours_back in range(6, 24 * 12, 3):
                dispatched = self.now - timedelta(hours=hours_back)
                deadline = self.calendar.add_working_days(dispatched, days).value
                if self.now + timedelta(hours=2) < deadline <= thresholds.handle(days):
                    ticket, _ = self.register(dispatched - timedelta(hours=1), topic=topic, confidential=confidential)
                    ticket = self.dispatch(ticket, topic, dispatched)
                    return self.sign(ticket, self.later(dispatched, 0.5, 2))
        return None

    def run(self) -> dict:
        rng = self.rng
        scale = self.total / 300
        n = lambda count: max(1, round(count * scale))  # noqa: E731
        made: list[Ticket] = []

        # 协调办理: settled on the spot (about a third of the demo, two thirds of real local tickets).
        for _ in range(n(95)):
            made.append(self.register(self.days_ago(0.05, 30), coordinated=True)[0])
        # 已办结 through the whole workflow, with callbacks (a few returned, reviewed twice, redone).
        for i in range(n(80)):
            made.append(self.closed(self.days_ago(5, 30), upper=i % 6 == 0, urgent=i % 15 == 0,
                                    confidential=i % 20 == 0))
        for _ in range(n(4)):
            made.append(self.returned_then_closed(self.days_ago(6, 25)))
        # 待派单 (some overdue: registered more than 24 hours ago).
        for i in range(n(14)):
            at = self.days_ago(1.1, 3) if i % 3 == 0 else self.now - timedelta(hours=rng.uniform(0.2, 20))
            made.append(self.register(at, upper=i % 5 == 0, urgent=i == 1)[0])
        # 待签收 (some overdue).
        for i in range(n(14)):
            at = self.days_ago(3, 6) if i % 4 == 0 else self.now - timedelta(hours=rng.uniform(2, 30))
            ticket, topic = self.register(at, upper=i % 5 == 0, urgent=i == 2)
            made.append(self.dispatch(ticket, topic, self.later(at, 0.2, 2)))
        # 退单待审.
        for i in range(n(6)):
            ticket, topic = self.register(at := self.days_ago(0.5, 4))
            ticket = self.dispatch(ticket, topic, at := self.later(at, 0.2, 3))
            if i % 2:
                ticket = self.sign(ticket, at := self.later(at, 0.5, 4))
            made.append(services.ticket_return_request(
                ticket=ticket, actor=self.handler(ticket.unit), reason=rng.choice(RETURN_REASONS),
                at=self.later(at, 0.5, 6)))
        # 办理中: overdue (urged, one supervised), due soon, and on time; some with extensions.
        overdue = []
        for i in range(n(12)):
            topic = rng.choice([t for t in TOPICS if t.appeal != "complaint"])
            ticket, _ = self.to_handling(self.days_ago(14, 26), upper=i % 4 == 0, confidential=i == 3, topic=topic)
            if ticket.handle_deadline < self.now - timedelta(hours=2):
                for _ in range(rng.randint(1, 3)):
                    self.urge(ticket, self.later(ticket.handle_deadline, 1, 48))
            overdue.append(ticket)
        made += overdue
        overdue = [t for t in overdue if t.handle_deadline < self.now - timedelta(days=2)]
        if overdue:
            services.supervision_open(ticket=overdue[0], actor=self.dispatcher,
                                      reason="超期未办结，群众多次来电，列入督办。", deadline=self.now + timedelta(days=3),
                                      at=self.later(overdue[0].handle_deadline, 24, 48))
        if len(overdue) > 1:
            case = services.supervision_open(ticket=overdue[1], actor=self.dispatcher, reason="超期未办结，督促办理。",
                                             at=self.later(overdue[1].handle_deadline, 2, 12))
            services.supervision_close(supervision=case, actor=self.dispatcher, result="单位已说明原因并承诺限期办结。")
        for i in range(n(8)):
            ticket = self.handling_due_soon(confidential=i == 0)
            if ticket:
                made.append(ticket)
        for i in range(n(16)):
            ticket, topic = self.to_handling(self.days_ago(0.5, 3), upper=i % 5 == 0, urgent=i == 4)
            if i < 4:  # 延期待审
                services.ticket_extension_request(
                    ticket=ticket, actor=self.handler(ticket.unit), reason="涉及多个部门协调，需要延期办理。",
                    requested_deadline=ticket.handle_deadline + timedelta(days=5),
                    at=self.later(ticket.signed_at, 1, 12))
            elif i < 7:  # 延期已同意
                request = services.ticket_extension_request(
                    ticket=ticket, actor=self.handler(ticket.unit), reason="需等待第三方检测结果。",
                    requested_deadline=ticket.handle_deadline + timedelta(days=7),
                    at=(at := self.later(ticket.signed_at, 1, 6)))
                ticket = services.ticket_extension_decide(ticket=ticket, actor=self.dispatcher, approve=True,
                                                          note="同意延期。", at=self.later(request.requested_at, 0.5, 4))
            elif i == 7:
                services.ticket_grant_contact(ticket=ticket, actor=self.dispatcher, note="需要联系来电人上门核实。")
            made.append(ticket)
        # 已答复待审核 and 待回访 (a few unsatisfied, awaiting the centre's decision).
        for i in range(n(14)):
            ticket, topic = self.to_handling(self.days_ago(2, 8), upper=i % 6 == 0)
            made.append(self.reply(ticket, topic, self.later(ticket.signed_at, 4, 48)))
        for i in range(n(14)):
            ticket, topic = self.to_handling(self.days_ago(3, 10), confidential=i == 5)
            ticket = self.reply(ticket, topic, self.later(ticket.signed_at, 4, 48))
            ticket = self.review(ticket, at := self.later(ticket.replied_at, 1, 8))
            if i < 3:
                ticket = self.callback(ticket, self.later(at, 2, 12), "unsatisfied")
            made.append(ticket)
        # 并单: a repeat registration about a matter already open.
        open_targets = [t for t in made if t.status in (Status.PENDING_SIGN, Status.HANDLING)]
        for target in rng.sample(open_targets, min(n(6), len(open_targets))):
            at = self.later(target.registered_at, 2, 24)
            dup = services.ticket_create(
                actor=rng.choice(self.operators), appeal_type=target.appeal_type, category=target.category,
                channel=self.channels["phone"], title=target.title, content=target.content + "（重复反映）",
                caller_name=self.caller()[0], caller_phone=self.caller()[1], address=target.address,
                township=target.township, registered_at=at)
            made.append(services.ticket_merge(ticket=dup, into=target, actor=self.dispatcher,
                                              note="同一事项重复反映，并单处理。", at=self.later(at, 0.2, 3)))
        made += self.upper_tickets()
        made += self.demo_unit_inbox()
        self.more_calls(made)
        states: dict[str, int] = {}
        for ticket in Ticket.objects.filter(registered_by__username__startswith=SEED_PREFIX).only("status"):
            states[ticket.status] = states.get(ticket.status, 0) + 1
        return {"tickets": sum(states.values()), "calls": self.calls, "states": states}

    def demo_unit_inbox(self) -> list[Ticket]:
        """The demo unit handler ``unit`` (create_demo_users: 纸坊镇) finds its own township's matters
        waiting: two to sign, one in hand."""
        home = self.units.get("纸坊镇")
        if home is None:
            return []
        made = []
        for i, hours in enumerate((3, 20, 30)):
            topic = self.rng.choice([t for t in TOPICS if TOWNSHIP in t.units] or TOPICS)
            ticket, topic = self.register(self.now - timedelta(hours=hours), topic=topic, township=home)
            ticket = self.dispatch(ticket, topic, self.later(ticket.registered_at, 0.2, 1), unit=home)
            made.append(self.sign(ticket, self.later(ticket.dispatched_at, 0.5, 2)) if i == 2 else ticket)
        return made

    def upper_tickets(self) -> list[Ticket]:
        """上级交办 from each platform, one pending dispatch and one closed at least."""
        made = []
        for platform in self.platforms:
            ticket, _ = self._upper(platform, self.days_ago(0.2, 0.9))
            made.append(ticket)
            ticket, topic = self._upper(platform, at := self.days_ago(6, 20))
            ticket = self.dispatch(ticket, topic, at := self.later(at, 0.5, 4))
            ticket = self.sign(ticket, at := self.later(at, 0.5, 6))
            ticket = self.reply(ticket, topic, at := self.later(at, 12, 48))
            ticket = self.review(ticket, at := self.later(at, 1, 6))
            made.append(self.callback(ticket, self.later(at, 2, 24), "satisfied"))
        return made

    def _upper(self, platform: UpperPlatform, at: datetime) -> tuple[Ticket, Topic]:
        topic = self.rng.choice(TOPICS)
        township = self.rng.choice(self.townships)
        place = township.short_name + self.rng.choice(PLACES)
        name, phone = self.caller()
        self.upstream_serial += 1
        ticket = services.ticket_create(
            actor=self.dispatcher, source=Source.UPPER, platform=platform,
            upstream_number=f"{platform.code.upper()}{at:%Y%m%d}{self.upstream_serial:04d}",
            upstream_deadline=at + timedelta(days=self.rng.choice([3, 5, 7])),
            appeal_type=self.appeal[topic.appeal], category=self.categories[topic.category], title=topic.title,
            content=topic.content.format(place=place), caller_name=name, caller_phone=phone, address=place,
            township=township, registered_at=at)
        return ticket, topic

    def more_calls(self, made: list[Ticket]) -> None:
        """Calls without a ticket (consults answered at once, hang-ups, progress queries) and repeat
        calls about open tickets, up to about 500 calls in all."""
        target = round(500 * self.total / 300)
        open_tickets = [t for t in made if t.status in (Status.PENDING_DISPATCH, Status.PENDING_SIGN,
                                                        Status.HANDLING, Status.RETURN_PENDING)]
        for ticket in self.rng.sample(open_tickets, min(25, len(open_tickets))):
            self.call(self.later(ticket.registered_at, 1, 72), CallKind.REPEAT, ticket=ticket,
                      phone=ticket.caller_phone)
        kinds = [CallKind.CONSULT] * 5 + [CallKind.HANGUP] * 3 + [CallKind.QUERY] * 2 + [CallKind.OTHER]
        while self.calls < target:
            at = self.days_ago(0.01, 30)
            local = timezone.localtime(at)
            if local.hour < 7 and self.rng.random() < 0.8:  # fewer calls at night
                continue
            self.call(at, self.rng.choice(kinds))
