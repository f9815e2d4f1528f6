"""Benchmark: the pages people wait on, with 100,000 tickets in the database.

A fresh PostgreSQL database (``BENCH_DATABASE_URL`` with ``_lists`` appended to its name, so that it
does not clobber the other benchmarks), migrated, with the Ruzhou directory and N tickets (default
100,000) spread over two years, inserted in bulk; ``gunicorn hotline.wsgi`` with DEBUG off. Signed-in
clients then time, one request at a time: the ticket list (first page, a deep page, filtered,
sorted by deadline, overdue only), a unit's inbox, the dispatcher's workbench and the leader
dashboard, and one ticket's page. Prints p50/p95/max in milliseconds per page. Never asserts timings.

Options (after ``--``): ``--tickets N``, ``--requests N`` (per page), ``--workers N``, ``--keep-db``
(re-use the database of an earlier run if it already holds the tickets).
"""

from __future__ import annotations

import argparse
import time

import requests

from .common import (
    ROOT,
    Gunicorn,
    bench_database_url,
    bench_env,
    database_recreate,
    manage,
    page_login,
    percentile,
)

PASSWORD = "Bench-Lists-2024!"

SEED = r"""
import random, sys
from datetime import timedelta
from django.db import transaction
from django.utils import timezone
from tickets.models import (AppealType, AssessmentGroup, CallbackResult, Category, Channel, HandlingMode, Role,
                            Status, Ticket, Unit, User)
from tickets.privacy import phone_digest

N = int(sys.argv[-1]) if sys.argv[-1].isdigit() else {tickets}
rng = random.Random(12345)
zhifang = Unit.objects.get(short_name="纸坊镇")
for username, role, unit in [("bench_dispatcher", Role.DISPATCHER, None), ("bench_handler", Role.UNIT_HANDLER, zhifang),
                             ("bench_leader", Role.LEADER, None)]:
    user, _ = User.objects.get_or_create(username=username, defaults={{"role": role, "unit": unit}})
    user.set_password("{password}")
    user.save()
existing = Ticket.objects.count()
if existing >= N:
    print(existing)
    raise SystemExit(0)
townships = list(Unit.objects.filter(group=AssessmentGroup.TOWNSHIP))
units = list(Unit.objects.filter(active=True))
categories = list(Category.objects.filter(parent__isnull=False))
appeal_types = list(AppealType.objects.all())
channel = Channel.objects.get(code="phone")
now = timezone.now()
statuses = ([Status.CLOSED] * 70 + [Status.HANDLING] * 10 + [Status.PENDING_SIGN] * 5 + [Status.PENDING_DISPATCH] * 4
            + [Status.REPLIED] * 4 + [Status.PENDING_CALLBACK] * 4 + [Status.RETURN_PENDING] * 2 + [Status.MERGED])
batch = []
for i in range(existing, N):
    registered = now - timedelta(minutes=rng.randrange(0, 730 * 24 * 60))
    status = rng.choice(statuses)
    township = rng.choice(townships)
    coordinated = status == Status.CLOSED and rng.random() < 0.5
    unit = None if coordinated or status == Status.PENDING_DISPATCH else (
        zhifang if rng.random() < 0.08 else rng.choice([township] + units))
    phone = f"13{{rng.randrange(0, 10**9):09d}}"
    t = Ticket(number=f"BENCH{{i:09d}}", channel=channel, appeal_type=rng.choice(appeal_types),
               category=rng.choice(categories), content="小区停水两天，物业说是管网维修，请尽快恢复供水。" * 2,
               caller_name="王女士", caller_phone=phone, caller_phone_digest=phone_digest(phone), address="某路某号",
               township=township, unit=unit, status=status, registered_at=registered,
               handling_mode=HandlingMode.COORDINATED if coordinated else HandlingMode.DISPATCHED,
               dispatch_deadline=registered + timedelta(hours=24))
    if unit is not None:
        t.dispatched_at = registered + timedelta(hours=rng.randrange(1, 24))
        t.sign_deadline = t.dispatched_at + timedelta(hours=30)
        t.handle_deadline = t.dispatched_at + timedelta(days=rng.choice([5, 7, 14]))
        if status != Status.PENDING_SIGN:
            t.signed_at = t.dispatched_at + timedelta(hours=rng.randrange(1, 40))
    if status in (Status.REPLIED, Status.PENDING_CALLBACK, Status.CLOSED):
        t.replied_at = (t.handle_deadline or registered) - timedelta(hours=rng.randrange(-48, 96))
        t.reply_text = "已处理。"
    if status == Status.CLOSED:
        t.closed_at = t.replied_at
        if unit is not None:
            t.callback_at = t.replied_at + timedelta(hours=5)
            t.callback_result = rng.choice([CallbackResult.SATISFIED] * 8 + [CallbackResult.BASIC, CallbackResult.UNSATISFIED])
            t.callback_resolved = t.callback_result != CallbackResult.UNSATISFIED
    batch.append(t)
    if len(batch) == 5000:
        with transaction.atomic():
            Ticket.objects.bulk_create(batch)
        batch = []
if batch:
    Ticket.objects.bulk_create(batch)
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("VACUUM ANALYZE tickets_ticket")  # what autovacuum does on a live server
print(Ticket.objects.count())
"""


def _time(session: requests.Session, url: str, n: int) -> dict:
    durations, errors = [], 0
    session.get(url, timeout=60)  # warm-up (connection, caches)
    for _ in range(n):
        start = time.perf_counter()
        response = session.get(url, timeout=60)
        durations.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            errors += 1
    durations.sort()
    return {"p50_ms": round(percentile(durations, 50), 1), "p95_ms": round(percentile(durations, 95), 1),
            "max_ms": round(durations[-1], 1), "errors": errors}


def run(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="bench lists")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)

    database_url = bench_database_url("_lists")
    # Plain HTTP on loopback: the session and CSRF cookies must not be "secure" for the clients to send them.
    env = bench_env(database_url, DJANGO_SESSION_COOKIE_SECURE="false", DJANGO_CSRF_COOKIE_SECURE="false")
    started = time.perf_counter()
    if not args.keep_db:
        database_recreate(database_url)
    manage(env, "migrate", "--noinput", timeout=900)
    manage(env, "load_ruzhou", timeout=900)
    manage(env, "collectstatic", "--noinput", timeout=900)
    code = SEED.format(tickets=args.tickets, password=PASSWORD)
    count = int(manage(env, "shell", "--no-imports", "-c", code, timeout=1800).strip().splitlines()[-1])
    setup_seconds = time.perf_counter() - started

    figures: dict = {"tickets_in_db": count, "setup_seconds": round(setup_seconds, 1),
                     "requests_per_page": args.requests}
    (ROOT / "artifacts").mkdir(exist_ok=True)
    with Gunicorn(env, workers=args.workers, log_path=ROOT / "artifacts" / "bench-lists-gunicorn.log") as server:
        base = server.base_url
        dispatcher, handler, leader = (page_login(base, u, PASSWORD) for u in ("bench_dispatcher", "bench_handler", "bench_leader"))
        pages = {
            "list_first_page": (dispatcher, "/tickets/"),
            "list_page_200": (dispatcher, "/tickets/?page=200"),
            "list_filtered": (dispatcher, "/tickets/?status=closed&township=&category=&sort=registered"),
            "list_sorted_by_deadline": (dispatcher, "/tickets/?status=handling&sort=deadline"),
            "list_overdue": (dispatcher, "/tickets/?overdue=on"),
            "unit_inbox": (handler, "/"),
            "unit_list": (handler, "/tickets/"),
            "workbench_dispatcher": (dispatcher, "/?queue=pending_dispatch"),
            "dashboard": (leader, "/dashboard/"),
            "ticket_detail": (dispatcher, "/tickets/1/"),
        }
        for name, (session, path) in pages.items():
            figures[name] = _time(session, base + path, args.requests)
    return figures
