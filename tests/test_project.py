"""Project-level checks: the three ways to run the product (make, compose, Dockerfile), the
environment contract between settings, .env.example and docker-compose.yml, and safe defaults
(deploy checks, secret key, password hashing, login lockout, no secrets in the repository)."""

from __future__ import annotations

import ast
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "worker-heavy", "beat")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def settings_env_names() -> set[str]:
    """Every name read through ``env(...)``/``env.<cast>(...)`` in hotline/settings/base.py."""
    tree = ast.parse((ROOT / "hotline" / "settings" / "base.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env"
        )
        first = node.args[0]
        if is_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


def env_example_names() -> set[str]:
    """Variables listed in .env.example, set or shown commented out with their default."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def command_text(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def production_env(**overrides: str) -> dict[str, str]:
    """The process environment without any project variable, plus ``overrides``."""
    drop = ("DJANGO_", "HOTLINE_", "AXES_", "CELERY_")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(drop) and k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(overrides)
    return env


def skip_if_dot_env():
    if (ROOT / ".env").exists():
        pytest.skip("a local .env file exists and hotline/settings/base.py reads it: production defaults "
                    "cannot be checked in this checkout")


# --- docker-compose.yml -----------------------------------------------------------------------


def test_compose_defines_the_services():
    # given / when
    services = compose()["services"]

    # then
    assert set(services) == {"postgres", "redis", "minio", "minio-bucket", "web", "nginx", "worker",
                             "worker-heavy", "beat"}
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["minio"]["image"].startswith("minio/minio:")


def test_two_web_replicas_serve_behind_nginx():
    # given
    services = compose()["services"]
    nginx_conf = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")

    # then only nginx publishes a port, and it spreads requests over the web replicas
    assert services["web"]["deploy"]["replicas"] >= 2
    assert "ports" not in services["web"]
    assert services["nginx"]["ports"] == ["8000:80"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]
    assert services["nginx"]["depends_on"]["web"]["condition"] == "service_healthy"
    assert re.search(r"upstream hotline_web \{[^}]*server web:8000 resolve;", nginx_conf)
    assert "proxy_pass http://hotline_web;" in nginx_conf
    # the client's address reaches the app in the header it is told to trust, from one trusted proxy
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in nginx_conf
    environment = services["web"]["environment"]
    assert environment["HOTLINE_CLIENT_IP_HEADER"] == "HTTP_X_FORWARDED_FOR"
    assert environment["HOTLINE_TRUSTED_PROXIES"] == "1"
    # several web processes share Redis (settings refuse to start otherwise)
    assert int(environment["HOTLINE_WEB_INSTANCES"]) >= 2 and environment["REDIS_URL"]


def test_files_live_in_the_object_store_in_compose():
    # given
    services = compose()["services"]

    # then
    environment = services["web"]["environment"]
    assert environment["HOTLINE_S3_BUCKET"] == "hotline"
    assert environment["HOTLINE_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert "mc mb --ignore-existing local/hotline" in command_text({"command": services["minio-bucket"]["entrypoint"]})
    assert services["web"]["depends_on"]["minio-bucket"]["condition"] == "service_completed_successfully"
    assert "objects" in compose()["volumes"] and "media" not in compose()["volumes"]


def test_every_celery_queue_has_a_worker_in_compose(settings):
    # given the queues the routes in settings send tasks to
    queues = {settings.CELERY_TASK_DEFAULT_QUEUE} | {r["queue"] for r in settings.CELERY_TASK_ROUTES.values()}
    services = compose()["services"]

    # when
    consumed = set()
    for name in ("worker", "worker-heavy"):
        command = services[name]["command"]
        consumed |= set(command[command.index("-Q") + 1].split(","))

    # then
    assert consumed == queues == {"celery", "heavy"}


def test_app_services_share_one_image_built_from_the_dockerfile():
    # given
    services = compose()["services"]

    # when
    images = {services[name].get("image") for name in APP_SERVICES}
    builds = {str(services[name].get("build")) for name in APP_SERVICES}

    # then
    assert len(images) == 1 and None not in images
    assert builds == {"."}
    assert (ROOT / "Dockerfile").exists()


def test_app_services_run_the_right_commands():
    # given
    services = compose()["services"]

    # when
    web, worker, heavy, beat = (command_text(services[name]) for name in APP_SERVICES)

    # then
    assert "manage.py migrate" in web and "manage.py collectstatic" in web
    assert re.search(r"gunicorn\s+hotline\.wsgi", web)
    assert web.index("migrate") < web.index("collectstatic") < web.index("gunicorn")
    assert re.search(r"celery\s+-A\s+hotline\s+worker", worker)
    assert re.search(r"celery\s+-A\s+hotline\s+worker", heavy)
    assert re.search(r"celery\s+-A\s+hotline\s+beat", beat)


def test_app_services_wait_for_healthy_postgres_and_redis():
    # given
    services = compose()["services"]

    # then
    for name in ("postgres", "redis", "minio", "web", "nginx", "worker", "worker-heavy"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        for dependency in ("postgres", "redis"):
            assert depends[dependency]["condition"] == "service_healthy", (name, dependency)
            assert services[dependency]["healthcheck"]["test"]
    # the workers and beat start once web has run the migrations
    for name in ("worker", "worker-heavy", "beat"):
        assert services[name]["depends_on"]["web"]["condition"] == "service_healthy"


def test_every_variable_compose_passes_to_the_app_is_read_by_settings():
    # given
    services = compose()["services"]
    known = settings_env_names()

    # then
    for name in APP_SERVICES:
        service = services[name]
        assert service["env_file"] in (".env", [".env"])
        environment = service["environment"]
        assert set(environment) <= known, set(environment) - known
        assert "@postgres:5432/" in environment["DATABASE_URL"]
        assert environment["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
        assert environment["REDIS_URL"].startswith("redis://redis:6379/")
        assert environment["REDIS_URL"] != environment["CELERY_BROKER_URL"]


def test_env_example_lists_every_variable_settings_read():
    # given
    read = settings_env_names()
    listed = env_example_names()

    # then
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"} <= read
    assert read - listed == set(), f"missing from .env.example: {sorted(read - listed)}"


def test_env_example_sets_no_secret():
    # given
    text = (ROOT / ".env.example").read_text(encoding="utf-8")

    # then
    assert re.search(r"^DJANGO_SECRET_KEY=\s*$", text, flags=re.MULTILINE)
    assert re.search(r"^POSTGRES_PASSWORD=\s*$", text, flags=re.MULTILINE)
    assert re.search(r"^MINIO_ROOT_PASSWORD=\s*$", text, flags=re.MULTILINE)
    assert re.search(r"^HOTLINE_FIELD_ENCRYPTION_KEYS=\s*$", text, flags=re.MULTILINE)


def test_dockerfile_installs_the_project_and_runs_as_non_root():
    # given
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    instructions = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]

    # then
    assert instructions[0] == "FROM python:3.11-slim"
    assert "fonts-noto-cjk" in text
    assert "pyproject.toml" in text
    assert re.search(r"pip install[^\n]*\s(-e\s+)?\.(\s|$)", text), "the project itself is not installed"
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), "the image must end as a non-root user"
    assert re.search(rf"useradd[^\n]*\b{re.escape(users[-1])}\b", text)
    dockerignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".venv", ".git"} <= set(dockerignore)


# --- safe by default ------------------------------------------------------------------------


def test_deploy_check_reports_no_issue_with_production_values():
    # given
    skip_if_dot_env()
    env = production_env(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        HOTLINE_FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DJANGO_ALLOWED_HOSTS="hotline.example.gov.cn",
        DJANGO_SETTINGS_MODULE="hotline.settings.base",
    )

    # when
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    # then
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_settings_refuse_to_start_without_a_secret_key_outside_debug():
    # given
    skip_if_dot_env()
    env = production_env(DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="hotline.example.gov.cn",
                         DJANGO_SETTINGS_MODULE="hotline.settings.base")

    # when
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)

    # then
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "DJANGO_SECRET_KEY is not set" in done.stderr


def test_empty_secret_key_counts_as_unset():
    # given
    skip_if_dot_env()
    env = production_env(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="", DJANGO_SETTINGS_MODULE="hotline.settings.base")

    # when
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)

    # then
    assert done.returncode != 0 and "DJANGO_SECRET_KEY is not set" in done.stderr


@pytest.mark.parametrize("variable", ["WEB_CONCURRENCY", "HOTLINE_WEB_INSTANCES"])
def test_several_web_processes_refuse_to_start_without_a_shared_cache(variable):
    # given
    skip_if_dot_env()
    base_env = production_env(DJANGO_DEBUG="1", DJANGO_SETTINGS_MODULE="hotline.settings.base")
    setup = [sys.executable, "-c", "import django; django.setup()"]

    # when
    alone = subprocess.run(setup, cwd=ROOT, env={**base_env, variable: "3"}, capture_output=True, text=True,
                           timeout=60)
    shared = subprocess.run(setup, cwd=ROOT, env={**base_env, variable: "3", "REDIS_URL": "redis://127.0.0.1:6379/9"},
                            capture_output=True, text=True, timeout=60)
    single = subprocess.run(setup, cwd=ROOT, env={**base_env, variable: "1"}, capture_output=True, text=True,
                            timeout=60)

    # then
    assert alone.returncode != 0 and "REDIS_URL is not set but more than one web process" in alone.stderr
    assert shared.returncode == 0, shared.stderr[-2000:]
    assert single.returncode == 0, single.stderr[-2000:]


def test_celery_routes_short_jobs_and_heavy_jobs_to_their_own_queues():
    # given every task of the product's own apps
    from hotline.celery import app

    app.loader.import_default_modules()
    ours = sorted(name for name in app.tasks if name.split(".")[0] in ("tickets", "assessment", "reports"))
    heavy_prefixes = ("tickets.imports.", "assessment.", "reports.")

    # when
    queue = {name: (app.amqp.router.route({}, name).get("queue").name) for name in ours}

    # then
    assert queue["tickets.exchange.tasks.notification_deliver_task"] == "celery"
    assert queue["tickets.exchange.tasks.outbox_deliver_task"] == "celery"
    assert queue["tickets.tasks.ticket_auto_urge_task"] == "celery"
    assert queue["tickets.imports.tasks.import_job_run_task"] == "heavy"
    assert queue["assessment.tasks.assessment_compute_task"] == "heavy"
    for name, routed in queue.items():
        assert routed == ("heavy" if name.startswith(heavy_prefixes) else "celery"), name


def test_argon2_is_the_first_password_hasher_in_base_settings():
    # given
    from hotline.settings import base

    # then
    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.mark.django_db
def test_five_failed_logins_lock_the_account_even_for_the_right_password(client, settings, directory):
    # given
    from tickets.models import Role, User

    User.objects.create_user(username="locked_op", password="Right-Password-2024", role=Role.OPERATOR)
    url = reverse("login")
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5

    # when
    responses = [client.post(url, {"username": "locked_op", "password": f"wrong-{n}"}) for n in range(limit)]
    after = client.post(url, {"username": "locked_op", "password": "Right-Password-2024"})

    # then
    assert "账号已暂时锁定" not in responses[0].content.decode()
    assert responses[-1].status_code in (403, 429)
    assert "账号已暂时锁定" in responses[-1].content.decode()
    assert after.status_code in (403, 429)
    assert "账号已暂时锁定" in after.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_correct_login_before_the_limit_still_works(client, directory):
    # given
    from tickets.models import Role, User

    User.objects.create_user(username="careful_op", password="Right-Password-2024", role=Role.OPERATOR)
    url = reverse("login")
    for n in range(3):
        client.post(url, {"username": "careful_op", "password": f"wrong-{n}"})

    # when
    response = client.post(url, {"username": "careful_op", "password": "Right-Password-2024"})

    # then
    assert response.status_code == 302
    assert client.session.get("_auth_user_id")


SECRET_PATTERNS = [
    re.compile(r"-----BEGIN (RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),  # GitHub token
    re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}"),  # Slack token
]


def test_no_secret_is_tracked_in_the_repository():
    # given
    if not shutil.which("git") or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    # tracked files and new files that are not ignored (what the next commit may add)
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout
    tracked = [name for name in files.decode().split("\0") if name]

    # when
    leaks = []
    for name in tracked:
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        leaks += [f"{name}: {p.pattern}" for p in SECRET_PATTERNS if p.search(text)]

    # then
    assert ".env" not in tracked
    assert not leaks, leaks


# --- benchmarks -------------------------------------------------------------------------------


def postgres_server() -> str:
    """``postgres://user[:password]@host:port`` of the test database's server."""
    from django.db import connection

    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"


@pytest.fixture
def bench_database(monkeypatch):
    """``BENCH_DATABASE_URL`` next to the test database (the benchmarks and gunicorn need PostgreSQL);
    every database a benchmark made from it (``<name>_scale``, ``<name>_bulletin``, …) is dropped after."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the benchmarks run on PostgreSQL: set DATABASE_URL=postgres://…")
    import psycopg

    server, name = postgres_server(), f"hotline_bench_test{os.getpid()}"
    monkeypatch.setenv("BENCH_DATABASE_URL", f"{server}/{name}")
    yield
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        made = conn.execute("SELECT datname FROM pg_database WHERE datname = %s OR datname LIKE %s",
                            [name, name + "\\_%"]).fetchall()
        for (database,) in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_bench_runner_discovers_every_benchmark_module():
    # given
    from bench.__main__ import discover

    # when
    found = discover()

    # then
    assert "api_create" in found and callable(found["api_create"])
    assert "common" not in found


def test_bench_percentile_is_nearest_rank():
    # given
    from bench.common import percentile

    values = [float(n) for n in range(1, 101)]

    # then
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 99) == 99.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) == 0.0


def test_bench_options_are_bounded_by_default():
    # given
    from bench.api_create import parse

    # when
    options = parse([])

    # then
    assert options.tickets == 3000 and options.clients == 16 and options.workers == 4 and options.threads == 1
    assert 0 < options.max_seconds <= 600


def test_soak_options_are_bounded():
    # given
    from bench.soak import parse

    # when
    options = parse([])

    # then: the full 10× month by default, with a time bound and a sane number of clients
    assert options.scale == 1.0 and 1 <= options.clients <= 64 and options.workers >= 1
    assert 0 < options.max_minutes <= 720 and not options.dev
    for bad in (["--scale", "0"], ["--scale", "50"], ["--clients", "0"], ["--clients", "500"],
                ["--max-minutes", "100000"]):
        with pytest.raises(SystemExit):
            parse(bad)


def test_soak_month_has_the_volume_and_shape_of_ten_ruzhous():
    # given
    from bench.soak import CALLS_PER_MONTH, DAYS, TICKETS_PER_MONTH, month_days, spread

    working = month_days()
    weights = [1.0 if w else 1 / 3 for w in working]

    # when
    per_day = spread(TICKETS_PER_MONTH, weights)

    # then: 10 × ~5,000 tickets and ~9,000 calls; 22 working days carry most of the intake
    assert (TICKETS_PER_MONTH, CALLS_PER_MONTH, DAYS, sum(working)) == (50_000, 90_000, 30, 22)
    assert sum(per_day) == TICKETS_PER_MONTH
    assert per_day[0] > 2 * per_day[5] and per_day[5] == per_day[6]
    assert spread(3, [1.0, 0.0, 1.0]) in ([2, 0, 1], [1, 0, 2])


@pytest.mark.postgres
def test_a_tiny_soak_run_has_no_errors_and_a_figure_for_every_endpoint(bench_database):
    # given: a benchmark database next to the test database (the fixture)
    from bench.soak import run as soak

    # when: a 2,000th of the month, on development settings (no minute-long collectstatic)
    figures = soak(["--scale", "0.0005", "--clients", "3", "--workers", "2", "--dev", "--max-minutes", "3"])

    # then
    assert figures["errors"] == 0 and figures["server_tracebacks"] == 0, figures["error_samples"]
    assert figures["days_done"] == "30/30"
    assert figures["tickets_registered"] == figures["tickets_planned"] == 25
    assert figures["database"]["calls"] == figures["calls_logged"] >= 25
    expected = {"api POST /api/tickets/", "api POST /api/calls/", "api POST /api/tickets/{id}/dispatch/",
                "api POST /api/tickets/{id}/sign/", "api POST /api/tickets/{id}/reply/",
                "api POST /api/tickets/{id}/review/", "api POST /api/tickets/{id}/callback/",
                "page GET /calls/new/", "page GET /tickets/", "page GET /tickets/{id}/", "page GET / (unit inbox)",
                "page GET /?queue=pending_dispatch", "page GET /dashboard/", "page GET /assessment/{month}/",
                "page GET /bulletins/", "page GET /bulletins/{period}/"}
    assert expected <= set(figures["endpoints"]), sorted(figures["endpoints"])
    for name, row in figures["endpoints"].items():
        assert row["count"] >= 1 and row["errors"] == 0 and 0 < row["p50_ms"] <= row["p95_ms"] <= row["max_ms"], name
        assert ("target" in row) == name.startswith("page ")
    assert json.loads((ROOT / "artifacts" / "bench" / "soak.json").read_text(encoding="utf-8")) == figures


def test_a_tiny_scale_run_answers_every_page(bench_database):
    # given: a benchmark database next to the test database (the fixture)
    from bench.scale import run as scale

    # when: 3,000 tickets over 3 months instead of 10,000,000 over 120
    figures = scale(["--tickets", "3000", "--months", "3", "--clients", "4", "--requests", "8", "--workers", "2",
                     "--export-rows", "300", "--think", "0-0.05", "--dev"])

    # then
    assert figures["tickets_in_db"] == 3000 and figures["calls_per_ticket"] == 1.7
    pages = ["list_default", "list_unit_status_month_sorted", "search_number", "search_caller_phone", "search_keyword",
             "unit_inbox", "workbench", "ticket_page", "dashboard_any_month"]
    for page in pages:
        assert figures[page]["requests"] == 8 and figures[page]["errors"] == 0, (page, figures[page])
        assert figures[page]["users_errors"] == 0 and figures[page]["users_p95_ms"] > 0, (page, figures[page])
    for label in ("one_user", "4_users_thinking", "4_clients"):
        verdict = figures[f"pages_target_p95_lt_100ms_{label}"]
        assert verdict == "met" or verdict.startswith("NOT met: "), (label, verdict)
    assert figures["export_xlsx"]["status"] == 200 and figures["export_xlsx"]["bytes"] > 0, figures["export_xlsx"]
    assert figures["export_xlsx"]["rows_in_window"] >= 300
    assert figures["month_compute_seconds"] > 0 and figures["bulletin_build_seconds"] > 0


def test_the_scale_users_think_time_is_checked():
    import argparse

    from bench.scale import _think

    assert _think("1-3") == (1.0, 3.0) and _think("0.5") == (0.5, 0.5)
    for bad in ("3-1", "x", "-1-2", "0-61"):
        with pytest.raises(argparse.ArgumentTypeError):
            _think(bad)


def test_a_tiny_bulletin_run_gives_the_same_figures_as_the_hand_written_sql(bench_database):
    # given: a benchmark database next to the test database (the fixture)
    from bench.bulletin import run as bulletin

    # when: 2,000 tickets instead of 1,000,000
    figures = bulletin(["--tickets", "2000", "--repeat", "1"])

    # then: the product and the SQL agree on every compared figure, and the ratio is printed
    assert figures["same_figures"] is True, figures["same_figures"]
    assert figures["tickets_total"] == 2000 and figures["calls_total"] == 3400 and figures["assessed_units"] > 0
    assert figures["ratio_product_over_sql"] > 0 and figures["ratio_target"] in ("met", "NOT met")


@pytest.mark.django_db
def test_postgresql_connections_run_without_jit(is_postgres):
    """JIT compiled short page queries for ~0.7 s on a table of millions of rows (bench scale): off."""
    if not is_postgres:
        pytest.skip("PostgreSQL only")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


@pytest.mark.django_db
def test_web_processes_can_bound_their_statements_and_workers_do_not(is_postgres):
    """DATABASE_STATEMENT_TIMEOUT: a request killed by gunicorn's timeout left its query running for 20
    minutes (bench scale); docker-compose.yml sets it for the web processes only."""
    if not is_postgres:
        pytest.skip("PostgreSQL only")
    skip_if_dot_env()
    from django.db import connection

    url = f"{postgres_server()}/{connection.settings_dict['NAME']}"
    show = [sys.executable, "-c", "import django; django.setup(); from django.db import connection; "
            "c = connection.cursor(); c.execute('SHOW statement_timeout'); print(c.fetchone()[0])"]

    def timeout(**env):
        done = subprocess.run(show, cwd=ROOT, capture_output=True, text=True, timeout=60,
                              env=production_env(DJANGO_DEBUG="1", DJANGO_SETTINGS_MODULE="hotline.settings.base",
                                                 DATABASE_URL=url, **env))
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip().splitlines()[-1]

    assert timeout(DATABASE_STATEMENT_TIMEOUT="25") == "25s"
    assert timeout() == "0"
    # the web command of docker-compose.yml sets it for gunicorn, after migrate
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    web = compose.split("\n  web:")[1].split("\n  nginx:")[0]
    assert web.index("migrate --noinput") < web.index("DATABASE_STATEMENT_TIMEOUT=25") < web.index("gunicorn")
