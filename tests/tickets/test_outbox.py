"""The outbox: written with the reply/close, delivered with retries and an idempotency key."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tickets.exchange.outbox import outbox_deliver, outbox_resend, outbox_sweep
from tickets.models import OutboxMessage, OutboxStatus

from .upstream_server import Upstream

pytestmark = pytest.mark.django_db


@pytest.fixture
def upper_ticket_in(ticket_in, upper_platform):
    def make(state):
        return ticket_in(state, source="upper", platform=upper_platform, upstream_number=f"PDS-{state}",
                         channel=None)
    return make


def test_reply_and_close_of_an_upper_ticket_write_outbox_rows_in_the_same_transaction(
        upper_ticket_in, upper_platform, django_capture_on_commit_callbacks):
    # given
    upper_platform.reply_url = "http://127.0.0.1:9/unreachable"
    upper_platform.save()
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        ticket = upper_ticket_in("closed")
    # then
    rows = list(OutboxMessage.objects.filter(ticket=ticket).order_by("pk"))
    assert [r.kind for r in rows] == ["reply", "close"]
    assert rows[0].payload["upstream_number"] == "PDS-closed" and rows[0].payload["reply_text"]
    assert rows[1].payload["callback_result"] == "satisfied" and rows[1].payload["status"] == "closed"
    assert len({r.idempotency_key for r in rows}) == 2
    assert len(callbacks) >= 2  # each one enqueues its delivery after commit


def test_local_tickets_write_nothing_to_the_outbox(ticket_in):
    # when
    ticket_in("closed")
    # then
    assert OutboxMessage.objects.count() == 0


def test_a_refused_delivery_backs_off_then_succeeds_with_the_same_key(upper_ticket_in, upper_platform, settings):
    # given
    settings.HOTLINE_OUTBOX_BACKOFF_SECONDS = 30
    with Upstream(refuse_first=10**6) as upstream:  # refuses everything while the ticket is made
        upper_platform.reply_url = upstream.url
        upper_platform.save()
        ticket = upper_ticket_in("replied")
        message = OutboxMessage.objects.get(ticket=ticket)
        upstream.refuse_first = upstream.attempts + 2
        # when
        first = outbox_deliver(message_id=message.pk, force=True)
        second = outbox_deliver(message_id=message.pk, force=True)
        not_due = outbox_deliver(message_id=message.pk)
        third = outbox_deliver(message_id=message.pk, force=True)
    # then
    assert (first.status, first.attempts, first.last_error) == ("pending", message.attempts + 1, "HTTP 503")
    gap = second.next_attempt_at - timezone.now()
    assert timedelta(seconds=50) < gap <= timedelta(seconds=60)  # 30 s, then 60 s
    assert not_due.attempts == second.attempts
    assert third.status == OutboxStatus.SENT and third.sent_at
    assert list(upstream.received) == [message.idempotency_key]


@pytest.fixture
def deliver_inline(monkeypatch):
    """Queued deliveries run at once (independent of whether a broker is configured)."""
    monkeypatch.setattr("tickets.exchange.outbox._enqueue", lambda pk: outbox_deliver(message_id=pk))


def test_after_the_last_attempt_the_message_fails_and_the_centre_resends_it(
        upper_ticket_in, upper_platform, settings, dispatcher, django_capture_on_commit_callbacks, deliver_inline):
    # given
    settings.HOTLINE_OUTBOX_MAX_ATTEMPTS = 2
    upper_platform.reply_url = "http://127.0.0.1:9/refused"
    upper_platform.save()
    ticket = upper_ticket_in("replied")
    message = OutboxMessage.objects.get(ticket=ticket)
    outbox_deliver(message_id=message.pk, force=True)
    # when
    failed = outbox_deliver(message_id=message.pk, force=True)
    # then
    assert failed.status == OutboxStatus.FAILED and failed.attempts == 2 and failed.last_error
    with Upstream() as upstream:
        upper_platform.reply_url = upstream.url
        upper_platform.save()
        with django_capture_on_commit_callbacks(execute=True):
            outbox_resend(message=failed, actor=dispatcher)  # queued at commit
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert list(upstream.received) == [message.idempotency_key]


def test_the_sweep_delivers_due_pending_messages(upper_ticket_in, upper_platform, deliver_inline):
    # given: the ticket was replied while the platform's address refused (delivery failed)
    upper_platform.reply_url = "http://127.0.0.1:9/refused"
    upper_platform.save()
    ticket = upper_ticket_in("replied")
    message = OutboxMessage.objects.get(ticket=ticket)
    assert outbox_deliver(message_id=message.pk, force=True).last_error
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    with Upstream() as upstream:
        upper_platform.reply_url = upstream.url
        upper_platform.save()
        # when
        count = outbox_sweep()
    # then
    message.refresh_from_db()
    assert count == 1 and message.status == OutboxStatus.SENT
    assert list(upstream.received) == [message.idempotency_key]


def test_outbox_api_lists_pending_and_failed_and_resends(upper_ticket_in, upper_platform, dispatcher, unit_handler):
    # given
    upper_platform.reply_url = "http://127.0.0.1:9/refused"
    upper_platform.save()
    ticket = upper_ticket_in("replied")
    message = OutboxMessage.objects.get(ticket=ticket)
    client = APIClient()
    client.force_authenticate(dispatcher)
    # when
    listed = client.get("/api/outbox/?status=pending")
    resent = client.post(f"/api/outbox/{message.pk}/resend/")
    # then
    assert listed.status_code == 200
    assert [r["ticket_number"] for r in listed.json()["results"]] == [ticket.number]
    assert resent.status_code == 200 and resent.json()["status"] == "pending"
    client.force_authenticate(unit_handler)
    assert client.post(f"/api/outbox/{message.pk}/resend/").status_code == 403
