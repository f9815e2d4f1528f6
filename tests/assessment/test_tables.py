"""The bulletin's selector, the command, the task and its schedule, the XLSX export, drill-down."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO, StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from assessment.exports import tables_xlsx
from assessment.models import AssessmentRun, UnitScore
from assessment.selectors import assessment_tables, score_explain, score_tickets, stationing_incomplete
from assessment.services import assessment_compute, stationing_set
from assessment.tasks import assessment_compute_task, previous_month
from tickets.models import AssessmentGroup, CallbackResult, Status, Unit

from .conftest import APRIL, EVAL_APRIL

pytestmark = pytest.mark.django_db
MONTH = date(2024, 4, 1)


@pytest.fixture
def april(make_tickets, unit_a, unit_b):
    """纸坊镇 100 (10 tickets), 杨楼镇 90 (9, signed late), 陵头镇 4 tickets; 供电公司 100 (stationing
    complete), 自来水公司 95 (stationing missing)."""
    yanglou = Unit.objects.get(short_name="杨楼镇")
    lingtou = Unit.objects.get(short_name="陵头镇")
    water = Unit.objects.get(short_name="自来水公司")
    make_tickets(unit_a, 10)
    make_tickets(yanglou, 9, signed_at=APRIL + timedelta(days=3))
    make_tickets(lingtou, 4)
    make_tickets(unit_b, 9)
    make_tickets(water, 9, callback_result=CallbackResult.UNSATISFIED, callback_resolved=False)
    stationing_set(unit=unit_b, month=MONTH, complete=True, actor=None)
    return {"yanglou": yanglou, "lingtou": lingtou, "water": water}


def test_assessment_tables_have_the_bulletin_shape(april, unit_a, unit_b):
    # given
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    # when
    data = assessment_tables(month=MONTH)
    # then
    township, city = data["assessment"]["groups"]
    assert data["assessment"]["min_tickets"] == 9
    assert township["name"] == "乡镇街道" and city["name"] == "市直单位"
    assert township["rows"] == [
        {"unit": "纸坊镇", "score": "100", "rank": 1, "tickets": 10},
        {"unit": "杨楼镇", "score": "90", "rank": 2, "tickets": 9},
    ]
    assert {"unit": "陵头镇", "tickets": 4} in township["not_assessed"]
    assert city["rows"][0] == {"unit": "国网汝州市供电公司", "score": "100", "rank": 1, "tickets": 9}
    assert city["rows"][1]["unit"] == "自来水公司" and city["rows"][1]["score"] == "25"
    assert data["good_units"] == [unit_a.name, unit_b.name]
    assert data["poor_units"] == [april["yanglou"].name, april["water"].name]
    assert unit_b.name not in data["stationing_incomplete"]
    assert april["water"].name in data["stationing_incomplete"]


def test_stationing_incomplete_lists_only_units_that_must_station(unit_a, unit_b):
    # given (the list is the one frozen with the month's scores)
    stationing_set(unit=unit_b, month=MONTH, complete=False, actor=None)
    assert stationing_incomplete(month=MONTH) == []  # not computed yet
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    # when
    names = stationing_incomplete(month=MONTH)
    # then
    assert unit_b.name in names
    assert unit_a.name not in names
    assert set(names) == set(Unit.objects.filter(needs_stationing=True, active=True)
                             .exclude(group=AssessmentGroup.NONE).values_list("name", flat=True))


def test_tables_of_a_month_not_computed_are_empty(directory):
    data = assessment_tables(month=MONTH)
    assert [g["rows"] for g in data["assessment"]["groups"]] == [[], []]
    assert data["good_units"] == [] and data["poor_units"] == []


def test_drill_down_lists_the_tickets_that_cost_points(make_tickets, unit_a):
    # given
    late = make_tickets(unit_a, 2, signed_at=APRIL + timedelta(days=2), replied_at=APRIL + timedelta(days=20))
    unsigned = make_tickets(unit_a, 1, status=Status.PENDING_SIGN, signed_at=None, replied_at=None)
    unhappy = make_tickets(unit_a, 1, callback_result=CallbackResult.UNSATISFIED, callback_resolved=False)
    basic_unresolved = make_tickets(unit_a, 1, callback_result=CallbackResult.BASIC, callback_resolved=False)
    make_tickets(unit_a, 6, callback_result=CallbackResult.SATISFIED, callback_resolved=True)
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    score = UnitScore.objects.get(unit=unit_a)
    # when
    ids = {kind: set(score_tickets(score=score, kind=kind).values_list("pk", flat=True))
           for kind in ("late_sign", "late_reply", "unresolved", "unsatisfied")}
    # then
    assert ids["late_sign"] == {t.pk for t in late + unsigned}
    assert ids["late_reply"] == {t.pk for t in late + unsigned}
    assert ids["unresolved"] == {t.pk for t in unhappy + basic_unresolved}
    assert ids["unsatisfied"] == {t.pk for t in unhappy}
    assert len(ids["late_sign"]) == score.sign_den - score.sign_num


def test_explanation_lines(make_tickets, unit_a):
    # given
    make_tickets(unit_a, 9, callback_result=CallbackResult.BASIC, callback_resolved=True)
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    # when
    explained = score_explain(score=UnitScore.objects.get(unit=unit_a))
    # then: 100 × (0.1 + 0.2 + 0.35 + 0.35 × 0.9) = 96.5
    assert explained["score_text"] == "96.5"
    satisfied = explained["lines"][3]
    assert satisfied["numerator"] == "0 + 0.9 × 9 = 8.1" and satisfied["denominator"] == 9
    assert satisfied["percent"] == "90.00"


def test_xlsx_in_the_bulletin_layout(april):
    # given
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    # when
    book = load_workbook(BytesIO(tables_xlsx(month=MONTH)))
    # then
    assert book.sheetnames == ["乡镇街道", "市直单位"]
    sheet = book["乡镇街道"]
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=1, max_row=5)]
    assert rows[0][0] == "附件1"
    assert rows[1][0] == "四月份乡镇街道考核表"
    assert rows[2] == ("单位", "考核总分", "排名")
    assert rows[3] == ("纸坊镇", 100, 1)
    assert rows[4] == ("杨楼镇", 90, 2)
    texts = [c.value for c in sheet["A"] if c.value]
    assert "注：工单量小于9件的单位未计入本次考核。" in texts


def test_command_computes_a_month_and_rejects_a_bad_one(april):
    # when
    out = StringIO()
    call_command("compute_assessment", "2024-04", stdout=out)
    # then
    assert AssessmentRun.objects.filter(month=MONTH).exists()
    assert "纸坊镇" in out.getvalue() and "2024-04 考核完成" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("compute_assessment", "2024-13", stdout=StringIO())


def test_task_scores_the_month_before_and_is_scheduled(april, time_machine):
    # given
    time_machine.move_to("2024-05-02 02:00 +08:00")
    # when
    result = assessment_compute_task.apply()
    # then
    assert result.get()["month"] == "2024-04"
    assert UnitScore.objects.filter(month=MONTH, unit__short_name="纸坊镇").get().score == 100
    assert previous_month(date(2024, 1, 2)) == date(2023, 12, 1)
    entry = settings.CELERY_BEAT_SCHEDULE["assessment-compute-previous-month"]
    assert entry["task"] == "assessment.tasks.assessment_compute_task"
    schedule = entry["schedule"]
    assert schedule.day_of_month == {2} and schedule.hour == {2} and schedule.minute == {0}
