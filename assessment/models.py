"""Monthly assessment (考核): versioned rule sets, stationing (派驻), manual adjustments, and the
stored results of a month (one run per month, one score row per unit).

Writes go through ``assessment.services``. A month is scored by the rule set in force for it: the
rule set with the latest ``valid_from`` on or before the month.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tickets.models import AppendOnlyModel, AssessmentGroup, Unit


def validate_first_of_month(value):
    if value is not None and value.day != 1:
        raise ValidationError("月份必须是该月的第一天。")


class RuleSet(models.Model):
    """A version of the scoring rule, in force from the month ``valid_from`` on."""

    valid_from = models.DateField("生效月份", unique=True, validators=[validate_first_of_month],
                                  help_text="该月（含）起按本版本考核，填当月1日。")
    name = models.CharField("名称", max_length=100, blank=True)
    weight_sign = models.DecimalField("按时签收率权重", max_digits=5, decimal_places=4, default=Decimal("0.10"),
                                      validators=[MinValueValidator(0), MaxValueValidator(1)])
    weight_close = models.DecimalField("按时办结率权重", max_digits=5, decimal_places=4, default=Decimal("0.20"),
                                       validators=[MinValueValidator(0), MaxValueValidator(1)])
    weight_resolved = models.DecimalField("解决率权重", max_digits=5, decimal_places=4, default=Decimal("0.35"),
                                          validators=[MinValueValidator(0), MaxValueValidator(1)])
    weight_satisfied = models.DecimalField("满意率权重", max_digits=5, decimal_places=4, default=Decimal("0.35"),
                                           validators=[MinValueValidator(0), MaxValueValidator(1)])
    basic_weight = models.DecimalField("基本满意折算", max_digits=5, decimal_places=4, default=Decimal("0.9"),
                                       validators=[MinValueValidator(0), MaxValueValidator(1)],
                                       help_text="一件基本满意按多少件满意计。")
    min_tickets = models.PositiveIntegerField("计入考核最少工单量", default=9)
    stationing_deduction = models.DecimalField("未完成派驻扣分", max_digits=6, decimal_places=2,
                                               default=Decimal("5"), validators=[MinValueValidator(0)])
    # Time limits of the rule: grace after a deadline, and when "has passed" is judged.
    sign_grace_minutes = models.PositiveIntegerField("签收时限宽限（分钟）", default=0)
    close_grace_minutes = models.PositiveIntegerField("办结时限宽限（分钟）", default=0)
    evaluation_day = models.PositiveSmallIntegerField(
        "评价截止日", default=0, validators=[MaxValueValidator(28)],
        help_text="0：以运行考核的时间判断是否超时；1–28：以次月该日0时为准（运行早于该时刻时以运行时间为准）。",
    )
    note = models.TextField("说明", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="创建人")
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        ordering = ["-valid_from"]
        verbose_name = verbose_name_plural = "考核规则版本"

    def __str__(self) -> str:
        return f"考核规则（{self.valid_from:%Y-%m}起）"

    def clean(self):
        total = (self.weight_sign or 0) + (self.weight_close or 0) + (self.weight_resolved or 0) + (
            self.weight_satisfied or 0)
        if total != 1:
            raise ValidationError({"weight_sign": f"四项权重之和必须为1（当前为{total.normalize()}）。"})


class Stationing(models.Model):
    """派驻: whether a unit's stationing at the centre is complete for a month."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="stationings", verbose_name="单位")
    month = models.DateField("月份", validators=[validate_first_of_month])
    complete = models.BooleanField("派驻已完成", default=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="修改人")
    updated_at = models.DateTimeField("修改时间", default=timezone.now)

    class Meta:
        ordering = ["-month", "unit__order", "unit_id"]
        verbose_name = verbose_name_plural = "派驻情况"
        constraints = [models.UniqueConstraint(fields=["unit", "month"], name="stationing_unique_unit_month")]

    def __str__(self) -> str:
        return f"{self.unit} {self.month:%Y-%m} {'已完成' if self.complete else '未完成'}"


class Adjustment(AppendOnlyModel):
    """A manual adjustment of a unit's score for a month (points may be negative). Never edited nor
    deleted: a mistaken one is cancelled by a reversal, a new row of the opposite points that
    ``reverses`` it (``services.adjustment_reverse``)."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assessment_adjustments",
                             verbose_name="单位")
    month = models.DateField("月份", validators=[validate_first_of_month])
    points = models.DecimalField("分值", max_digits=6, decimal_places=2,
                                 validators=[MinValueValidator(-100), MaxValueValidator(100)])
    reason = models.CharField("理由", max_length=500)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="录入人")
    created_at = models.DateTimeField("录入时间", default=timezone.now)
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="reversal", verbose_name="冲销的记录")

    class Meta:
        ordering = ["-month", "unit_id", "created_at", "id"]
        verbose_name = verbose_name_plural = "考核加减分"
        indexes = [models.Index(fields=["month", "unit"], name="adjustment_month_unit")]

    def __str__(self) -> str:
        return f"{self.unit} {self.month:%Y-%m} {self.points:+}"


class RunStatus(models.TextChoices):
    DONE = "done", "已完成"
    RUNNING = "running", "计算中"


class AssessmentRun(models.Model):
    """The stored result of scoring one month (recomputing replaces it)."""

    month = models.DateField("月份", unique=True, validators=[validate_first_of_month])
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="runs", verbose_name="规则版本")
    evaluated_at = models.DateTimeField("评价时间", help_text="判断时限是否已过的时刻。")
    computed_at = models.DateTimeField("计算时间", default=timezone.now)
    computed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="计算人")
    status = models.CharField("状态", max_length=10, choices=RunStatus.choices, default=RunStatus.DONE)
    ticket_count = models.PositiveIntegerField("计入工单总数", default=0)
    duration_ms = models.PositiveIntegerField("耗时（毫秒）", default=0)

    class Meta:
        ordering = ["-month"]
        verbose_name = verbose_name_plural = "月度考核结果"

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} 考核"


class UnitScore(models.Model):
    """One unit's score for a month, with every number needed to explain it line by line."""

    run = models.ForeignKey(AssessmentRun, on_delete=models.CASCADE, related_name="scores")
    month = models.DateField("月份")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assessment_scores", verbose_name="单位")
    group = models.CharField("考核分组", max_length=10, choices=AssessmentGroup.choices)
    unit_name = models.CharField("单位名称", max_length=100)
    unit_short_name = models.CharField("简称", max_length=50)
    unit_order = models.IntegerField("单位排序（计算时）", default=0)
    tickets = models.PositiveIntegerField("工单量")
    sign_num = models.PositiveIntegerField("按时签收")
    sign_den = models.PositiveIntegerField("应签收")
    close_num = models.PositiveIntegerField("按时办结")
    close_den = models.PositiveIntegerField("应办结")
    resolved_num = models.PositiveIntegerField("已解决")
    callbacks = models.PositiveIntegerField("有结果的回访")
    satisfied = models.PositiveIntegerField("满意")
    basic = models.PositiveIntegerField("基本满意")
    unsatisfied = models.PositiveIntegerField("不满意")
    stationing_required = models.BooleanField("需派驻", default=False)
    stationing_complete = models.BooleanField("派驻已完成", null=True)
    stationing_deduction = models.DecimalField("派驻扣分", max_digits=6, decimal_places=2, default=Decimal(0))
    adjustments = models.DecimalField("加减分合计", max_digits=7, decimal_places=2, default=Decimal(0))
    base_score = models.DecimalField("指标得分（未取舍）", max_digits=12, decimal_places=8, null=True)
    score = models.DecimalField("考核总分", max_digits=5, decimal_places=2, null=True)
    excluded = models.BooleanField("未计入考核", default=False)
    rank = models.PositiveIntegerField("排名", null=True)
    position = models.PositiveIntegerField("列表顺序", null=True)
    good = models.BooleanField("办理较好", default=False)
    poor = models.BooleanField("办理较差", default=False)

    class Meta:
        ordering = ["month", "group", "excluded", "position", "-tickets", "unit_id"]
        verbose_name = verbose_name_plural = "单位考核得分"
        constraints = [
            models.UniqueConstraint(fields=["run", "unit"], name="unitscore_unique_run_unit"),
            models.CheckConstraint(condition=Q(excluded=True) | Q(score__isnull=False),
                                   name="unitscore_scored_has_score"),
        ]
        indexes = [models.Index(fields=["unit", "month"], name="unitscore_unit_month")]

    def __str__(self) -> str:
        return f"{self.unit_short_name} {self.month:%Y-%m} {self.score}"


class ChangeKind(models.TextChoices):
    RULE_CREATE = "rule_create", "新建规则版本"
    RULE_UPDATE = "rule_update", "修改规则版本"
    STATIONING = "stationing", "派驻情况变更"
    ADJUSTMENT = "adjustment", "录入加减分"
    ADJUSTMENT_REVERSE = "adjustment_reverse", "冲销加减分"
    COMPUTE = "compute", "计算考核"
    BULLETIN_BUILD = "bulletin_build", "生成简报"
    BULLETIN_EDIT = "bulletin_edit", "编辑简报"
    BULLETIN_OVERRIDE = "bulletin_override", "调整较好/较差单位"
    BULLETIN_SCHEDULE = "bulletin_schedule", "设定发布日"
    BULLETIN_HOLD = "bulletin_hold", "暂缓发布"
    BULLETIN_UNHOLD = "bulletin_unhold", "取消暂缓"
    BULLETIN_PUBLISH = "bulletin_publish", "发布简报"
    BULLETIN_UNPUBLISH = "bulletin_unpublish", "撤回发布"


class ChangeRecord(AppendOnlyModel):
    """变更记录: one change that can move a month's scores or its bulletin — who, when, why, and the
    values before and after. Written by the services in the same transaction as the change; never
    updated or deleted (ORM guard here, PostgreSQL trigger in migration 0003_change_trail)."""

    month = models.DateField("月份", db_index=True, help_text="受影响的月份（规则版本：生效月份）。")
    kind = models.CharField("变更", max_length=30, choices=ChangeKind.choices)
    target = models.CharField("对象", max_length=200, blank=True)
    reason = models.CharField("理由", max_length=500, blank=True)
    before = models.JSONField("变更前", null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField("变更后", null=True, blank=True, encoder=DjangoJSONEncoder)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name="操作人")
    at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = verbose_name_plural = "考核与简报变更记录"

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.get_kind_display()} {self.target}"

    @staticmethod
    def _text(value) -> str:
        if value is None:
            return "—"
        if isinstance(value, dict):
            if not value:
                return "（无）"
            items = list(value.items())
            text = "；".join(f"{CHANGE_FIELD_LABELS.get(k, k)}：{ChangeRecord._text(v)}" for k, v in items[:12])
            return text + (f"……等{len(items)}项" if len(items) > 12 else "")
        if isinstance(value, list):
            text = "、".join(ChangeRecord._text(v) for v in value[:12]) or "（无）"
            return text + (f"……等{len(value)}个" if len(value) > 12 else "")
        if isinstance(value, bool):
            return "是" if value else "否"
        text = str(value)
        if len(text) >= 19 and text[4] == "-" and text[10] == "T":  # an ISO time, shown in local time
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                pass
            else:
                return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if timezone.is_aware(moment) else text
        return text if len(text) <= 120 else text[:120] + "…"

    @property
    def before_text(self) -> str:
        return self._text(self.before)

    @property
    def after_text(self) -> str:
        return self._text(self.after)


# Labels of the keys kept in ``before``/``after``, for the 变更记录 tables.
CHANGE_FIELD_LABELS = {
    "complete": "派驻已完成", "points": "分值", "reason": "理由", "id": "编号", "status": "状态",
    "rule_set": "规则版本", "evaluated_at": "评价时间", "ticket_count": "计入工单", "scored": "计分单位数",
    "stationing_incomplete": "未完成派驻", "adjustments": "加减分", "sections": "正文", "issue_date": "印发日期",
    "title": "标题", "office": "印发单位", "units": "单位", "publish_on": "计划发布日", "held": "暂缓",
    "version": "发布版本", "built_at": "生成时间", "good_units": "办理较好", "poor_units": "办理较差",
    "valid_from": "生效月份", "name": "名称", "weight_sign": "按时签收率权重", "weight_close": "按时办结率权重",
    "weight_resolved": "解决率权重", "weight_satisfied": "满意率权重", "basic_weight": "基本满意折算",
    "min_tickets": "计入考核最少工单量", "stationing_deduction": "未完成派驻扣分",
    "sign_grace_minutes": "签收宽限", "close_grace_minutes": "办结宽限", "evaluation_day": "评价截止日",
    "note": "说明", "work": "业务工作", "hot_issues": "热点难点问题", "typical_cases": "典型案例",
    "stationing": "派驻工作", "extra": "其他章节", "scores": "得分（排名）",
}
