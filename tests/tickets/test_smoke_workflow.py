from tickets.models import Status, TicketEvent


def test_main_path_writes_one_event_per_move(ticket_in):
    # given / when
    ticket = ticket_in("closed")
    # then
    assert ticket.status == Status.CLOSED
    types = list(TicketEvent.objects.filter(ticket=ticket).values_list("type", flat=True))
    assert types == ["registered", "dispatched", "signed", "replied", "review_passed", "callback"]
