"""Tickets, their append-only events, and the requests, urges and supervisions attached to them."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..fields import EncryptedCharField
from .directory import AppealType, Category, Channel, Unit, UpperPlatform
from .users import User


class Source(models.TextChoices):
    LOCAL = "local", "本级登记"
    UPPER = "upper", "上级交办"


class HandlingMode(models.TextChoices):
    COORDINATED = "coordinated", "协调办理"
    DISPATCHED = "dispatched", "交办处理"


class Status(models.TextChoices):
    PENDING_DISPATCH = "pending_dispatch", "待派单"
    PENDING_SIGN = "pending_sign", "待签收"
    RETURN_PENDING = "return_pending", "退单待审"
    HANDLING = "handling", "办理中"
    REPLIED = "replied", "已答复待审核"
    PENDING_CALLBACK = "pending_callback", "待回访"
    # 回访不满意: only 重办 (redo) or 研判办结 (judge_close) lead out (tickets/services/lifecycle.py).
    UNSATISFIED = "unsatisfied", "回访不满意"
    CLOSED = "closed", "已办结"
    MERGED = "merged", "已并单"


OPEN_STATUSES = frozenset(
    {Status.PENDING_DISPATCH, Status.PENDING_SIGN, Status.RETURN_PENDING, Status.HANDLING, Status.REPLIED,
     Status.PENDING_CALLBACK, Status.UNSATISFIED}
)


class CallbackResult(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


# When a ticket counts for the assessment and the dashboard's rates: its (last) dispatch, else its
# registration (assessment/indicators.py). Indexed as this very expression (``ticket_counted_at``).
COUNTED_AT = Coalesce("dispatched_at", "registered_at")


class Ticket(models.Model):
    number = models.CharField("工单编号", max_length=40, unique=True)
    source = models.CharField("来源", max_length=10, choices=Source.choices, default=Source.LOCAL)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, null=True, blank=True, verbose_name="来源渠道")
    platform = models.ForeignKey(
        UpperPlatform, on_delete=models.PROTECT, null=True, blank=True, verbose_name="上级平台"
    )
    upstream_number = models.CharField("上级工单编号", max_length=60, blank=True)
    upstream_deadline = models.DateTimeField("上级办理时限", null=True, blank=True)
    handling_mode = models.CharField(
        "办理方式", max_length=12, choices=HandlingMode.choices, default=HandlingMode.DISPATCHED
    )
    appeal_type = models.ForeignKey(AppealType, on_delete=models.PROTECT, verbose_name="诉求类型")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, verbose_name="问题分类")
    title = models.CharField("标题", max_length=100, blank=True)
    content = models.TextField("诉求内容", max_length=5000)
    # Encrypted at rest (tickets/fields.py): the database holds Fernet tokens, never the plaintext.
    caller_name = EncryptedCharField("来电人", max_length=50, blank=True)
    caller_phone = EncryptedCharField("联系电话", max_length=20, blank=True)
    # HMAC of the normalised number: repeat-call lookup without indexing the number itself.
    caller_phone_digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    address = models.CharField("事发地址", max_length=200, blank=True)
    township = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="township_tickets",
        verbose_name="所属乡镇",
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets", verbose_name="承办单位"
    )
    urgent = models.BooleanField("紧急", default=False)
    confidential = models.BooleanField("保密", default=False)
    contact_granted = models.BooleanField("允许承办单位联系来电人", default=False)

    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PENDING_DISPATCH)
    registered_at = models.DateTimeField("登记时间", default=timezone.now)
    registered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="登记人"
    )
    dispatch_deadline = models.DateTimeField("派单时限", null=True, blank=True)
    dispatched_at = models.DateTimeField("派单时间", null=True, blank=True)
    sign_deadline = models.DateTimeField("签收时限", null=True, blank=True)
    signed_at = models.DateTimeField("签收时间", null=True, blank=True)
    feedback_deadline = models.DateTimeField("首次反馈时限", null=True, blank=True)
    first_feedback_at = models.DateTimeField("首次反馈时间", null=True, blank=True)
    handle_deadline = models.DateTimeField("办理时限", null=True, blank=True)
    replied_at = models.DateTimeField("办结反馈时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    deadline_warning = models.CharField("时限提示", max_length=200, blank=True)

    reply_text = models.TextField("答复内容（公开）", blank=True, max_length=5000)
    internal_note = models.TextField("内部办理说明", blank=True, max_length=5000)

    return_count = models.PositiveSmallIntegerField("退单次数", default=0)
    extension_count = models.PositiveSmallIntegerField("延期次数", default=0)
    redo_count = models.PositiveSmallIntegerField("重办次数", default=0)
    callback_result = models.CharField(
        "回访结果", max_length=12, choices=CallbackResult.choices, blank=True
    )
    callback_resolved = models.BooleanField("是否解决", null=True, blank=True)
    callback_at = models.DateTimeField("回访时间", null=True, blank=True)
    closed_by_judgement = models.BooleanField("研判办结", default=False)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_tickets",
        verbose_name="并入工单",
    )
    # Registration's Idempotency-Key (API header, or the web form's per-form token): unique per
    # registering user, so a retried registration finds its ticket instead of making a second one.
    # The fingerprint is an HMAC of the request's content fields, to tell a retry from a reused key.
    # Both nullable: tickets registered without a key (imports, pushes) leave them out of the index.
    idempotency_key = models.CharField("幂等键", max_length=100, null=True, blank=True, editable=False)
    idempotency_fingerprint = models.CharField(max_length=64, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-registered_at", "-id"]
        verbose_name = verbose_name_plural = "工单"
        indexes = [
            models.Index(fields=["status", "registered_at"], name="ticket_status_reg"),
            # a unit's tickets of a status in a period (the list filtered by unit + status + month)
            models.Index(fields=["unit", "status", "registered_at"], name="ticket_unit_status_reg"),
            models.Index(fields=["unit", "dispatched_at"], name="ticket_unit_dispatched"),
            # A month's tickets by registration, with what the month's figures group by (dashboard,
            # bulletin): PostgreSQL counts a month from this index alone (an index-only scan), without
            # reading the rows. Other databases keep a plain index on registered_at.
            models.Index(fields=["registered_at"], name="ticket_registered_month",
                         include=["status", "source", "handling_mode", "urgent", "appeal_type", "category",
                                  "township", "platform"]),
            models.Index(COUNTED_AT, name="ticket_counted_at"),
            models.Index(fields=["category", "registered_at"], name="ticket_category_reg"),
            models.Index(fields=["township", "registered_at"], name="ticket_township_reg"),
            models.Index(fields=["platform", "upstream_number"], name="ticket_platform_upstream"),
            # Month statistics (dashboard, assessment, bulletin) range-scan these.
            models.Index(fields=["dispatched_at"], name="ticket_dispatched"),
            models.Index(fields=["callback_at"], name="ticket_callback"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "upstream_number"],
                condition=~Q(upstream_number=""),
                name="ticket_unique_upstream_number",
            ),
            models.UniqueConstraint(
                fields=["registered_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="ticket_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(source="local", platform__isnull=True) | Q(source="upper", platform__isnull=False),
                name="ticket_source_platform",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def current_deadline(self):
        """The deadline of the limit the status runs against (``services/deadlines.STATUS_LIMIT``)."""
        from ..services.deadlines import current_deadline

        return current_deadline(self)


class EventType(models.TextChoices):
    REGISTERED = "registered", "登记"
    CLOSED_DIRECTLY = "closed_directly", "协调办理办结"
    DISPATCHED = "dispatched", "派单"
    REDISPATCHED = "redispatched", "改派"
    RECALLED = "recalled", "撤回"
    SIGNED = "signed", "签收"
    FIRST_FEEDBACK = "first_feedback", "首次反馈"
    RETURN_REQUESTED = "return_requested", "申请退单"
    RETURN_APPROVED = "return_approved", "同意退单"
    RETURN_REJECTED = "return_rejected", "驳回退单"
    EXTENSION_REQUESTED = "extension_requested", "申请延期"
    EXTENSION_APPROVED = "extension_approved", "同意延期"
    EXTENSION_REJECTED = "extension_rejected", "驳回延期"
    REPLIED = "replied", "办结反馈"
    REVIEW_PASSED = "review_passed", "审核通过"
    REVIEW_FAILED = "review_failed", "审核不通过"
    CALLBACK = "callback", "回访"
    REDO = "redo", "重办"
    JUDGED_CLOSED = "judged_closed", "研判办结"
    CLOSED = "closed", "办结"
    MERGED = "merged", "并单"
    URGED = "urged", "催办"
    SUPERVISION_OPENED = "supervision_opened", "督办立案"
    SUPERVISION_CLOSED = "supervision_closed", "督办结案"
    CONTACT_GRANTED = "contact_granted", "允许联系来电人"
    UPDATED = "updated", "修改"
    CALL_ATTACHED = "call_attached", "重复来电"
    IMPORTED = "imported", "导入"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("审计记录只能追加，不能修改。")

    def delete(self):
        raise PermissionError("审计记录只能追加，不能删除。")


class AppendOnlyModel(models.Model):
    """Rows are inserted once and never updated or deleted (an audit trail)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("审计记录只能追加，不能修改。")
        # Always INSERT: a new instance carrying an existing id must not overwrite that row.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计记录只能追加，不能删除。")


class TicketEvent(AppendOnlyModel):
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="events")
    type = models.CharField("事件", max_length=30, choices=EventType.choices)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    note = models.TextField("说明", blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = verbose_name_plural = "工单事件"
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_time")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.get_type_display()}"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已同意"
    REJECTED = "rejected", "已驳回"


class ReturnRequest(models.Model):
    """退单: a unit gives a ticket back with a reason; the centre approves or rejects."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="return_requests")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField("退单理由", max_length=2000)
    previous_status = models.CharField(max_length=20, choices=Status.choices)
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = verbose_name_plural = "退单申请"
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(status="pending"), name="one_pending_return_per_ticket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} 退单申请（{self.get_status_display()}）"


class ExtensionRequest(models.Model):
    """延期: asked by the unit before the handling deadline; approval sets a new deadline."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="extension_requests")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField("延期理由", max_length=2000)
    requested_deadline = models.DateTimeField("申请延至")
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = verbose_name_plural = "延期申请"
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(status="pending"), name="one_pending_extension_per_ticket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} 延期申请（{self.get_status_display()}）"


class Urge(models.Model):
    """催办: a reminder to the unit; many per ticket. ``automatic`` ones come from the beat job."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="urges")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.TextField("催办内容", max_length=2000)
    automatic = models.BooleanField("系统自动", default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = verbose_name_plural = "催办记录"

    def __str__(self) -> str:
        return f"{self.ticket_id} 催办 {self.created_at:%Y-%m-%d %H:%M}"


class SupervisionStatus(models.TextChoices):
    OPEN = "open", "督办中"
    CLOSED = "closed", "已结案"


class Supervision(models.Model):
    """督办: formal supervision, a case with its own status."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="supervisions")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reason = models.TextField("督办事由", max_length=2000)
    deadline = models.DateTimeField("督办时限", null=True, blank=True)
    status = models.CharField(max_length=10, choices=SupervisionStatus.choices, default=SupervisionStatus.OPEN)
    opened_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    closed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    result = models.TextField("督办结果", blank=True, max_length=2000)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = verbose_name_plural = "督办"

    def __str__(self) -> str:
        return f"{self.ticket_id} 督办（{self.get_status_display()}）"


class TicketSequence(models.Model):
    """Counter per day for ticket numbers; incremented under a row lock."""

    key = models.CharField(max_length=20, unique=True)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "工单编号序列"

    def __str__(self) -> str:
        return f"{self.key}: {self.value}"
