"""On PostgreSQL the audit tables refuse UPDATE and DELETE at the database level, whatever the client."""

import pytest
from django.db import DatabaseError, connection, transaction

from tickets.models import AccessAction, CallerDataAccess, TicketEvent


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("database triggers are PostgreSQL's: set DATABASE_URL=postgres://…")


@pytest.mark.postgres
@pytest.mark.parametrize("sql", [
    "UPDATE tickets_ticketevent SET note = 'rewritten' WHERE id = %s",
    "DELETE FROM tickets_ticketevent WHERE id = %s",
])
def test_events_refuse_raw_update_and_delete(postgres_only, ticket_in, sql):
    # given: a ticket with its events
    event = TicketEvent.objects.filter(ticket=ticket_in("handling")).first()
    # when / then: even raw SQL past the ORM is refused, and the row is unchanged
    with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    assert TicketEvent.objects.get(pk=event.pk).note == event.note


@pytest.mark.postgres
def test_access_log_refuses_raw_delete_but_accepts_inserts(postgres_only, ticket_in, dispatcher):
    # given
    ticket = ticket_in("pending_dispatch")
    row = CallerDataAccess(user=dispatcher, action=AccessAction.VIEW, ticket=ticket)
    row.save()  # inserting is what an audit table is for
    # when / then
    with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM tickets_callerdataaccess WHERE id = %s", [row.pk])
    assert CallerDataAccess.objects.filter(pk=row.pk).exists()
