"""Helpers for assessment tests: tickets written straight into the table with the fields the rule
reads (the workflow services are exercised by one end-to-end test), and a fixed evaluation time."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tickets.models import AppealType, Category, HandlingMode, Source, Status, Ticket, UpperPlatform

TZ = timezone.get_default_timezone()
_numbers = itertools.count(1)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


APRIL = at(2024, 4, 10, 10, 0)
EVAL_APRIL = at(2024, 5, 2, 2, 0)


@pytest.fixture
def make_tickets(directory):
    """``make_tickets(unit, count, **fields)``: ``count`` tickets dispatched to ``unit``.
    Defaults: dispatched 2024-04-10 10:00, signed and replied on time, no callback."""
    appeal = AppealType.objects.get(code="problem")
    category = Category.objects.get(code="0201")
    platform = UpperPlatform.objects.order_by("pk").first()

    def make(unit, count, **fields):
        dispatched = fields.pop("dispatched_at", APRIL)
        values = {
            "source": Source.LOCAL,
            "handling_mode": HandlingMode.DISPATCHED,
            "status": Status.PENDING_CALLBACK,
            "registered_at": dispatched - timedelta(hours=1) if dispatched else APRIL,
            "dispatched_at": dispatched,
            "sign_deadline": (dispatched or APRIL) + timedelta(days=1),
            "signed_at": (dispatched or APRIL) + timedelta(hours=2),
            "handle_deadline": (dispatched or APRIL) + timedelta(days=7),
            "replied_at": (dispatched or APRIL) + timedelta(days=3),
        }
        values.update(fields)
        if values["source"] == Source.UPPER:
            values.setdefault("platform", platform)
        tickets = [
            Ticket(number=f"T{next(_numbers):08d}", appeal_type=appeal, category=category, content="测试诉求",
                   unit=unit, **values)
            for _ in range(count)
        ]
        return Ticket.objects.bulk_create(tickets)

    return make
