"""Benchmarks: every module ``bench/<name>.py`` that defines ``run(argv: list[str]) -> dict``.

Run them all with ``make bench`` (``python -m bench``), or some with ``python -m bench api_create``.
They run on PostgreSQL (``BENCH_DATABASE_URL``), print their figures and never assert timings.
"""
