"""Middleware of the site. ``DatabaseUnavailableMiddleware``: see ``tickets.exceptions``;
``MalformedRequestMiddleware``: see ``tickets.inputs``."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse, UnreadablePostError
from django.shortcuts import render

from .exceptions import database_unavailable_response, is_api_request, is_database_unavailable
from .inputs import CHARACTER_MESSAGE, forbidden_character


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


class MalformedRequestMiddleware:
    """Refuses a request with a NUL or a lone surrogate in its path, its query string (names and
    values) or a form field (``tickets.inputs``) before any view runs: 400 with
    ``{"code": "invalid", "fields": {…}}`` under ``/api/``, a Chinese page elsewhere. Uploaded files'
    contents are not looked at; JSON bodies are checked by the API's parser."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        fields = self.bad_fields(request)
        if fields:
            return self.refuse(request, fields)
        return self.get_response(request)

    @staticmethod
    def bad_fields(request) -> list[str]:
        bad = []
        if forbidden_character(request.path_info) or forbidden_character(request.path):
            bad.append("path")
        sources = [request.GET]
        if request.method == "POST" and request.content_type in FORM_TYPES:
            try:
                sources.append(request.POST)
            except UnreadablePostError:  # the client went away; a malformed body raises on to Django's 400
                pass
        for source in sources:
            for key, values in source.lists():
                if forbidden_character(key) or any(forbidden_character(v) for v in values if isinstance(v, str)):
                    bad.append(key if not forbidden_character(key) else "non_field_errors")
        return bad

    @staticmethod
    def refuse(request, fields: list[str]) -> HttpResponse:
        detail = f"请求中的内容{CHARACTER_MESSAGE}"
        if is_api_request(request):
            return JsonResponse({"code": "invalid", "detail": detail,
                                 "fields": {field: [CHARACTER_MESSAGE] for field in fields}}, status=400)
        return render(request, "400.html", {"message": detail}, status=400)


FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
