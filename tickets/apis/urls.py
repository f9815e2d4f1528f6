"""URLs of the tickets API, mounted at ``/api/``."""

from django.urls import path

from . import auth, calls, directory, tickets
from .actions import ACTION_VIEWS, SupervisionCloseApi

urlpatterns = [
    path("auth/token/", auth.TokenCreateApi.as_view(), name="auth-token"),
    path("auth/tokens/<int:user_id>/", auth.TokenRevokeApi.as_view(), name="auth-token-revoke"),
    path("me/", auth.MeApi.as_view(), name="me"),
    # Directory and calendar (read-only)
    path("units/", directory.UnitListApi.as_view(), name="unit-list"),
    path("categories/", directory.CategoryListApi.as_view(), name="category-list"),
    path("appeal-types/", directory.AppealTypeListApi.as_view(), name="appeal-type-list"),
    path("channels/", directory.ChannelListApi.as_view(), name="channel-list"),
    path("platforms/", directory.PlatformListApi.as_view(), name="platform-list"),
    path("calendar/years/", directory.CalendarYearListApi.as_view(), name="calendar-year-list"),
    path("calendar/days/", directory.CalendarDayListApi.as_view(), name="calendar-day-list"),
    # Tickets
    path("tickets/", tickets.TicketListCreateApi.as_view(), name="ticket-list"),
    path("tickets/by-caller/", tickets.TicketByCallerApi.as_view(), name="ticket-by-caller"),
    path("tickets/<int:ticket_id>/", tickets.TicketDetailApi.as_view(), name="ticket-detail"),
    path("tickets/<int:ticket_id>/events/", tickets.TicketEventListApi.as_view(), name="ticket-events"),
    *[
        path(f"tickets/<int:ticket_id>/{action}/", view.as_view(), name=f"ticket-{action}")
        for action, view in ACTION_VIEWS.items()
    ],
    path("supervisions/<int:supervision_id>/close/", SupervisionCloseApi.as_view(), name="supervision-close"),
    path("queues/<str:name>/", tickets.QueueApi.as_view(), name="queue"),
    path("calls/", calls.CallListCreateApi.as_view(), name="call-list"),
]
