"""Run by tests/test_replica.py in a subprocess, against a private primary and its streaming replica
(DATABASE_URL, DATABASE_REPLICA_URL): migrates the primary, waits until the replica has replayed it,
then makes requests and records, per database alias, every SQL statement each one sent.
Prints one JSON object on its last line."""

from __future__ import annotations

import json
import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings.test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402

from hotline.db import replica_reads  # noqa: E402
from tickets.models import Role, Unit, User  # noqa: E402
from tickets.services.directory import directory_load_ruzhou  # noqa: E402


def wait_for_replay(timeout: float = 60) -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        [target] = cursor.fetchone()
    deadline = time.monotonic() + timeout
    while True:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return
        if time.monotonic() > deadline:
            raise RuntimeError("the replica did not catch up within 60 s")
        time.sleep(0.1)


def recorded(action) -> dict[str, list[str]]:
    statements: dict[str, list[str]] = {"default": [], "replica": []}

    def recorder(alias):
        def wrapper(execute, sql, params, many, context):
            statements[alias].append(" ".join(str(sql).split()))
            return execute(sql, params, many, context)
        return wrapper

    with connections["default"].execute_wrapper(recorder("default")), \
            connections["replica"].execute_wrapper(recorder("replica")):
        result = action()
    statements["result"] = result
    return statements


def main() -> None:
    call_command("migrate", verbosity=0, interactive=False)
    if not Unit.objects.exists():
        directory_load_ruzhou()
    leader = User.objects.create_user("replica-leader", password="x-" * 8, role=Role.LEADER)
    wait_for_replay()
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        in_recovery = cursor.fetchone()[0]

    client = Client()
    client.force_login(leader)  # the session row is written to the primary just now: not yet on the replica
    out = {"in_recovery": in_recovery}
    out["dashboard"] = recorded(lambda: client.get("/dashboard/").status_code)
    out["assessment_api"] = recorded(lambda: client.get("/api/assessment/months/").status_code)
    out["ticket_list"] = recorded(lambda: client.get("/tickets/").status_code)

    def write_in_replica_block():
        with replica_reads():
            User.objects.create_user("replica-written", password="y-" * 8, role=Role.LEADER)
            return Unit.objects.count()

    out["write"] = recorded(write_in_replica_block)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
