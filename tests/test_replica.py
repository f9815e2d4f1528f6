"""A real PostgreSQL streaming replica (``pg_basebackup -R`` of a private primary, on another port):
report reads go to it, writes never do, and sessions are read from the primary. The routing itself
lives in hotline/db.py; this test runs it in a subprocess configured with DATABASE_REPLICA_URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.urls import get_resolver

from hotline.db import REPLICA_VIEWS

from .faults.services import PrivatePostgres, postgres_bindir

ROOT = Path(__file__).resolve().parent.parent
WRITES = ("INSERT", "UPDATE", "DELETE")


def _view_names(resolver=None, namespace="") -> set[str]:
    names = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if hasattr(pattern, "url_patterns"):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _view_names(pattern, inner)
        elif pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def test_every_view_named_for_the_replica_exists():
    # A renamed URL would silently send its reads back to the primary.
    assert REPLICA_VIEWS - _view_names() == set()


class StreamingReplica(PrivatePostgres):
    """A hot standby of ``primary``, made with pg_basebackup -R (streaming replication)."""

    def __init__(self, primary: PrivatePostgres):
        super().__init__(primary.bindir)
        self.primary = primary

    def init(self) -> StreamingReplica:
        import shutil

        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres",
                  "-D", str(self.data), "-R", "-X", "stream", "--no-sync")
        return self


@pytest.fixture
def primary_and_replica():
    if connection.vendor != "postgresql":
        pytest.skip("streaming replica test: runs when the suite runs on PostgreSQL (DATABASE_URL=postgres://…)")
    bindir = postgres_bindir()
    if bindir is None or not (bindir / "pg_basebackup").exists():
        pytest.skip("streaming replica test: initdb/pg_ctl/pg_basebackup are not installed")
    primary = PrivatePostgres(bindir).init()
    replica = None
    try:
        primary.start()
        primary.wait_accepting()
        primary.create_database("hotline")
        replica = StreamingReplica(primary).init()
        replica.start()
        replica.wait_accepting()
        yield primary, replica
    finally:
        if replica is not None:
            replica.destroy()
        primary.destroy()


@pytest.mark.postgres
def test_report_reads_go_to_the_replica_and_writes_never_do(primary_and_replica):
    # given a primary and its streaming replica
    primary, replica = primary_and_replica
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "REDIS_URL")}
    env.update(DATABASE_URL=primary.url("hotline"), DATABASE_REPLICA_URL=replica.url("hotline"),
               DJANGO_SETTINGS_MODULE="hotline.settings.test", PYTHONPATH=str(ROOT))

    # when the probe migrates the primary and makes requests
    done = subprocess.run([sys.executable, "-m", "tests.replica_probe"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])

    # then the replica is a real standby (it refuses writes of its own) …
    assert out["in_recovery"] is True
    # … the dashboard and the assessment API read their figures from it …
    for step in ("dashboard", "assessment_api"):
        assert out[step]["result"] == 200, step
        assert any(sql.startswith("SELECT") for sql in out[step]["replica"]), step
        # … while the signed-in user's session and account come from the primary
        assert any("django_session" in sql for sql in out[step]["default"]), step
        assert not any("django_session" in sql for sql in out[step]["replica"]), step
    # … a page that is not a report never touches the replica …
    assert out["ticket_list"]["result"] == 200
    assert out["ticket_list"]["replica"] == []
    # … and a write inside a replica-reading block still goes to the primary.
    assert out["write"]["result"] > 0
    assert any(sql.startswith("INSERT") for sql in out["write"]["default"])
    for step in ("dashboard", "assessment_api", "ticket_list", "write"):
        assert not [sql for sql in out[step]["replica"] if sql.startswith(WRITES)], step
