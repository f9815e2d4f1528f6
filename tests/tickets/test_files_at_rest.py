"""Files at rest (issue 13, item 5): no URL serves MEDIA_ROOT in any mode, attachments only through
the permission-checked view, stored under random names."""

from __future__ import annotations

import importlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import clear_url_caches, reverse

import hotline.urls
from tickets.services.attachments import attachment_add

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def debug_urls():
    """The URLconf as ``DJANGO_DEBUG=1`` builds it (it is built once, at import)."""
    with override_settings(DEBUG=True):
        importlib.reload(hotline.urls)
        clear_url_caches()
        yield
    importlib.reload(hotline.urls)
    clear_url_caches()


def test_media_is_not_served_by_url_even_with_debug(client, media_in_tmp, debug_urls, unit_handler, ticket_in,
                                                    dispatcher):
    # given: an attachment and an import file on disk
    ticket = ticket_in("handling")
    attachment = attachment_add(ticket=ticket, actor=unit_handler, file=SimpleUploadedFile("现场.png", PNG))
    (media_in_tmp / "imports").mkdir(parents=True)
    (media_in_tmp / "imports" / "calls.csv").write_text("主叫号码\n13812345678\n")
    client.force_login(dispatcher)
    # when / then: not by URL, logged in or not
    for path in (f"/media/{attachment.file.name}", "/media/imports/calls.csv"):
        assert client.get(path).status_code == 404
        client.logout()
        assert client.get(path).status_code in (302, 404)
        assert b"13812345678" not in client.get(path).content
        client.force_login(dispatcher)
    # only through the view, which checks the ticket's permissions
    response = client.get(reverse("tickets:attachment", args=[ticket.pk, attachment.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG


def test_attachment_paths_are_random_not_the_date_and_name(media_in_tmp, unit_handler, ticket_in):
    # given
    ticket = ticket_in("handling")
    # when
    first = attachment_add(ticket=ticket, actor=unit_handler, file=SimpleUploadedFile("现场 照片.png", PNG))
    second = attachment_add(ticket=ticket, actor=unit_handler, file=SimpleUploadedFile("现场 照片.png", PNG))
    # then
    for attachment in (first, second):
        assert re.fullmatch(r"attachments/[0-9a-f]{32}\.png", attachment.file.name), attachment.file.name
        assert attachment.original_name == "现场 照片.png"
    assert first.file.name != second.file.name


@pytest.mark.parametrize(("role", "status"), [
    ("operator", 200), ("dispatcher", 200), ("unit_handler", 200), ("other_unit_handler", 404), ("assessor", 200),
    ("editor", 200), ("leader", 200), ("admin_user", 200), (None, 302),
])
def test_the_attachment_view_checks_the_ticket_for_each_role(client, request, media_in_tmp, unit_handler,
                                                             ticket_in, role, status):
    # given
    ticket = ticket_in("handling")
    attachment = attachment_add(ticket=ticket, actor=unit_handler, file=SimpleUploadedFile("现场.png", PNG))
    if role:
        client.force_login(request.getfixturevalue(role))
    # when
    response = client.get(reverse("tickets:attachment", args=[ticket.pk, attachment.pk]))
    # then
    assert response.status_code == status
    if status != 200:
        assert PNG not in b"".join(getattr(response, "streaming_content", [response.content]))
