"""Web pages of the assessment app: who sees which page, and what assessors can change there."""

from __future__ import annotations

from datetime import date

import pytest

from assessment.models import Adjustment, RuleSet, Stationing, UnitScore
from assessment.services import assessment_compute

from .conftest import EVAL_APRIL

pytestmark = pytest.mark.django_db
MONTH = date(2024, 4, 1)


@pytest.fixture
def computed(make_tickets, unit_a, unit_b):
    make_tickets(unit_a, 10)
    make_tickets(unit_b, 9)
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)


def test_leader_reads_the_month_tables_and_exports_xlsx(client, leader, computed):
    # given
    client.force_login(leader)
    # when
    page = client.get("/assessment/2024-04/")
    export = client.get("/assessment/2024-04/export.xlsx")
    # then
    assert page.status_code == 200
    html = page.content.decode()
    assert "乡镇街道考核表" in html and "纸坊镇" in html and "办理较好" in html
    assert "重新计算" not in html  # leaders change nothing
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_score_page_and_drill_down(client, leader, computed, unit_a):
    # given
    client.force_login(leader)
    score = UnitScore.objects.get(unit=unit_a)
    # when
    detail = client.get(f"/assessment/scores/{score.pk}/")
    drill = client.get(f"/assessment/scores/{score.pk}/tickets/late_reply/")
    unit_page = client.get(f"/assessment/units/{unit_a.pk}/")
    # then
    assert detail.status_code == 200 and "按时签收率" in detail.content.decode()
    assert drill.status_code == 200 and "超时办结" in drill.content.decode()
    assert unit_page.status_code == 200 and "2024-04" in unit_page.content.decode()
    assert "vendor/echarts/echarts.min.js" in unit_page.content.decode()


def test_assessor_edits_stationing_adjustments_rules_and_computes(client, assessor, unit_b, make_tickets, unit_a):
    # given
    client.force_login(assessor)
    make_tickets(unit_a, 9)
    # when
    r1 = client.post("/assessment/stationing/?month=2024-04", {"month": "2024-04", "unit": [unit_b.pk],
                                                                "complete": [unit_b.pk]})
    r2 = client.post("/assessment/adjustments/", {"unit": unit_b.pk, "month": "2024-04", "points": "2",
                                                  "reason": "典型案例"})
    r3 = client.post("/assessment/rules/", {"valid_from": "2025-01", "name": "2025版", "weight_sign": "0.1",
                                            "weight_close": "0.2", "weight_resolved": "0.3",
                                            "weight_satisfied": "0.4", "basic_weight": "0.8", "min_tickets": "10",
                                            "stationing_deduction": "3", "sign_grace_minutes": "0",
                                            "close_grace_minutes": "0", "evaluation_day": "0", "note": ""})
    r4 = client.post("/assessment/2024-04/compute/")
    # then
    assert [r.status_code for r in (r1, r2, r3, r4)] == [302, 302, 302, 302]
    assert Stationing.objects.get(unit=unit_b, month=MONTH).complete is True
    assert Adjustment.objects.get().points == 2
    assert RuleSet.objects.get(valid_from=date(2025, 1, 1)).min_tickets == 10
    assert UnitScore.objects.filter(month=MONTH, unit=unit_a).exists()


def test_bad_rule_is_shown_on_the_form(client, assessor):
    client.force_login(assessor)
    response = client.post("/assessment/rules/", {"valid_from": "2025-01", "weight_sign": "0.9",
                                                  "weight_close": "0.2", "weight_resolved": "0.35",
                                                  "weight_satisfied": "0.35", "basic_weight": "0.9",
                                                  "min_tickets": "9", "stationing_deduction": "5",
                                                  "sign_grace_minutes": "0", "close_grace_minutes": "0",
                                                  "evaluation_day": "0"})
    assert response.status_code == 400
    assert "权重之和必须为1" in response.content.decode()
    assert not RuleSet.objects.filter(valid_from=date(2025, 1, 1)).exists()


@pytest.mark.parametrize("persona", ["leader", "dispatcher", "unit_handler"])
def test_others_cannot_change_anything_in_pages(client, personas, persona, unit_b, computed):
    # given
    client.force_login(personas[persona])
    # when
    codes = [
        client.post("/assessment/stationing/", {"month": "2024-04", "unit": [unit_b.pk],
                                                "complete": [unit_b.pk]}).status_code,
        client.post("/assessment/adjustments/", {"unit": unit_b.pk, "month": "2024-04", "points": "2",
                                                 "reason": "x"}).status_code,
        client.post("/assessment/2024-04/compute/").status_code,
    ]
    # then
    assert codes == [403, 403, 403]
    assert not Stationing.objects.exists() and not Adjustment.objects.exists()


def test_unit_handler_sees_own_unit_not_unpublished_tables(client, unit_handler, computed, unit_a, unit_b):
    # given
    client.force_login(unit_handler)
    # then
    assert client.get("/assessment/").url == f"/assessment/units/{unit_a.pk}/"
    assert client.get(f"/assessment/units/{unit_a.pk}/").status_code == 200
    assert client.get(f"/assessment/units/{unit_b.pk}/").status_code == 404
    assert client.get("/assessment/2024-04/").status_code == 403
    assert client.get("/assessment/2024-04/export.xlsx").status_code == 403
    assert client.get(f"/assessment/scores/{UnitScore.objects.get(unit=unit_b).pk}/").status_code == 404
    assert client.get("/assessment/rules/").status_code == 403
