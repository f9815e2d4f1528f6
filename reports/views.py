"""Bulletin pages: the public archive and issues (no login, published issues only, no personal
data) with their DOCX/PDF/XLSX, and the editor's pages (build, write, override, publish)."""

from __future__ import annotations

import datetime as dt
import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from assessment.selectors import change_records
from tickets.exceptions import ApplicationError, InvalidInput
from tickets.forms import BoundedDateField
from tickets.inputs import parse_id
from tickets.permissions import has_role
from tickets.ratelimit import public_ratelimit

from . import renderers, selectors, services
from .models import Bulletin, BulletinFile

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Public (no login; each visitor's IP is rate-limited, see tickets/ratelimit.py)
# --------------------------------------------------------------------------------------------


def _public_context(**extra):
    return {"centre_name": settings.HOTLINE_CENTRE_NAME, **extra}


@public_ratelimit
def bulletin_archive(request):
    return render(request, "reports/archive.html", _public_context(bulletins=selectors.bulletin_list_published()))


def _published_or_404(period: str) -> Bulletin:
    bulletin = selectors.bulletin_get_published(period=period)
    if bulletin is None:
        raise Http404("该期简报不存在或尚未发布。")
    return bulletin


@public_ratelimit
def bulletin_detail(request, period: str):
    data = _published_or_404(period).as_json()
    return render(
        request, "reports/detail.html",
        _public_context(data=data, blocks=renderers.bulletin_blocks(data)),
    )


CONTENT_TYPES = {
    BulletinFile.Kind.PDF: "application/pdf",
    BulletinFile.Kind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    BulletinFile.Kind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _stored_file(period: str, kind: str):
    """The published version's file, rendered once (first request) and served from storage after."""
    bulletin = _published_or_404(period)
    stored = services.bulletin_file(bulletin=bulletin, kind=kind)
    filename = services.FILE_RENDERERS[kind][1].format(period=period)
    with stored.file.open("rb") as handle:  # small files (≤ a few hundred KB): read whole
        response = HttpResponse(handle.read(), content_type=CONTENT_TYPES[kind])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@public_ratelimit
def bulletin_pdf(request, period: str):
    try:
        return _stored_file(period, BulletinFile.Kind.PDF)
    except (ImportError, OSError):  # WeasyPrint without its system libraries (pango) on this server
        logger.exception("PDF rendering is unavailable")
        return HttpResponse("PDF 生成组件不可用（服务器缺少 pango 库），请下载 Word 版或联系管理员。",
                            status=503, content_type="text/plain; charset=utf-8")


@public_ratelimit
def bulletin_docx(request, period: str):
    return _stored_file(period, BulletinFile.Kind.DOCX)


@public_ratelimit
def bulletin_xlsx(request, period: str):
    return _stored_file(period, BulletinFile.Kind.XLSX)


# --------------------------------------------------------------------------------------------
# Editor
# --------------------------------------------------------------------------------------------


def _require_editor(user) -> None:
    if not services.may_manage_bulletins(user):
        raise DjangoPermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def bulletin_manage(request):
    _require_editor(request.user)
    if request.method == "POST":
        try:
            month = selectors.period_parse(request.POST.get("period", ""))
            bulletin = services.bulletin_build(month=month, actor=request.user)
        except ValueError as exc:
            messages.error(request, str(exc))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已生成 {bulletin.period} 简报草稿。")
            return redirect("reports:bulletin-edit", period=bulletin.period)
    today = dt.date.today()
    default_period = selectors.period_of(selectors.month_previous(today.replace(day=1)))
    try:  # the 工作台's "生成…简报草稿" presets the month
        default_period = selectors.period_of(selectors.period_parse(request.GET.get("period", default_period)))
    except ValueError:
        pass
    return render(
        request, "reports/manage.html",
        {"bulletins": Bulletin.objects.all(), "default_period": default_period},
    )


@login_required
@require_http_methods(["GET", "POST"])
def bulletin_edit(request, period: str):
    _require_editor(request.user)
    bulletin = get_object_or_404(Bulletin, period=period)
    month = bulletin.month
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action == "save":
                extra = []
                for title, text in zip(
                    request.POST.getlist("extra_title"), request.POST.getlist("extra_text"), strict=False
                ):
                    if title.strip():
                        extra.append({"title": title, "text": text})
                try:
                    issue_date = BoundedDateField(required=False).clean(request.POST.get("issue_date"))
                except forms.ValidationError as exc:
                    raise InvalidInput(f"印发日期有误：{exc.messages[0]}") from exc
                services.bulletin_update(
                    bulletin=bulletin, actor=request.user,
                    sections={**{k: request.POST.get(k, "") for k in services.SECTION_KEYS}, "extra": extra},
                    issue_date=issue_date,
                )
                messages.success(request, "已保存。")
            elif action == "add_case":
                cases = {c["id"]: c for c in selectors.typical_case_candidates(month=month, limit=50)}
                chosen = [cases[i] for i in map(parse_id, request.POST.getlist("case")) if i in cases]
                text = "\n".join(
                    f"{c['unit']}在处理“{c['title']}”问题时，{c['reply']}" for c in chosen
                )
                current = bulletin.sections.get("typical_cases", "") if "typical_cases" in bulletin.edited_sections else ""
                services.bulletin_update(
                    bulletin=bulletin, actor=request.user,
                    sections={"typical_cases": "\n".join(x for x in (current, text) if x)},
                )
                messages.success(request, f"已加入{len(chosen)}个典型案例。")
            elif action in ("good", "poor"):
                units = [u for u in request.POST.get("units", "").replace("，", "、").replace(",", "、").split("、")]
                services.bulletin_override_units(
                    bulletin=bulletin, kind=action, units=units, reason=request.POST.get("reason", ""),
                    actor=request.user,
                )
                messages.success(request, "已调整并记录。")
            elif action == "rebuild":
                services.bulletin_build(month=month, actor=request.user)
                messages.success(request, "已按最新数据重新生成。")
            elif action == "publish":
                services.bulletin_publish(bulletin=bulletin, actor=request.user)
                messages.success(request, "已发布。")
                return redirect("bulletins:detail", period=period)
            elif action == "unpublish":
                services.bulletin_unpublish(bulletin=bulletin, actor=request.user,
                                            reason=request.POST.get("reason", "").strip())
                messages.success(request, "已撤回为草稿（已暂缓自动发布：改正后请立即发布或取消暂缓）。")
            elif action == "schedule":
                publish_on = dt.date.fromisoformat(request.POST.get("publish_on", "").strip())
                services.bulletin_schedule(bulletin=bulletin, actor=request.user, publish_on=publish_on,
                                           reason=request.POST.get("reason", "").strip())
                messages.success(request, f"计划发布日已设为{publish_on:%Y-%m-%d}。")
            elif action == "hold":
                services.bulletin_hold(bulletin=bulletin, actor=request.user, reason=request.POST.get("reason", ""))
                messages.success(request, "已暂缓发布：到计划发布日也不会自动发布。")
            elif action == "unhold":
                services.bulletin_unhold(bulletin=bulletin, actor=request.user,
                                         reason=request.POST.get("reason", ""))
                messages.success(request, "已取消暂缓：将在计划发布日自动发布。")
        except ApplicationError as exc:
            messages.error(request, exc.message + "".join(f" {v}" for vs in exc.fields.values() for v in vs))
        except ValueError as exc:
            if action == "schedule":
                messages.error(request, "计划发布日期格式应为 YYYY-MM-DD。")
            else:
                messages.error(request, str(exc))
        return redirect("reports:bulletin-edit", period=period)
    bulletin.refresh_from_db()
    data = bulletin.as_json()
    return render(
        request,
        "reports/edit.html",
        {
            "bulletin": bulletin,
            "data": data,
            "blocks": renderers.bulletin_blocks(data),
            "section_defs": [
                (key, title, bulletin.sections.get(key, ""), key in bulletin.edited_sections)
                for key, title in services.SECTIONS
            ],
            "extra": bulletin.sections.get("extra", []),
            "hot_issues": selectors.hot_issue_suggestions(month=month),
            "ticket_url_prefix": "/tickets/",
            "cases": selectors.typical_case_candidates(month=month),
            "change": selectors.month_change(month=month),
            "overrides": bulletin.overrides.select_related("author"),
            "changes": change_records(month=month),
            "can_edit": has_role(request.user, services.EDIT_ROLES),
            "computed_good": data_units(bulletin, "good_units"),
            "computed_poor": data_units(bulletin, "poor_units"),
        },
    )


def data_units(bulletin: Bulletin, key: str) -> str:
    return "、".join(bulletin.data.get(key, []))


# --------------------------------------------------------------------------------------------
# Leader dashboard (/dashboard/, any month)
# --------------------------------------------------------------------------------------------


@login_required
def dashboard(request):
    """领导驾驶舱 for ``?month=YYYY-MM`` (default: the current month). Centre roles only; a bad
    month is answered with the picker and a Chinese message (400), nothing computed."""
    from django.utils import timezone

    from tickets.periods import month_choice, period_of
    from tickets.permissions import MANAGEMENT_READ_ROLES, has_role

    from .dashboard import dashboard_stats_cached

    if not has_role(request.user, MANAGEMENT_READ_ROLES):
        raise DjangoPermissionDenied("您的角色不能查看领导驾驶舱。")
    today = timezone.localdate()
    context = {"max_period": period_of(today), "chosen": request.GET.get("month", "")}
    try:
        month = month_choice(request.GET.get("month"), today=today)
    except ApplicationError as exc:
        context["error"] = exc.message
        return render(request, "reports/dashboard.html", context, status=400)
    context["stats"] = dashboard_stats_cached(month=month)
    context["chosen"] = period_of(month)
    return render(request, "reports/dashboard.html", context)
