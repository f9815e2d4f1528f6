"""Benchmark: the month's compute + bulletin build against hand-written SQL of the same figures.

A database of its own (``BENCH_DATABASE_URL`` with ``_bulletin`` appended), migrated, with the Ruzhou
directory; then, by one ``INSERT … SELECT generate_series`` each, N tickets (default 1,000,000)
registered in March 2030 — local coordinated / local dispatched / upper in Ruzhou-like shares, spread
over every category, appeal type, township and unit, most closed with a callback — and 1.7 × N calls.
Then, in one process and alternating, ``--repeat`` times each:

- the product: ``assessment_compute`` of the month followed by ``reports.services.bulletin_build``
  (every figure of the bulletin JSON, the suggested texts, the stored draft and its trail record);
- hand-written SQL of the same figures (``HAND_SQL`` of bench/assessment.py per unit, and
  ``HAND_BULLETIN_SQL`` here: calls, tickets grouped by source / mode / platform / appeal type /
  category, typical cases);

and prints the best time of each, their ratio (target ≤ 2) and whether both gave the same figures.
Never asserts timings.

Options (after ``--``): ``--tickets N``, ``--repeat N`` (3), ``--keep-db`` (reuse the filled database).
"""

from __future__ import annotations

import argparse
import json
import time

from .common import bench_database_url, bench_env, database_recreate, manage

MONTH = "2030-03"
EVALUATED_AT = "2030-04-02T02:00:00+08:00"

SEED = r"""
import datetime as dt, json, time
from zoneinfo import ZoneInfo
from django.db import connection
from tickets.models import (AppealType, AssessmentGroup, Category, Channel, Ticket, Call, Unit,
                            UpperPlatform)

N = {tickets}
tz = ZoneInfo("Asia/Shanghai")
start = dt.datetime(2030, 3, 1, tzinfo=tz)
seconds = 31 * 86400 - 3600

appeals = list(AppealType.objects.order_by("id").values_list("id", flat=True))
categories = list(Category.objects.filter(parent__isnull=False).order_by("code").values_list("id", flat=True))
channels = list(Channel.objects.order_by("id").values_list("id", flat=True))
platforms = list(UpperPlatform.objects.order_by("id").values_list("id", flat=True))
townships = list(Unit.objects.filter(group=AssessmentGroup.TOWNSHIP).order_by("id").values_list("id", flat=True))
units = list(Unit.objects.exclude(group=AssessmentGroup.NONE).order_by("id").values_list("id", flat=True))

def arr(values):
    return "ARRAY[" + ",".join(str(v) for v in values) + "]::bigint[]"

# Expressions per column; g is the series number, r1..r4 random numbers per row.
expr = {{
    "number": "'B' || lpad(g::text, 9, '0')",
    "source": "CASE WHEN r1 < 0.07 THEN 'upper' ELSE 'local' END",
    "channel_id": f"CASE WHEN r1 < 0.07 THEN NULL ELSE ({{arr(channels)}})[1 + mod(g, {{len(channels)}})] END",
    "platform_id": f"CASE WHEN r1 < 0.07 THEN ({{arr(platforms)}})[1 + mod(g, {{len(platforms)}})] END",
    "upstream_number": "CASE WHEN r1 < 0.07 THEN 'U' || g::text ELSE '' END",
    "handling_mode": "CASE WHEN r1 >= 0.07 AND r1 < 0.71 THEN 'coordinated' ELSE 'dispatched' END",
    "appeal_type_id": f"({{arr(appeals)}})[1 + floor(r2 * {{len(appeals)}})::int]",
    "category_id": f"({{arr(categories)}})[1 + floor(power(r3, 2) * {{len(categories)}})::int]",
    "content": "'来电人反映小区附近道路坑洼、路灯不亮等问题，希望尽快处理。第' || g::text || '件'",
    "township_id": f"({{arr(townships)}})[1 + mod(g, {{len(townships)}})]",
    "unit_id": f"CASE WHEN r1 >= 0.07 AND r1 < 0.71 THEN NULL ELSE ({{arr(units)}})[1 + floor(power(r4, 1.5) * {{len(units)}})::int] END",
    "status": "CASE WHEN r4 < 0.97 THEN 'closed' ELSE 'handling' END",
    "registered_at": "%(start)s::timestamptz + mod(g, %(seconds)s) * interval '1 second'",
    "dispatched_at": "CASE WHEN r1 >= 0.07 AND r1 < 0.71 THEN NULL ELSE %(start)s::timestamptz + mod(g, %(seconds)s) * interval '1 second' + interval '30 minutes' END",
    "sign_deadline": "CASE WHEN r1 >= 0.07 AND r1 < 0.71 THEN NULL ELSE %(start)s::timestamptz + mod(g, %(seconds)s) * interval '1 second' + interval '1 day' END",
    "signed_at": "CASE WHEN r1 >= 0.07 AND r1 < 0.71 THEN NULL ELSE %(start)s::timestamptz + mod(g, %(seconds)s) * interval '1 second' + (r2 * interval '30 hours') END",
    "handle_deadline": "CASE WHEN r1 >= 0.07 AND r1 < 0.71 THEN NULL ELSE %(start)s::timestamptz + mod(g, %(seconds)s) * interval '1 second' + interval '7 days' END",
    "replied_at": "CASE WHEN r4 < 0.97 THEN %(start)s::timestamptz + mod(g, %(seconds)s) * interval '1 second' + (r3 * interval '8 days') END",
    "closed_at": "CASE WHEN r4 < 0.97 THEN %(start)s::timestamptz + mod(g, %(seconds)s) * interval '1 second' + (r3 * interval '8 days') END",
    "callback_result": "CASE WHEN r4 >= 0.97 OR (r1 >= 0.07 AND r1 < 0.71) THEN '' WHEN r2 < 0.8 THEN 'satisfied' WHEN r2 < 0.9 THEN 'basic' ELSE 'unsatisfied' END",
    "callback_resolved": "CASE WHEN r4 >= 0.97 OR (r1 >= 0.07 AND r1 < 0.71) THEN NULL ELSE r3 < 0.85 END",
    "callback_at": "CASE WHEN r4 >= 0.97 OR (r1 >= 0.07 AND r1 < 0.71) THEN NULL ELSE %(start)s::timestamptz + mod(g, %(seconds)s) * interval '1 second' + interval '9 days' END",
    "created_at": "now()", "updated_at": "now()",
}}
columns, values, params = [], [], {{"start": start, "seconds": seconds}}
for field in Ticket._meta.concrete_fields:
    if field.primary_key:
        continue
    columns.append(connection.ops.quote_name(field.column))
    if field.attname in expr:
        values.append(expr[field.attname])
    elif field.null:
        values.append("NULL")
    else:
        key = "d_" + field.attname
        params[key] = field.get_db_prep_save(field.get_default(), connection)
        values.append("%(" + key + ")s")
sql = (f"INSERT INTO {{Ticket._meta.db_table}} ({{', '.join(columns)}}) SELECT {{', '.join(values)}} FROM "
       "(SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4 "
       f"FROM generate_series(1, {{N}}) AS g) AS s")
t = time.perf_counter()
with connection.cursor() as cur:
    cur.execute("SELECT setseed(0.42)")
    cur.execute(sql, params)
    ticket_seconds = time.perf_counter() - t
    call_columns, call_values = [], []
    phone_field = Call._meta.get_field("caller_phone")
    params["phones"] = [phone_field.get_db_prep_save(f"139{{i:08d}}", connection) for i in range(1000)]
    call_expr = {{
        "called_at": "%(start)s::timestamptz + mod(g, %(seconds)s) * interval '1 second'",
        # Encrypted at rest: SQL cannot encrypt, so the rows draw on 1,000 numbers encrypted here
        # (tokens of the real size; the bulletin never reads them).
        "caller_phone": "(%(phones)s::text[])[1 + mod(g, 1000)]",
        "created_at": "now()",
    }}
    for field in Call._meta.concrete_fields:
        if field.primary_key:
            continue
        call_columns.append(connection.ops.quote_name(field.column))
        if field.attname in call_expr:
            call_values.append(call_expr[field.attname])
        elif field.null:
            call_values.append("NULL")
        else:
            key = "c_" + field.attname
            params[key] = field.get_db_prep_save(field.get_default(), connection)
            call_values.append("%(" + key + ")s")
    t = time.perf_counter()
    cur.execute(f"INSERT INTO {{Call._meta.db_table}} ({{', '.join(call_columns)}}) SELECT {{', '.join(call_values)}} "
                f"FROM generate_series(1, {{int(N * 1.7)}}) AS g", params)
    call_seconds = time.perf_counter() - t
    cur.execute(f"ANALYZE {{Ticket._meta.db_table}}")
    cur.execute(f"ANALYZE {{Call._meta.db_table}}")
print(json.dumps({{"seed_tickets_s": round(ticket_seconds, 1), "seed_calls_s": round(call_seconds, 1)}}))
"""

# Every figure of the month's assessment and bulletin in plain SQL, as one would write it by hand:
# the assessment's numerators and denominators per unit (bench/assessment.py), the month's calls,
# its tickets by source / handling mode / platform / appeal type / category in one grouped scan,
# and the two typical cases.
HAND_BULLETIN_SQL = {
    "calls": "SELECT count(*) FROM tickets_call WHERE called_at >= %(start)s AND called_at < %(end)s",
    "tickets": """
        SELECT t.source, t.handling_mode, t.platform_id, t.appeal_type_id, t.category_id, count(*)
        FROM tickets_ticket t
        WHERE t.registered_at >= %(start)s AND t.registered_at < %(end)s AND t.status <> 'merged'
        GROUP BY 1, 2, 3, 4, 5""",
    "typical": """
        SELECT t.id, t.number, t.title, t.content, t.reply_text, u.name
        FROM tickets_ticket t JOIN tickets_unit u ON u.id = t.unit_id
        WHERE t.status = 'closed' AND t.callback_result = 'satisfied' AND t.callback_resolved
          AND t.closed_at >= %(start)s AND t.closed_at < %(end)s + interval '15 days'
          AND t.registered_at >= %(start)s AND t.registered_at < %(end)s
          AND (t.handle_deadline IS NULL OR t.replied_at <= t.handle_deadline) AND t.reply_text <> ''
        ORDER BY t.urgent DESC, t.source DESC, t.registered_at DESC LIMIT 2""",
}


def worker_measure(repeat: int) -> None:
    """Time ``assessment_compute`` + ``bulletin_build`` (the product) against the hand-written SQL of
    the same figures, ``repeat`` times each, alternating; check both give the same figures."""
    from collections import Counter
    from datetime import datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from assessment.services import assessment_compute
    from reports import services
    from tickets.periods import month_bounds, period_parse

    from .assessment import HAND_SQL

    month = period_parse(MONTH)
    evaluated_at = datetime.fromisoformat(EVALUATED_AT)
    start, end = month_bounds(month)
    params = {"start": start, "end": end, "ev": evaluated_at}

    def product():
        assessment_compute(month=month, evaluated_at=evaluated_at)
        return services.bulletin_build(month=month)

    def hand():
        out = {}
        with connection.cursor() as cursor:
            for key, sql in (("assessment", HAND_SQL), *HAND_BULLETIN_SQL.items()):
                cursor.execute(sql, params)
                out[key] = cursor.fetchall()
        return out

    product_times, hand_times, queries = [], [], 0
    bulletin = figures = None
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            bulletin = product()
            product_times.append(time.perf_counter() - started)
        queries = len(captured.captured_queries)
        started = time.perf_counter()
        figures = hand()
        hand_times.append(time.perf_counter() - started)

    # The same figures both ways.
    data = bulletin.data
    rows = figures["tickets"]
    by_appeal, by_category, by_source = Counter(), Counter(), Counter()
    for source, mode, _platform, appeal, category, n in rows:
        by_appeal[appeal] += n
        by_category[category] += n
        by_source[(source, mode if source == "local" else "")] += n
    from tickets.models import AppealType, Category
    names = dict(AppealType.objects.values_list("id", "name"))
    product_appeals = {r["name"]: r["count"] for r in data["appeal_types"]["rows"] if r["count"]}
    codes = dict(Category.objects.values_list("id", "code"))
    top = sorted(by_category.items(), key=lambda kv: (-kv[1], codes[kv[0]]))[:10]
    same = {
        "calls": data["calls"]["total"] == figures["calls"][0][0],
        "tickets": data["tickets"]["total"] == sum(by_source.values()),
        "coordinated": data["tickets"]["local"]["coordinated"] == by_source[("local", "coordinated")],
        "upper": data["tickets"]["upper"]["total"] == sum(n for (s, _), n in by_source.items() if s == "upper"),
        "appeal_types": product_appeals == {names[a]: n for a, n in by_appeal.items()},
        "hot_topics": [(r["code"], r["count"]) for r in data["hot_topics"]["rows"]] == [(codes[c], n) for c, n in top],
        "assessed_tickets": sum(r["tickets"] for g in data["assessment"]["groups"] for r in g["rows"] + g["not_assessed"])
        == sum(r[1] for r in figures["assessment"]),
    }
    best_product, best_hand = min(product_times), min(hand_times)
    print(json.dumps({
        "compute_and_build_seconds": [round(t, 3) for t in product_times],
        "compute_and_build_best_seconds": round(best_product, 3),
        "compute_and_build_queries": queries,
        "hand_sql_seconds": [round(t, 3) for t in hand_times],
        "hand_sql_best_seconds": round(best_hand, 3),
        "ratio_product_over_sql": round(best_product / best_hand, 2) if best_hand else None,
        "target_ratio": 2,
        "ratio_target": "met" if best_hand and best_product / best_hand <= 2 else "NOT met",
        "same_figures": all(same.values()) or {k: v for k, v in same.items() if not v},
        "tickets_total": data["tickets"]["total"], "calls_total": data["calls"]["total"],
        "assessed_units": sum(len(g["rows"]) for g in data["assessment"]["groups"]),
    }))


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def run(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="bench bulletin")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args, _ = parser.parse_known_args(argv)

    url = bench_database_url("_bulletin")
    env = bench_env(url)
    figures: dict = {"tickets": args.tickets}
    if not args.keep_db:
        database_recreate(url)
        manage(env, "migrate", "--noinput")
        manage(env, "load_ruzhou")
        started = time.monotonic()
        figures.update(last_json(manage(env, "shell", "--no-imports", "-c", SEED.format(tickets=args.tickets),
                                        timeout=3600)))
        figures["seed_s"] = round(time.monotonic() - started, 1)
    measured = last_json(manage(env, "shell", "--no-imports", "-c",
                                f"import bench.bulletin as b; b.worker_measure({args.repeat})", timeout=3600))
    figures.update(measured)
    return figures
