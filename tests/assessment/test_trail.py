"""Scores and bulletins are reproducible from their own records, and every change that can move a
score or a bulletin leaves an append-only trail (issue 11, items 5 and 6)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from assessment import services
from assessment.models import Adjustment, ChangeKind, ChangeRecord, UnitScore
from assessment.services import adjustment_create, assessment_compute, ruleset_create, stationing_set
from reports import services as bulletins
from tickets.models import CallbackResult, Unit
from tickets.permissions import MANAGEMENT_READ_ROLES

from .conftest import APRIL, EVAL_APRIL

pytestmark = pytest.mark.django_db
MONTH = date(2024, 4, 1)


@pytest.fixture
def april(make_tickets, unit_a, unit_b):
    """自来水公司 must station staff and has not (−5 frozen in its score); 供电公司 has."""
    water = Unit.objects.get(short_name="自来水公司")
    make_tickets(unit_a, 10)
    make_tickets(unit_b, 9)
    make_tickets(water, 9, callback_result=CallbackResult.SATISFIED, callback_resolved=True)
    stationing_set(unit=unit_b, month=MONTH, complete=True, actor=None)
    return water


def kinds(month=MONTH) -> list[str]:
    return list(ChangeRecord.objects.filter(month=month).order_by("id").values_list("kind", flat=True))


# --------------------------------------------------------------------------------------------
# Item 5: the bulletin's 派驻 list is frozen with the scores
# --------------------------------------------------------------------------------------------


def test_bulletin_stationing_list_agrees_with_frozen_scores_after_stationing_edits(april, unit_b, assessor):
    # given the month computed: 自来水公司 lost 5 points for its stationing, 供电公司 did not
    water = april
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    old_name = water.name
    # when stationing is edited afterwards and the unit renamed, then the bulletin is built
    stationing_set(unit=water, month=MONTH, complete=True, actor=assessor)
    stationing_set(unit=unit_b, month=MONTH, complete=False, actor=assessor)
    Unit.objects.filter(pk=water.pk).update(name="汝州市供水有限公司")
    bulletin = bulletins.bulletin_build(month=MONTH)
    # then the 派驻 list is the one the scores were computed with, under the month's names
    frozen = [s.unit_name for s in UnitScore.objects.filter(month=MONTH, stationing_deduction__gt=0)]
    assert old_name in frozen and unit_b.name not in frozen
    assert bulletin.data["stationing_incomplete"] == [n for n in bulletin.data["stationing_incomplete"]
                                                      if n in frozen]
    assert old_name in bulletin.data["stationing_incomplete"]
    assert unit_b.name not in bulletin.data["stationing_incomplete"]
    assert "汝州市供水有限公司" not in bulletin.data["stationing_incomplete"]
    assert old_name in bulletin.sections["stationing"]


def test_month_page_shows_the_frozen_stationing_list(client, april, unit_b, assessor):
    water = april
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    stationing_set(unit=water, month=MONTH, complete=True, actor=assessor)
    client.force_login(assessor)
    html = client.get("/assessment/2024-04/").content.decode()
    listed = html.split("未按规定完成人员派驻：")[1].split("</p>")[0]
    assert water.name in listed and unit_b.name not in listed


# --------------------------------------------------------------------------------------------
# Item 6: the trail
# --------------------------------------------------------------------------------------------


def test_adjustment_is_reversed_by_a_new_record_never_deleted(unit_a, assessor, make_tickets):
    # given an adjustment
    make_tickets(unit_a, 9, replied_at=APRIL + timedelta(days=30))
    adjustment = adjustment_create(unit=unit_a, month=MONTH, points="-2", reason="推诿", actor=assessor)
    # when it is reversed
    reversal = services.adjustment_reverse(adjustment=adjustment, reason="核实后撤销", actor=assessor)
    run = assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    # then both rows stay, the sum is nil, and the trail says who and why
    assert Adjustment.objects.count() == 2
    assert reversal.reverses_id == adjustment.pk and reversal.points == Decimal("2")
    assert run.scores.get(unit=unit_a).adjustments == 0
    record = ChangeRecord.objects.get(kind=ChangeKind.ADJUSTMENT_REVERSE)
    assert record.actor == assessor and record.reason == "核实后撤销"
    assert record.before["points"] == "-2.00" and record.after["points"] == "2.00"
    # and a reversal cannot be reversed again, nor the original twice
    with pytest.raises(services.Conflict):
        services.adjustment_reverse(adjustment=adjustment, reason="再撤一次", actor=assessor)
    with pytest.raises(services.Conflict):
        services.adjustment_reverse(adjustment=reversal, reason="撤销冲销", actor=assessor)
    assert Adjustment.objects.count() == 2
    # and an adjustment refuses deletion
    with pytest.raises(PermissionError):
        adjustment.delete()


def test_adjustment_reverse_needs_a_reason(unit_a, assessor):
    adjustment = adjustment_create(unit=unit_a, month=MONTH, points="1", reason="表扬", actor=assessor)
    with pytest.raises(services.InvalidInput):
        services.adjustment_reverse(adjustment=adjustment, reason=" ", actor=assessor)
    assert Adjustment.objects.count() == 1 and not ChangeRecord.objects.filter(
        kind=ChangeKind.ADJUSTMENT_REVERSE).exists()


def test_adjustment_pages_and_api_reverse_instead_of_deleting(client, unit_a, assessor, leader):
    adjustment = adjustment_create(unit=unit_a, month=MONTH, points="1.5", reason="表扬", actor=assessor)
    api = APIClient()
    api.force_authenticate(assessor)
    # the old DELETE is gone
    assert api.delete(f"/api/assessment/adjustments/{adjustment.pk}/").status_code in (404, 405)
    assert Adjustment.objects.filter(pk=adjustment.pk).exists()
    # a leader may not reverse
    api_leader = APIClient()
    api_leader.force_authenticate(leader)
    assert api_leader.post(f"/api/assessment/adjustments/{adjustment.pk}/reverse/", {"reason": "x"},
                           format="json").status_code == 403
    # no reason: 400 with a stable code, nothing written
    bad = api.post(f"/api/assessment/adjustments/{adjustment.pk}/reverse/", {"reason": ""}, format="json")
    assert bad.status_code == 400 and Adjustment.objects.count() == 1
    ok = api.post(f"/api/assessment/adjustments/{adjustment.pk}/reverse/", {"reason": "录错"}, format="json")
    assert ok.status_code == 201 and ok.json()["reverses"] == adjustment.pk
    # the page: a second reversal is refused with a Chinese message, nothing written
    client.force_login(assessor)
    page = client.post(f"/assessment/adjustments/{adjustment.pk}/reverse/", {"reason": "再来"}, follow=True)
    assert page.status_code == 200 and "已冲销" in page.content.decode()
    assert Adjustment.objects.count() == 2
    client.force_login(leader)
    assert client.post(f"/assessment/adjustments/{adjustment.pk}/reverse/", {"reason": "x"}).status_code == 403


def test_stationing_change_keeps_before_and_after(unit_b, assessor):
    stationing_set(unit=unit_b, month=MONTH, complete=True, actor=assessor)
    stationing_set(unit=unit_b, month=MONTH, complete=True, actor=assessor)  # no change, no record
    stationing_set(unit=unit_b, month=MONTH, complete=False, actor=assessor, reason="人员已撤回")
    records = list(ChangeRecord.objects.filter(kind=ChangeKind.STATIONING).order_by("id"))
    assert [(r.before, r.after) for r in records] == [
        (None, {"complete": True}), ({"complete": True}, {"complete": False})]
    assert records[1].reason == "人员已撤回" and records[1].actor == assessor
    assert unit_b.name in records[1].target


def test_every_change_of_a_month_and_its_bulletin_is_recorded(april, unit_a, assessor, editor):
    # given rule versions, a computed month and its bulletin, through their whole life
    ruleset_create(valid_from=date(2024, 4, 1), actor=assessor, min_tickets=9, name="2024版")
    adjustment = adjustment_create(unit=unit_a, month=MONTH, points="1", reason="表扬", actor=assessor)
    services.adjustment_reverse(adjustment=adjustment, reason="录错", actor=assessor)
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL, actor=assessor)
    bulletin = bulletins.bulletin_build(month=MONTH, actor=editor)
    bulletins.bulletin_update(bulletin=bulletin, actor=editor, sections={"work": "本月开展培训。"})
    bulletins.bulletin_override_units(bulletin=bulletin, kind="good", units=["纸坊镇"], reason="会商", actor=editor)
    bulletins.bulletin_publish(bulletin=bulletin, actor=editor)
    bulletins.bulletin_unpublish(bulletin=bulletin, actor=editor, reason="更正数据")
    # then the trail holds each, in order, with who and what
    assert kinds() == [
        ChangeKind.STATIONING, ChangeKind.RULE_CREATE, ChangeKind.ADJUSTMENT, ChangeKind.ADJUSTMENT_REVERSE,
        ChangeKind.COMPUTE, ChangeKind.BULLETIN_BUILD, ChangeKind.BULLETIN_EDIT, ChangeKind.BULLETIN_OVERRIDE,
        ChangeKind.BULLETIN_PUBLISH, ChangeKind.BULLETIN_UNPUBLISH,
    ]
    unpublish = ChangeRecord.objects.get(kind=ChangeKind.BULLETIN_UNPUBLISH)
    assert unpublish.actor == editor and unpublish.reason == "更正数据"
    assert unpublish.before == {"status": "published"} and unpublish.after == {"status": "draft", "held": True}
    compute = ChangeRecord.objects.get(kind=ChangeKind.COMPUTE)
    assert compute.after["ticket_count"] == 28 and compute.after["rule_set"] == "2024-04"
    edit = ChangeRecord.objects.get(kind=ChangeKind.BULLETIN_EDIT)
    assert edit.after == {"sections": {"work": "本月开展培训。"}} and edit.before == {"sections": {"work": ""}}


def test_rule_update_is_recorded_with_the_changed_fields(assessor):
    rule = ruleset_create(valid_from=date(2030, 1, 1), actor=assessor, min_tickets=9)
    services.ruleset_update(rule_set=rule, actor=assessor, min_tickets=12)
    record = ChangeRecord.objects.get(kind=ChangeKind.RULE_UPDATE)
    assert record.month == date(2030, 1, 1)
    assert record.before == {"min_tickets": 9} and record.after == {"min_tickets": 12}


def test_a_failed_change_leaves_no_record(unit_b, assessor):
    with pytest.raises(services.InvalidInput):
        adjustment_create(unit=unit_b, month=MONTH, points="0", reason="x", actor=assessor)
    assert not ChangeRecord.objects.exists()


def test_change_records_refuse_update_and_delete_in_the_orm(unit_b, assessor):
    stationing_set(unit=unit_b, month=MONTH, complete=True, actor=assessor)
    record = ChangeRecord.objects.get()
    record.reason = "改写"
    with pytest.raises(PermissionError):
        record.save()
    with pytest.raises(PermissionError):
        record.delete()
    with pytest.raises(PermissionError):
        ChangeRecord.objects.all().update(reason="改写")
    with pytest.raises(PermissionError):
        ChangeRecord.objects.all().delete()


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["assessment_changerecord", "assessment_adjustment"])
def test_postgres_refuses_update_and_delete_of_the_trail(table, unit_b, assessor, is_postgres):
    if not is_postgres:
        pytest.skip("PostgreSQL triggers")
    adjustment_create(unit=unit_b, month=MONTH, points="1", reason="表扬", actor=assessor)
    from django.db import DatabaseError

    for sql in (f"UPDATE {table} SET month = month", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic(), connection.cursor() as c:
            c.execute(sql)


def test_trail_shown_on_the_month_page_and_the_bulletin_edit_page(client, april, assessor, editor):
    water = april
    stationing_set(unit=water, month=MONTH, complete=True, actor=assessor, reason="补派到位")
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL, actor=assessor)
    bulletin = bulletins.bulletin_build(month=MONTH, actor=editor)
    bulletins.bulletin_publish(bulletin=bulletin, actor=editor)
    bulletins.bulletin_unpublish(bulletin=bulletin, actor=editor, reason="更正数据")
    client.force_login(assessor)
    month_page = client.get("/assessment/2024-04/").content.decode()
    assert "变更记录" in month_page and "补派到位" in month_page and "计算考核" in month_page
    client.force_login(editor)
    edit_page = client.get("/reports/bulletins/2024-04/edit/").content.decode()
    assert "变更记录" in edit_page and "撤回发布" in edit_page and "更正数据" in edit_page


def test_unique_reversal_in_the_database(unit_a, assessor):
    adjustment = adjustment_create(unit=unit_a, month=MONTH, points="1", reason="表扬", actor=assessor)
    Adjustment.objects.create(unit=unit_a, month=MONTH, points=-1, reason="a", created_by=assessor,
                              reverses=adjustment)
    with pytest.raises(IntegrityError), transaction.atomic():
        Adjustment.objects.create(unit=unit_a, month=MONTH, points=-1, reason="b", created_by=assessor,
                                  reverses=adjustment)


ROLES = ["operator", "dispatcher", "unit_handler", "assessor", "editor", "leader", "admin", "anonymous"]


@pytest.mark.parametrize("role", ROLES)
def test_reversal_and_trail_per_role_on_api_and_page(client, personas, unit_a, assessor, role):
    # given an adjustment and a computed month
    adjustment = adjustment_create(unit=unit_a, month=MONTH, points="1", reason="表扬", actor=assessor)
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    user = None if role == "anonymous" else personas[role]
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
        client.force_login(user)
    may_assess = role in ("assessor", "admin")
    # when the user tries to reverse it through the API and the page
    by_api = api.post(f"/api/assessment/adjustments/{adjustment.pk}/reverse/", {"reason": "录错"}, format="json")
    by_page = client.post(f"/assessment/adjustments/{adjustment.pk}/reverse/", {"reason": "录错"})
    month_page = client.get("/assessment/2024-04/")
    # then only assessors and admins reverse (once); the trail shows to the centre roles only
    assert (by_api.status_code == 201) is may_assess
    if not may_assess:
        assert by_api.status_code in (401, 403) and by_page.status_code in (302, 403)
        assert Adjustment.objects.count() == 1
    else:
        assert Adjustment.objects.count() == 2
    shows_trail = month_page.status_code == 200 and "变更记录" in month_page.content.decode()
    # the month's page, with its trail, is for the management roles (not the call-takers, not the units)
    assert shows_trail is (role in MANAGEMENT_READ_ROLES)


def test_recompute_records_the_scores_it_replaces(april, assessor):
    # given the month computed, then stationing completed for 自来水公司 and the month computed again
    water = april
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL, actor=assessor)
    stationing_set(unit=water, month=MONTH, complete=True, actor=assessor, reason="补派到位")
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL, actor=assessor)
    # then the second run's record shows the move of that unit only, before and after
    first, second = ChangeRecord.objects.filter(kind=ChangeKind.COMPUTE).order_by("id")
    assert first.before is None and water.short_name in first.after["scores"]
    assert second.before["scores"] == {water.short_name: "95（第2名）"}
    assert second.after["scores"] == {water.short_name: "100（第1名）"}
    assert water.name in second.before["stationing_incomplete"]
    assert water.name not in second.after["stationing_incomplete"]
