"""Files: reply attachments and uploaded import spreadsheets (stored under random names)."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.db import models
from django.utils import timezone

from .ticket import Ticket, TicketEvent
from .users import User


def _random_file_name(folder: str, filename: str) -> str:
    """A stored file's path says nothing about it: a random name, only the (checked) extension kept.
    Files are served only by permission-checked views, never by URL (docs/operations.md)."""
    ext = PurePath(filename or "").suffix.lower()
    ext = ext if ext[1:].isascii() and ext[1:].isalnum() and len(ext) <= 6 else ""
    return f"{folder}/{uuid.uuid4().hex}{ext}"


def attachment_upload_to(instance, filename: str) -> str:
    return _random_file_name("attachments", filename)


def import_upload_to(instance, filename: str) -> str:
    return _random_file_name("imports", filename)

# --------------------------------------------------------------------------------------------
# Directory
# --------------------------------------------------------------------------------------------


class Attachment(models.Model):
    """A file attached to a ticket (a unit's reply evidence, an operator's photo); checked for type
    and size by the service that stores it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="attachments")
    event = models.ForeignKey(TicketEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    file = models.FileField("文件", upload_to=attachment_upload_to)
    original_name = models.CharField("文件名", max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField("大小（字节）")
    internal = models.BooleanField("仅内部可见", default=False)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = verbose_name_plural = "附件"

    def __str__(self) -> str:
        return self.original_name


# --------------------------------------------------------------------------------------------
# Data exchange: import jobs (upload page) and the outbox of replies to upper platforms
# --------------------------------------------------------------------------------------------


class ImportKind(models.TextChoices):
    UNITS = "units", "承办单位"
    STATIONING = "stationing", "派驻情况"
    TICKETS = "tickets", "工单"
    CALLS = "calls", "来电记录"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "排队中"
    RUNNING = "running", "导入中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class ImportJob(models.Model):
    """One upload of a spreadsheet on the import page; the import runs as a Celery task and the
    page polls ``processed``/``total``. ``errors`` holds the row errors of a failed import."""

    kind = models.CharField("导入类型", max_length=12, choices=ImportKind.choices)
    status = models.CharField("状态", max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    # Emptied (and the file deleted) once the job has finished: it holds callers' numbers in clear.
    file = models.FileField("文件", upload_to=import_upload_to, blank=True)
    original_name = models.CharField("文件名", max_length=200)
    total = models.PositiveIntegerField("总行数", default=0)
    processed = models.PositiveIntegerField("已处理", default=0)
    errors = models.JSONField("错误", default=list, blank=True)  # the first HOTLINE_IMPORT_MAX_STORED_ERRORS
    error_count = models.PositiveIntegerField("错误总数", default=0)
    error_code = models.CharField("错误代码", max_length=40, blank=True)
    summary = models.JSONField("结果", default=dict, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "导入任务"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"
