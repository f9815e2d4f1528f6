"""Benchmark: scoring one month of 1,000,000 dispatched tickets over ~60 units on PostgreSQL.

A fresh database (``BENCH_DATABASE_URL`` with ``_assessment`` appended to its name, so that it does
not clobber other benchmarks), migrated, with the Ruzhou directory. 1,000,000 tickets of April 2024
are generated directly in SQL (``INSERT … SELECT … generate_series``) over the first 60 assessed
units, with a spread of late signs, late or missing replies and callback results. Then:

- ``assessment_compute(month=2024-04)`` — the product's service (one aggregate query grouped by
  unit, exact arithmetic, stored rows and ranks) — timed ``--repeat`` times;
- one hand-written SQL query computing the same numerators and denominators, timed as often;
- the ratio service / SQL, and a check that both give the same counts.

Options (after ``--``): ``--tickets N`` (default 1,000,000), ``--units N`` (60), ``--repeat N`` (3),
``--keep-db`` (reuse the database if it already holds the tickets). Never asserts timings.
"""

from __future__ import annotations

import argparse
import json
import time
from urllib.parse import urlsplit

from .common import bench_database_url, bench_env, database_recreate, generated_insert_sql, manage

MONTH = "2024-04"
EVALUATED_AT = "2024-05-02T02:00:00+08:00"

# The indicators of assessment.md in plain SQL: one scan, conditional counts grouped by unit.
HAND_SQL = """
SELECT t.unit_id,
       COUNT(*) AS tickets,
       COUNT(*) FILTER (WHERE t.signed_at <= %(ev)s AND (t.sign_deadline IS NULL OR t.signed_at <= t.sign_deadline))
           AS sign_num,
       COUNT(*) FILTER (WHERE t.signed_at <= %(ev)s OR t.sign_deadline < %(ev)s) AS sign_den,
       COUNT(*) FILTER (WHERE t.replied_at <= %(ev)s
                        AND (t.handle_deadline IS NULL OR t.replied_at <= t.handle_deadline)) AS close_num,
       COUNT(*) FILTER (WHERE t.replied_at <= %(ev)s OR t.handle_deadline < %(ev)s) AS close_den,
       COUNT(*) FILTER (WHERE t.callback_result IN ('satisfied', 'basic', 'unsatisfied') AND t.callback_resolved
                        AND (t.callback_at IS NULL OR t.callback_at <= %(ev)s)) AS resolved_num,
       COUNT(*) FILTER (WHERE t.callback_result = 'satisfied'
                        AND (t.callback_at IS NULL OR t.callback_at <= %(ev)s)) AS satisfied,
       COUNT(*) FILTER (WHERE t.callback_result = 'basic'
                        AND (t.callback_at IS NULL OR t.callback_at <= %(ev)s)) AS basic,
       COUNT(*) FILTER (WHERE t.callback_result = 'unsatisfied'
                        AND (t.callback_at IS NULL OR t.callback_at <= %(ev)s)) AS unsatisfied
FROM tickets_ticket t
WHERE t.unit_id IS NOT NULL
  AND t.merged_into_id IS NULL
  AND t.status <> 'merged'
  AND (t.source = 'upper' OR (t.source = 'local' AND t.handling_mode = 'dispatched'))
  AND ((t.dispatched_at >= %(start)s AND t.dispatched_at < %(end)s)
       OR (t.dispatched_at IS NULL AND t.registered_at >= %(start)s AND t.registered_at < %(end)s))
GROUP BY t.unit_id
ORDER BY t.unit_id
"""


# ---------------------------------------------------------------------------------------------
# Run inside ``manage.py shell`` (Django set up, PostgreSQL)
# ---------------------------------------------------------------------------------------------


def worker_generate(tickets: int, units: int) -> None:
    """Insert ``tickets`` tickets of April 2024 in one ``INSERT … SELECT generate_series``."""
    from django.db import connection, transaction

    from tickets.models import AppealType, AssessmentGroup, Category, Ticket, Unit, UpperPlatform

    unit_ids = list(Unit.objects.exclude(group=AssessmentGroup.NONE).order_by("group", "order", "pk")
                    .values_list("pk", flat=True)[:units])
    appeal = AppealType.objects.get(code="problem").pk
    category = Category.objects.filter(parent__isnull=False).order_by("code").first().pk
    platform = UpperPlatform.objects.order_by("pk").first().pk
    d = "(TIMESTAMPTZ '2024-04-01 00:00:00+08' + ((i * 7919) % 2592000) * INTERVAL '1 second')"
    known = {
        "number": "'B' || lpad(i::text, 9, '0')",
        "source": "CASE WHEN i % 15 = 0 THEN 'upper' ELSE 'local' END",
        "platform_id": f"CASE WHEN i % 15 = 0 THEN {platform} ELSE NULL END",
        "handling_mode": "'dispatched'",
        "appeal_type_id": str(appeal),
        "category_id": str(category),
        "content": "'基准测试工单'",
        "unit_id": f"(ARRAY{unit_ids})[(1 + (i * 31) % {len(unit_ids)})::int]",
        "status": "CASE WHEN i % 50 = 0 THEN 'handling' ELSE 'closed' END",
        "registered_at": f"{d} - INTERVAL '1 hour'",
        "dispatched_at": d,
        "sign_deadline": f"{d} + INTERVAL '24 hours'",
        "signed_at": f"{d} + (i % 29) * INTERVAL '1 hour'",
        "handle_deadline": f"{d} + INTERVAL '7 days'",
        "replied_at": f"CASE WHEN i % 50 = 0 THEN NULL ELSE {d} + (i % 9) * INTERVAL '1 day' END",
        "closed_at": f"CASE WHEN i % 50 = 0 THEN NULL ELSE {d} + (i % 9) * INTERVAL '1 day' END",
        "callback_result": "CASE WHEN i % 50 = 0 THEN '' ELSE (ARRAY['satisfied','satisfied','satisfied',"
                           "'satisfied','satisfied','satisfied','basic','basic','unsatisfied',''])[(1 + i % 10)::int] END",
        "callback_resolved": "CASE WHEN i % 50 = 0 OR i % 10 = 9 THEN NULL ELSE (i % 13 <> 0) END",
        "callback_at": f"CASE WHEN i % 50 = 0 OR i % 10 = 9 THEN NULL ELSE {d} + (i % 9 + 1) * INTERVAL '1 day' END",
        "created_at": "now()",
        "updated_at": "now()",
    }
    sql = generated_insert_sql(Ticket, known, f"FROM generate_series(1::bigint, {int(tickets)}::bigint) AS i")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # Generated rows are consistent by construction: skip the per-row deferred foreign-key
        # triggers (superuser, benchmark database only), which otherwise dominate the insert.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(sql)
    inserted = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Ticket._meta.db_table}")
    print(json.dumps({"generate_seconds": round(inserted, 2), "units": len(unit_ids)}))


def worker_measure(repeat: int) -> None:
    """Time the service and the hand-written SQL; check they agree."""
    from datetime import datetime

    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from assessment.models import UnitScore
    from assessment.services import assessment_compute, month_bounds, month_first

    month = month_first(MONTH)
    evaluated_at = datetime.fromisoformat(EVALUATED_AT)
    start, end = month_bounds(month)

    service_times, queries = [], 0
    for attempt in range(repeat):
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            run = assessment_compute(month=month, evaluated_at=evaluated_at)
            service_times.append(time.perf_counter() - started)
        if attempt == 0:
            queries = len(captured.captured_queries)

    sql_times, rows = [], []
    for _ in range(repeat):
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(HAND_SQL, {"ev": evaluated_at, "start": start, "end": end})
            rows = cursor.fetchall()
            sql_times.append(time.perf_counter() - started)

    keys = ("tickets", "sign_num", "sign_den", "close_num", "close_den", "resolved_num", "satisfied", "basic",
            "unsatisfied")
    by_sql = {row[0]: row[1:] for row in rows}
    stored = {s["unit_id"]: tuple(s[k] for k in keys)
              for s in UnitScore.objects.filter(run=run, tickets__gt=0).values("unit_id", *keys)}
    service_best, sql_best = min(service_times), min(sql_times)
    print(json.dumps({
        "tickets_counted": run.ticket_count,
        "units_scored": UnitScore.objects.filter(run=run, excluded=False).count(),
        "service_seconds": [round(t, 3) for t in service_times],
        "service_best_seconds": round(service_best, 3),
        "service_queries": queries,
        "hand_sql_seconds": [round(t, 3) for t in sql_times],
        "hand_sql_best_seconds": round(sql_best, 3),
        "ratio_service_over_sql": round(service_best / sql_best, 2) if sql_best else None,
        "same_counts": stored == by_sql,
        "target_seconds": 10,
    }))


# ---------------------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------------------


def _shell(env: dict[str, str], code: str, timeout: float = 1800) -> dict:
    out = manage(env, "shell", "--no-imports", "-c", code, timeout=timeout)
    return json.loads(out.strip().splitlines()[-1])


def run(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="bench assessment")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep-db", action="store_true")
    args, _ = parser.parse_known_args(argv)

    database_url = bench_database_url("_assessment")
    env = bench_env(database_url)
    figures: dict = {"database": urlsplit(database_url).path.lstrip("/"), "tickets": args.tickets}

    have = 0
    if args.keep_db:
        try:
            have = _shell(env, "import json; from tickets.models import Ticket; "
                               "print(json.dumps({'n': Ticket.objects.count()}))")["n"]
        except Exception:  # no database yet
            have = 0
    if have != args.tickets:
        database_recreate(database_url)
        manage(env, "migrate", "--noinput")
        manage(env, "load_ruzhou")
        generated = _shell(env, f"import bench.assessment as b; b.worker_generate({args.tickets}, {args.units})")
        figures.update(generated)
    measured = _shell(env, f"import bench.assessment as b; b.worker_measure({args.repeat})")
    figures.update(measured)
    return figures
