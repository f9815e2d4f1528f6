"""The default rule of assessment.md, pinned: stored rows of ``assessment_compute``."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from assessment.models import AssessmentRun, RuleSet, UnitScore
from assessment.scoring import format_score
from assessment.services import adjustment_create, assessment_compute, ruleset_create, stationing_set
from tickets.models import AssessmentGroup, CallbackResult, HandlingMode, Source, Status, Unit

from .conftest import APRIL, EVAL_APRIL, at

pytestmark = pytest.mark.django_db
MONTH = date(2024, 4, 1)
LATE_SIGN = APRIL + timedelta(days=2)
LATE_REPLY = APRIL + timedelta(days=15)


def score_of(unit, month=MONTH) -> UnitScore:
    return UnitScore.objects.get(unit=unit, month=month)


def worked_example(make_tickets, unit):
    """N = 20: 18 signed on time; 2 replied late; 15 callbacks: 13 resolved, 11 满意, 3 基本满意, 1 不满意."""
    make_tickets(unit, 2, signed_at=LATE_SIGN, replied_at=LATE_REPLY)
    make_tickets(unit, 3)
    make_tickets(unit, 11, callback_result=CallbackResult.SATISFIED, callback_resolved=True)
    make_tickets(unit, 2, callback_result=CallbackResult.BASIC, callback_resolved=True)
    make_tickets(unit, 1, callback_result=CallbackResult.BASIC, callback_resolved=False)
    make_tickets(unit, 1, callback_result=CallbackResult.UNSATISFIED, callback_resolved=False)


def test_worked_example_scores_89_3(make_tickets, unit_a):
    # given
    worked_example(make_tickets, unit_a)
    # when
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    # then
    row = score_of(unit_a)
    assert (row.tickets, row.sign_num, row.sign_den, row.close_num, row.close_den) == (20, 18, 20, 18, 20)
    assert (row.resolved_num, row.callbacks, row.satisfied, row.basic, row.unsatisfied) == (13, 15, 11, 3, 1)
    assert row.score == Decimal("89.30")
    assert format_score(row.score) == "89.3"
    assert row.excluded is False and row.stationing_deduction == 0


def test_counts_only_dispatched_local_and_upper_tickets_of_the_month(make_tickets, unit_a):
    # given: 9 counted tickets, one of them upper and one dispatched 00:30 on 1 April (Shanghai time)
    make_tickets(unit_a, 7)
    make_tickets(unit_a, 1, source=Source.UPPER)
    make_tickets(unit_a, 1, dispatched_at=at(2024, 4, 1, 0, 30))
    # and tickets that do not count
    make_tickets(unit_a, 1, dispatched_at=at(2024, 3, 31, 23, 59))
    make_tickets(unit_a, 1, dispatched_at=at(2024, 5, 1, 0, 0))
    make_tickets(unit_a, 1, handling_mode=HandlingMode.COORDINATED)
    merged_into = make_tickets(unit_a, 1, dispatched_at=at(2024, 3, 1, 9, 0))[0]
    make_tickets(unit_a, 1, status=Status.MERGED, merged_into=merged_into)
    make_tickets(None, 1)
    # when
    run = assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    # then
    assert score_of(unit_a).tickets == 9
    assert run.ticket_count == 9


def test_registration_time_counts_when_there_is_no_dispatch_time(make_tickets, unit_a):
    # given: upper tickets handed straight to the unit carry only a registration time
    make_tickets(unit_a, 9, source=Source.UPPER, dispatched_at=None, registered_at=at(2024, 4, 3, 9, 0))
    # when
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    # then
    assert score_of(unit_a).tickets == 9


def test_threshold_leaves_out_units_below_nine_tickets(make_tickets, unit_a):
    # given
    other = Unit.objects.get(short_name="杨楼镇")
    make_tickets(unit_a, 9)
    make_tickets(other, 8)
    # when
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    # then
    assert score_of(unit_a).excluded is False and score_of(unit_a).score == 100
    excluded = score_of(other)
    assert excluded.excluded is True and excluded.tickets == 8
    assert excluded.score is None and excluded.rank is None


def test_threshold_is_read_from_the_rule(make_tickets, unit_a, assessor):
    # given
    ruleset_create(valid_from=MONTH, actor=assessor, min_tickets=10)
    make_tickets(unit_a, 9)
    # when
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    # then
    assert score_of(unit_a).excluded is True


def test_stationing_deduction(make_tickets, assessor):
    # given: three units that must station staff, all otherwise perfect
    missing, incomplete, complete = Unit.objects.filter(needs_stationing=True).order_by("pk")[:3]
    plain = Unit.objects.filter(needs_stationing=False, group=AssessmentGroup.CITY).first()
    for unit in (missing, incomplete, complete, plain):
        make_tickets(unit, 10)
    stationing_set(unit=incomplete, month=MONTH, complete=False, actor=assessor)
    stationing_set(unit=complete, month=MONTH, complete=True, actor=assessor)
    # when
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    # then
    assert score_of(missing).score == Decimal("95") and score_of(missing).stationing_deduction == 5
    assert score_of(incomplete).score == Decimal("95")
    assert score_of(complete).score == Decimal("100") and score_of(complete).stationing_deduction == 0
    assert score_of(plain).score == Decimal("100")


def test_adjustments_are_summed_and_the_score_clamped(make_tickets, unit_a, assessor):
    # given: a perfect unit, a unit scoring 0, and one at the worked example's 89.3
    zero = Unit.objects.get(short_name="杨楼镇")
    middle = Unit.objects.get(short_name="煤山街道")
    make_tickets(unit_a, 10)
    make_tickets(zero, 10, signed_at=LATE_SIGN, replied_at=LATE_REPLY,
                 callback_result=CallbackResult.UNSATISFIED, callback_resolved=False)
    worked_example(make_tickets, middle)
    adjustment_create(unit=unit_a, month=MONTH, points="3", reason="典型案例", actor=assessor)
    adjustment_create(unit=zero, month=MONTH, points="-2", reason="推诿", actor=assessor)
    adjustment_create(unit=middle, month=MONTH, points="2.5", reason="表扬", actor=assessor)
    adjustment_create(unit=middle, month=MONTH, points="-0.75", reason="材料迟报", actor=assessor)
    # when
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    # then
    assert score_of(unit_a).score == Decimal("100") and score_of(unit_a).adjustments == 3
    assert score_of(zero).score == Decimal("0")
    assert score_of(middle).adjustments == Decimal("1.75")
    assert score_of(middle).score == Decimal("91.05")


def test_rounds_once_half_up_at_exactly_two_decimals(make_tickets, unit_a):
    # given: N = 16, 1 signed on time, none replied on time, no callbacks:
    # 100 × (0.1 × 1/16 + 0.2 × 0 + 0.35 + 0.35) = 70.625 exactly
    make_tickets(unit_a, 1, replied_at=LATE_REPLY)
    make_tickets(unit_a, 15, signed_at=LATE_SIGN, replied_at=LATE_REPLY)
    # when
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    # then: half-up gives 70.63 (half-even, or a float, gives 70.62)
    row = score_of(unit_a)
    assert row.base_score == Decimal("70.625")
    assert row.score == Decimal("70.63")
    assert format_score(row.score) == "70.63"


def test_not_yet_due_neither_helps_nor_hurts(make_tickets, unit_a):
    # given: 9 open tickets, neither signed nor replied; deadlines on 11 and 17 April
    make_tickets(unit_a, 9, status=Status.PENDING_SIGN, signed_at=None, replied_at=None)
    # when: evaluated before the deadlines
    assessment_compute(month=MONTH, evaluated_at=at(2024, 4, 10, 18, 0))
    before = score_of(unit_a)
    # then: nothing to judge yet
    assert (before.sign_den, before.close_den) == (0, 0)
    assert before.score == 100
    # when: evaluated after the sign deadline, before the handling deadline
    assessment_compute(month=MONTH, evaluated_at=at(2024, 4, 12, 9, 0))
    middle = score_of(unit_a)
    assert (middle.sign_num, middle.sign_den, middle.close_den) == (0, 9, 0)
    assert middle.score == 90
    # when: evaluated after both
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    after = score_of(unit_a)
    assert (after.close_num, after.close_den) == (0, 9)
    assert after.score == 70


def test_replies_after_the_evaluation_time_are_not_seen(make_tickets, unit_a):
    # given: signed on 10 April 12:00, replied on 13 April
    make_tickets(unit_a, 9)
    # when: evaluated on 11 April
    assessment_compute(month=MONTH, evaluated_at=at(2024, 4, 11, 9, 0))
    # then
    row = score_of(unit_a)
    assert (row.sign_num, row.sign_den, row.close_num, row.close_den) == (9, 9, 0, 0)


def test_shared_ranks_and_listing_order(make_tickets):
    # given: four townships at 100 (one with more tickets), one at 89.3, one at 100 with fewer tickets
    units = list(Unit.objects.filter(group=AssessmentGroup.TOWNSHIP).order_by("order", "pk")[:5])
    u1, u2, u3, u4, u5 = units
    make_tickets(u1, 9)
    make_tickets(u2, 12)  # more tickets: listed first among equals
    make_tickets(u3, 9)
    worked_example(make_tickets, u4)  # 89.3
    make_tickets(u5, 20, signed_at=LATE_SIGN)  # 90
    # when
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    # then
    listed = list(UnitScore.objects.filter(month=MONTH, group=AssessmentGroup.TOWNSHIP, excluded=False)
                  .order_by("position").values_list("unit_id", "rank", "position", "good", "poor"))
    assert listed == [
        (u2.pk, 1, 1, True, False),
        (u1.pk, 1, 2, False, False),
        (u3.pk, 1, 3, False, False),
        (u5.pk, 4, 4, False, False),
        (u4.pk, 5, 5, False, True),
    ]


def test_groups_are_ranked_separately_and_unassessed_units_left_out(make_tickets, unit_a, unit_b):
    # given
    none_unit = Unit.objects.create(name="某不考核单位", short_name="某不考核", group=AssessmentGroup.NONE)
    make_tickets(unit_a, 9, signed_at=LATE_SIGN)
    make_tickets(unit_b, 9)
    make_tickets(none_unit, 9)
    stationing_set(unit=unit_b, month=MONTH, complete=True, actor=None)
    # when
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    # then
    assert score_of(unit_a).rank == 1 and score_of(unit_a).group == AssessmentGroup.TOWNSHIP
    assert score_of(unit_b).rank == 1 and score_of(unit_b).group == AssessmentGroup.CITY
    assert not UnitScore.objects.filter(unit=none_unit).exists()


def test_running_twice_gives_the_same_rows(make_tickets, unit_a, unit_b, assessor):
    # given
    worked_example(make_tickets, unit_a)
    make_tickets(unit_b, 12, signed_at=LATE_SIGN)
    adjustment_create(unit=unit_b, month=MONTH, points="-1", reason="推诿", actor=assessor)
    fields = [f.name for f in UnitScore._meta.concrete_fields if f.name not in ("id", "run")]
    # when
    assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL)
    first = list(UnitScore.objects.order_by("unit_id").values(*fields))
    run = assessment_compute(month=MONTH, evaluated_at=EVAL_APRIL, actor=assessor)
    second = list(UnitScore.objects.order_by("unit_id").values(*fields))
    # then
    assert first == second
    assert AssessmentRun.objects.count() == 1
    assert UnitScore.objects.filter(month=MONTH).count() == len(first) == run.scores.count()


def test_a_new_rule_version_leaves_earlier_months_unchanged(make_tickets, unit_a, assessor):
    # given: March and April scored by the default rule
    worked_example(make_tickets, unit_a)
    march = APRIL - timedelta(days=31)
    make_tickets(unit_a, 2, dispatched_at=march, signed_at=march + timedelta(days=3),
                 replied_at=march + timedelta(days=20))
    make_tickets(unit_a, 8, dispatched_at=march, callback_result=CallbackResult.BASIC, callback_resolved=True)
    assessment_compute(month="2024-03", evaluated_at=EVAL_APRIL)
    assessment_compute(month="2024-04", evaluated_at=EVAL_APRIL)
    march_before = score_of(unit_a, date(2024, 3, 1)).score
    default = RuleSet.objects.get()
    # when: a new version from April weighs satisfaction more and counts 基本满意 as 0.8
    new = ruleset_create(valid_from=date(2024, 4, 1), actor=assessor, weight_sign=Decimal("0.1"),
                         weight_close=Decimal("0.1"), weight_resolved=Decimal("0.3"),
                         weight_satisfied=Decimal("0.5"), basic_weight=Decimal("0.8"))
    assessment_compute(month="2024-03", evaluated_at=EVAL_APRIL)
    assessment_compute(month="2024-04", evaluated_at=EVAL_APRIL)
    # then
    assert score_of(unit_a, date(2024, 3, 1)).score == march_before
    assert AssessmentRun.objects.get(month=date(2024, 3, 1)).rule_set == default
    assert AssessmentRun.objects.get(month=date(2024, 4, 1)).rule_set == new
    # 100 × (0.1 × 0.9 + 0.1 × 0.9 + 0.3 × 13/15 + 0.5 × 13.4/15) = 88.666… → 88.67
    assert score_of(unit_a).score == Decimal("88.67")


def test_end_to_end_through_the_workflow_services(ticket_in, unit_a, dispatcher):
    # given: tickets dispatched, signed, replied and called back through the real services
    for _ in range(9):
        ticket_in("closed")
    # when
    assessment_compute(month=timezone.localdate())
    # then
    row = score_of(unit_a, timezone.localdate().replace(day=1))
    assert (row.tickets, row.sign_num, row.sign_den, row.close_num, row.close_den) == (9, 9, 9, 9, 9)
    assert (row.callbacks, row.satisfied, row.resolved_num) == (9, 9, 9)
    assert row.score == 100


def test_a_returned_ticket_counts_for_the_unit_that_finally_handled_it(ticket_in, unit_b, dispatcher):
    # given: returned by 纸坊镇, re-dispatched to 供电公司; another ticket merged away
    from tickets import services

    ticket = ticket_in("return_pending")
    ticket = services.ticket_return_decide(ticket=ticket, actor=dispatcher, approve=True, note="改派")
    services.ticket_dispatch(ticket=ticket, unit=unit_b, actor=dispatcher)
    ticket_in("merged")
    # when
    month = timezone.localdate().replace(day=1)
    assessment_compute(month=month)
    # then
    assert not UnitScore.objects.filter(month=month, unit__short_name="纸坊镇", tickets__gt=0).exists()
    assert score_of(unit_b, month).tickets == 1


APRIL_START = at(2024, 4, 1, 0, 0)
MAY_START = at(2024, 5, 1, 0, 0)


@pytest.mark.django_db
def test_a_months_counted_tickets_are_one_range_of_the_counted_at_index():
    """The month's window (dispatched, else registered, in the month) is one range of ``ticket_counted_at``:
    with an OR of two ranges the month was a scan of the whole table (0.6 s per query at 10,000,000 tickets)."""
    from django.db import connection

    from assessment.indicators import counted_tickets

    if connection.vendor != "postgresql":
        pytest.skip("index plans: PostgreSQL only")
    # given a plan that may neither scan the table nor walk another index in order (a small test table
    # makes any plan look cheap: what is asked is whether the index can serve the window)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    from tickets.models import COUNTED_AT, Ticket

    # when: the window alone, and the month's counted tickets
    window = Ticket.objects.alias(counted_at=COUNTED_AT).filter(counted_at__gte=APRIL_START, counted_at__lt=MAY_START)
    plan = window.order_by().explain()
    sql = str(counted_tickets(date(2024, 4, 1)).query)
    # then: the index serves the window, and the month is counted by that same window
    assert "ticket_counted_at" in plan, plan
    moment = 'COALESCE("tickets_ticket"."dispatched_at", "tickets_ticket"."registered_at")'
    assert f"{moment} >= " in sql and f"{moment} < " in sql and '"dispatched_at" IS NULL' not in sql, sql
