"""Ticket search: one definition for the list page, the API and the export.

``ticket_search(queryset, text)``: a ticket number (prefix) or an upper platform's number, or words
contained in the content, title or address (case-insensitive). On PostgreSQL the words are found
through a GIN index of every two-character window of those fields (migration
``tickets/0009_ticket_search_index``): a search text of two characters or more must have all of its
windows in the ticket's index entry — every ticket that contains the text does — and the substring
test then confirms each candidate, so the result equals a plain substring scan, without reading the
table. Chinese needs no word segmentation for this (a segmenter can cut 停水 differently inside
暂停水费 and miss it). SQLite, the embedded default, scans.
"""

from __future__ import annotations

import re

from django.contrib.postgres.fields import ArrayField
from django.db import connections
from django.db.models import F, Func, Q, QuerySet, TextField, Value

# What a ticket number (RZ2024040100001) or an upper platform's number looks like.
NUMBER_RE = re.compile(r"^[A-Za-z]{0,8}[0-9][0-9A-Za-z-]{5,39}$")


class TicketTerms(Func):
    function = "hotline_ticket_terms"
    output_field = ArrayField(TextField())


class Bigrams(Func):
    function = "hotline_bigrams"
    output_field = ArrayField(TextField())


def _keyword_q(text: str) -> Q:
    return Q(content__icontains=text) | Q(title__icontains=text) | Q(address__icontains=text)


def search_is_counted(text: str | None) -> bool:
    """Whether a list searched by ``text`` is counted (``tickets.pagination``): yes without a search
    and for a ticket number (a handful of rows through the number indexes); no for words, whose
    matches a count would have to read across the whole table."""
    text = (text or "").strip()
    return not text or bool(NUMBER_RE.match(text))


def ticket_search(queryset: QuerySet, text: str) -> QuerySet:
    text = (text or "").strip()
    if not text:
        return queryset
    words = Q(content__icontains=text) | Q(title__icontains=text) | Q(address__icontains=text)
    if connections[queryset.db].vendor == "postgresql" and len(text) >= 2:
        # The index finds the candidates, the substring test confirms them.
        queryset = queryset.alias(search_terms=TicketTerms(F("content"), F("title"), F("address")))
        words = Q(search_terms__contains=Bigrams(Value(text.lower(), output_field=TextField()))) & words
    if NUMBER_RE.match(text):
        # Each arm has its own index (number prefix, upstream number, words): a bitmap OR, no scan.
        words = Q(number__startswith=text.upper()) | Q(upstream_number=text) | words
    return queryset.filter(words)
