"""Middleware of the site. ``DatabaseUnavailableMiddleware``: see ``tickets.exceptions``."""

from __future__ import annotations

from .exceptions import database_unavailable_response, is_database_unavailable


class DatabaseUnavailableMiddleware:
    """Turns a database-unavailable error raised by a view into the 503 answer. Errors raised outside
    views (a middleware saving the session) reach ``handler500``, which answers the same way."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_database_unavailable(exception):
            return database_unavailable_response(request, exception)
        return None
