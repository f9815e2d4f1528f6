"""Results reported to upper platforms (outbox, file-exchange exports) and short messages to units."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .directory import Unit, UpperPlatform
from .ticket import Ticket
from .users import User


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENT = "sent", "已送达"
    FAILED = "failed", "发送失败"
    # File exchange: a platform without a reply address gets its results as an uploaded file.
    AWAITING_EXPORT = "awaiting_export", "待导出上报"
    EXPORTED = "exported", "已导出上报"


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", "Excel（XLSX）"
    CSV = "csv", "CSV"


class OutboxExport(models.Model):
    """One download of a file-exchange platform's waiting results, for upload to that platform: who,
    when, which format; the results it carried link to it (``OutboxMessage.export``)."""

    platform = models.ForeignKey(UpperPlatform, on_delete=models.PROTECT, related_name="exports")
    format = models.CharField("格式", max_length=10, choices=ExportFormat.choices)
    count = models.PositiveIntegerField("条数")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="导出人")
    created_at = models.DateTimeField("导出时间", default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "上报文件导出记录"

    def __str__(self) -> str:
        return f"{self.platform_id} {self.created_at:%Y-%m-%d %H:%M} {self.count}"


class OutboxMessage(models.Model):
    """A result to report to an upper platform, written in the same transaction as the reply or
    close, and delivered (with retries) by a task; ``idempotency_key`` lets the platform record it
    exactly once however many times it is sent."""

    platform = models.ForeignKey(UpperPlatform, on_delete=models.PROTECT, related_name="outbox")
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="outbox")
    kind = models.CharField("类型", max_length=10)
    idempotency_key = models.CharField("幂等键", max_length=64, unique=True)
    payload = models.JSONField("内容", default=dict)
    status = models.CharField("状态", max_length=20, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试时间", default=timezone.now)
    last_error = models.TextField("最近错误", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField("送达时间", null=True, blank=True)
    export = models.ForeignKey(OutboxExport, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="messages", verbose_name="导出记录")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "上报发件箱"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.status}"


# --------------------------------------------------------------------------------------------
# Short messages (短信) to the units' duty phones
# --------------------------------------------------------------------------------------------


class NotificationKind(models.TextChoices):
    DISPATCHED = "dispatched", "派单"
    REDISPATCHED = "redispatched", "改派"
    RECALLED = "recalled", "撤回"
    URGED = "urged", "催办"
    SUPERVISED = "supervised", "督办"
    DUE_SOON = "due_soon", "即将超期"
    OVERDUE = "overdue", "已超期"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"
    SKIPPED = "skipped", "未发送"


class Notification(models.Model):
    """A short message to a unit's duty phone about one of its tickets, written in the same
    transaction as the dispatch, urge or supervision, and delivered (with retries) by a task to the
    SMS gateway; ``idempotency_key`` lets the gateway send it once however often it arrives. The
    text never carries the caller's name, number or the ticket's content."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="notifications", verbose_name="承办单位")
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="notifications", verbose_name="工单")
    kind = models.CharField("类型", max_length=12, choices=NotificationKind.choices)
    recipient = models.CharField("接收号码", max_length=20, blank=True)
    text = models.CharField("短信内容", max_length=300)
    idempotency_key = models.CharField("幂等键", max_length=64, unique=True)
    status = models.CharField("状态", max_length=10, choices=NotificationStatus.choices,
                              default=NotificationStatus.PENDING)
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试时间", default=timezone.now)
    last_error = models.TextField("最近错误或未发送原因", blank=True)
    created_at = models.DateTimeField("生成时间", default=timezone.now)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "短信通知"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["ticket", "created_at"], name="notification_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.get_kind_display()} {self.get_status_display()}"


# --------------------------------------------------------------------------------------------
# Dispatch suggestions (tickets/suggest.py)
# --------------------------------------------------------------------------------------------
