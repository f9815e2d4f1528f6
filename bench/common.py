"""Helpers shared by benchmarks: a fresh PostgreSQL database, manage.py in a subprocess with
production-like settings, a gunicorn server on a free loopback port, and latency statistics."""

from __future__ import annotations

import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from base64 import urlsafe_b64encode
from hashlib import sha256
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hotline_bench"


def bench_database_url(suffix: str = "") -> str:
    """``BENCH_DATABASE_URL`` (or the default), with ``suffix`` appended to the database name: each
    benchmark keeps a database of its own (``_scale``, ``_bulletin``, …) so that none clobbers another."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    if not suffix:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + suffix))


def bench_env(database_url: str, **extra: str) -> dict[str, str]:
    """Environment of a production-like process: DEBUG off, a random secret, plain HTTP on loopback.
    Services are only what we pass: no broker (tasks run in-process), no Redis cache."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "CELERY_", "HOTLINE_")) and k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "hotline.settings.base",
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        # Derived from the database URL, not random: a --keep-db run must still read the callers of the
        # run that filled the database (bench data only: never a production key).
        "HOTLINE_FIELD_ENCRYPTION_KEYS": urlsafe_b64encode(sha256(f"bench:{database_url}".encode()).digest()).decode(),
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def database_recreate(database_url: str) -> None:
    """Drop and create the benchmark database (its name must mention "bench": a guard against
    pointing the benchmark at real data)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to recreate database {name!r}: its name must contain 'bench'")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def manage(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    """Run ``manage.py <args>``; returns stdout, raises with stderr on failure."""
    done = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args[:1])} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """``gunicorn hotline.wsgi`` on 127.0.0.1:<free port>, started and stopped as a context manager."""

    def __init__(self, env: dict[str, str], *, workers: int = 4, threads: int = 1, log_path: Path | None = None,
                 extra_args: tuple[str, ...] = ()):
        self.env = env
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.args = [PYTHON, "-m", "gunicorn", "hotline.wsgi", "-w", str(workers), "--threads", str(threads),
                     "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", "--timeout", "60", *extra_args]
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self._log = None

    def __enter__(self) -> Gunicorn:
        self._log = open(self.log_path, "w") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode} (log: {self.log_path})")
            try:
                with urllib.request.urlopen(f"{self.base_url}/accounts/login/", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout}s")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            # Only the process group we started: the gunicorn master and its workers.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), math.ceil(pct / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


# --- CPU accounting: figures that stay meaningful on a shared, busy machine ------------------

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user+system CPU seconds) of a live process, from /proc (Linux only)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


def process_tree_cpu_seconds(root_pid: int) -> float:
    """CPU seconds used so far by ``root_pid`` and all its live descendants (gunicorn + workers)."""
    parents: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _proc_stat(int(entry))):
            parents[int(entry)] = stat
    tree, total, grew = {root_pid}, 0.0, True
    while grew:
        grew = False
        for pid, (ppid, _) in parents.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    for pid in tree:
        if pid in parents:
            total += parents[pid][1]
    return total


def database_backends_cpu_seconds(database_url: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends connected to this database (other than
    the one asking). Needs the server on this machine; 0.0 when /proc cannot tell."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        pids = [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
    return sum(stat[1] for pid in pids if (stat := _proc_stat(pid)))


def load_average() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return 0.0



# --- Rows generated in SQL -------------------------------------------------------------------


def sql_literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def generated_insert_sql(model, known: dict[str, str], source: str) -> str:
    """``INSERT INTO <model's table> (<every concrete column but the id>) SELECT … <source>``: the
    columns named in ``known`` (by field name or attname) take its SQL expressions, the others their
    default (NULL where nullable, the field default, else an empty string). Runs inside Django."""
    from django.db import connection
    from django.db.models import NOT_PROVIDED

    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in known or field.attname in known:
            values.append(known.get(field.attname, known.get(field.name)))
        elif field.null:
            values.append("NULL")
        elif field.default is not NOT_PROVIDED:
            default = field.default() if callable(field.default) else field.default
            values.append("now()" if hasattr(default, "tzinfo") else sql_literal(default))
        else:
            values.append("''")
    return f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(values)} {source}"


def page_login(base_url: str, username: str, password: str):
    """A ``requests`` session signed in through the login page (CSRF token and all)."""
    import re

    import requests

    session = requests.Session()
    page = session.get(f"{base_url}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(f"{base_url}/accounts/login/", data={"username": username, "password": password,
                                                                  "csrfmiddlewaretoken": token},
                            headers={"Referer": f"{base_url}/accounts/login/"}, timeout=30, allow_redirects=False)
    if response.status_code != 302:
        raise RuntimeError(f"login of {username} failed: {response.status_code}")
    return session
