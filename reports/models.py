"""The monthly bulletin (工作简报): a draft built from the month's data, edited, then published.

``data`` holds every figure exactly as exchange.md's bulletin JSON prints it (built by
``reports.services.bulletin_build``); ``sections`` holds the editor's narrative text. The page, the
DOCX, the PDF and the API all render ``Bulletin.as_json()``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class BulletinStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"


class Bulletin(models.Model):
    period = models.CharField("期间（YYYY-MM）", max_length=7, unique=True)
    month = models.DateField("月份（当月1日）", unique=True)
    status = models.CharField("状态", max_length=10, choices=BulletinStatus.choices, default=BulletinStatus.DRAFT)
    title = models.CharField("标题", max_length=200)
    office = models.CharField("印发单位", max_length=100)
    issue_date = models.DateField("印发日期", null=True, blank=True)
    number_in_year = models.PositiveSmallIntegerField("年内期号")
    number_total = models.PositiveIntegerField("总期号")
    data = models.JSONField("统计数据", default=dict, blank=True)
    sections = models.JSONField("正文各节", default=dict, blank=True)
    # Keys of ``sections`` the editor has written (the others still carry the system's suggestion).
    edited_sections = models.JSONField("已编辑的节", default=list, blank=True)
    good_units_override = models.JSONField("办理较好单位（编辑调整）", null=True, blank=True)
    poor_units_override = models.JSONField("办理较差单位（编辑调整）", null=True, blank=True)
    built_at = models.DateTimeField("生成时间", null=True, blank=True)
    # The publication day (set from HOTLINE_BULLETIN_PUBLISH_DAY at the first build; the editor may
    # move it): the beat job publishes the built draft on that day unless it is held.
    publish_on = models.DateField("计划发布日", null=True, blank=True)
    held = models.BooleanField("暂缓发布", default=False)
    # Incremented at each publication: the stored public files belong to one published version.
    version = models.PositiveIntegerField("发布版本", default=0)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="发布人",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-month"]
        verbose_name = verbose_name_plural = "工作简报"

    def __str__(self) -> str:
        return f"{self.period} {self.title}"

    @property
    def is_published(self) -> bool:
        return self.status == BulletinStatus.PUBLISHED

    @property
    def good_units(self) -> list[str]:
        if self.good_units_override is not None:
            return list(self.good_units_override)
        return list(self.data.get("good_units", []))

    @property
    def poor_units(self) -> list[str]:
        if self.poor_units_override is not None:
            return list(self.poor_units_override)
        return list(self.data.get("poor_units", []))

    def as_json(self) -> dict:
        """The bulletin JSON of exchange.md (plus office, date and status)."""
        data = dict(self.data)
        data.update(
            {
                "period": self.period,
                "title": self.title,
                "office": self.office,
                "date": self.issue_date.isoformat() if self.issue_date else None,
                "status": self.status,
                "issue": {
                    "year": self.month.year,
                    "number_in_year": self.number_in_year,
                    "number_total": self.number_total,
                },
                "good_units": self.good_units,
                "poor_units": self.poor_units,
                "sections": dict(self.sections),
            }
        )
        return data


class BulletinOverride(models.Model):
    """A recorded change of the good or poor units by an editor (never edited, never deleted)."""

    class Kind(models.TextChoices):
        GOOD = "good", "办理较好"
        POOR = "poor", "办理较差"

    bulletin = models.ForeignKey(Bulletin, on_delete=models.CASCADE, related_name="overrides")
    kind = models.CharField("类别", max_length=4, choices=Kind.choices)
    before = models.JSONField("调整前", default=list)
    after = models.JSONField("调整后", default=list)
    reason = models.CharField("理由", max_length=500)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = verbose_name_plural = "简报单位调整记录"

    def __str__(self) -> str:
        return f"{self.bulletin.period} {self.get_kind_display()}"


def bulletin_file_path(instance: BulletinFile, filename: str) -> str:
    return f"bulletins/{instance.bulletin.period}/v{instance.version}/{filename}"


class BulletinFile(models.Model):
    """A public file (PDF, DOCX, XLSX) of one published version, rendered once and then served
    from storage (Django's default storage: MEDIA_ROOT on local disk unless configured)."""

    class Kind(models.TextChoices):
        PDF = "pdf", "PDF"
        DOCX = "docx", "Word"
        XLSX = "xlsx", "Excel"

    bulletin = models.ForeignKey(Bulletin, on_delete=models.CASCADE, related_name="files")
    version = models.PositiveIntegerField("发布版本")
    kind = models.CharField("格式", max_length=4, choices=Kind.choices)
    file = models.FileField("文件", upload_to=bulletin_file_path, max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "简报公开文件"
        constraints = [models.UniqueConstraint(fields=["bulletin", "version", "kind"],
                                               name="bulletinfile_unique_version_kind")]

    def __str__(self) -> str:
        return f"{self.bulletin.period} v{self.version} {self.kind}"


class VolumeDimension(models.TextChoices):
    """What a ``DailyVolume`` row counts: a day's total of calls or tickets (key 0), or its tickets by
    one appeal type, category or township (key = that row's id)."""

    CALLS = "calls", "话务量"
    TICKETS = "tickets", "工单总量"
    COORDINATED = "coordinated", "协调办理"
    DISPATCHED = "dispatched", "交办处理"
    URGENT = "urgent", "紧急件"
    APPEAL_TYPE = "appeal_type", "诉求类型"
    CATEGORY = "category", "问题分类"
    TOWNSHIP = "township", "乡镇"


class DailyVolume(models.Model):
    """The dashboard's daily roll-up (``reports/rollup.py``): one ended local day's count of one
    dimension. The five totals (calls, tickets, coordinated, dispatched, urgent) are written for every
    rolled-up day, zeros included, so a day is rolled up exactly when it has a ``tickets`` row; the
    dashboard counts the other days from the tickets and calls themselves."""

    day = models.DateField("日期")
    dimension = models.CharField("维度", max_length=12, choices=VolumeDimension.choices)
    key = models.PositiveIntegerField("分组", default=0)
    n = models.PositiveIntegerField("数量")
    built_at = models.DateTimeField("汇总时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "每日汇总"
        constraints = [models.UniqueConstraint(fields=["day", "dimension", "key"], name="daily_volume_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension} {self.key} {self.n}"
