"""Directory (units, categories, appeal types, channels, platforms), the working calendar,
users and roles, calls, tickets and their append-only events.

Writes go through ``tickets.services``; models hold data, constraints and small derived values.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import PurePath

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .fields import EncryptedCharField


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
        from .pinyin import search_key

        self.pinyin = search_key(self.short_name, self.name)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "pinyin"}
        super().save(*args, **kwargs)

    def clean(self):
        from .privacy import duty_phone_normalise

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
        from .pinyin import search_key

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


class Role(models.TextChoices):
    OPERATOR = "operator", "话务员"
    DISPATCHER = "dispatcher", "派单员"
    UNIT_HANDLER = "unit_handler", "承办单位经办人"
    ASSESSOR = "assessor", "考核员"
    EDITOR = "editor", "简报编辑"
    LEADER = "leader", "领导"
    ADMIN = "admin", "系统管理员"


class User(AbstractUser):
    role = models.CharField("角色", max_length=20, choices=Role.choices, default=Role.OPERATOR)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="handlers", verbose_name="所属单位"
    )
    agent_no = models.CharField("坐席工号", max_length=20, blank=True)

    class Meta(AbstractUser.Meta):
        verbose_name = verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(
                condition=Q(role="unit_handler", unit__isnull=False) | ~Q(role="unit_handler"),
                name="user_unit_handler_has_unit",
            ),
        ]

    def clean(self):
        super().clean()
        if self.role == Role.UNIT_HANDLER and not self.unit_id:
            raise ValidationError({"unit": "承办单位经办人必须绑定一个单位。"})

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


# --------------------------------------------------------------------------------------------
# Tickets
# --------------------------------------------------------------------------------------------


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
            models.Index(fields=["unit", "status"], name="ticket_unit_status"),
            models.Index(fields=["unit", "dispatched_at"], name="ticket_unit_dispatched"),
            models.Index(fields=["registered_at"], name="ticket_registered"),
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
        from .services.deadlines import current_deadline

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


class DispatchConfig(models.Model):
    """The centre's settings for dispatch suggestions: one row (``DispatchConfig.current()``)."""

    preselect_confidence = models.DecimalField(
        "预选把握阈值", max_digits=3, decimal_places=2, default=Decimal("0.60"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="第一建议的把握（模型概率）达到这个值时才在派单表单中预先选中；1 表示从不预选。")
    history_months = models.PositiveSmallIntegerField(
        "学习月数", default=12, validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="每晚训练时学习最近多少个有办结工单的月份。")
    half_life_months = models.DecimalField(
        "权重半衰期（月）", max_digits=4, decimal_places=1, default=Decimal("3.0"),
        validators=[MinValueValidator(Decimal("0.5"))],
        help_text="越早的月份权重越低：每早这么多个月，权重减半。")

    class Meta:
        verbose_name = verbose_name_plural = "派单建议设置"

    def __str__(self) -> str:
        return "派单建议设置"

    @classmethod
    def current(cls) -> DispatchConfig:
        """The saved settings, or the defaults (unsaved) until someone saves them."""
        return cls.objects.order_by("id").first() or cls()


class DispatchModel(models.Model):
    """One trained suggester: the fitted model (joblib, written by ``dispatch_model_train``), what it
    learned from and its back-tested accuracy. The newest row is the one in use."""

    trained_at = models.DateTimeField("训练时间", default=timezone.now, db_index=True)
    first_month = models.CharField("最早月份", max_length=7)
    last_month = models.CharField("最近月份", max_length=7)
    months = models.PositiveSmallIntegerField("学习月数")
    samples = models.PositiveIntegerField("学习工单数")
    classes = models.PositiveSmallIntegerField("承办单位数")
    test_month = models.CharField("回测月份", max_length=7, blank=True)
    test_samples = models.PositiveIntegerField("回测工单数", default=0)
    top1_accuracy = models.FloatField("回测第一建议准确率", null=True, blank=True)
    top3_accuracy = models.FloatField("回测前三建议命中率", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    blob = models.BinaryField("模型", editable=False)

    class Meta:
        ordering = ["-trained_at", "-id"]
        verbose_name = verbose_name_plural = "派单建议模型"

    def __str__(self) -> str:
        return f"派单建议模型（{timezone.localtime(self.trained_at):%Y-%m-%d %H:%M}）"
