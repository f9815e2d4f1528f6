"""API of the assessment app: bodies, database effects and who may do what."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from assessment.models import Adjustment, AssessmentRun, RuleSet, Stationing, UnitScore
from assessment.services import assessment_compute, ruleset_create
from assessment.tasks import assessment_compute_task

from .conftest import EVAL_APRIL

pytestmark = pytest.mark.django_db
MONTH = date(2024, 4, 1)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def computed(make_tickets, unit_a, unit_b):
    make_tickets(unit_a, 10)
    make_tickets(unit_b, 9)
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)


def test_assessor_sets_stationing_and_adds_adjustments(assessor, unit_b):
    # given
    api = client_for(assessor)
    # when
    r1 = api.post("/api/assessment/stationing/", {"unit": unit_b.pk, "month": "2024-04", "complete": True},
                  format="json")
    r2 = api.post("/api/assessment/adjustments/", {"unit": unit_b.pk, "month": "2024-04", "points": "-1.5",
                                                   "reason": "推诿扯皮"}, format="json")
    r3 = api.get("/api/assessment/stationing/?month=2024-04")
    # then
    assert r1.status_code == 200 and r1.json()["complete"] is True
    assert Stationing.objects.get(unit=unit_b, month=MONTH).complete is True
    assert r2.status_code == 201 and r2.json()["points"] == "-1.50" and r2.json()["author"] == "assessor"
    adjustment = Adjustment.objects.get()
    assert adjustment.created_by == assessor and adjustment.reason == "推诿扯皮"
    assert {"unit": unit_b.pk, "unit_name": unit_b.name, "short_name": unit_b.short_name,
            "complete": True} in r3.json()


def test_adjustment_needs_a_reason(assessor, unit_b):
    response = client_for(assessor).post("/api/assessment/adjustments/",
                                         {"unit": unit_b.pk, "month": "2024-04", "points": "2", "reason": " "},
                                         format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "reason" in response.json()["fields"]
    assert not Adjustment.objects.exists()


@pytest.mark.parametrize("persona", ["leader", "unit_handler", "dispatcher", "editor", "operator"])
def test_only_assessors_change_rules_stationing_adjustments_and_runs(personas, persona, unit_b):
    # given
    api = client_for(personas[persona])
    # when
    responses = [
        api.post("/api/assessment/rules/", {"valid_from": "2024-06"}, format="json"),
        api.post("/api/assessment/stationing/", {"unit": unit_b.pk, "month": "2024-04", "complete": True},
                 format="json"),
        api.post("/api/assessment/adjustments/", {"unit": unit_b.pk, "month": "2024-04", "points": "1",
                                                  "reason": "x"}, format="json"),
        api.post("/api/assessment/months/2024-04/compute/", {"wait": True}, format="json"),
    ]
    # then
    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert all(r.json()["code"] == "permission_denied" for r in responses)
    assert RuleSet.objects.count() == 1
    assert not Stationing.objects.exists() and not Adjustment.objects.exists()
    assert not AssessmentRun.objects.exists()


def test_admin_may_change_rules(admin_user):
    response = client_for(admin_user).post(
        "/api/assessment/rules/", {"valid_from": "2025-01", "weight_sign": "0.2", "weight_close": "0.1"},
        format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["valid_from"] == "2025-01"
    assert RuleSet.objects.get(valid_from=date(2025, 1, 1)).weight_sign == Decimal("0.2")


def test_rule_weights_must_sum_to_one(assessor):
    response = client_for(assessor).post("/api/assessment/rules/", {"valid_from": "2025-01", "weight_sign": "0.5"},
                                         format="json")
    assert response.status_code == 400
    assert "weight_sign" in response.json()["fields"]


def test_a_rule_version_already_used_cannot_be_edited(assessor, computed):
    # given
    rule = AssessmentRun.objects.get().rule_set
    # when
    response = client_for(assessor).patch(f"/api/assessment/rules/{rule.pk}/", {"min_tickets": 5}, format="json")
    # then
    assert response.status_code == 409 and response.json()["code"] == "rule_set_in_use"
    rule.refresh_from_db()
    assert rule.min_tickets == 9


def test_an_unused_rule_version_can_be_edited(assessor):
    rule = ruleset_create(valid_from=date(2025, 1, 1), actor=assessor)
    response = client_for(assessor).patch(f"/api/assessment/rules/{rule.pk}/", {"min_tickets": 5}, format="json")
    assert response.status_code == 200 and response.json()["min_tickets"] == 5


def test_compute_action_enqueues_after_commit_or_runs_when_asked(assessor, make_tickets, unit_a,
                                                                  django_capture_on_commit_callbacks):
    # given
    make_tickets(unit_a, 9)
    api = client_for(assessor)
    # when: queued
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = api.post("/api/assessment/months/2024-04/compute/", format="json")
    # then
    assert queued.status_code == 202 and queued.json() == {"month": "2024-04", "status": "queued"}
    assert len(callbacks) == 1
    # when: the worker runs the task
    assessment_compute_task.apply(args=["2024-04", assessor.pk])
    assert AssessmentRun.objects.get(month=MONTH).computed_by == assessor
    # when: run synchronously, twice
    first = api.post("/api/assessment/months/2024-04/compute/", {"wait": True}, format="json")
    second = api.post("/api/assessment/months/2024-04/compute/", {"wait": True}, format="json")
    assert first.status_code == second.status_code == 200
    assert second.json()["tickets"] == 9 and second.json()["status"] == "done"
    assert UnitScore.objects.filter(month=MONTH, unit=unit_a).count() == 1


def test_leader_reads_tables_scores_and_drill_down(leader, computed, unit_a):
    # given
    api = client_for(leader)
    score = UnitScore.objects.get(unit=unit_a)
    # when
    tables = api.get("/api/assessment/months/2024-04/")
    detail = api.get(f"/api/assessment/scores/{score.pk}/")
    tickets = api.get(f"/api/assessment/scores/{score.pk}/tickets/?kind=late_sign")
    history = api.get(f"/api/assessment/units/{unit_a.pk}/scores/")
    months = api.get("/api/assessment/months/")
    # then
    assert tables.status_code == 200
    assert tables.json()["assessment"]["groups"][0]["rows"][0] == {"unit": "纸坊镇", "score": "100", "rank": 1,
                                                                   "tickets": 10}
    assert tables.json()["details"][0]["rows"][0]["sign_den"] == 10
    assert detail.status_code == 200 and detail.json()["indicators"][0]["denominator"] == 10
    assert tickets.status_code == 200 and tickets.json() == []
    assert [r["month"] for r in history.json()] == ["2024-04"]
    assert months.json() == {"months": ["2024-04"]}


def test_unit_handler_sees_own_scores_only_and_tables_once_published(unit_handler, computed, unit_a, unit_b):
    # given
    api = client_for(unit_handler)
    own = UnitScore.objects.get(unit=unit_a)
    other = UnitScore.objects.get(unit=unit_b)
    # then: own scores yes, another unit's no, the tables not before publication
    assert api.get(f"/api/assessment/scores/{own.pk}/").status_code == 200
    assert api.get(f"/api/assessment/scores/{other.pk}/").status_code == 404
    assert api.get(f"/api/assessment/units/{unit_a.pk}/scores/").status_code == 200
    assert api.get(f"/api/assessment/units/{unit_b.pk}/scores/").status_code == 404
    assert api.get("/api/assessment/months/2024-04/").status_code == 403
    assert api.get("/api/assessment/months/").json() == {"months": []}
    assert api.get("/api/assessment/stationing/?month=2024-04").status_code == 403
    assert api.get("/api/assessment/adjustments/?month=2024-04").status_code == 403


def test_unit_handler_sees_published_tables(unit_handler, computed):
    # given: the month's bulletin is published (reports app)
    from django.apps import apps

    bulletin = apps.get_model("reports", "Bulletin")
    bulletin.objects.create(period="2024-04", month=MONTH, status="published", title="简报", office="办公室",
                            number_in_year=4, number_total=280)
    # when
    response = client_for(unit_handler).get("/api/assessment/months/2024-04/")
    # then
    assert response.status_code == 200
    assert response.json()["good_units"]


def test_anonymous_is_refused(client, computed):
    assert APIClient().get("/api/assessment/months/2024-04/").status_code == 401
