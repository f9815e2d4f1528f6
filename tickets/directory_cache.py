"""The directory as the hot paths look it up: appeal types, categories, channels, upper platforms
and units by code or id, from memory instead of one query each (registration used four).

Small tables that change rarely (a few hundred rows): each process keeps the rows of each queryset it
was asked about, indexed by the field looked up, and drops them when any of these tables changes
(``tickets.caching``: receivers in ``tickets/apps.py``; other processes follow through the shared
cache's version). A row changed by ``QuerySet.update``/``bulk_*`` sends no signal: such code calls
``invalidate()`` itself. Tickets and users are never cached here.
"""

from __future__ import annotations

from django.db.models import Model, QuerySet

from .caching import VersionedProcessCache
from .models import AppealType, Category, Channel, Unit, UpperPlatform

DIRECTORY_MODELS: tuple[type[Model], ...] = (AppealType, Category, Channel, Unit, UpperPlatform)

_directory: VersionedProcessCache[dict] = VersionedProcessCache("directory:version", dict)
invalidate = _directory.invalidate


def is_directory(queryset: QuerySet) -> bool:
    return queryset.model in DIRECTORY_MODELS


def _key(queryset: QuerySet, *extra) -> tuple:
    query = queryset.query
    # The rows a queryset selects are its model, its WHERE tree and its slice. A WHERE tree hashes and
    # compares by structure, ten times cheaper than compiling the SQL (which cost ~1 ms of every
    # registration, four look-ups each).
    key = (queryset.model._meta.label, query.where, query.low_mark, query.high_mark, *extra)
    try:
        hash(key)
    except TypeError:  # a condition on something unhashable: key on the SQL itself
        key = (queryset.model._meta.label, str(query), *map(repr, extra))
    return key


def directory_lookup(queryset: QuerySet, field: str, value) -> Model | None:
    """The object of ``queryset`` whose ``field`` equals ``value`` (compared as text), or None."""
    indexes = _directory.get()
    key = _key(queryset, field)
    index = indexes.get(key)
    if index is None:
        index = {str(getattr(obj, field)): obj for obj in queryset.all()}
        indexes[key] = index  # two threads may both build it: the same rows, harmless
    return index.get(str(value))


def directory_rows(queryset: QuerySet) -> list[Model]:
    """The objects of ``queryset`` in its order (a <select>'s options), with what it select_related."""
    query = queryset.query
    indexes = _directory.get()
    key = _key(queryset, "rows", tuple(query.order_by), repr(query.select_related))
    rows = indexes.get(key)
    if rows is None:
        rows = list(queryset.all())
        indexes[key] = rows
    return rows
