"""``seed_demo``: a demo in every state, written through the services, created once."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F
from django.utils import timezone

from tickets.models import (
    Call,
    CallKind,
    ExtensionRequest,
    HandlingMode,
    RequestStatus,
    Source,
    Status,
    Supervision,
    Ticket,
    TicketEvent,
    UpperPlatform,
    Urge,
)
from tickets.selectors import due_soon_q, overdue_q

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(directory, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_seed_demo_covers_every_state_and_situation(seeded):
    # given
    now = timezone.now()
    tickets = Ticket.objects.all()

    # when
    states = set(tickets.values_list("status", flat=True))

    # then
    assert states == set(Status.values)
    assert 250 <= tickets.count() <= 350
    assert tickets.filter(handling_mode=HandlingMode.COORDINATED, status=Status.CLOSED).count() >= 50
    assert tickets.filter(status=Status.HANDLING).filter(overdue_q(now)).exists()
    assert tickets.filter(status=Status.HANDLING).filter(due_soon_q(now)).exists()
    platforms = set(tickets.filter(source=Source.UPPER).values_list("platform__code", flat=True))
    assert platforms == set(UpperPlatform.objects.filter(active=True).values_list("code", flat=True))
    assert tickets.filter(confidential=True).exists() and tickets.filter(urgent=True).exists()
    assert tickets.filter(status=Status.CLOSED).exclude(callback_result="").count() >= 50
    assert tickets.filter(merged_into__isnull=False, status=Status.MERGED).exists()
    assert tickets.filter(redo_count__gt=0).exists() and tickets.filter(return_count__gt=0).exists()
    assert Urge.objects.exists() and Supervision.objects.exists()
    assert ExtensionRequest.objects.filter(status=RequestStatus.PENDING).exists()


def test_seed_demo_writes_through_services_over_the_last_30_days_once(seeded):
    # given
    now = timezone.now()
    before = (Ticket.objects.count(), Call.objects.count(), TicketEvent.objects.count())

    # when: run again
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    # then: nothing changed (idempotent)
    assert (Ticket.objects.count(), Call.objects.count(), TicketEvent.objects.count()) == before
    # spread over the last 30 days, in order, nothing in the future
    oldest = Ticket.objects.order_by("registered_at").first().registered_at
    assert 20 <= (now - oldest).days <= 30
    assert not TicketEvent.objects.filter(created_at__gt=now).exists()
    assert not Ticket.objects.filter(closed_at__lt=F("registered_at")).exists()
    # every ticket has its registration event: written by the services
    assert not Ticket.objects.annotate(n=Count("events")).filter(n=0).exists()
    assert TicketEvent.objects.filter(type="registered").count() == Ticket.objects.count()
    # ~500 calls, with and without tickets
    assert 450 <= Call.objects.count() <= 550
    assert Call.objects.filter(kind=CallKind.REPEAT, ticket__isnull=False).exists()
    assert Call.objects.filter(ticket__isnull=True).count() > 100
    # fake callers only: 139000xxxxx
    phones = set(Ticket.objects.exclude(caller_phone="").values_list("caller_phone", flat=True))
    assert phones and all(p.startswith("139000") and len(p) == 11 for p in phones)


def test_seed_demo_refuses_outside_debug(directory, settings):
    # given
    settings.DEBUG = False

    # when / then
    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert not Ticket.objects.exists()


def test_seed_demo_shows_one_upper_platform_of_each_kind_and_nothing_fails(seeded):
    # given
    from tickets.models import OutboxMessage, OutboxStatus

    platforms = UpperPlatform.objects.filter(active=True)
    # then: 平顶山市热线中心 replies through its (loopback) address, the others exchange files
    assert [p.code for p in platforms if not p.file_exchange] == ["pds"]
    assert any(p.file_exchange for p in platforms)
    # no result was tried and failed while seeding: they wait for export
    statuses = set(OutboxMessage.objects.values_list("status", flat=True))
    assert statuses == {OutboxStatus.AWAITING_EXPORT}
    assert not OutboxMessage.objects.filter(attempts__gt=0).exists()


@pytest.mark.django_db
def test_the_demo_unit_finds_tickets_waiting_in_its_inbox(directory, settings, client):
    import io

    from tickets.models import Unit, User

    # given the demo, as `make run` builds it
    settings.DEBUG = True
    call_command("seed_demo", "--tickets", "60", stdout=io.StringIO())
    call_command("create_demo_users", stdout=io.StringIO())
    # when the demo unit handler (纸坊镇) opens the 工作台
    handler = User.objects.get(username="unit")
    assert handler.unit == Unit.objects.get(short_name="纸坊镇")
    client.force_login(handler)
    html = client.get("/").content.decode()
    # then tickets of its own township wait there, to sign and in hand
    waiting = Ticket.objects.filter(unit=handler.unit, status__in=[Status.PENDING_SIGN, Status.HANDLING])
    assert waiting.filter(status=Status.PENDING_SIGN).exists() and waiting.filter(status=Status.HANDLING).exists()
    assert waiting.filter(township=handler.unit).count() >= 3
    for ticket in waiting[:3]:
        assert ticket.number in html
    assert "暂无待办" not in html
