"""Building, editing, overriding and publishing a bulletin."""

import datetime as dt

import pytest

from reports import services
from reports.models import Bulletin, BulletinOverride
from tickets.exceptions import InvalidInput, PermissionDenied

APRIL = dt.date(2024, 4, 1)


@pytest.mark.django_db
def test_build_is_safe_to_run_again_and_keeps_the_editors_text(directory, editor):
    # given a built draft whose hot issues the editor wrote
    bulletin = services.bulletin_build(month=APRIL)
    services.bulletin_update(bulletin=bulletin, actor=editor, sections={"hot_issues": "**1、停水问题。**主要反映……"})
    # when it is built again
    again = services.bulletin_build(month=APRIL)
    # then one bulletin, the editor's section kept, the others still suggestions
    assert Bulletin.objects.count() == 1 and again.pk == bulletin.pk
    assert again.sections["hot_issues"] == "**1、停水问题。**主要反映……"
    assert again.edited_sections == ["hot_issues"]
    assert again.number_total == 280 and again.title.endswith("四月份工作简报")


@pytest.mark.django_db
def test_published_bulletin_is_not_rebuilt_or_edited(directory, editor):
    # given a published bulletin
    bulletin = services.bulletin_publish(bulletin=services.bulletin_build(month=APRIL), actor=editor)
    # when / then
    with pytest.raises(services.BulletinPublished):
        services.bulletin_build(month=APRIL)
    with pytest.raises(services.BulletinPublished):
        services.bulletin_update(bulletin=bulletin, actor=editor, sections={"work": "x"})
    assert bulletin.published_at and bulletin.published_by == editor and bulletin.issue_date


@pytest.mark.django_db
def test_override_of_good_units_is_recorded_with_author(directory, editor):
    # given a draft
    bulletin = services.bulletin_build(month=APRIL)
    # when the editor overrides the good units by short name
    bulletin = services.bulletin_override_units(
        bulletin=bulletin, kind="good", units=["纸坊镇", "自来水公司"], reason="领导审定", actor=editor
    )
    # then the full names are printed and the change is recorded
    assert bulletin.as_json()["good_units"] == ["纸坊镇人民政府", "自来水公司"]
    record = BulletinOverride.objects.get()
    assert (record.kind, record.after, record.author, record.reason) == (
        "good", ["纸坊镇人民政府", "自来水公司"], editor, "领导审定")


@pytest.mark.django_db
def test_override_needs_a_reason_and_known_units(directory, editor):
    bulletin = services.bulletin_build(month=APRIL)
    with pytest.raises(InvalidInput):
        services.bulletin_override_units(bulletin=bulletin, kind="poor", units=["纸坊镇"], reason="", actor=editor)
    with pytest.raises(InvalidInput):
        services.bulletin_override_units(bulletin=bulletin, kind="poor", units=["不存在局"], reason="x", actor=editor)
    assert not BulletinOverride.objects.exists()


@pytest.mark.django_db
def test_only_editors_edit_and_publish(directory, operator, unit_handler):
    bulletin = services.bulletin_build(month=APRIL)
    for user in (operator, unit_handler):
        with pytest.raises(PermissionDenied):
            services.bulletin_update(bulletin=bulletin, actor=user, sections={"work": "x"})
        with pytest.raises(PermissionDenied):
            services.bulletin_publish(bulletin=bulletin, actor=user)


@pytest.mark.django_db
def test_unknown_section_is_refused(directory, editor):
    bulletin = services.bulletin_build(month=APRIL)
    with pytest.raises(InvalidInput):
        services.bulletin_update(bulletin=bulletin, actor=editor, sections={"secret": "x"})


@pytest.mark.django_db
def test_build_task_and_command(directory, capsys):
    # given nothing built / when the task and the command run
    import json

    from django.core.management import call_command

    from reports.tasks import bulletin_build_task

    assert bulletin_build_task("2024-04") == "2024-04"
    assert bulletin_build_task("2024-04") == "2024-04"  # safe to run again
    assert Bulletin.objects.filter(period="2024-04").count() == 1
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["reports-bulletin-build"]
    assert entry["task"] == "reports.tasks.bulletin_build_previous_month_task"
    call_command("build_bulletin", "2024-04", "--json")
    # then the command printed the JSON of exchange.md
    data = json.loads(capsys.readouterr().out)
    assert data["period"] == "2024-04" and data["issue"]["number_total"] == 280
    assert set(data) >= {"calls", "tickets", "appeal_types", "hot_topics", "assessment", "good_units",
                         "poor_units", "stationing_incomplete", "sections"}


@pytest.mark.django_db
def test_build_command_rejects_a_bad_period(directory):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("build_bulletin", "2024-13")
