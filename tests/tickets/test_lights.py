"""Lights by the share of the time limit left (services/deadlines.py): yellow in the last
``TimeLimitRule.yellow_percent`` per cent (25 by default) of the running limit, red once past; an
urgent ticket's first feedback as a light of its own, urged by the beat job."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from tickets import services
from tickets.models import AppealType, Notification, NotificationKind, Status, Ticket, TimeLimitRule, Urge
from tickets.selectors import due_soon_q, overdue_q, ticket_queue
from tickets.services.deadlines import (
    Light,
    LimitKind,
    light_thresholds,
    limit_lights,
    ticket_light,
    with_lights,
)
from tickets.tasks import ticket_auto_urge_task
from tickets.workcalendar import invalidate

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 5, 8, 12, 0, tzinfo=TZ)  # Wednesday after the May Day holidays


def at(*args):
    return datetime(*args, tzinfo=TZ)


@pytest.fixture
def make(new_ticket, dispatcher, unit_handler, unit_a):
    def build(dispatched_at, appeal="problem", sign_at=None, **fields):
        ticket = new_ticket(appeal_type=AppealType.objects.get(code=appeal), **fields)
        ticket = services.ticket_dispatch(ticket=ticket, unit=unit_a, actor=dispatcher, at=dispatched_at)
        if sign_at:
            ticket = services.ticket_sign(ticket=ticket, actor=unit_handler, at=sign_at)
        return ticket

    return build


def light_at(ticket, now=NOW):
    return ticket_light(Ticket.objects.get(pk=ticket.pk), now=now)


def test_a_new_ticket_is_green_from_its_first_minute(make):
    # given: dispatched a minute ago, 24 working hours to sign
    ticket = make(NOW - timedelta(minutes=1))
    # then: green (the old rule, "yellow within one working day", made every new ticket yellow)
    assert light_at(ticket) == Light.GREEN
    assert not Ticket.objects.filter(pk=ticket.pk).filter(due_soon_q(NOW)).exists()


def test_an_aging_ticket_turns_yellow_in_the_last_quarter_then_red(make):
    # given: sign deadline Wed 15:00 (dispatched Tue 15:00)
    ticket = make(at(2024, 5, 7, 15, 0))
    # then: 7 of 24 working hours left (29%) green; 6 left (25%) yellow; past it red
    assert light_at(ticket, at(2024, 5, 8, 8, 0)) == Light.GREEN
    assert light_at(ticket, at(2024, 5, 8, 9, 0)) == Light.YELLOW
    assert light_at(ticket, at(2024, 5, 8, 15, 1)) == Light.RED


@pytest.mark.parametrize(("dispatched", "expected"), [
    (at(2024, 5, 6, 10), Light.GREEN),   # 5 working days → Sat 11 May 10:00 (make-up day): 70 of 120 h left
    (at(2024, 4, 29, 10), Light.YELLOW),  # → Thu 9 May 10:00 across the May Day holidays: 22 of 120 h left
    (at(2024, 4, 22, 10), Light.RED),
])
def test_handling_lights_follow_the_appeal_types_working_days(make, dispatched, expected):
    ticket = make(dispatched, sign_at=dispatched + timedelta(minutes=5))
    assert light_at(ticket) == expected


def test_the_yellow_share_is_the_rules_own(make):
    # given: 10 of 24 working hours left to sign (42%)
    ticket = make(at(2024, 5, 7, 22, 0))
    assert light_at(ticket) == Light.GREEN
    # when: the centre sets yellow for the last half of a limit
    TimeLimitRule.objects.update(yellow_percent=50)
    invalidate()
    # then
    assert light_at(ticket) == Light.YELLOW
    assert Ticket.objects.filter(pk=ticket.pk).filter(due_soon_q(NOW)).exists()


def test_sql_and_python_lights_agree(make, new_ticket):
    # given: tickets at every stage and age
    tickets = [make(NOW - timedelta(hours=h)) for h in (1, 10, 20, 23, 30, 80)]
    tickets += [make(NOW - timedelta(days=d), sign_at=NOW - timedelta(days=d)) for d in (1, 3, 5, 6, 8, 14)]
    tickets += [make(NOW - timedelta(minutes=m), urgent=True) for m in (10, 100, 130)]
    tickets += [new_ticket(registered_at=NOW - timedelta(hours=h)) for h in (1, 19, 30)]
    # when
    rows = with_lights(Ticket.objects.filter(pk__in=[t.pk for t in tickets]).select_related("appeal_type"), now=NOW)
    # then: the queues' SQL picks exactly the yellow and the red ones
    by_light = {color: {t.pk for t in rows if t.light == color} for color in (Light.YELLOW, Light.RED)}
    assert by_light[Light.YELLOW] and by_light[Light.RED]
    assert set(Ticket.objects.filter(due_soon_q(NOW)).values_list("pk", flat=True)) == by_light[Light.YELLOW]
    assert set(Ticket.objects.filter(overdue_q(NOW)).values_list("pk", flat=True)) == by_light[Light.RED]


# --- First feedback of urgent tickets ------------------------------------------------------------


def test_urgent_first_feedback_has_its_own_light_until_the_unit_reports(make, unit_handler):
    # given: urgent, dispatched 3 h ago, signed 100 minutes ago: first feedback due in 20 minutes
    ticket = make(NOW - timedelta(hours=3), urgent=True, sign_at=NOW - timedelta(minutes=100))
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.feedback_deadline == NOW + timedelta(minutes=20)
    # then: two limits, the first feedback yellow (20 of 120 minutes left), handling green
    lights = limit_lights(ticket, thresholds=light_thresholds(NOW))
    assert [(item.kind, item.light) for item in lights] == [(LimitKind.FEEDBACK, Light.YELLOW),
                                                             (LimitKind.HANDLE, Light.GREEN)]
    assert ticket_light(ticket, now=NOW) == Light.YELLOW
    assert Ticket.objects.filter(pk=ticket.pk).filter(due_soon_q(NOW)).exists()
    # and past it: red, in the 已超期 queue
    later = NOW + timedelta(minutes=21)
    assert ticket_light(ticket, now=later) == Light.RED
    assert Ticket.objects.filter(pk=ticket.pk).filter(overdue_q(later)).exists()
    # when: the unit reports back (here: asks for more time)
    services.ticket_extension_request(ticket=ticket, actor=unit_handler, reason="需协调供电公司，申请延期",
                                      requested_deadline=NOW + timedelta(days=10), at=NOW)
    ticket = Ticket.objects.get(pk=ticket.pk)
    # then: the feedback light is gone, the handling limit remains
    assert [item.kind for item in limit_lights(ticket, thresholds=light_thresholds(later))] == [LimitKind.HANDLE]
    assert ticket_light(ticket, now=later) == Light.GREEN
    assert not Ticket.objects.filter(pk=ticket.pk).filter(overdue_q(later) | due_soon_q(later)).exists()


def test_first_feedback_is_urged_automatically_once(make, unit_handler):
    # given: an urgent ticket 100 minutes after dispatch, not signed: 20 of 120 minutes left to sign
    t0 = NOW - timedelta(hours=2)
    ticket = make(t0 - timedelta(minutes=100), urgent=True)
    with time_machine.travel(t0, tick=False):
        assert ticket_auto_urge_task.apply().get() == 1
    # and signed ten minutes later: the first feedback is due two hours after that
    services.ticket_sign(ticket=ticket, actor=unit_handler, at=t0 + timedelta(minutes=10))
    # when: the beat runs again with 20 minutes of the feedback limit left, and once more after it
    with time_machine.travel(t0 + timedelta(minutes=110), tick=False):
        first = ticket_auto_urge_task.apply().get()
    with time_machine.travel(t0 + timedelta(minutes=140), tick=False):
        again = ticket_auto_urge_task.apply().get()
    # then: the same day, a second automatic urge — for the first feedback — and no third
    assert (first, again) == (1, 0)
    notes = list(Urge.objects.filter(ticket=ticket, automatic=True).order_by("created_at").values_list("note", flat=True))
    assert notes == ["工单即将到期，请抓紧办理。", "紧急件首次反馈时限即将到期，请尽快反馈办理情况。"]
    # and the unit's text messages name the limit each urge was about
    texts = list(Notification.objects.filter(ticket=ticket, kind=NotificationKind.DUE_SOON).order_by("id")
                 .values_list("text", flat=True))
    assert len(texts) == 2 and "到签收时限" in texts[0] and "到首次反馈时限" in texts[1]


# --- Pages -----------------------------------------------------------------------------------------


def test_pages_show_a_new_ticket_green_and_an_aging_one_yellow(client, dispatcher, make):
    # given
    new = make(NOW - timedelta(minutes=1))
    aging = make(at(2024, 5, 7, 15, 0))
    urgent = make(NOW - timedelta(hours=3), urgent=True, sign_at=NOW - timedelta(minutes=100))
    client.force_login(dispatcher)
    with time_machine.travel(NOW, tick=False):
        # when
        listing = client.get(reverse("tickets:list"), {"status": Status.PENDING_SIGN})
        detail_new = client.get(reverse("tickets:detail", args=[new.pk])).content.decode()
        detail_aging = client.get(reverse("tickets:detail", args=[aging.pk])).content.decode()
        detail_urgent = client.get(reverse("tickets:detail", args=[urgent.pk])).content.decode()
        queue = {t.pk for t in ticket_queue(user=dispatcher, queue="due_soon")}
    # then
    rows = {t.pk: t.light for t in listing.context["page"].rows}
    assert rows[new.pk] == Light.GREEN and rows[aging.pk] == Light.YELLOW
    assert 'data-limit="sign" data-light="green"' in detail_new and "签收时限内" in detail_new
    assert 'data-limit="sign" data-light="yellow"' in detail_aging and "签收即将超期" in detail_aging
    assert 'data-limit="feedback" data-light="yellow"' in detail_urgent and "首次反馈即将超期" in detail_urgent
    assert 'data-limit="handle" data-light="green"' in detail_urgent and 'id="feedback-deadline"' in detail_urgent
    assert queue == {aging.pk, urgent.pk}


def test_the_administrator_edits_the_yellow_share_per_rule(client, admin_user, make):
    # given
    rule = TimeLimitRule.objects.order_by("valid_from").first()
    ticket = make(at(2024, 5, 7, 22, 0))  # 10 of 24 working hours left to sign at NOW
    client.force_login(admin_user)
    url = reverse("admin:tickets_timelimitrule_change", args=[rule.pk])
    form = {"valid_from": rule.valid_from.isoformat(), "dispatch_hours": rule.dispatch_hours,
            "sign_working_hours": rule.sign_working_hours, "urgent_sign_hours": rule.urgent_sign_hours,
            "urgent_feedback_hours": rule.urgent_feedback_hours, "note": rule.note}
    assert "黄灯：剩余时限比例（%）" in client.get(url).content.decode()
    # when: a share out of range, then 50
    refused = client.post(url, {**form, "yellow_percent": 0})
    accepted = client.post(url, {**form, "yellow_percent": 50})
    # then
    assert refused.status_code == 200 and "确保该值大于或等于1" in refused.content.decode()
    assert accepted.status_code == 302
    rule.refresh_from_db()
    assert rule.yellow_percent == 50
    assert light_at(ticket) == Light.YELLOW


def test_the_inbox_legend_says_what_yellow_means_under_the_rule_in_force(client, unit_handler):
    # given the centre makes yellow the last 40 % of a limit
    TimeLimitRule.objects.update(yellow_percent=40)
    invalidate()
    client.force_login(unit_handler)
    # when the unit opens its inbox
    html = client.get(reverse("home")).content.decode()
    # then the legend follows the rule (it said "1个工作日内" under the old yellow)
    assert "黄灯为时限只剩最后 40%" in html and "1个工作日内" not in html
