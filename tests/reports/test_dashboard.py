"""The leader dashboard for any month (/dashboard/?month=YYYY-MM): its rates are the assessment's,
a running month is compared with the same stretch of the previous month, calls are counted, the
month's rankings are summarised, a bad month is refused in Chinese, and only centre roles see it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.cache import cache
from django.urls import reverse

from assessment import scoring
from assessment.models import AssessmentRun, RuleSet, UnitScore
from assessment.services import assessment_compute, ruleset_create
from reports.dashboard import dashboard_stats
from tests.assessment.conftest import at
from tickets.models import Call, CallbackResult, Source, Unit

pytestmark = pytest.mark.django_db
APRIL = date(2024, 4, 1)
DISPATCHED = at(2024, 4, 10, 10, 0)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def township(directory):
    return Unit.objects.get(short_name="纸坊镇")


@pytest.fixture
def city_unit(directory):
    return Unit.objects.filter(group="city", active=True).order_by("order", "pk").first()


def april_with_grace_and_weight(make_tickets, township, city_unit):
    """A rule with 30 grace minutes on both limits and 基本满意 worth 0.8 (not the default 0.9);
    tickets signed / replied 10 minutes late (on time only with the grace), tickets with no sign
    deadline (on time by the rule), 基本满意 callbacks and a late one."""
    RuleSet.objects.all().delete()
    ruleset_create(valid_from=date(2000, 1, 1), actor=None, sign_grace_minutes=30, close_grace_minutes=30,
                   basic_weight=Decimal("0.8"))
    sign_deadline = DISPATCHED + timedelta(days=1)
    handle_deadline = DISPATCHED + timedelta(days=7)
    for unit in (township, city_unit):
        make_tickets(unit, 4, sign_deadline=sign_deadline, signed_at=sign_deadline + timedelta(minutes=10),
                     handle_deadline=handle_deadline, replied_at=handle_deadline + timedelta(minutes=10),
                     callback_result=CallbackResult.BASIC, callback_resolved=True,
                     callback_at=handle_deadline + timedelta(days=1))
        make_tickets(unit, 3, source=Source.UPPER, sign_deadline=None, signed_at=DISPATCHED + timedelta(days=3),
                     callback_result=CallbackResult.SATISFIED, callback_resolved=True,
                     callback_at=handle_deadline + timedelta(days=1))
        make_tickets(unit, 2, signed_at=DISPATCHED + timedelta(days=2), replied_at=DISPATCHED + timedelta(days=9),
                     callback_result=CallbackResult.UNSATISFIED, callback_resolved=False,
                     callback_at=handle_deadline + timedelta(days=3))
        make_tickets(unit, 1, callback_result=CallbackResult.BASIC, callback_resolved=False,
                     callback_at=handle_deadline + timedelta(days=1))


def test_closed_month_rates_equal_the_assessment_with_grace_and_basic_weight(make_tickets, township, city_unit):
    # given: April 2024 under a rule with grace minutes and an edited 基本满意 weight, computed
    april_with_grace_and_weight(make_tickets, township, city_unit)
    assessment_compute(month=APRIL, evaluated_at=at(2024, 5, 2, 2, 0))
    rule = RuleSet.objects.get()
    rows = UnitScore.objects.filter(month=APRIL)
    total = {f: sum(getattr(r, f) for r in rows) for f in
             ("sign_num", "sign_den", "close_num", "close_den", "resolved_num", "satisfied", "basic", "unsatisfied")}
    expected = scoring.indicators(scoring.Counts(**total), scoring.Weights.from_rule(rule))
    # when: the dashboard for April, read weeks later
    stats = dashboard_stats(month=APRIL, now=at(2024, 5, 20, 9, 0))
    # then: the four rates are exactly the assessment's, and the printed ones too
    assert stats["running"] is False
    assert stats["this"]["rates"] == expected
    assert stats["this"]["rates"]["sign_on_time"] == Fraction(16, 20)  # 8 signed on time only with the grace
    assert stats["this"]["sign_on_time"] == scoring.format_fraction(expected["sign_on_time"]) == "80.00"
    assert stats["this"]["close_on_time"] == scoring.format_fraction(Fraction(16, 20)) == "80.00"
    satisfied = (6 + Fraction(8, 10) * 10) / 20  # (满意 + 0.8 × 基本满意) / callbacks, not 0.9
    assert stats["this"]["rates"]["satisfied"] == satisfied
    assert stats["this"]["satisfied"] == scoring.format_fraction(satisfied)
    assert stats["this"]["resolved"] == scoring.format_fraction(Fraction(14, 20))


def test_a_scored_month_reads_its_stored_run_and_an_unscored_one_counts(make_tickets, township, city_unit):
    # given: April computed, then its tickets' callbacks rewritten behind the assessment's back (a data fix)
    from tickets.models import Ticket

    april_with_grace_and_weight(make_tickets, township, city_unit)
    assessment_compute(month=APRIL, evaluated_at=at(2024, 5, 2, 2, 0))
    stored = dashboard_stats(month=APRIL, now=at(2024, 5, 20, 9, 0))["this"]["rates"]
    Ticket.objects.filter(callback_result="satisfied").update(callback_result="unsatisfied")
    # when: the dashboard for April, and for April once its run is gone
    again = dashboard_stats(month=APRIL, now=at(2024, 5, 20, 9, 0))["this"]["rates"]
    AssessmentRun.objects.filter(month=APRIL).delete()
    live = dashboard_stats(month=APRIL, now=at(2024, 5, 20, 9, 0))["this"]["rates"]
    # then: the scored month reads as its assessment (summed from the stored scores, not recounted);
    # without a run the tickets are counted as they are now
    assert again == stored
    assert live["satisfied"] < stored["satisfied"] and live["sign_on_time"] == stored["sign_on_time"]


def test_running_month_on_the_first_compares_with_the_same_hours_of_last_month(new_ticket):
    # given: April has tickets all month long; 2 on 1 April before 09:00, and 3 so far on 1 May
    for day in range(1, 31):
        new_ticket(registered_at=at(2024, 4, day, 14, 0))
    new_ticket(registered_at=at(2024, 4, 1, 8, 0))
    new_ticket(registered_at=at(2024, 4, 1, 8, 30))
    for minute in (10, 20, 30):
        new_ticket(registered_at=at(2024, 5, 1, 8, minute))
    Call.objects.create(called_at=at(2024, 4, 1, 8, 5), caller_phone="13900000001")
    # when: the dashboard on 1 May at 09:00
    stats = dashboard_stats(month=date(2024, 5, 1), now=at(2024, 5, 1, 9, 0))
    # then: 3 against April's first nine hours (2), not against the whole of April (32)
    assert stats["running"] is True
    rows = {r["key"]: r for r in stats["comparison"]}
    assert (rows["tickets"]["this"], rows["tickets"]["last"], rows["tickets"]["delta"]) == (3, 2, 1)
    assert (rows["calls"]["this"], rows["calls"]["last"], rows["calls"]["delta"]) == (0, 1, -1)
    assert stats["last_through"] == at(2024, 4, 1, 9, 0)
    assert [d["day"] for d in stats["daily"]] == ["05-01"]


def test_no_change_is_shown_against_an_empty_month(client, leader, new_ticket):
    # given: tickets in April 2024, none in March
    new_ticket(registered_at=at(2024, 4, 3, 10, 0))
    # when
    stats = dashboard_stats(month=APRIL, now=at(2024, 6, 1, 9, 0))
    response = client_for(client, leader).get(reverse("reports:dashboard"), {"month": "2024-04"})
    # then
    rows = {r["key"]: r for r in stats["comparison"]}
    assert rows["tickets"]["this"] == 1 and rows["tickets"]["last"] == 0 and rows["tickets"]["delta"] is None
    assert all(r["delta"] is None for r in stats["comparison"])
    html = response.content.decode()
    assert "▼" not in html and "▲" not in html and "无可比数据" in html


def client_for(client, user):
    client.force_login(user)
    return client


def test_rankings_summary_shows_top_and_bottom_of_each_group_with_links(client, leader, make_tickets, directory):
    # given: 5 townships with 9 tickets each, one more late reply per township down the list
    towns = list(Unit.objects.filter(group="township", active=True).order_by("order", "pk")[:5])
    for i, town in enumerate(towns):
        make_tickets(town, 9 - i)
        make_tickets(town, i, replied_at=DISPATCHED + timedelta(days=20))
    run = assessment_compute(month=APRIL, evaluated_at=at(2024, 5, 2, 2, 0))
    # when
    response = client_for(client, leader).get(reverse("reports:dashboard"), {"month": "2024-04"})
    # then
    group = next(g for g in response.context["stats"]["rankings"]["groups"] if g["name"] == "乡镇街道")
    assert [r.unit_id for r in group["top"]] == [t.pk for t in towns[:3]]
    assert [r.unit_id for r in group["bottom"]] == [t.pk for t in towns[3:5]]
    html = response.content.decode()
    assert reverse("assessment:month", args=["2024-04"]) in html
    best = UnitScore.objects.get(run=run, unit=towns[0])
    assert reverse("assessment:score", args=[best.pk]) in html


@pytest.mark.parametrize(("value", "message"), [
    ("2024-13", "格式不对"), ("abc", "格式不对"), ("2024-4", "格式不对"), ("2999-01", "不能查看未来的月份"),
    ("1999-12", "2000年以后"),
])
def test_month_picker_refuses_a_bad_month_in_chinese(client, leader, value, message):
    # when
    response = client_for(client, leader).get(reverse("reports:dashboard"), {"month": value})
    # then: 400, the picker and the message, no figures
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and 'type="month"' in html and 'id="kpis"' not in html


def test_month_picker_shows_the_chosen_month(client, leader, new_ticket):
    new_ticket(registered_at=at(2024, 4, 3, 10, 0))
    response = client_for(client, leader).get(reverse("reports:dashboard"), {"month": "2024-04"})
    assert response.status_code == 200
    assert response.context["stats"]["month"] == APRIL
    html = response.content.decode()
    assert 'value="2024-04"' in html and "2024年4月（全月）与 2024年3月（全月）对比" in html


@pytest.mark.parametrize(("role", "status"), [
    # the call-takers and the units have no management pages (tickets.permissions.MANAGEMENT_READ_ROLES)
    ("operator", 403), ("dispatcher", 200), ("assessor", 200), ("editor", 200), ("leader", 200), ("admin", 200),
    ("unit_handler", 403),
])
def test_dashboard_roles(client, personas, role, status):
    response = client_for(client, personas[role]).get("/dashboard/", {"month": "2024-04"})
    assert response.status_code == status


def test_dashboard_needs_a_login(client, directory):
    response = client.get("/dashboard/?month=2024-04")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("seconds, fresh", [(300, False), (0, True)])
def test_the_dashboard_cache_lasts_the_configured_seconds(settings, directory, seconds, fresh):
    from reports.dashboard import dashboard_stats_cached

    # given: a month's figures shown once
    settings.HOTLINE_DASHBOARD_CACHE_SECONDS = seconds
    Call.objects.create(called_at=at(2024, 4, 3, 9, 0))
    first = dashboard_stats_cached(month=APRIL)["this"]["calls"]
    # when: another call of that month is recorded
    Call.objects.create(called_at=at(2024, 4, 3, 10, 0))
    # then: cached for the configured time, or counted again at once when it is 0
    assert dashboard_stats_cached(month=APRIL)["this"]["calls"] == (first + 1 if fresh else first)
