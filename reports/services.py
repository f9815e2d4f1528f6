"""Every write to bulletins: build (or rebuild) a draft, edit its text and date, override the
good/poor units, set its publication day, hold it, publish and withdraw it — each recorded in the
change trail (``assessment.trail``) in the same transaction — and store its public files once per
published version."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from assessment import trail
from assessment.models import ChangeKind
from tickets.exceptions import Conflict, InvalidInput, PermissionDenied
from tickets.permissions import BULLETIN_BUILD_ROLES, BULLETIN_DRAFT_ROLES, BULLETIN_EDIT_ROLES, has_role

from . import renderers, selectors
from .models import Bulletin, BulletinFile, BulletinOverride, BulletinStatus

EDIT_ROLES = BULLETIN_EDIT_ROLES
BUILD_ROLES = BULLETIN_BUILD_ROLES


def may_manage_bulletins(user) -> bool:
    """The bulletin pages (list, build, edit): those who build or edit (views and the menu)."""
    return has_role(user, BULLETIN_DRAFT_ROLES)

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
    """``actor=None`` is the system (beat jobs, commands)."""
    if actor is not None and not has_role(actor, roles):
        raise PermissionDenied()


def _record(bulletin: Bulletin, kind: str, actor, *, reason: str = "", before=None, after=None) -> None:
    trail.record(kind=kind, month=bulletin.month, actor=actor, target=f"{bulletin.period} {bulletin.title}",
                 reason=reason, before=before, after=after)


def publication_day(month: dt.date) -> dt.date:
    """The default publication day of ``month``'s issue: HOTLINE_BULLETIN_PUBLISH_DAY of the next
    month (clamped to 1–28)."""
    nxt = selectors.month_next(month)
    day = min(max(int(settings.HOTLINE_BULLETIN_PUBLISH_DAY), 1), 28)
    return nxt.replace(day=day)


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
    if bulletin.publish_on is None:
        bulletin.publish_on = publication_day(month)
    bulletin.full_clean()
    bulletin.save()
    _record(bulletin, ChangeKind.BULLETIN_BUILD, actor, after={
        "built_at": bulletin.built_at, "good_units": data.get("good_units", []),
        "poor_units": data.get("poor_units", []), "stationing_incomplete": data.get("stationing_incomplete", []),
    })
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
    old = {"sections": dict(bulletin.sections or {}), "issue_date": bulletin.issue_date, "title": bulletin.title,
           "office": bulletin.office}
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
    new = {"sections": bulletin.sections, "issue_date": bulletin.issue_date, "title": bulletin.title,
           "office": bulletin.office}
    before, after = {}, {}
    for key in new:
        if key == "sections":
            changed = [k for k in new["sections"] if new["sections"].get(k) != old["sections"].get(k, "")]
            if changed:
                before["sections"] = {k: old["sections"].get(k, "") for k in changed}
                after["sections"] = {k: new["sections"][k] for k in changed}
        elif new[key] != old[key]:
            before[key], after[key] = old[key], new[key]
    if after:
        _record(bulletin, ChangeKind.BULLETIN_EDIT, actor, before=before, after=after)
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
    key = "good_units" if kind == "good" else "poor_units"
    _record(bulletin, ChangeKind.BULLETIN_OVERRIDE, actor, reason=reason.strip(), before={key: before},
            after={key: full_names})
    return bulletin


@transaction.atomic
def bulletin_publish(*, bulletin: Bulletin, actor, reason: str = "") -> Bulletin:
    """Publish the draft (a new published version); ``actor=None`` is the beat job on the day."""
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
    bulletin.held = False
    bulletin.version += 1
    bulletin.save()
    _record(bulletin, ChangeKind.BULLETIN_PUBLISH, actor, reason=reason, before={"status": BulletinStatus.DRAFT},
            after={"status": BulletinStatus.PUBLISHED, "version": bulletin.version,
                   "issue_date": bulletin.issue_date})
    return bulletin


@transaction.atomic
def bulletin_unpublish(*, bulletin: Bulletin, actor, reason: str = "") -> Bulletin:
    """Withdraw a published issue back to draft (to correct it). The draft comes back held, so that
    the beat job does not publish it again uncorrected the next morning (its day has passed): the
    editor publishes it, or releases the hold. Recorded; the withdrawn version's files stay in
    storage but are no longer served."""
    _check_role(actor, EDIT_ROLES)
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if not bulletin.is_published:
        raise Conflict("该期简报尚未发布。", code="bulletin_not_published")
    bulletin.status = BulletinStatus.DRAFT
    bulletin.published_at = None
    bulletin.held = True
    bulletin.save(update_fields=["status", "published_at", "held", "updated_at"])
    _record(bulletin, ChangeKind.BULLETIN_UNPUBLISH, actor, reason=reason,
            before={"status": BulletinStatus.PUBLISHED}, after={"status": BulletinStatus.DRAFT, "held": True})
    return bulletin


def _draft_for_update(bulletin: Bulletin) -> Bulletin:
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if bulletin.is_published:
        raise BulletinPublished()
    return bulletin


@transaction.atomic
def bulletin_schedule(*, bulletin: Bulletin, actor, publish_on: dt.date, reason: str = "") -> Bulletin:
    """Move the day on which the beat job publishes this draft."""
    _check_role(actor, EDIT_ROLES)
    if not isinstance(publish_on, dt.date):
        raise InvalidInput("请填写计划发布日期。", fields={"publish_on": ["日期格式应为 YYYY-MM-DD。"]})
    bulletin = _draft_for_update(bulletin)
    before = bulletin.publish_on
    if before == publish_on:
        return bulletin
    bulletin.publish_on = publish_on
    bulletin.save(update_fields=["publish_on", "updated_at"])
    _record(bulletin, ChangeKind.BULLETIN_SCHEDULE, actor, reason=reason, before={"publish_on": before},
            after={"publish_on": publish_on})
    return bulletin


def _set_held(bulletin: Bulletin, *, actor, held: bool, reason: str) -> Bulletin:
    _check_role(actor, EDIT_ROLES)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写理由。", fields={"reason": ["请填写理由。"]})
    bulletin = _draft_for_update(bulletin)
    if bulletin.held == held:
        return bulletin
    bulletin.held = held
    bulletin.save(update_fields=["held", "updated_at"])
    _record(bulletin, ChangeKind.BULLETIN_HOLD if held else ChangeKind.BULLETIN_UNHOLD, actor, reason=reason,
            before={"held": not held}, after={"held": held})
    return bulletin


@transaction.atomic
def bulletin_hold(*, bulletin: Bulletin, actor, reason: str) -> Bulletin:
    """Hold the draft: the beat job does not publish it on its day (an editor still may)."""
    return _set_held(bulletin, actor=actor, held=True, reason=reason)


@transaction.atomic
def bulletin_unhold(*, bulletin: Bulletin, actor, reason: str) -> Bulletin:
    """Release a held draft: published by the beat job on (or after) its day."""
    return _set_held(bulletin, actor=actor, held=False, reason=reason)


def bulletin_publish_due(*, today: dt.date | None = None) -> list[str]:
    """Publish every built, not held draft whose publication day has come (the beat job). Each in
    its own transaction; returns the periods published."""
    today = today or timezone.localdate()
    published = []
    due = Bulletin.objects.filter(status=BulletinStatus.DRAFT, held=False, built_at__isnull=False,
                                  publish_on__lte=today).order_by("month")
    for bulletin in due:
        try:
            bulletin_publish(bulletin=bulletin, actor=None,
                             reason=f"按计划发布日（{bulletin.publish_on:%Y-%m-%d}）自动发布")
        except (BulletinPublished, InvalidInput):
            continue
        published.append(bulletin.period)
    return published


# The public files: kind → (renderer name in ``renderers``, file name pattern).
FILE_RENDERERS = {
    BulletinFile.Kind.PDF: ("render_pdf", "bulletin-{period}.pdf"),
    BulletinFile.Kind.DOCX: ("render_docx", "bulletin-{period}.docx"),
    BulletinFile.Kind.XLSX: ("render_xlsx", "bulletin-{period}-assessment.xlsx"),
}


def bulletin_file(*, bulletin: Bulletin, kind: str) -> BulletinFile:
    """The stored public file of the current published version, rendered and stored the first time
    it is asked for (later requests read it from storage). Raises what the renderer raises (the PDF
    renderer without its system libraries)."""
    if not bulletin.is_published:
        raise Conflict("该期简报尚未发布。", code="bulletin_not_published")
    stored = BulletinFile.objects.filter(bulletin=bulletin, version=bulletin.version, kind=kind).first()
    if stored is not None and stored.file.storage.exists(stored.file.name):
        return stored
    render_name, pattern = FILE_RENDERERS[kind]
    content = getattr(renderers, render_name)(bulletin.as_json())
    filename = pattern.format(period=bulletin.period)
    try:
        with transaction.atomic():
            if stored is not None:  # the row survived its file (storage wiped): store it again
                stored.file.save(filename, ContentFile(content), save=True)
                return stored
            stored = BulletinFile(bulletin=bulletin, version=bulletin.version, kind=kind)
            stored.file.save(filename, ContentFile(content), save=False)
            stored.save()
    except IntegrityError:  # a concurrent first request stored it meanwhile
        stored.file.delete(save=False)
        return BulletinFile.objects.get(bulletin=bulletin, version=bulletin.version, kind=kind)
    return stored
