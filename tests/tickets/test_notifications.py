"""Short messages to the units' duty phones: written with the dispatch / urge / supervision, sent to
the SMS gateway with retries and one idempotency key, skipped (with the reason) without a phone or a
gateway, never carrying caller data, shown to the centre only."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from celery.exceptions import Retry
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tickets import services
from tickets.exchange.notifications import (
    NOTIFICATIONS,
    notification_deliver,
    notification_resend,
    notification_sweep,
)
from tickets.models import Notification, NotificationKind, Ticket, Unit
from tickets.tasks import ticket_auto_urge_task

from .upstream_server import Upstream

pytestmark = pytest.mark.django_db

DUTY = "13900007777"


@pytest.fixture
def gateway(settings):
    """A loopback SMS gateway, configured with a token; the units have duty phones."""
    with Upstream() as server:
        settings.HOTLINE_SMS_GATEWAY_URL = server.url
        settings.HOTLINE_SMS_GATEWAY_TOKEN = "sms-token-1"
        settings.HOTLINE_SMS_BACKOFF_SECONDS = 30
        yield server


@pytest.fixture
def duty_phone(unit_a):
    Unit.objects.filter(pk=unit_a.pk).update(duty_phone=DUTY)
    unit_a.refresh_from_db()
    return unit_a


@pytest.fixture
def deliver_inline(monkeypatch):
    """Queued deliveries run at once (independent of whether a broker is configured)."""
    monkeypatch.setattr("tickets.exchange.notifications._enqueue",
                        lambda pk: notification_deliver(notification_id=pk))


def _only(ticket, kind) -> Notification:
    rows = list(Notification.objects.filter(ticket=ticket, kind=kind))
    assert len(rows) == 1, rows
    return rows[0]


def test_dispatch_writes_a_pending_message_queued_at_commit(new_ticket, dispatcher, duty_phone, gateway,
                                                            django_capture_on_commit_callbacks):
    # given
    ticket = new_ticket(urgent=True)
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        ticket = services.ticket_dispatch(ticket=ticket, unit=duty_phone, actor=dispatcher)
    # then
    row = _only(ticket, NotificationKind.DISPATCHED)
    assert (row.unit, row.recipient, row.status, row.attempts) == (duty_phone, DUTY, "pending", 0)
    assert len(row.idempotency_key) == 32
    local = timezone.localtime(ticket.sign_deadline)
    assert row.text == (f"【汝州12345】您单位有新工单{ticket.number}（紧急，{ticket.category.full_name}），"
                        f"请于{local.month}月{local.day}日{local:%H:%M}前签收办理。")
    assert len(callbacks) == 1  # its delivery is queued once the dispatch commits
    assert gateway.received == {}  # nothing sent before commit


@pytest.mark.parametrize("kind", ["dispatched", "urged", "supervised", "due_soon", "overdue"])
def test_texts_never_carry_the_callers_name_number_or_the_content(kind, ticket_in, duty_phone, gateway):
    # given: a confidential ticket whose content holds a number and a name
    from tickets.exchange.notifications import notification_text

    ticket = ticket_in("handling", confidential=True, caller_name="王小明", caller_phone="13812349876",
                       content="王小明反映：邻居13700001111夜间施工扰民。")
    # when
    text = notification_text(ticket=ticket, kind=kind, supervision_deadline=timezone.now())
    # then
    assert ticket.number in text and text.startswith("【汝州12345】")
    for secret in ("王", "小明", "13812349876", "9876", "13700001111", "施工", "扰民", ticket.category.name):
        assert secret not in text, (secret, text)


def test_urge_and_supervision_write_their_messages(ticket_in, dispatcher, duty_phone, gateway):
    # given
    ticket = ticket_in("handling")
    deadline = timezone.now() + timedelta(days=3)
    # when
    services.ticket_urge(ticket=ticket, actor=dispatcher, note="请尽快办理")
    services.supervision_open(ticket=ticket, actor=dispatcher, reason="群众反映强烈", deadline=deadline)
    # then
    urge = _only(ticket, NotificationKind.URGED)
    assert urge.text.startswith(f"【汝州12345】热线中心催办工单{ticket.number}，办理时限")
    assert "请尽快办理" not in urge.text  # the centre's free text is not forwarded
    supervised = _only(ticket, NotificationKind.SUPERVISED)
    local = timezone.localtime(deadline)
    assert f"已列为督办件，督办时限{local.month}月{local.day}日" in supervised.text
    assert {urge.recipient, supervised.recipient} == {DUTY}


def test_automatic_urges_announce_due_soon_and_overdue(ticket_in, duty_phone, gateway):
    # given: one ticket due in an hour, one past its deadline
    soon, late = ticket_in("handling"), ticket_in("handling")
    now = timezone.now()
    Ticket.objects.filter(pk=soon.pk).update(handle_deadline=now + timedelta(hours=1))
    Ticket.objects.filter(pk=late.pk).update(handle_deadline=now - timedelta(hours=1))
    # when
    urged = ticket_auto_urge_task()
    # then
    assert urged == 2
    assert "将于" in _only(soon, NotificationKind.DUE_SOON).text
    assert "已超过办理时限" in _only(late, NotificationKind.OVERDUE).text
    assert not Notification.objects.filter(kind=NotificationKind.URGED).exists()


def test_without_a_duty_phone_or_a_gateway_the_message_is_skipped_with_the_reason(
        new_ticket, dispatcher, unit_a, unit_b, settings, django_capture_on_commit_callbacks):
    # given: 纸坊镇 has no duty phone; the other unit has one but no gateway is configured
    settings.HOTLINE_SMS_GATEWAY_URL = ""
    Unit.objects.filter(pk=unit_b.pk).update(duty_phone=DUTY)
    unit_b.refresh_from_db()
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        no_phone = services.ticket_dispatch(ticket=new_ticket(), unit=unit_a, actor=dispatcher)
        no_gateway = services.ticket_dispatch(ticket=new_ticket(), unit=unit_b, actor=dispatcher)
    # then
    first, second = _only(no_phone, "dispatched"), _only(no_gateway, "dispatched")
    assert (first.status, first.last_error) == ("skipped", "单位未登记值班手机，短信未发送。")
    assert (second.status, second.recipient) == ("skipped", DUTY)
    assert "HOTLINE_SMS_GATEWAY_URL" in second.last_error
    assert callbacks == []  # nothing to queue


def test_a_gateway_removed_after_the_message_was_written_skips_it_at_delivery(
        new_ticket, dispatcher, duty_phone, gateway, settings):
    # given
    ticket = services.ticket_dispatch(ticket=new_ticket(), unit=duty_phone, actor=dispatcher)
    row = _only(ticket, "dispatched")
    settings.HOTLINE_SMS_GATEWAY_URL = ""
    # when
    row = notification_deliver(notification_id=row.pk)
    # then
    assert (row.status, row.attempts) == ("skipped", 1) and "未配置短信网关" in row.last_error
    assert gateway.attempts == 0


def test_backfilled_moves_send_no_messages(new_ticket, dispatcher, duty_phone, gateway):
    # given: history imported with its own times (demo data, imports)
    at = timezone.now() - timedelta(days=30)
    # when
    ticket = services.ticket_dispatch(ticket=new_ticket(registered_at=at), unit=duty_phone, actor=dispatcher, at=at)
    services.ticket_urge(ticket=ticket, actor=dispatcher, note="请尽快办理", at=at + timedelta(hours=1))
    # then
    assert not Notification.objects.exists()


def test_a_rolled_back_dispatch_leaves_no_message(new_ticket, dispatcher, duty_phone, gateway,
                                                  django_capture_on_commit_callbacks):
    # given
    ticket = new_ticket()
    # when
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        with transaction.atomic():
            services.ticket_dispatch(ticket=ticket, unit=duty_phone, actor=dispatcher)
            raise RuntimeError("the request failed after the dispatch")
    # then
    assert not Notification.objects.exists() and callbacks == []
    assert Ticket.objects.get(pk=ticket.pk).status == "pending_dispatch"


def test_a_refused_message_backs_off_then_is_sent_with_the_same_key_and_token(
        new_ticket, dispatcher, duty_phone, gateway):
    # given: the gateway refuses the first two attempts
    ticket = services.ticket_dispatch(ticket=new_ticket(), unit=duty_phone, actor=dispatcher)
    row = _only(ticket, "dispatched")
    gateway.refuse_first = 2
    # when
    first = notification_deliver(notification_id=row.pk, force=True)
    second = notification_deliver(notification_id=row.pk, force=True)
    not_due = notification_deliver(notification_id=row.pk)
    third = notification_deliver(notification_id=row.pk, force=True)
    again = notification_deliver(notification_id=row.pk, force=True)
    # then
    assert (first.status, first.attempts, first.last_error) == ("pending", 1, "HTTP 503")
    gap = second.next_attempt_at - timezone.now()
    assert timedelta(seconds=50) < gap <= timedelta(seconds=60)  # 30 s, then 60 s
    assert not not_due.attempted and not_due.attempts == 2
    assert (third.status, third.attempts, third.last_error) == ("sent", 3, "") and third.sent_at
    assert not again.attempted and again.attempts == 3  # a sent message is never sent again
    assert gateway.deliveries == [row.idempotency_key]
    assert gateway.received[row.idempotency_key] == {
        "idempotency_key": row.idempotency_key, "phone": DUTY, "text": row.text, "ticket_number": ticket.number,
        "kind": "dispatched"}
    assert gateway.authorizations == ["Bearer sms-token-1"] * 3


def test_after_the_last_attempt_the_message_fails(new_ticket, dispatcher, duty_phone, settings):
    # given: a gateway that refuses connections
    settings.HOTLINE_SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"
    settings.HOTLINE_SMS_MAX_ATTEMPTS = 2
    ticket = services.ticket_dispatch(ticket=new_ticket(), unit=duty_phone, actor=dispatcher)
    row = _only(ticket, "dispatched")
    # when
    notification_deliver(notification_id=row.pk, force=True)
    failed = notification_deliver(notification_id=row.pk, force=True)
    # then
    assert (failed.status, failed.attempts) == ("failed", 2) and failed.last_error
    assert NOTIFICATIONS.due_ids(now=timezone.now() + timedelta(days=1)) == []


class FakeTask:
    """The bits of a bound Celery task ``run_task`` uses."""

    def __init__(self):
        self.request = SimpleNamespace(is_eager=False)
        self.countdowns: list[float] = []

    def retry(self, countdown):
        self.countdowns.append(countdown)
        raise Retry()


def test_the_task_retries_a_failed_attempt_at_its_backoff_and_only_then(new_ticket, dispatcher, duty_phone,
                                                                       gateway):
    # given
    gateway.refuse_first = 1
    ticket = services.ticket_dispatch(ticket=new_ticket(), unit=duty_phone, actor=dispatcher)
    row = _only(ticket, "dispatched")
    task = FakeTask()
    # when: the attempt fails → a retry at the backoff; a duplicate task finds it not due → no retry
    with pytest.raises(Retry):
        NOTIFICATIONS.run_task(task, row.pk)
    duplicate = NOTIFICATIONS.run_task(task, row.pk)
    # then
    assert len(task.countdowns) == 1 and 25 < task.countdowns[0] <= 30
    assert duplicate == "pending"
    assert Notification.objects.get(pk=row.pk).attempts == 1


def test_the_sweep_sends_due_messages_once(new_ticket, dispatcher, duty_phone, gateway, deliver_inline):
    # given: two messages written while nothing could be queued (their tasks were lost)
    tickets = [services.ticket_dispatch(ticket=new_ticket(), unit=duty_phone, actor=dispatcher) for _ in range(2)]
    later = timezone.now() + timedelta(seconds=2)
    # when
    first = notification_sweep(now=later)
    second = notification_sweep(now=later)
    # then
    assert (first, second) == (2, 0)
    keys = set(Notification.objects.filter(ticket__in=tickets).values_list("idempotency_key", flat=True))
    assert sorted(gateway.deliveries) == sorted(keys)


def test_delivery_logs_never_show_the_duty_phone(new_ticket, dispatcher, duty_phone, settings, caplog):
    # given: a gateway URL that names the number (as some gateways put it in the query) and refuses
    settings.HOTLINE_SMS_GATEWAY_URL = f"http://127.0.0.1:9/sms?to={DUTY}"
    ticket = services.ticket_dispatch(ticket=new_ticket(), unit=duty_phone, actor=dispatcher)
    row = _only(ticket, "dispatched")
    # when
    with caplog.at_level(logging.DEBUG):
        notification_deliver(notification_id=row.pk, force=True)
        logging.getLogger("tickets").warning("recipient %s", DUTY)
    # then
    assert caplog.records and DUTY not in caplog.text and "[电话已隐去]" in caplog.text


def test_the_centre_resends_a_skipped_message_after_entering_the_duty_phone(
        new_ticket, dispatcher, unit_a, unit_handler, gateway, deliver_inline, django_capture_on_commit_callbacks):
    # given: dispatched before 纸坊镇 had a duty phone
    ticket = services.ticket_dispatch(ticket=new_ticket(), unit=unit_a, actor=dispatcher)
    row = _only(ticket, "dispatched")
    assert row.status == "skipped"
    with pytest.raises(Exception) as refused:
        notification_resend(notification=row, actor=dispatcher)
    assert refused.value.code == "notification_unsendable"
    unit_a.duty_phone = "+86 139-0000-7777"
    services.directory.unit_save(unit=unit_a)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        notification_resend(notification=row, actor=dispatcher)
    # then
    row.refresh_from_db()
    assert (row.status, row.recipient, row.attempts) == ("sent", DUTY, 1)
    assert list(gateway.received) == [row.idempotency_key]
    with pytest.raises(Exception) as sent:
        notification_resend(notification=row, actor=dispatcher)
    assert sent.value.code == "notification_sent"
    with pytest.raises(Exception) as denied:
        notification_resend(notification=row, actor=unit_handler)
    assert denied.value.code == "permission_denied"


@pytest.mark.parametrize(("raw", "expected"), [
    ("", ""), ("139 0000 7777", DUTY), ("+86-13900007777", DUTY), ("１３９００００７７７７", DUTY),
    ("0375-1234567", None), ("12345", None), ("电话13900007777", None),
])
def test_duty_phone_is_a_normalised_mobile_number(unit_a, raw, expected):
    # given
    unit_a.duty_phone = raw
    # when / then
    if expected is None:
        with pytest.raises(ValidationError) as error:
            unit_a.full_clean()
        assert "duty_phone" in error.value.message_dict
    else:
        unit_a.full_clean()
        assert unit_a.duty_phone == expected


def test_duty_phone_is_editable_in_admin(client, admin_user, unit_a):
    # given
    client.force_login(admin_user)
    form_class = site._registry[Unit].get_form(SimpleNamespace(user=admin_user), unit_a)
    # when
    page = client.get(reverse("admin:tickets_unit_change", args=[unit_a.pk]))
    bad = form_class(data={"name": unit_a.name, "short_name": unit_a.short_name, "group": unit_a.group,
                           "order": unit_a.order, "active": True, "duty_phone": "0375-1234567"}, instance=unit_a)
    # then
    assert page.status_code == 200 and 'name="duty_phone"' in page.content.decode()
    assert not bad.is_valid() and "不能是固定电话" in bad.errors["duty_phone"][0]


def test_admin_lists_notifications(client, admin_user, ticket_in, duty_phone, settings):
    # given
    settings.HOTLINE_SMS_GATEWAY_URL = ""
    ticket = ticket_in("pending_sign")
    client.force_login(admin_user)
    # when
    page = client.get(reverse("admin:tickets_notification_changelist"))
    # then
    assert page.status_code == 200 and ticket.number in page.content.decode()


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_lists_messages_for_the_centre_with_filters(ticket_in, new_ticket, dispatcher, leader, unit_handler,
                                                        unit_b, duty_phone, settings):
    # given: one skipped message at 纸坊镇 (no gateway), one at another unit
    settings.HOTLINE_SMS_GATEWAY_URL = ""
    ours = ticket_in("pending_sign")
    theirs = services.ticket_dispatch(ticket=new_ticket(), unit=unit_b, actor=dispatcher)
    # when
    everything = _api(leader).get("/api/notifications/")
    at_a = _api(dispatcher).get(f"/api/notifications/?unit={duty_phone.pk}&status=skipped")
    none_sent = _api(dispatcher).get("/api/notifications/?status=sent")
    bad = _api(dispatcher).get("/api/notifications/?status=delivered")
    unit_view = _api(unit_handler).get("/api/notifications/")
    # then
    assert everything.status_code == 200
    assert {r["ticket_number"] for r in everything.json()["results"]} == {ours.number, theirs.number}
    rows = at_a.json()["results"]
    assert [(r["ticket_number"], r["recipient"], r["kind"], r["status_label"]) for r in rows] == [
        (ours.number, DUTY, "dispatched", "未发送")]
    assert none_sent.json()["count"] == 0
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    assert unit_view.status_code == 403 and unit_view.json()["code"] == "permission_denied"


def test_ticket_detail_shows_the_messages_to_the_centre_only(ticket_in, dispatcher, unit_handler, duty_phone,
                                                              client, settings):
    # given
    settings.HOTLINE_SMS_GATEWAY_URL = ""
    ticket = ticket_in("handling")
    services.ticket_urge(ticket=ticket, actor=dispatcher, note="请尽快办理")
    # when
    centre = _api(dispatcher).get(f"/api/tickets/{ticket.pk}/").json()
    unit = _api(unit_handler).get(f"/api/tickets/{ticket.pk}/").json()
    client.force_login(dispatcher)
    centre_page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    client.force_login(unit_handler)
    unit_page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    # then
    assert [n["kind"] for n in centre["notifications"]] == ["urged", "dispatched"]
    assert centre["notifications"][0]["recipient"] == DUTY
    assert unit["notifications"] == []
    assert 'id="notifications"' in centre_page and DUTY in centre_page and "催办短信" in centre_page
    assert 'id="notifications"' not in unit_page and DUTY not in unit_page
