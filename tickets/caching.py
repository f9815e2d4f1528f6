"""A value computed from a few small tables, kept in each process and reloaded when they change.

One mechanism for the working calendar with its time-limit rules (``tickets.workcalendar``) and for the
directory that every registration looks up (``tickets.directory_cache``): the value lives in the
process; a version number in the shared cache (``REDIS_URL`` with several web processes) says when it
is stale. Every write to the tables calls ``invalidate()`` — as a ``post_save``/``post_delete`` receiver,
and by hand after bulk writes that send no signal — which drops this process's copy and sets a new
version, now and again at commit (a reader that reloaded in between still saw the old rows). Other
processes notice the new version at their next read; without a shared cache, within ``ttl`` seconds.
A cache outage never blocks a write or a read: the value is then reloaded after ``ttl``.
A write that is rolled back after the writer's own process reloaded inside its transaction leaves
that process with the uncommitted rows until the next change or ``ttl`` (the other processes reload
from committed rows): rare — forms validate before they save — and bounded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")


class VersionedProcessCache(Generic[T]):
    def __init__(self, key: str, load: Callable[[], T], *, ttl: float = 300):
        self.key = key
        self.load = load
        self.ttl = ttl
        self._lock = threading.Lock()
        self._cached: tuple[float, object, T] | None = None

    def get(self) -> T:
        try:
            version = cache.get(self.key)
        except Exception:  # a cache outage: fall back to the time limit
            version = None
        now = time.monotonic()
        with self._lock:
            if self._cached and self._cached[1] == version and now - self._cached[0] < self.ttl:
                return self._cached[2]
        value = self.load()
        with self._lock:
            self._cached = (now, version, value)
        return value

    def invalidate(self, *args, **kwargs) -> None:
        """Also usable as a signal receiver (its arguments are ignored)."""
        self._invalidate_now()
        transaction.on_commit(self._invalidate_now)

    def _invalidate_now(self) -> None:
        with self._lock:
            self._cached = None
        try:
            cache.set(self.key, time.time_ns(), None)
        except Exception:  # a cache outage must not block an edit
            pass
