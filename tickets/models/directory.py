"""The directory (units and their names over time, categories, appeal types, channels, upper
platforms), the time-limit rules and the working calendar."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class AssessmentGroup(models.TextChoices):
    TOWNSHIP = "township", "乡镇街道"
    CITY = "city", "市直单位"
    NONE = "none", "不考核"


class Unit(models.Model):
    """A handling unit (承办单位): a township/street, a city department, a utility or enterprise."""

    name = models.CharField("单位名称", max_length=100, unique=True)
    short_name = models.CharField("简称", max_length=50, unique=True)
    group = models.CharField("考核分组", max_length=10, choices=AssessmentGroup.choices)
    order = models.PositiveIntegerField("排序", default=0)
    needs_stationing = models.BooleanField("需派驻", default=False)
    active = models.BooleanField("启用", default=True)
    duty_phone = models.CharField("值班手机", max_length=20, blank=True,
                                  help_text="派单、催办、督办和即将超期的短信发到这个号码；只有热线中心能看到。")
    # Full pinyin and initials of the names (tickets/pinyin.py), recomputed on every save.
    pinyin = models.TextField("拼音检索", blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["group", "order", "id"]
        verbose_name = verbose_name_plural = "承办单位"

    def __str__(self) -> str:
        return self.short_name

    def save(self, *args, **kwargs):
        from ..pinyin import search_key

        self.pinyin = search_key(self.short_name, self.name)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "pinyin"}
        super().save(*args, **kwargs)

    def clean(self):
        from ..privacy import duty_phone_normalise

        self.duty_phone = duty_phone_normalise(self.duty_phone)


class UnitName(models.Model):
    """The names a unit had, so that past months print the names they had (renames keep history)."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="names")
    name = models.CharField("单位名称", max_length=100)
    short_name = models.CharField("简称", max_length=50)
    valid_from = models.DateField("启用日期")
    valid_until = models.DateField("停用日期", null=True, blank=True)

    class Meta:
        ordering = ["unit", "valid_from"]
        verbose_name = verbose_name_plural = "单位名称历史"
        constraints = [
            models.UniqueConstraint(fields=["unit", "valid_from"], name="unitname_unique_from"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.valid_from}起）"


class Category(models.Model):
    """Two-level problem category (问题分类), written "一级—二级"; retired, never deleted."""

    code = models.CharField("编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=50)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name="上级分类"
    )
    order = models.PositiveIntegerField("排序", default=0)
    active = models.BooleanField("启用", default=True)
    retired_at = models.DateTimeField("停用时间", null=True, blank=True)
    keywords = models.CharField("检索词", max_length=200, blank=True, help_text="别名、常用说法，空格分隔（拼音由系统生成）")
    # Full pinyin and initials of the name and each keyword (tickets/pinyin.py), recomputed on save.
    pinyin = models.TextField("拼音检索", blank=True, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = "问题分类"
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name_in_parent"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="category_unique_top_name"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs):
        from ..pinyin import search_key

        self.pinyin = search_key(self.name, self.keywords)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "pinyin"}
        super().save(*args, **kwargs)

    @property
    def level(self) -> int:
        return 1 if self.parent_id is None else 2

    @property
    def full_name(self) -> str:
        if self.parent_id is None:
            return self.name
        return f"{self.parent.name}—{self.name}"

    def clean(self):
        if self.parent_id and self.parent.parent_id:
            raise ValidationError({"parent": "问题分类只有两级：上级分类必须是一级分类。"})


class AppealType(models.Model):
    """诉求类型: sets the handling time limit in working days."""

    code = models.CharField("编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=20, unique=True)
    handling_days = models.PositiveSmallIntegerField("办理时限（工作日）", validators=[MinValueValidator(1)])
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = verbose_name_plural = "诉求类型"

    def __str__(self) -> str:
        return self.name


class Channel(models.Model):
    """来源渠道 of locally registered tickets: 电话, 微信, 网站, APP, 110转入, 其他."""

    code = models.CharField("编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=20, unique=True)
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = verbose_name_plural = "来源渠道"

    def __str__(self) -> str:
        return self.name


class UpperPlatform(models.Model):
    """An upper platform that hands tickets down (平顶山市热线中心, 河南政务服务平台, …)."""

    code = models.CharField("编码", max_length=30, unique=True)
    name = models.CharField("名称", max_length=50, unique=True)
    order = models.PositiveSmallIntegerField("排序", default=0)
    reply_url = models.URLField("结果回传地址", blank=True,
                                help_text="留空即为文件交换：答复和办结结果不自动回传，在“上报上级平台”页导出文件后上传上级平台。")
    token_digest = models.CharField("接入令牌摘要", max_length=128, blank=True, editable=False)
    active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = verbose_name_plural = "上级平台"

    def __str__(self) -> str:
        return self.name

    @property
    def file_exchange(self) -> bool:
        """No reply address: results wait in the outbox for an exported file (文件交换), never retried."""
        return not self.reply_url


class TimeLimitRule(models.Model):
    """The time limits in force from a date on (every number is configuration)."""

    valid_from = models.DateField("生效日期", unique=True)
    dispatch_hours = models.PositiveSmallIntegerField("派单时限（小时）", default=24)
    sign_working_hours = models.PositiveSmallIntegerField("签收时限（工作小时）", default=24)
    urgent_sign_hours = models.PositiveSmallIntegerField("紧急件签收时限（小时）", default=2)
    urgent_feedback_hours = models.PositiveSmallIntegerField("紧急件首次反馈时限（签收后小时）", default=2)
    # Lights by the share of the running limit left: yellow in its last ``yellow_percent`` per cent
    # (25: the last 6 of 24 working hours to sign, the last 1.25 of 5 working days to handle, the last
    # 30 of 120 minutes for an urgent ticket), red once the deadline has passed.
    yellow_percent = models.PositiveSmallIntegerField(
        "黄灯：剩余时限比例（%）", default=25, validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text="当前时限剩余不超过该比例时亮黄灯（如25：签收时限24工作小时的最后6小时），超过时限亮红灯。")
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        ordering = ["-valid_from"]
        verbose_name = verbose_name_plural = "时限规则"

    def __str__(self) -> str:
        return f"时限规则（{self.valid_from}起）"


# --------------------------------------------------------------------------------------------
# Working calendar
# --------------------------------------------------------------------------------------------


class CalendarYear(models.Model):
    """A year whose holidays and make-up days are known. Years without a row fall back to
    weekends-only, and every deadline computed in them carries a warning."""

    year = models.PositiveSmallIntegerField("年份", unique=True)
    source = models.CharField("来源", max_length=50, default="chinese-calendar")
    loaded_at = models.DateTimeField("导入时间", default=timezone.now)

    class Meta:
        ordering = ["year"]
        verbose_name = verbose_name_plural = "日历年份"

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """An exception to the Monday–Friday week: a holiday on a weekday, or a make-up working day."""

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("是否工作日")
    name = models.CharField("名称", max_length=30, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = verbose_name_plural = "节假日与调休"

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休息'} {self.name}"


# --------------------------------------------------------------------------------------------
# Users and roles
# --------------------------------------------------------------------------------------------
