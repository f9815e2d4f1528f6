"""One role table for bulletin pages and API (issue 11 item 7), and the publication day: the beat
job publishes the built bulletin on its day unless an editor holds it; the public files are
rendered once per published version and served from storage (issue 12 item 9)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from assessment.models import ChangeKind, ChangeRecord
from reports import renderers, services, tasks
from reports.models import Bulletin, BulletinFile
from tickets import permissions

MONTH = dt.date(2024, 4, 1)
TZ = timezone.get_default_timezone()
ROLES = ["operator", "dispatcher", "unit_handler", "assessor", "editor", "leader", "admin", "anonymous"]


@pytest.fixture
def draft(directory):
    return services.bulletin_build(month=MONTH)


def _user(personas, role):
    return None if role == "anonymous" else personas[role]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_draft_bulletin_same_rule_on_page_and_api(client, personas, draft, role):
    # given a draft and a user of each role
    user = _user(personas, role)
    api = APIClient()
    if user is not None:
        client.force_login(user)
        api.force_authenticate(user)
    # when both the editor's page and the API are asked for the draft
    page = client.get("/reports/bulletins/2024-04/edit/")
    response = api.get("/api/bulletins/2024-04/")
    # then the page opens exactly when the API shows the draft; both follow the one role table
    allowed = user is not None and user.role in permissions.BULLETIN_DRAFT_ROLES
    assert (page.status_code == 200) is allowed
    assert (response.status_code == 200) is allowed
    if not allowed:
        assert response.status_code == 404 and page.status_code in (302, 403)
    if role == "leader":
        assert not allowed


def test_reports_services_and_privacy_use_the_role_table():
    from reports import apis, views
    from tickets import privacy

    assert services.BUILD_ROLES is permissions.BULLETIN_BUILD_ROLES
    assert services.EDIT_ROLES is permissions.BULLETIN_EDIT_ROLES
    assert apis.BULLETIN_DRAFT_ROLES is permissions.BULLETIN_DRAFT_ROLES
    # the pages ask the one predicate the menu asks too, and it answers from the same set
    from types import SimpleNamespace

    assert views.services is services
    for role in permissions.Role.values:
        user = SimpleNamespace(is_authenticated=True, is_active=True, role=role)
        assert services.may_manage_bulletins(user) == (role in permissions.BULLETIN_DRAFT_ROLES), role
    assert privacy.FULL_CALLER_ROLES is permissions.FULL_CALLER_ROLES


# --------------------------------------------------------------------------------------------
# Publication day and hold
# --------------------------------------------------------------------------------------------


def test_beat_schedule_runs_the_publish_job_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["reports-bulletin-publish-due"]
    assert entry["task"] == "reports.tasks.bulletin_publish_due_task"
    assert tasks.bulletin_publish_due_task.name == entry["task"]


@pytest.mark.django_db
def test_build_sets_the_publication_day_from_the_setting(directory, settings):
    settings.HOTLINE_BULLETIN_PUBLISH_DAY = 12
    bulletin = services.bulletin_build(month=MONTH)
    assert bulletin.publish_on == dt.date(2024, 5, 12)


@pytest.mark.django_db
def test_beat_job_publishes_on_its_day_and_not_before(directory, settings):
    settings.HOTLINE_BULLETIN_PUBLISH_DAY = 10
    with time_machine.travel(dt.datetime(2024, 5, 2, 6, 0, tzinfo=TZ), tick=False):
        services.bulletin_build(month=MONTH)
    with time_machine.travel(dt.datetime(2024, 5, 9, 23, 0, tzinfo=TZ), tick=False):
        assert tasks.bulletin_publish_due_task() == []
    assert not Bulletin.objects.get().is_published
    with time_machine.travel(dt.datetime(2024, 5, 10, 8, 0, tzinfo=TZ), tick=False):
        assert tasks.bulletin_publish_due_task() == ["2024-04"]
    bulletin = Bulletin.objects.get()
    assert bulletin.is_published and bulletin.issue_date == dt.date(2024, 5, 10)
    assert bulletin.published_by is None and bulletin.version == 1
    record = ChangeRecord.objects.get(kind=ChangeKind.BULLETIN_PUBLISH)
    assert record.actor is None and "发布日" in record.reason


@pytest.mark.django_db
def test_beat_job_leaves_a_held_bulletin_until_released(directory, editor, settings):
    settings.HOTLINE_BULLETIN_PUBLISH_DAY = 10
    bulletin = services.bulletin_build(month=MONTH)
    services.bulletin_hold(bulletin=bulletin, actor=editor, reason="等待领导审定")
    with time_machine.travel(dt.datetime(2024, 5, 11, 8, 0, tzinfo=TZ), tick=False):
        assert tasks.bulletin_publish_due_task() == []
    assert not Bulletin.objects.get().is_published
    services.bulletin_unhold(bulletin=bulletin, actor=editor, reason="已审定")
    with time_machine.travel(dt.datetime(2024, 5, 11, 8, 0, tzinfo=TZ), tick=False):
        assert tasks.bulletin_publish_due_task() == ["2024-04"]
    assert [r.kind for r in ChangeRecord.objects.filter(month=MONTH).order_by("id")] == [
        ChangeKind.BULLETIN_BUILD, ChangeKind.BULLETIN_HOLD, ChangeKind.BULLETIN_UNHOLD,
        ChangeKind.BULLETIN_PUBLISH]
    hold = ChangeRecord.objects.get(kind=ChangeKind.BULLETIN_HOLD)
    assert hold.actor == editor and hold.reason == "等待领导审定"


@pytest.mark.django_db
def test_a_withdrawn_issue_is_not_republished_by_the_job(directory, editor, settings):
    settings.HOTLINE_BULLETIN_PUBLISH_DAY = 10
    bulletin = services.bulletin_build(month=MONTH)
    with time_machine.travel(dt.datetime(2024, 5, 10, 8, 0, tzinfo=TZ), tick=False):
        assert tasks.bulletin_publish_due_task() == ["2024-04"]
    services.bulletin_unpublish(bulletin=bulletin, actor=editor, reason="更正数据")
    with time_machine.travel(dt.datetime(2024, 5, 11, 8, 0, tzinfo=TZ), tick=False):
        assert tasks.bulletin_publish_due_task() == []
    assert not Bulletin.objects.get().is_published and Bulletin.objects.get().held


@pytest.mark.django_db
def test_hold_and_schedule_need_an_editor_and_a_reason(directory, personas):
    bulletin = services.bulletin_build(month=MONTH)
    for role in ("operator", "dispatcher", "unit_handler", "assessor", "leader"):
        with pytest.raises(services.PermissionDenied):
            services.bulletin_hold(bulletin=bulletin, actor=personas[role], reason="x")
        with pytest.raises(services.PermissionDenied):
            services.bulletin_schedule(bulletin=bulletin, actor=personas[role], publish_on=dt.date(2024, 5, 20))
    with pytest.raises(services.InvalidInput):
        services.bulletin_hold(bulletin=bulletin, actor=personas["editor"], reason="")
    assert not Bulletin.objects.get().held
    services.bulletin_schedule(bulletin=bulletin, actor=personas["editor"], publish_on=dt.date(2024, 5, 20))
    assert Bulletin.objects.get().publish_on == dt.date(2024, 5, 20)
    record = ChangeRecord.objects.get(kind=ChangeKind.BULLETIN_SCHEDULE)
    assert record.before == {"publish_on": "2024-05-10"} and record.after == {"publish_on": "2024-05-20"}


@pytest.mark.django_db
def test_editor_page_holds_and_sets_the_day(client, directory, editor, leader):
    services.bulletin_build(month=MONTH)
    client.force_login(editor)
    url = "/reports/bulletins/2024-04/edit/"
    client.post(url, {"action": "schedule", "publish_on": "2024-05-15"})
    client.post(url, {"action": "hold", "reason": "等待审定"})
    bulletin = Bulletin.objects.get()
    assert bulletin.publish_on == dt.date(2024, 5, 15) and bulletin.held
    html = client.get(url).content.decode()
    assert "暂缓发布" in html and "2024-05-15" in html
    bad = client.post(url, {"action": "schedule", "publish_on": "明天"}, follow=True)
    assert "日期" in bad.content.decode() and Bulletin.objects.get().publish_on == dt.date(2024, 5, 15)
    client.force_login(leader)
    assert client.post(url, {"action": "unhold", "reason": "x"}).status_code == 403
    assert Bulletin.objects.get().held


# --------------------------------------------------------------------------------------------
# Public files rendered once per published version
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_public_files_rendered_once_per_published_version(client, directory, editor, settings, tmp_path,
                                                          monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    calls = {"docx": 0, "xlsx": 0}
    real_docx, real_xlsx = renderers.render_docx, renderers.render_xlsx

    def docx(data):
        calls["docx"] += 1
        return real_docx(data)

    def xlsx(data):
        calls["xlsx"] += 1
        return real_xlsx(data)

    monkeypatch.setattr(renderers, "render_docx", docx)
    monkeypatch.setattr(renderers, "render_xlsx", xlsx)
    bulletin = services.bulletin_build(month=MONTH)
    services.bulletin_publish(bulletin=bulletin, actor=editor)
    # when anonymous visitors download three times
    bodies = [client.get("/bulletins/2024-04/docx/").content for _ in range(3)]
    xlsx_bodies = [client.get("/bulletins/2024-04/xlsx/").content for _ in range(2)]
    # then each file was rendered once, stored, and served the same
    assert calls == {"docx": 1, "xlsx": 1}
    assert len(set(bodies)) == 1 and bodies[0][:2] == b"PK" and len(set(xlsx_bodies)) == 1
    stored = BulletinFile.objects.get(bulletin=bulletin, kind="docx")
    assert stored.version == 1 and (tmp_path / "media" / stored.file.name).exists()
    # a new published version (withdrawn, corrected, published again) is rendered anew, once
    services.bulletin_unpublish(bulletin=bulletin, actor=editor, reason="更正")
    assert client.get("/bulletins/2024-04/docx/").status_code == 404
    services.bulletin_update(bulletin=bulletin, actor=editor, sections={"work": "更正后的文字"})
    services.bulletin_publish(bulletin=bulletin, actor=editor)
    for _ in range(2):
        response = client.get("/bulletins/2024-04/docx/")
        assert response.status_code == 200
    assert calls["docx"] == 2
    assert BulletinFile.objects.filter(bulletin=bulletin, kind="docx").count() == 2
    assert response["Content-Disposition"] == 'attachment; filename="bulletin-2024-04.docx"'


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_schedule_and_hold_api_per_role(personas, draft, role):
    user = _user(personas, role)
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    # when the user moves the day and holds the draft
    response = api.post("/api/bulletins/2024-04/schedule/",
                        {"publish_on": "2024-05-20", "held": True, "reason": "等待审定"}, format="json")
    bulletin = Bulletin.objects.get()
    # then only editors and admins change it; assessors (who may build) get 403, others do not see it
    if role in ("editor", "admin"):
        assert response.status_code == 200 and response.json()["held"] is True
        assert bulletin.held and bulletin.publish_on == dt.date(2024, 5, 20)
        assert ChangeRecord.objects.filter(kind__in=[ChangeKind.BULLETIN_SCHEDULE, ChangeKind.BULLETIN_HOLD]).count() == 2
    else:
        expected = 403 if role == "assessor" else (401 if role == "anonymous" else 404)
        assert response.status_code in ((401, 403) if role == "anonymous" else (expected,))
        assert not bulletin.held and bulletin.publish_on == dt.date(2024, 5, 10)
        assert not ChangeRecord.objects.filter(kind=ChangeKind.BULLETIN_HOLD).exists()


@pytest.mark.django_db
def test_schedule_api_refuses_bad_input_and_writes_nothing(editor, draft):
    api = APIClient()
    api.force_authenticate(editor)
    hold_without_reason = api.post("/api/bulletins/2024-04/schedule/", {"publish_on": "2024-05-20", "held": True},
                                   format="json")
    assert hold_without_reason.status_code == 400 and hold_without_reason.json()["code"]
    bad_date = api.post("/api/bulletins/2024-04/schedule/", {"publish_on": "明天"}, format="json")
    assert bad_date.status_code == 400
    nothing = api.post("/api/bulletins/2024-04/schedule/", {}, format="json")
    assert nothing.status_code == 400
    bulletin = Bulletin.objects.get()
    assert bulletin.publish_on == dt.date(2024, 5, 10) and not bulletin.held
    assert not ChangeRecord.objects.exclude(kind=ChangeKind.BULLETIN_BUILD).exists()
