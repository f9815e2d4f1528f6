"""Web pages of the tickets app. Pages call the same selectors and services as the API: a view parses
input with a form, calls one service (or a few in one transaction) and renders; it holds no
business rules of its own."""

from __future__ import annotations

from datetime import datetime, time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from . import services
from .exceptions import ActionNotAvailable, ApplicationError, NotFound, PermissionDenied
from .forms import (
    CallbackForm,
    CallLogForm,
    CallRegisterForm,
    DecideForm,
    DispatchForm,
    ExtensionRequestForm,
    MergeForm,
    NoteForm,
    ReasonForm,
    RedispatchForm,
    ReplyForm,
    ReturnRequestForm,
    ReviewForm,
    SuperviseForm,
    TicketFilterForm,
    form_add_service_error,
)
from .models import (
    AccessAction,
    AppealType,
    Attachment,
    CallerDataAccess,
    Category,
    EventType,
    ExtensionRequest,
    RequestStatus,
    ReturnRequest,
    Role,
    Status,
    SupervisionStatus,
    Ticket,
    TicketEvent,
)
from .net import client_ip
from .pagination import LimitedCountPaginator, limited_count
from .permissions import (
    ACTION_ROLES,
    CENTRE_READ_ROLES,
    FULL_CALLER_ROLES,
    REGISTER_ROLES,
    has_role,
)
from .privacy import caller_view
from .search import search_is_counted, ticket_search
from .selectors import (
    QUEUES,
    dispatch_advice,
    knowledge_answers,
    open_tickets_by_caller,
    overdue_q,
    ticket_duplicates,
    ticket_get_for_user,
    ticket_queryset_for_user,
    ticket_queue,
    tickets_by_caller,
)
from .services.attachments import attachment_add
from .services.deadlines import end_of_working_day, light_thresholds, with_lights
from .services.lifecycle import ACTIONS, action_require, ticket_available_actions, ticket_facts

ROLE_QUEUES = {
    Role.OPERATOR: ["pending_dispatch", "overdue"],
    Role.DISPATCHER: ["pending_dispatch", "return_pending", "extension_pending", "replied", "pending_callback",
                      "due_soon", "overdue"],
    Role.ADMIN: ["pending_dispatch", "return_pending", "extension_pending", "replied", "pending_callback",
                 "due_soon", "overdue"],
    Role.UNIT_HANDLER: ["inbox", "due_soon", "overdue"],
    Role.LEADER: ["overdue", "due_soon"],
    Role.ASSESSOR: ["overdue"],
    Role.EDITOR: [],
}
PAGE_SIZE = 20




# What list rows show. Fewer joins than the selectors' default: on PostgreSQL, planning the 8-table
# join took ~75 ms per page with 100,000 tickets, executing it under 3 ms.
PAGE_RELATED = ("appeal_type", "category", "category__parent", "township", "unit")


PAGE_SIZES = (20, 50, 100)  # ?size= on the lists; anything else is the default


def _page(request, queryset, *, counted: bool = True):
    size = request.GET.get("size", "")
    per_page = int(size) if size in {str(s) for s in PAGE_SIZES} else PAGE_SIZE
    queryset = queryset.select_related(None).select_related(*PAGE_RELATED)
    paginator = LimitedCountPaginator(queryset, per_page, counted=counted)
    page = paginator.get_page(request.GET.get("page"))
    page.rows = with_lights(page.object_list)
    # for _pagination.html's jump/size form: the size, and the other query parameters to keep
    page.size, page.sizes = per_page, PAGE_SIZES
    page.keep = [(k, v) for k, values in request.GET.lists() if k not in ("page", "size") for v in values]
    return page


def _query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


# --------------------------------------------------------------------------------------------
# Workbench
# --------------------------------------------------------------------------------------------


@login_required
def home(request):
    """工作台: the role's queues as tiles, the selected queue as a table (sorted by deadline)."""
    user = request.user
    keys = ROLE_QUEUES.get(user.role, [])
    queues = []
    for key in keys:
        count, limited = limited_count(ticket_queue(user=user, queue=key))
        queues.append({"key": key, "label": QUEUES[key], "count": count, "limited": limited})
    selected = request.GET.get("queue") or (keys[0] if keys else "")
    page = None
    if selected:
        if selected not in keys:
            raise Http404("没有这个队列。")
        page = _page(request, ticket_queue(user=user, queue=selected))
    visible_total, visible_limited = limited_count(ticket_queryset_for_user(user=user))
    context = {
        "queues": queues,
        "selected": selected,
        "selected_label": QUEUES.get(selected, ""),
        "page": page,
        "querystring": _query_without_page(request),
        "visible_total": visible_total,
        "visible_limited": visible_limited,
        "can_register": has_role(user, REGISTER_ROLES),
        "bulletin_tasks": _bulletin_tasks(user),
        # the legend says what yellow means under the time-limit rule in force (the lights' own rule)
        "yellow_percent": light_thresholds().rule.yellow_percent,
    }
    return render(request, "tickets/home.html", context)


def _bulletin_tasks(user) -> list[dict] | None:
    """The month's bulletin tasks for those who make the bulletin (None: not their job)."""
    from reports import selectors as bulletin_selectors
    from reports.services import may_manage_bulletins

    if not may_manage_bulletins(user):
        return None
    return bulletin_selectors.bulletin_tasks(today=timezone.localdate())


# --------------------------------------------------------------------------------------------
# Operator: the new-call page
# --------------------------------------------------------------------------------------------


def _require_register(user):
    if not has_role(user, REGISTER_ROLES):
        raise DjangoPermissionDenied("您的角色不能登记来电。")


def _categories():
    return list(Category.objects.filter(parent__isnull=False, active=True).select_related("parent")
                .order_by("code"))


@login_required
def call_new(request):
    """新来电: caller history, category picker, duplicates, earlier answers — and register."""
    user = request.user
    _require_register(user)
    status = 200
    if request.method == "POST":
        form = CallRegisterForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            fields = dict(
                channel=data["channel"], appeal_type=data["appeal_type"],
                category=data["category"], content=data["content"], title=data["title"],
                caller_name=data["caller_name"], caller_phone=data["caller_phone"],
                address=data["address"], township=data["township"], urgent=data["urgent"],
                confidential=data["confidential"], handling_mode=data["handling_mode"],
                reply_text=data["reply_text"] if data["handling_mode"] == "coordinated" else "",
            )
            try:
                with transaction.atomic():
                    if data["submit_token"]:  # the form's token: a second submit finds the first's ticket
                        ticket, created = services.ticket_create_idempotent(
                            actor=user, idempotency_key=data["submit_token"], **fields)
                    else:
                        ticket, created = services.ticket_create(actor=user, **fields), True
                    if created:
                        services.call_create(actor=user, caller_phone=data["caller_phone"], kind="new",
                                             ticket=ticket, duration_seconds=data.get("duration_seconds"))
            except ApplicationError as exc:
                form_add_service_error(form, exc)
                if exc.code == "idempotency_key_reused":  # the first submit did register: this is a new one
                    form.data = form.data.copy()
                    form.data["submit_token"] = CallRegisterForm.new_token()
                status = 400
            else:
                if not created:
                    messages.info(request, f"此表单已提交过：工单{ticket.number}已登记，未重复登记。")
                else:
                    verb = "已当场答复办结" if ticket.status == Status.CLOSED else "已登记，等待派单"
                    messages.success(request, f"工单{ticket.number}{verb}。")
                return redirect("tickets:detail", pk=ticket.pk)
        else:
            status = 400
    else:
        form = CallRegisterForm(initial={"channel": "phone", "handling_mode": "dispatched",
                                         "submit_token": CallRegisterForm.new_token()})
    categories = _categories()
    selected_code = form["category"].value() or ""
    selected = next((c for c in categories if c.code == selected_code), None)
    context = {
        "form": form,
        "categories": categories,
        "selected_category": selected,
        "log_form": CallLogForm(),
        "appeal_types": AppealType.objects.all(),
    }
    return render(request, "tickets/call_new.html", context, status=status)


@login_required
@require_GET
def call_assist(request):
    """htmx panel of the new-call page: the caller's earlier and open tickets, possible duplicates,
    and earlier answers of the chosen category."""
    user = request.user
    _require_register(user)
    phone = request.GET.get("caller_phone", "").strip()
    category = Category.objects.filter(code=request.GET.get("category", ""), parent__isnull=False).first()
    try:
        township_id = int(request.GET.get("township") or 0) or None
    except ValueError:
        township_id = None
    history, open_ids, phone_error = [], set(), ""
    if phone:
        try:
            history = list(tickets_by_caller(user=user, phone=phone)[:10])
            open_ids = set(open_tickets_by_caller(user=user, phone=phone).values_list("id", flat=True))
        except ApplicationError as exc:
            phone_error = "号码未输完整或格式不正确。" if len(phone) < 7 else exc.message
    duplicates = ticket_duplicates(user=user, caller_phone=phone if not phone_error else "",
                                   township_id=township_id, category_id=category.pk if category else None)
    context = {
        "phone": phone,
        "phone_error": phone_error,
        "history": history,
        "open_ids": open_ids,
        "duplicates": [t for t in duplicates if t.pk not in {h.pk for h in history}],
        "category": category,
        "answers": knowledge_answers(user=user, category_id=category.pk if category else None,
                                     text=request.GET.get("kq", "").strip()[:30]),
    }
    return render(request, "tickets/_call_assist.html", context)


@login_required
@require_POST
def call_log(request):
    """A call without a new ticket (repeat call attached to an open ticket, query, hang-up…)."""
    user = request.user
    _require_register(user)
    form = CallLogForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"来电未记录：{errors[0]}" if field == "__all__" else
                           f"来电未记录：{form.fields[field].label}——{errors[0]}")
        return redirect("tickets:call-new")
    data = form.cleaned_data
    ticket = None
    try:
        if data.get("ticket"):
            ticket = ticket_get_for_user(user=user, ticket_id=data["ticket"])
        call = services.call_create(actor=user, caller_phone=data["caller_phone"], kind=data["kind"],
                                    ticket=ticket, note=data["note"], duration_seconds=data.get("duration_seconds"))
    except ApplicationError as exc:
        messages.error(request, f"来电未记录：{exc.message}")
        return redirect("tickets:call-new")
    label = call.get_kind_display()
    if ticket:
        messages.success(request, f"已记录{label}，并关联到工单{ticket.number}。")
        return redirect("tickets:detail", pk=ticket.pk)
    messages.success(request, f"已记录来电（{label}）。")
    return redirect("tickets:call-new")


# --------------------------------------------------------------------------------------------
# One ticket
# --------------------------------------------------------------------------------------------

def _form_for(action: str, data=None, files=None, *, ticket: Ticket | None = None):
    if action == "dispatch":
        form = DispatchForm(data)
        if ticket is not None and data is None:
            form.advice = dispatch_advice(ticket=ticket)
            form.suggestions = form.advice.suggestions
            if form.advice.preselect:
                form.initial["unit"] = form.advice.preselect
        return form
    if action == "redispatch":
        return RedispatchForm(data)
    if action == "recall":
        return ReasonForm(data, label="撤回理由")
    if action == "sign":
        return NoteForm(data, label="签收说明", required=False)
    if action == "first-feedback":
        return NoteForm(data, label="首次反馈内容")
    if action == "return":
        return ReturnRequestForm(data)
    if action in ("return-decide", "extension-decide"):
        return DecideForm(data)
    if action == "extension":
        return ExtensionRequestForm(data)
    if action == "reply":
        return ReplyForm(data, files)
    if action == "review":
        return ReviewForm(data)
    if action == "callback":
        return CallbackForm(data)
    if action == "redo":
        return NoteForm(data, label="重办要求")
    if action == "judge-close":
        return NoteForm(data, label="研判意见")
    if action == "merge":
        return MergeForm(data)
    if action == "urge":
        return NoteForm(data, label="催办内容")
    if action == "supervise":
        return SuperviseForm(data)
    if action == "supervise-close":
        return NoteForm(data, label="督办结果")
    if action == "grant-contact":
        return NoteForm(data, label="说明", required=False)
    raise Http404("没有这个操作。")


def _local_time(value: str | None) -> datetime | None:
    """An ISO datetime kept in an event's data, for display in local time."""
    try:
        return timezone.localtime(datetime.fromisoformat(value)) if value else None
    except (TypeError, ValueError):
        return None


def _detail_context(request, ticket: Ticket, bound: dict | None = None) -> dict:
    user = request.user
    events = list(TicketEvent.objects.filter(ticket=ticket).select_related("actor", "unit").order_by("created_at", "id"))
    attachments = list(Attachment.objects.filter(ticket=ticket).select_related("uploaded_by"))
    returns = list(ReturnRequest.objects.filter(ticket=ticket).select_related("requested_by", "decided_by", "unit"))
    extensions = list(ExtensionRequest.objects.filter(ticket=ticket).select_related("requested_by", "decided_by"))
    supervisions = list(ticket.supervisions.all())
    urge_count = ticket.urges.count()
    call_count = ticket.calls.count()
    merged_children = list(ticket.merged_tickets.values_list("id", "number"))
    # Short messages to the unit carry its duty phone: the centre only.
    notifications = (list(ticket.notifications.select_related("unit").order_by("created_at", "id"))
                     if has_role(user, CENTRE_READ_ROLES) else [])
    extension_pending = next((e for e in extensions if e.status == RequestStatus.PENDING), None)
    return_pending = next((r for r in returns if r.status == RequestStatus.PENDING), None)
    open_supervision = next((s for s in supervisions if s.status == SupervisionStatus.OPEN), None)
    # Whoever calls the caller back sees the number at once (no reveal click); logged like any full view.
    calling_back = ticket.status == Status.PENDING_CALLBACK and has_role(user, ACTION_ROLES["callback"])
    caller = caller_view(user=user, ticket=ticket, allow_full=user.role == Role.UNIT_HANDLER or calling_back)
    can_reveal = caller.level == "masked" and caller_view(user=user, ticket=ticket).level == "full"
    if caller.level == "full" and (ticket.caller_name or ticket.caller_phone):
        detail = "工单回访：显示完整来电人信息" if calling_back else "工单详情（已获授权联系来电人）"
        CallerDataAccess.objects.create(user=user, action=AccessAction.VIEW, ticket=ticket,
                                        detail=detail, ip_address=client_ip(request))
    actions = ticket_available_actions(user=user, ticket=ticket, facts=ticket_facts(
        ticket, pending_extension=extension_pending is not None, pending_return=return_pending is not None,
        open_supervision=open_supervision is not None))
    # An action that just failed stays on the page with its errors, even if no longer available.
    actions = [a for a in (bound or {}) if a not in actions] + actions
    forms_by_action = []
    for action in actions:
        form = (bound or {}).get(action) or _form_for(action, ticket=ticket)
        forms_by_action.append({"action": action, "label": ACTIONS[action].label, "form": form,
                                "open": action in (bound or {})})
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        event.internal_note = data.get("internal_note", "")
        event.deadline = _local_time(data.get("requested_deadline") or data.get("new_deadline"))
    with_lights([ticket])
    return {
        "ticket": ticket,
        "events": events,
        "attachments": attachments,
        "returns": returns,
        "extensions": extensions,
        "extension_pending": extension_pending,
        "return_pending": return_pending,
        "supervisions": supervisions,
        "open_supervision": open_supervision,
        "urge_count": urge_count,
        "call_count": call_count,
        "merged_children": merged_children,
        "notifications": notifications,
        "caller": caller,
        "can_reveal": can_reveal,
        "actions": forms_by_action,
    }


@login_required
def ticket_detail(request, pk: int):
    try:
        ticket = ticket_get_for_user(user=request.user, ticket_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return render(request, "tickets/detail.html", _detail_context(request, ticket))


def _run_action(request, ticket: Ticket, action: str, form) -> str:
    """Call the service for ``action`` with the form's cleaned data; return the success message."""
    user, data = request.user, form.cleaned_data
    if action == "dispatch":
        services.ticket_dispatch(ticket=ticket, unit=data["unit"], actor=user, note=data.get("note", ""))
        return f"已派至{data['unit'].short_name}。"
    if action == "redispatch":
        services.ticket_redispatch(ticket=ticket, unit=data["unit"], actor=user, reason=data["reason"])
        return f"已改派至{data['unit'].short_name}，已通知原单位和新单位。"
    if action == "recall":
        services.ticket_recall(ticket=ticket, actor=user, reason=data["reason"])
        return "已撤回，工单回到待派单，已通知原单位。"
    if action == "sign":
        services.ticket_sign(ticket=ticket, actor=user)
        return "已签收，请在办理时限内办结反馈。"
    if action == "first-feedback":
        services.ticket_first_feedback(ticket=ticket, actor=user, note=data["note"])
        return "已首次反馈。"
    if action == "return":
        services.ticket_return_request(ticket=ticket, actor=user, reason=data["reason"])
        return "已申请退单，等待热线中心审批。"
    if action == "return-decide":
        services.ticket_return_decide(ticket=ticket, actor=user, approve=data["approve"], note=data["note"])
        return "已同意退单，工单回到待派单。" if data["approve"] else "已驳回退单，工单退回承办单位。"
    if action == "extension":
        services.ticket_extension_request(ticket=ticket, actor=user, reason=data["reason"],
                                          requested_deadline=form.deadline())
        return "已申请延期，等待热线中心审批。"
    if action == "extension-decide":
        services.ticket_extension_decide(ticket=ticket, actor=user, approve=data["approve"], note=data["note"])
        return "已同意延期，办理时限已更新。" if data["approve"] else "已驳回延期申请。"
    if action == "reply":
        ticket = services.ticket_reply(ticket=ticket, actor=user, reply_text=data["reply_text"],
                                       internal_note=data["internal_note"])
        event = TicketEvent.objects.filter(ticket=ticket, type=EventType.REPLIED).order_by("-created_at", "-id").first()
        for f in data["attachments"]:
            attachment_add(ticket=ticket, actor=user, file=f, event=event)
        return "已办结反馈，等待热线中心审核。"
    if action == "review":
        services.ticket_review(ticket=ticket, actor=user, passed=data["passed"], note=data["note"])
        return "审核通过，转入待回访。" if data["passed"] else "审核不通过，已退回承办单位重新办理。"
    if action == "callback":
        ticket = services.ticket_callback(ticket=ticket, actor=user, result=data["result"], resolved=data["resolved"],
                                          note=data["note"])
        return "回访已记录，工单已办结。" if ticket.status == Status.CLOSED else "回访不满意，请决定重办或研判办结。"
    if action == "redo":
        services.ticket_redo(ticket=ticket, actor=user, note=data["note"])
        return "已要求承办单位重办。"
    if action == "judge-close":
        services.ticket_judge_close(ticket=ticket, actor=user, note=data["note"])
        return "已研判办结。"
    if action == "merge":
        target = data["into"]
        if not ticket_queryset_for_user(user=user).filter(pk=target.pk).exists():
            raise NotFound()
        services.ticket_merge(ticket=ticket, into=target, actor=user, note=data["note"])
        return f"已并入工单{target.number}。"
    if action == "urge":
        services.ticket_urge(ticket=ticket, actor=user, note=data["note"])
        return "已催办。"
    if action == "supervise":
        services.supervision_open(ticket=ticket, actor=user, reason=data["reason"],
                                  deadline=end_of_working_day(data.get("deadline")))
        return "已督办立案。"
    if action == "supervise-close":
        services.ticket_supervision_close(ticket=ticket, actor=user, result=data["note"])
        return "督办已结案。"
    if action == "grant-contact":
        services.ticket_grant_contact(ticket=ticket, actor=user, note=data["note"])
        return "已允许承办单位联系来电人。"
    raise Http404("没有这个操作。")


@login_required
@require_POST
def ticket_action(request, pk: int, action: str):
    """POST one action on one ticket. Accepted only if the lifecycle offers it (the same answer as the
    page's buttons and the API's ``allowed_actions``): the wrong role is 403, an action not offered
    now re-renders the page with the reason and 409. A form error or a service's refusal re-renders
    the ticket page with the message next to the field. Nothing is saved unless it succeeds."""
    if action not in ACTIONS:
        raise Http404("没有这个操作。")
    user = request.user
    try:
        ticket = ticket_get_for_user(user=user, ticket_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    form = _form_for(action, request.POST, request.FILES)
    try:
        action_require(user=user, ticket=ticket, action=action)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except ActionNotAvailable as exc:
        form_add_service_error(form, exc)
        return render(request, "tickets/detail.html", _detail_context(request, ticket, bound={action: form}),
                      status=exc.status_code)
    status = 400
    if form.is_valid():
        try:
            with transaction.atomic():
                message = _run_action(request, ticket, action, form)
        except ApplicationError as exc:
            form_add_service_error(form, exc)
            status = exc.status_code
        else:
            messages.success(request, message)
            return redirect("tickets:detail", pk=ticket.pk)
    ticket.refresh_from_db()
    context = _detail_context(request, ticket, bound={action: form})
    return render(request, "tickets/detail.html", context, status=status)


@login_required
@require_POST
def caller_reveal(request, pk: int):
    """Show the full caller data to a centre user who asks for it; every such view is logged."""
    try:
        ticket = ticket_get_for_user(user=request.user, ticket_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    caller = caller_view(user=request.user, ticket=ticket)
    if caller.level == "full":
        CallerDataAccess.objects.create(user=request.user, action=AccessAction.VIEW, ticket=ticket,
                                        detail="工单详情：查看完整来电人信息", ip_address=client_ip(request))
    return render(request, "tickets/_caller.html", {"caller": caller, "ticket": ticket, "can_reveal": False})


@login_required
def attachment_download(request, pk: int, attachment_id: int):
    try:
        ticket = ticket_get_for_user(user=request.user, ticket_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    attachment = Attachment.objects.filter(ticket=ticket, pk=attachment_id).first()
    if attachment is None:
        raise Http404("附件不存在。")
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name,
                        content_type=attachment.content_type)


# --------------------------------------------------------------------------------------------
# Lists
# --------------------------------------------------------------------------------------------

SORTS = {
    "registered": ("-registered_at", "-id"),
    "registered_asc": ("registered_at", "id"),
    "deadline": ("handle_deadline", "id"),
    "number": ("number",),
    "status": ("status", "-registered_at"),
}
SORT_LABELS = {"registered": "登记时间（新→旧）", "registered_asc": "登记时间（旧→新）", "deadline": "办理时限",
               "number": "工单编号", "status": "状态"}


def _export_url() -> str:
    """The data-exchange engineer's XLSX export page, when it is installed."""
    try:
        resolve("/tickets/export.xlsx")
    except Resolver404:
        return ""
    return "/tickets/export.xlsx"


@login_required
def ticket_list(request):
    user = request.user
    form = TicketFilterForm(request.GET or None)
    if user.role == Role.UNIT_HANDLER:
        form.fields.pop("unit")
    qs = ticket_queryset_for_user(user=user)
    counted = True
    if form.is_valid():
        data = form.cleaned_data
        if data.get("q"):
            qs = ticket_search(qs, data["q"])
            counted = search_is_counted(data["q"])
        if data.get("status"):
            qs = qs.filter(status=data["status"])
        if data.get("unit"):
            qs = qs.filter(unit=data["unit"])
        if data.get("category"):
            category = data["category"]
            qs = qs.filter(category__parent=category) if category.parent_id is None else qs.filter(category=category)
        if data.get("township"):
            qs = qs.filter(township=data["township"])
        if data.get("date_from"):
            qs = qs.filter(registered_at__gte=timezone.make_aware(datetime.combine(data["date_from"], time.min)))
        if data.get("date_to"):
            qs = qs.filter(registered_at__lte=timezone.make_aware(datetime.combine(data["date_to"], time.max)))
        if data.get("overdue"):
            qs = qs.filter(overdue_q(timezone.now()))
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "registered"
    qs = qs.order_by(*SORTS[sort])
    page = _page(request, qs, counted=counted)
    params = request.GET.copy()
    params.pop("page", None)
    export = _export_url()
    context = {
        "form": form,
        "page": page,
        "sort": sort,
        "sorts": SORT_LABELS,
        "querystring": params.urlencode(),
        "export_url": f"{export}?{urlencode([(k, v) for k, v in params.items() if k != 'sort'])}" if export else "",
        "export_full_max": settings.HOTLINE_EXPORT_FULL_MAX_ROWS if has_role(user, FULL_CALLER_ROLES) else 0,
    }
    return render(request, "tickets/list.html", context)
