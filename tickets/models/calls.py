"""Calls (话务量) and the append-only log of every full view of a caller's data."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from ..fields import EncryptedCharField
from .ticket import AppendOnlyModel, Ticket
from .users import User


class CallKind(models.TextChoices):
    NEW = "new", "新诉求"
    REPEAT = "repeat", "重复来电"
    QUERY = "query", "查询进度"
    CONSULT = "consult", "咨询即答"
    HANGUP = "hangup", "无效来电"
    OTHER = "other", "其他"


class Call(models.Model):
    """A call record. Calls are not tickets: every call counts in 话务量, ticket or not."""

    called_at = models.DateTimeField("来电时间", default=timezone.now)
    caller_phone = EncryptedCharField("主叫号码", max_length=20, blank=True)  # encrypted at rest
    caller_phone_digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    agent_no = models.CharField("坐席工号", max_length=20, blank=True)
    operator = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    duration_seconds = models.PositiveIntegerField("通话时长（秒）", null=True, blank=True)
    kind = models.CharField("来电类型", max_length=10, choices=CallKind.choices, default=CallKind.NEW)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="calls", verbose_name="工单"
    )
    note = models.CharField("备注", max_length=500, blank=True)
    external_key = models.CharField("话务系统记录键", max_length=80, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-called_at", "-id"]
        verbose_name = verbose_name_plural = "来电记录"
        indexes = [models.Index(fields=["called_at"], name="call_called_at")]

    def __str__(self) -> str:
        return f"来电 {self.called_at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


class AccessAction(models.TextChoices):
    VIEW = "view", "查看来电人信息"
    EXPORT = "export", "导出"
    PRINT = "print", "打印"


class CallerDataAccess(AppendOnlyModel):
    """Who saw full caller data, exported or printed tickets, and when."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=10, choices=AccessAction.choices)
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    detail = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = verbose_name_plural = "来电人信息访问记录"

    def __str__(self) -> str:
        return f"{self.user_id} {self.get_action_display()} {self.created_at:%Y-%m-%d %H:%M}"
