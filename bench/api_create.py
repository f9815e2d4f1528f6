"""Benchmark: ticket registration through the API, ``POST /api/tickets/``.

A fresh PostgreSQL database (``BENCH_DATABASE_URL``), migrated, with the Ruzhou directory, one
operator and a token; ``gunicorn hotline.wsgi -w 4 --threads 1`` on a free loopback port with DEBUG
off; 16 concurrent keep-alive clients post tickets until N tickets (default 3,000) or a time bound.
Prints throughput, latency percentiles and errors; checks that the database holds as many tickets as
the API acknowledged. In the same run and the same gunicorn, the same clients post the same payloads
to a floor endpoint (``bench/_floor_urls.py``: a bare DRF serializer + one ticket row + one event),
before and after the product, and the ratio product / floor is printed with the targets (≥ 0.45,
p99 < 50 ms) met or not. Never asserts timings.

Options (after ``--`` with ``python -m bench api_create -- …``): ``--tickets N``, ``--clients N``,
``--max-seconds S``, ``--workers N``, ``--threads N``, ``--warmup N``, ``--keep-db``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import threading
import time
from pathlib import Path

import requests

from .common import (
    ROOT,
    Gunicorn,
    bench_database_url,
    bench_env,
    database_backends_cpu_seconds,
    database_recreate,
    load_average,
    manage,
    percentile,
    process_tree_cpu_seconds,
)

SETUP = r"""
import json
from rest_framework.authtoken.models import Token
from tickets.models import AppealType, AssessmentGroup, Category, Channel, Role, Unit, User
user, _ = User.objects.get_or_create(username="bench_operator", defaults={"role": Role.OPERATOR})
token, _ = Token.objects.get_or_create(user=user)
print(json.dumps({
    "token": token.key,
    "townships": list(Unit.objects.filter(group=AssessmentGroup.TOWNSHIP).values_list("id", flat=True)),
    "categories": list(Category.objects.filter(parent__isnull=False, active=True).values_list("code", flat=True)),
    "appeal_types": list(AppealType.objects.values_list("code", flat=True)),
    "channels": list(Channel.objects.values_list("code", flat=True)),
    "ids": {"category": dict(Category.objects.filter(parent__isnull=False).values_list("code", "id")),
            "appeal_type": dict(AppealType.objects.values_list("code", "id")),
            "channel": dict(Channel.objects.values_list("code", "id"))},
}))
"""

COUNT = "from tickets.models import Ticket; print(Ticket.objects.count())"

CONTENTS = [
    "小区停水两天，物业说是管网维修，没有通知，请尽快恢复供水。",
    "路口路灯不亮已经一周，晚上出行不安全，请相关部门维修。",
    "楼下烧烤店油烟很大，晚上十二点后还在营业，影响休息。",
    "在工地干活三个月，老板拖欠工资一万二千元，多次讨要未果。",
    "咨询孩子秋季入学需要准备哪些材料，户口不在本地能否就读。",
    "村里道路坑洼严重，下雨天积水，电动车经常摔倒，请求修路。",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"


def shell(env: dict[str, str], code: str) -> str:
    """Run ``code`` in ``manage.py shell`` and return the last line it printed."""
    return manage(env, "shell", "--no-imports", "-c", code).strip().splitlines()[-1]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench api_create --", description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=3000, help="tickets to post (default 3000)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="stop posting after this (default 120)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (default 1)")
    parser.add_argument("--warmup", type=int, default=64, help="untimed requests first (default 64)")
    parser.add_argument("--keep-db", action="store_true", help="reuse the database as it is (no recreate)")
    return parser.parse_args(argv)


def payloads(directory: dict, seed: int = 12345):
    """An endless, reproducible stream of realistic local dispatched-ticket payloads."""
    rng = random.Random(seed)
    for n in itertools.count(1):
        yield {
            "source": "local",
            "channel": rng.choice(directory["channels"]),
            "handling_mode": "dispatched",
            "appeal_type": rng.choice(directory["appeal_types"]),
            "category": rng.choice(directory["categories"]),
            "title": f"压测工单{n}",
            "content": rng.choice(CONTENTS),
            "caller_name": rng.choice(SURNAMES) + "先生",
            "caller_phone": f"139000{rng.randrange(100000):05d}",
            "address": "汝州市某小区",
            "township": rng.choice(directory["townships"]),
            "urgent": rng.random() < 0.05,
            "confidential": rng.random() < 0.02,
        }


def post_all(base_url: str, token: str, bodies, *, total: int, clients: int, max_seconds: float,
             path: str = "/api/tickets/"):
    """``clients`` threads with keep-alive sessions post until ``total`` tickets are sent or time is up.
    Returns (latencies of 201 responses in ms, error count, error samples, elapsed seconds)."""
    lock = threading.Lock()
    sent = itertools.count()
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + max_seconds
    url = f"{base_url}{path}"

    def client():
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        local_lat, local_err = [], []
        while time.monotonic() < deadline:
            with lock:
                n = next(sent)
                if n >= total:
                    break
                body = next(bodies)
            started = time.perf_counter()
            try:
                response = session.post(url, json=body, timeout=30)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code == 201:
                    local_lat.append(elapsed)
                else:
                    local_err.append(f"{response.status_code} {response.text[:200]}")
            except requests.RequestException as exc:
                local_err.append(f"{type(exc).__name__}: {exc}"[:200])
        session.close()
        with lock:
            latencies.extend(local_lat)
            errors.extend(local_err)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max_seconds + 60)
    return latencies, errors, time.monotonic() - started


def floor_bodies(directory: dict, seed: int = 12345):
    """The same payloads for the floor endpoint, with ids instead of codes (it looks nothing up)."""
    ids = directory["ids"]
    for body in payloads(directory, seed):
        yield {"appeal_type": ids["appeal_type"][body["appeal_type"]], "category": ids["category"][body["category"]],
               "channel": ids["channel"][body["channel"]], "township": body["township"], "title": body["title"],
               "content": body["content"], "caller_name": body["caller_name"], "caller_phone": body["caller_phone"],
               "address": body["address"]}


def measure(server, database_url: str, token: str, bodies, options, *, path: str) -> dict:
    """Warm up, then post ``options.tickets`` bodies to ``path``; throughput, latencies, CPU per ticket."""
    _, warm_errors, _ = post_all(server.base_url, token, bodies, total=options.warmup, clients=options.clients,
                                 max_seconds=60, path=path)
    if options.warmup and len(warm_errors) == options.warmup:
        raise RuntimeError(f"every warm-up request to {path} failed, e.g. {warm_errors[0]}")
    load_before = load_average()
    app_cpu, db_cpu, client_cpu = (process_tree_cpu_seconds(server.process.pid),
                                   database_backends_cpu_seconds(database_url), time.process_time())
    latencies, errors, elapsed = post_all(server.base_url, token, bodies, total=options.tickets,
                                          clients=options.clients, max_seconds=options.max_seconds, path=path)
    app_cpu = process_tree_cpu_seconds(server.process.pid) - app_cpu
    db_cpu = database_backends_cpu_seconds(database_url) - db_cpu
    client_cpu = time.process_time() - client_cpu
    latencies.sort()
    done = max(len(latencies), 1)
    server_ms = (app_cpu + db_cpu) * 1000 / done
    figures = {
        "created": len(latencies),
        "warmup_created": options.warmup - len(warm_errors),
        "errors": len(errors),
        "elapsed_s": round(elapsed, 2),
        "throughput_tickets_per_s": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "latency_p50_ms": round(percentile(latencies, 50), 1),
        "latency_p95_ms": round(percentile(latencies, 95), 1),
        "latency_p99_ms": round(percentile(latencies, 99), 1),
        "latency_mean_ms": round(statistics.fmean(latencies), 1) if latencies else 0.0,
        "latency_max_ms": round(latencies[-1], 1) if latencies else 0.0,
        # CPU per ticket: what the figures above would be on idle cores (this machine may be shared).
        "cpu_ms_per_ticket_gunicorn": round(app_cpu * 1000 / done, 2),
        "cpu_ms_per_ticket_postgres": round(db_cpu * 1000 / done, 2),
        "cpu_ms_per_ticket_clients": round(client_cpu * 1000 / done, 2),
        "load_average_at_start": load_before,
        "capacity_tickets_per_s_if_cores_idle": round(
            (os.cpu_count() or 1) * 1000 / (server_ms + client_cpu * 1000 / done), 1) if server_ms else 0.0,
    }
    if errors:
        figures["error_samples"] = sorted(set(errors))[:3]
    return figures


def run(argv: list[str]) -> dict:
    options = parse(argv)
    database_url = bench_database_url()
    # The product's settings plus the floor endpoint beside it (bench/_floor_urls.py), in one gunicorn.
    env = bench_env(database_url, DJANGO_SETTINGS_MODULE="bench._floor_settings")
    if not options.keep_db:
        database_recreate(database_url)
    manage(env, "migrate", "--noinput")
    manage(env, "load_ruzhou")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    directory = json.loads(shell(env, SETUP))
    before = int(shell(env, COUNT))

    log_dir = ROOT / "artifacts"
    log_dir.mkdir(exist_ok=True)
    with Gunicorn(env, workers=options.workers, threads=options.threads,
                  log_path=log_dir / "bench_api_create_gunicorn.log") as server:
        # Side by side in one run: the floor first, then the product, then the floor again (drift check).
        floor = measure(server, database_url, directory["token"], floor_bodies(directory, seed=1), options,
                        path="/bench/floor/")
        product = measure(server, database_url, directory["token"], payloads(directory), options,
                          path="/api/tickets/")
        floor_again = measure(server, database_url, directory["token"], floor_bodies(directory, seed=2), options,
                              path="/bench/floor/")
    after = int(shell(env, COUNT))
    stored = after - before - sum(f["created"] + f["warmup_created"] for f in (floor, floor_again))
    stored -= product["warmup_created"]

    floor_rate = statistics.fmean([floor["throughput_tickets_per_s"], floor_again["throughput_tickets_per_s"]])
    ratio = product["throughput_tickets_per_s"] / floor_rate if floor_rate else 0.0
    figures = {
        "tickets_requested": options.tickets,
        "tickets_created": product["created"],
        "tickets_in_database": stored,
        "errors": product["errors"],
        "clients": options.clients,
        "gunicorn": f"-w {options.workers} --threads {options.threads}",
        **{k: v for k, v in product.items() if k not in ("created", "warmup_created", "errors")},
        "cpu_cores": os.cpu_count(),
        "floor_throughput_tickets_per_s": round(floor_rate, 1),
        "floor_latency_p99_ms": max(floor["latency_p99_ms"], floor_again["latency_p99_ms"]),
        "floor_runs": [floor["throughput_tickets_per_s"], floor_again["throughput_tickets_per_s"]],
        "ratio_to_floor": round(ratio, 2),
        "target_ratio_ge_0_45": "met" if ratio >= 0.45 else "NOT met",
        "target_p99_lt_50ms": "met" if product["latency_p99_ms"] < 50 else "NOT met",
    }
    Path(log_dir / "bench_api_create.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2))
    return figures
