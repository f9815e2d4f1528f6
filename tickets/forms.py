"""Forms of the web pages. They only parse and check input; every write goes through a service."""

from __future__ import annotations

import uuid

from django import forms
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .directory_cache import directory_lookup, directory_rows
from .exceptions import ApplicationError
from .inputs import MAX_ID, YEAR_MESSAGE, date_in_range
from .models import (
    AppealType,
    AssessmentGroup,
    CallbackResult,
    CallKind,
    Category,
    Channel,
    HandlingMode,
    Status,
    Ticket,
    Unit,
)
from .privacy import phone_normalise
from .services.registration import idempotency_key_check

REQUIRED = {"required": "此项为必填项。"}


def _attrs(attrs: dict) -> str:
    """``django/forms/widgets/attrs.html`` in Python."""
    return "".join(format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
                   for name, value in attrs.items() if value is not False)


class FastSelectMixin:
    """A <select> written in Python instead of one template render per option: the same markup as
    Django's ``select.html`` / ``select_option.html`` (a test compares them), ~10× faster — the ticket
    list's unit, category and township filters took ~15 ms of every list page."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"', widget["name"]), _attrs(widget["attrs"]), ">"]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                parts += [format_html('\n  <option value="{}"', str(option["value"])), _attrs(option["attrs"]),
                          format_html(">{}</option>\n", option["label"])]
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # every piece above is escaped by format_html


class FastSelect(FastSelectMixin, forms.Select):
    pass


class DirectoryModelChoiceIterator(forms.models.ModelChoiceIterator):
    """The choices from the per-process directory cache (``tickets/directory_cache.py``): no query per
    page for the list of units or categories."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in directory_rows(self.queryset):
            yield self.choice(obj)

    def __len__(self):
        return len(directory_rows(self.queryset)) + (1 if self.field.empty_label is not None else 0)

    def __bool__(self):
        return self.field.empty_label is not None or bool(directory_rows(self.queryset))


class DirectoryChoiceField(forms.ModelChoiceField):
    """A unit, category or other directory row chosen in a form: options and the chosen row come from the
    directory cache, which follows every change of the directory."""

    iterator = DirectoryModelChoiceIterator

    def __init__(self, queryset, **kwargs):
        kwargs.setdefault("widget", FastSelect)
        super().__init__(queryset, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, self.queryset.model):
            value = getattr(value, self.to_field_name or "pk")
        obj = directory_lookup(self.queryset, self.to_field_name or "pk", value)
        if obj is None:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                        params={"value": value})
        return obj


class BoundedDateField(forms.DateField):
    """A date within the product's years (``tickets.inputs``; the API's date-times use the same bound
    and message)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}))
        kwargs["error_messages"] = {"invalid": "请输入有效的日期。", **kwargs.get("error_messages", {})}
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value is not None and not date_in_range(value):
            raise forms.ValidationError(YEAR_MESSAGE, code="out_of_range")


class IdField(forms.IntegerField):
    """A database id: a positive integer that fits PostgreSQL's bigint (``tickets.inputs.MAX_ID``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        kwargs["error_messages"] = {"invalid": "编号应为数字。", "min_value": "编号不存在。", "max_value": "编号不存在。",
                                    **kwargs.get("error_messages", {})}
        super().__init__(**kwargs)


class CodeChoiceField(DirectoryChoiceField):
    """Directory objects are referenced by code (as in the API)."""

    def __init__(self, queryset, **kwargs):
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("error_messages", {**REQUIRED, "invalid_choice": "请从列表中选择。"})
        super().__init__(queryset, **kwargs)


class CallRegisterForm(forms.Form):
    """The operator's one-page form: the call, and the ticket it produces."""

    caller_phone = forms.CharField(label="来电号码", max_length=20, required=False, widget=forms.TextInput(
        attrs={"data-autofocus": "", "inputmode": "tel", "placeholder": "手机或带区号的固话"}))
    caller_name = forms.CharField(label="来电人", max_length=50, required=False)
    channel = CodeChoiceField(Channel.objects.all(), label="来源渠道", empty_label=None)
    appeal_type = CodeChoiceField(AppealType.objects.all(), label="诉求类型", empty_label="请选择")
    category = CodeChoiceField(
        Category.objects.filter(parent__isnull=False, active=True).select_related("parent"), label="问题分类",
        widget=forms.HiddenInput,
    )
    township = DirectoryChoiceField(
        Unit.objects.filter(group=AssessmentGroup.TOWNSHIP, active=True), label="所属乡镇", required=False,
        empty_label="（不涉及具体乡镇）", error_messages={"invalid_choice": "请从列表中选择乡镇街道。"},
    )
    address = forms.CharField(label="事发地址", max_length=200, required=False)
    title = forms.CharField(label="标题", max_length=100, required=False)
    content = forms.CharField(label="诉求内容", max_length=5000, widget=forms.Textarea(attrs={"rows": 5}),
                              error_messages={"required": "请填写诉求内容。"})
    urgent = forms.BooleanField(label="紧急", required=False)
    confidential = forms.BooleanField(label="保密（承办单位看不到来电人信息）", required=False)
    handling_mode = forms.ChoiceField(label="办理方式", choices=HandlingMode.choices, widget=forms.RadioSelect,
                                      initial=HandlingMode.DISPATCHED, error_messages=REQUIRED)
    reply_text = forms.CharField(label="答复内容", max_length=5000, required=False,
                                 widget=forms.Textarea(attrs={"rows": 3}))
    duration_seconds = forms.IntegerField(label="通话时长（秒）", required=False, min_value=0,
                                          widget=forms.HiddenInput)
    # One token per form shown, sent as the registration's idempotency key: a double submit (or a
    # resubmit after the answer was lost) finds the ticket the first one registered.
    submit_token = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    @staticmethod
    def new_token() -> str:
        return uuid.uuid4().hex

    def clean_caller_phone(self):
        value = self.cleaned_data.get("caller_phone", "")
        if value:
            try:
                phone_normalise(value)
            except Exception as exc:  # InvalidInput with a Chinese message
                raise forms.ValidationError(getattr(exc, "message", "联系电话格式不正确。")) from exc
        return value

    def clean(self):
        data = super().clean()
        if data.get("handling_mode") == HandlingMode.COORDINATED and not (data.get("reply_text") or "").strip():
            self.add_error("reply_text", "协调办理（当场答复办结）必须填写答复内容。")
        if data.get("submit_token"):
            try:
                idempotency_key_check(data["submit_token"])
            except ApplicationError:
                self.add_error(None, "表单已失效，请刷新页面后重新填写。")
        return data


class CallLogForm(forms.Form):
    """A call that produces no new ticket: a repeat call about an open ticket, a progress query,
    a hang-up…"""

    caller_phone = forms.CharField(label="来电号码", max_length=20, required=False)
    kind = forms.ChoiceField(label="来电类型", error_messages=REQUIRED, choices=[
        (k, label) for k, label in CallKind.choices if k != CallKind.NEW])
    ticket = IdField(label="关联工单", required=False, widget=forms.HiddenInput)
    note = forms.CharField(label="备注", max_length=500, required=False)
    duration_seconds = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def clean_caller_phone(self):
        return CallRegisterForm.clean_caller_phone(self)


# --- Actions on a ticket -------------------------------------------------------------------


def _text(label: str, rows: int = 3, required: bool = True, max_length: int = 2000):
    return forms.CharField(label=label, required=required, max_length=max_length,
                           widget=forms.Textarea(attrs={"rows": rows}),
                           error_messages={"required": f"请填写{label}。"})


PICKER_GROUPS = ["乡镇街道", "市直单位", "公用事业和企业", "其他单位"]


def unit_picker_group(unit: Unit) -> str:
    """The heading a unit is listed under in the dispatch picker: townships, city departments,
    utilities and enterprises (a name with 公司: 供电、自来水、燃气、通信、公交…), others."""
    if unit.group == AssessmentGroup.TOWNSHIP:
        return PICKER_GROUPS[0]
    if "公司" in unit.name or "公司" in unit.short_name:
        return PICKER_GROUPS[2]
    if unit.group == AssessmentGroup.CITY:
        return PICKER_GROUPS[1]
    return PICKER_GROUPS[3]


class UnitPickerSelect(FastSelectMixin, forms.Select):
    """The unit <select> in groups (<optgroup>), each option carrying its pinyin key for the search
    box (hotline/static/js/app.js); without JavaScript it is still a plain grouped list."""

    def __init__(self, attrs=None):
        super().__init__({"data-unit-picker": "", **(attrs or {})})

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        unit = getattr(value, "instance", None)
        if unit is not None:
            option["attrs"].update({"data-pinyin": unit.pinyin, "data-search": f"{unit.short_name} {unit.name}"})
            option["picker_group"] = unit_picker_group(unit)
        return option

    def optgroups(self, name, value, attrs=None):
        loose, grouped = [], {label: [] for label in PICKER_GROUPS}
        for _group, options, _index in super().optgroups(name, value, attrs):
            for option in options:
                (grouped[option["picker_group"]] if "picker_group" in option else loose).append(option)
        result = [(None, [option], i) for i, option in enumerate(loose)]
        result += [(label, options, len(loose) + i) for i, (label, options) in enumerate(grouped.items()) if options]
        return result


class DispatchForm(forms.Form):
    unit = DirectoryChoiceField(Unit.objects.filter(active=True), label="承办单位", empty_label="请选择承办单位",
                                widget=UnitPickerSelect,
                                error_messages={"required": "请选择承办单位。", "invalid_choice": "请选择承办单位。"})
    note = _text("派单说明", rows=2, required=False)


class RedispatchForm(forms.Form):
    unit = DirectoryChoiceField(Unit.objects.filter(active=True), label="改派至", empty_label="请选择新的承办单位",
                                error_messages={"required": "请选择新的承办单位。", "invalid_choice": "请选择新的承办单位。"})
    reason = _text("改派理由", rows=2)


class ReasonForm(forms.Form):
    reason = _text("理由", rows=2)

    def __init__(self, *args, label: str = "理由", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label
        self.fields["reason"].error_messages["required"] = f"请填写{label}。"


class ReturnRequestForm(forms.Form):
    reason = _text("退单理由")


class DecideForm(forms.Form):
    approve = forms.TypedChoiceField(label="审批", choices=[("1", "同意"), ("0", "驳回")], coerce=lambda v: v == "1",
                                     widget=forms.RadioSelect, error_messages=REQUIRED)
    note = _text("审批意见", rows=2, required=False)

    def clean(self):
        data = super().clean()
        if data.get("approve") is False and not (data.get("note") or "").strip():
            self.add_error("note", "驳回时必须填写理由。")
        return data


class ExtensionRequestForm(forms.Form):
    requested_deadline = BoundedDateField(label="申请延至（日期）", error_messages={"required": "请选择申请延至的日期。"})
    reason = _text("延期理由")

    def clean_requested_deadline(self):
        day = self.cleaned_data["requested_deadline"]
        if day < timezone.localdate():
            raise forms.ValidationError("申请延至的日期不能早于今天。")
        return day

    def deadline(self):
        """End of the requested working day (services/deadlines.end_of_working_day)."""
        from .services.deadlines import end_of_working_day

        return end_of_working_day(self.cleaned_data["requested_deadline"])


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf,.docx,.xlsx"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class ReplyForm(forms.Form):
    reply_text = _text("答复内容（公开，回复来电人）", rows=5, max_length=5000)
    internal_note = _text("内部办理说明（不公开）", rows=3, required=False, max_length=5000)
    attachments = MultipleFileField(label="附件", required=False)

    def clean_attachments(self):
        from .exceptions import InvalidInput
        from .services.attachments import attachment_check

        files = self.cleaned_data.get("attachments") or []
        for f in files:
            try:
                attachment_check(file=f)
            except InvalidInput as exc:
                raise forms.ValidationError(exc.fields.get("attachments", [exc.message])[0]) from exc
        return files


class ReviewForm(forms.Form):
    passed = forms.TypedChoiceField(label="审核结果", choices=[("1", "通过"), ("0", "不通过，退回重办")],
                                    coerce=lambda v: v == "1", widget=forms.RadioSelect, error_messages=REQUIRED)
    note = _text("审核意见", rows=2, required=False)

    def clean(self):
        data = super().clean()
        if data.get("passed") is False and not (data.get("note") or "").strip():
            self.add_error("note", "审核不通过时必须填写审核意见。")
        return data


class CallbackForm(forms.Form):
    result = forms.ChoiceField(label="回访结果", choices=CallbackResult.choices, widget=forms.RadioSelect,
                               error_messages={"required": "请选择回访结果。"})
    resolved = forms.TypedChoiceField(label="问题是否解决", choices=[("1", "已解决"), ("0", "未解决")],
                                      coerce=lambda v: v == "1", widget=forms.RadioSelect,
                                      error_messages={"required": "请选择问题是否解决。"})
    note = _text("回访记录", rows=2, required=False)


class NoteForm(forms.Form):
    note = _text("说明")

    def __init__(self, *args, label: str = "说明", required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].label = label
        self.fields["note"].required = required
        self.fields["note"].error_messages["required"] = f"请填写{label}。"


class SuperviseForm(forms.Form):
    reason = _text("督办事由")
    deadline = BoundedDateField(label="督办时限", required=False)


class MergeForm(forms.Form):
    into = forms.CharField(label="并入工单编号", max_length=40, error_messages={"required": "请填写并入的工单编号。"})
    note = _text("并单说明", rows=2, required=False)

    def clean_into(self):
        number = self.cleaned_data["into"].strip()
        target = Ticket.objects.filter(number=number).exclude(status=Status.MERGED).first()
        if target is None:
            raise forms.ValidationError("没有这个工单编号，或该工单已并入其他工单。")
        return target


class TicketFilterForm(forms.Form):
    """Filters of the ticket list (all optional)."""

    q = forms.CharField(label="工单编号/内容", required=False, max_length=60)
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *Status.choices],
                               widget=FastSelect)
    unit = DirectoryChoiceField(Unit.objects.filter(active=True), label="承办单位", required=False,
                                empty_label="全部承办单位")
    category = DirectoryChoiceField(Category.objects.select_related("parent").filter(active=True),
                                    label="问题分类", required=False, empty_label="全部分类")
    township = DirectoryChoiceField(Unit.objects.filter(group=AssessmentGroup.TOWNSHIP), label="所属乡镇",
                                    required=False, empty_label="全部乡镇")
    date_from = BoundedDateField(label="登记日期从", required=False)
    date_to = BoundedDateField(label="至", required=False)
    overdue = forms.BooleanField(label="仅超期", required=False)


def form_add_service_error(form: forms.Form, exc: ApplicationError) -> None:
    """Show a service's error next to the fields it names (in Chinese), or above the form."""
    placed = False
    for field, errors in (exc.fields or {}).items():
        if field in form.fields:
            for error in errors:
                form.add_error(field, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)
