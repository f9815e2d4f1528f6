"""Benchmark: building the monthly bulletin for a month of 1,000,000 tickets on PostgreSQL.

A fresh database (``BENCH_DATABASE_URL``), migrated, with the Ruzhou directory; then, by one
``INSERT … SELECT generate_series`` each, N tickets (default 1,000,000) registered in March 2030
— local coordinated / local dispatched / upper in Ruzhou-like shares, spread over every category,
appeal type, township and unit, most closed with a callback — and 1.7 × N calls. The month is
scored (``compute_assessment``, timed separately) and the bulletin draft is built
(``reports.services.bulletin_build``) twice: cold and warm. Prints the times and the built totals.
Target: build ≤ 10 s. Never asserts timings.

Options (after ``--``): ``--tickets N``, ``--keep-db``.
"""

from __future__ import annotations

import argparse
import json
import time

from .common import bench_database_url, bench_env, database_recreate, manage

MONTH = "2030-03"

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

BUILD = r"""
import json, time
from reports import selectors, services
month = selectors.period_parse("{month}")
t = time.perf_counter(); b = services.bulletin_build(month=month); cold = time.perf_counter() - t
t = time.perf_counter(); b = services.bulletin_build(month=month); warm = time.perf_counter() - t
d = b.data
print(json.dumps({{"build_cold_s": round(cold, 2), "build_warm_s": round(warm, 2),
                  "tickets_total": d["tickets"]["total"], "calls_total": d["calls"]["total"],
                  "hot_topics_top": d["hot_topics"]["rows"][0]["name"] if d["hot_topics"]["rows"] else None,
                  "assessed_units": sum(len(g["rows"]) for g in d["assessment"]["groups"])}}))
"""


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def run(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="bench bulletin")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--keep-db", action="store_true")
    args, _ = parser.parse_known_args(argv)

    url = bench_database_url()
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
    started = time.monotonic()
    manage(env, "compute_assessment", MONTH, "--quiet-table", timeout=3600)
    figures["compute_assessment_s"] = round(time.monotonic() - started, 2)
    figures.update(last_json(manage(env, "shell", "--no-imports", "-c", BUILD.format(month=MONTH), timeout=3600)))
    figures["target_build_s"] = 10
    return figures
