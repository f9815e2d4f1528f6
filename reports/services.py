"""Every write to bulletins: build (or rebuild) a draft, edit its text and date, override the
good/poor units (recorded), publish."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tickets.exceptions import Conflict, InvalidInput, PermissionDenied
from tickets.models import Role

from . import selectors
from .models import Bulletin, BulletinOverride, BulletinStatus

EDIT_ROLES = frozenset({Role.EDITOR, Role.ADMIN})
BUILD_ROLES = frozenset({Role.EDITOR, Role.ASSESSOR, Role.ADMIN})


def may_manage_bulletins(user) -> bool:
    """The bulletin pages (list, build, edit): those who build or edit (views and the menu)."""
    return bool(user and user.is_authenticated and user.is_active and user.role in EDIT_ROLES | BUILD_ROLES)

# The narrative sections, in print order: key → heading (numbered after 一 工作概况, 二 数据分析).
SECTIONS = [
    ("hot_issues", "热点难点问题"),
    ("typical_cases", "典型案例"),
    ("work", "业务工作"),
    ("stationing", "派驻工作"),
]
SECTION_KEYS = [key for key, _ in SECTIONS]
EXTRA_KEY = "extra"  # further sections: [{"title": ..., "text": ...}]


class BulletinPublished(Conflict):
    code = "bulletin_published"
    default_message = "该期简报已发布，不能再修改或重新生成。"


def _check_role(actor, roles) -> None:
    if actor is not None and not (actor.is_authenticated and actor.role in roles):
        raise PermissionDenied()


def suggested_sections(*, month: dt.date, data: dict) -> dict:
    """The system's first text for every section, from the built figures (no text mining here,
    so that building stays a handful of aggregate queries)."""
    rows = data.get("hot_topics", {}).get("rows", [])[:6]
    hot = "".join(
        f"**{i}、{row['name'].split('—')[-1]}问题。**本月共{row['count']}件，占{row['percent']}%。"
        for i, row in enumerate(rows, start=1)
    )
    cases = selectors.typical_case_candidates(month=month, limit=2)
    typical = "\n".join(f"{c['unit']}在处理“{c['title']}”问题时，{c['reply']}" for c in cases)
    incomplete = data.get("stationing_incomplete", [])
    if incomplete:
        stationing = f"{'、'.join(incomplete)}未按规定完成人员派驻工作，特此通报。"
    else:
        stationing = "各需派驻单位均按规定完成人员派驻工作。"
    return {"hot_issues": hot, "typical_cases": typical, "work": "", "stationing": stationing}


@transaction.atomic
def bulletin_build(*, month: dt.date, actor=None) -> Bulletin:
    """Build (or rebuild) the month's draft from the data; safe to run again. Keeps the editor's
    text, date and overrides; refuses a published bulletin."""
    _check_role(actor, BUILD_ROLES)
    month = month.replace(day=1)
    period = selectors.period_of(month)
    bulletin = Bulletin.objects.select_for_update().filter(period=period).first()
    if bulletin and bulletin.is_published:
        raise BulletinPublished()
    data = selectors.bulletin_statistics(month=month)
    number_in_year, number_total = selectors.bulletin_issue_numbers(month)
    if bulletin is None:
        bulletin = Bulletin(period=period, month=month, office=settings.HOTLINE_BULLETIN_OFFICE)
    bulletin.title = selectors.bulletin_title(month)
    bulletin.number_in_year, bulletin.number_total = number_in_year, number_total
    bulletin.data = data
    suggestions = suggested_sections(month=month, data=data)
    sections = dict(bulletin.sections or {})
    for key in SECTION_KEYS:
        if key not in bulletin.edited_sections:
            sections[key] = suggestions[key]
    sections.setdefault(EXTRA_KEY, [])
    bulletin.sections = sections
    bulletin.built_at = timezone.now()
    bulletin.full_clean()
    bulletin.save()
    return bulletin


@transaction.atomic
def bulletin_update(
    *,
    bulletin: Bulletin,
    actor,
    sections: dict | None = None,
    issue_date: dt.date | None = None,
    title: str | None = None,
    office: str | None = None,
) -> Bulletin:
    """The editor writes sections (only those given change) and the issuing date."""
    _check_role(actor, EDIT_ROLES)
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if bulletin.is_published:
        raise BulletinPublished()
    new_sections = dict(bulletin.sections or {})
    edited = list(bulletin.edited_sections or [])
    for key, value in (sections or {}).items():
        if key == EXTRA_KEY:
            if not isinstance(value, list) or not all(
                isinstance(x, dict) and str(x.get("title", "")).strip() for x in value
            ):
                raise InvalidInput(fields={"sections": ["其他章节须为带标题的列表。"]})
            new_sections[key] = [{"title": str(x["title"]).strip(), "text": str(x.get("text", ""))} for x in value]
            continue
        if key not in SECTION_KEYS:
            raise InvalidInput(fields={"sections": [f"未知章节：{key}"]})
        if not isinstance(value, str) or len(value) > 20000:
            raise InvalidInput(fields={key: ["正文须为不超过20000字的文本。"]})
        new_sections[key] = value.replace("\r\n", "\n").strip()
        if key not in edited:
            edited.append(key)
    bulletin.sections = new_sections
    bulletin.edited_sections = edited
    if issue_date is not None:
        bulletin.issue_date = issue_date
    if title:
        bulletin.title = title.strip()
    if office:
        bulletin.office = office.strip()
    bulletin.full_clean()
    bulletin.save()
    return bulletin


@transaction.atomic
def bulletin_override_units(*, bulletin: Bulletin, kind: str, units: list[str], reason: str, actor) -> Bulletin:
    """Replace the good (``kind="good"``) or poor units; the change is recorded with its author.
    ``units`` are full or short names of known units; stored as full names."""
    _check_role(actor, EDIT_ROLES)
    if kind not in BulletinOverride.Kind.values:
        raise InvalidInput(fields={"kind": ["应为 good 或 poor。"]})
    if not (reason or "").strip():
        raise InvalidInput(fields={"reason": ["请填写调整理由。"]})
    from tickets.models import Unit

    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if bulletin.is_published:
        raise BulletinPublished()
    full_names = []
    for name in units:
        name = name.strip()
        if not name:
            continue
        unit = Unit.objects.filter(name=name).first() or Unit.objects.filter(short_name=name).first()
        if unit is None:
            raise InvalidInput(fields={"units": [f"未知单位：{name}"]})
        full_names.append(unit.name)
    before = bulletin.good_units if kind == "good" else bulletin.poor_units
    if kind == "good":
        bulletin.good_units_override = full_names
    else:
        bulletin.poor_units_override = full_names
    bulletin.save(update_fields=["good_units_override", "poor_units_override", "updated_at"])
    BulletinOverride.objects.create(
        bulletin=bulletin, kind=kind, before=before, after=full_names, reason=reason.strip(), author=actor
    )
    return bulletin


@transaction.atomic
def bulletin_publish(*, bulletin: Bulletin, actor) -> Bulletin:
    _check_role(actor, EDIT_ROLES)
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if bulletin.is_published:
        raise BulletinPublished("该期简报已发布。")
    if not bulletin.data:
        raise InvalidInput("简报尚未生成数据。")
    if bulletin.issue_date is None:
        bulletin.issue_date = timezone.localdate()
    bulletin.status = BulletinStatus.PUBLISHED
    bulletin.published_at = timezone.now()
    bulletin.published_by = actor
    bulletin.save()
    return bulletin


@transaction.atomic
def bulletin_unpublish(*, bulletin: Bulletin, actor) -> Bulletin:
    """Withdraw a published issue back to draft (to correct it)."""
    _check_role(actor, EDIT_ROLES)
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    bulletin.status = BulletinStatus.DRAFT
    bulletin.published_at = None
    bulletin.save(update_fields=["status", "published_at", "updated_at"])
    return bulletin
