"""Benchmark: back-testing the dispatch suggester on the demo's history (``make bench BENCH_ARGS=dispatch``).

A fresh PostgreSQL database (``BENCH_DATABASE_URL`` with ``_dispatch`` appended), migrated, with the
Ruzhou directory, the April 2024 demo month (``demo_april_2024``: 1,800 dispatched tickets routed
like a real county) and the last 30 days of ``seed_demo``. Then ``backtest_dispatch`` for the
latest month with handled tickets (or ``--month``): a model fitted on the months before it (the
window of ``DispatchConfig``), suggestions for every handled ticket of that month, which it never
saw, counted against the unit that finally handled each one. Prints top-1 and top-3 accuracy and the
training time. ``train_dispatch_model`` is timed as well (it back-tests its own latest month).

Options (after ``--``): ``--month YYYY-MM``, ``--keep-db``.
"""

from __future__ import annotations

import argparse
import re
import time
from urllib.parse import urlsplit

from .common import bench_database_url, bench_env, database_recreate, manage


def _percent(text: str, label: str) -> float | None:
    match = re.search(rf"{label}[^\d]*([\d.]+)%", text)
    return float(match.group(1)) if match else None


def run(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="bench dispatch")
    parser.add_argument("--month", default=None)
    parser.add_argument("--keep-db", action="store_true")
    args, _ = parser.parse_known_args(argv)

    database_url = bench_database_url("_dispatch")
    env = bench_env(database_url)
    figures: dict = {"database": urlsplit(database_url).path.lstrip("/")}
    if not args.keep_db:
        database_recreate(database_url)
        manage(env, "migrate", "--noinput")
        manage(env, "load_ruzhou")
        manage(bench_env(database_url, DJANGO_DEBUG="1", DJANGO_SECRET_KEY=env["DJANGO_SECRET_KEY"]), "seed_demo")
        manage(env, "demo_april_2024", timeout=1800)
    started = time.monotonic()
    out = manage(env, "backtest_dispatch", *(["--month", args.month] if args.month else []), timeout=1800)
    figures["backtest_seconds"] = round(time.monotonic() - started, 1)
    figures["backtest"] = out.strip().splitlines()[0]
    figures["top1_percent"] = _percent(out, "top-1 accuracy")
    figures["top3_percent"] = _percent(out, "top-3 accuracy")
    started = time.monotonic()
    trained = manage(env, "train_dispatch_model", timeout=1800)
    figures["train_seconds"] = round(time.monotonic() - started, 1)
    figures["train"] = " ".join(trained.split())
    return figures
