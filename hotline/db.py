"""Read replica routing: which requests may read from ``DATABASE_REPLICA_URL``, in one place.

Only GET/HEAD requests to the views named in ``REPLICA_VIEWS`` (leader dashboard, assessment tables,
public bulletins, exports: heavy reads that tolerate a replica's lag of a second or two) read from the
``replica`` alias, for the whole response including template rendering and streamed bodies. Every
write, every other request and every Celery task use ``default`` (the primary). Without a replica
configured the router answers ``None`` and Django uses ``default`` as always.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

# URL names (``namespace:name`` where namespaced) of the views whose GET reads may use the replica.
REPLICA_VIEWS = frozenset({
    # leader dashboard
    "reports:dashboard",
    # assessment tables, scores and their drill-down (pages and API)
    "assessment:index",
    "assessment:month",
    "assessment:month-export",
    "assessment:unit",
    "assessment:score",
    "assessment:score-tickets",
    "assessment-months",
    "assessment-month",
    "assessment-score",
    "assessment-score-tickets",
    "assessment-unit-scores",
    # public bulletins and their files
    "bulletins:archive",
    "bulletins:detail",
    "bulletins:pdf",
    "bulletins:docx",
    "bulletins:xlsx",
    # exports
    "ticket-export",
})

REPLICA_ALIAS = "replica"
# Who is signed in is always read from the primary: a session or token created a moment ago must not be
# missed because the replica is a second behind (and a revoked one must not live on there).
PRIMARY_ONLY_APPS = frozenset({"sessions", "auth", "authtoken", "axes", "contenttypes"})
_reading_from_replica: ContextVar[bool] = ContextVar("reading_from_replica", default=False)


def replica_configured() -> bool:
    return REPLICA_ALIAS in settings.DATABASES


@contextmanager
def replica_reads():
    """Reads inside this block go to the replica (when one is configured); writes still go to the primary."""
    token = _reading_from_replica.set(True)
    try:
        yield
    finally:
        _reading_from_replica.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if (_reading_from_replica.get() and replica_configured()
                and model._meta.app_label not in PRIMARY_ONLY_APPS
                and model._meta.label != settings.AUTH_USER_MODEL):
            return REPLICA_ALIAS
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # The replica is a copy of the primary: objects read from either belong together.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


def _streamed_from_replica(content):
    with replica_reads():
        yield from content


class ReplicaReadsMiddleware:
    """Turns replica reads on for safe requests to the views in ``REPLICA_VIEWS``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = None
        if request.method in ("GET", "HEAD") and replica_configured():
            user = getattr(request, "user", None)
            if user is not None:
                user.is_authenticated  # noqa: B018 - load the session's user from the primary, before the switch
            match = getattr(request, "resolver_match", None)
            if match is None:
                from django.urls import Resolver404, resolve

                try:
                    match = resolve(request.path_info)
                except Resolver404:
                    match = None
            if match is not None and match.view_name in REPLICA_VIEWS:
                token = _reading_from_replica.set(True)
        if token is None:
            return self.get_response(request)
        try:
            response = self.get_response(request)
            if getattr(response, "streaming", False):
                response.streaming_content = _streamed_from_replica(response.streaming_content)
            return response
        finally:
            _reading_from_replica.reset(token)
