"""Benchmark: a city's decade on one deployment — 10,000,000 tickets over 120 months.

A PostgreSQL database of its own (``BENCH_DATABASE_URL`` with ``_scale`` appended), migrated, with the
Ruzhou directory, filled in SQL (``INSERT … SELECT generate_series`` in chunks, no per-row Python):
tickets spread evenly over ``--months`` months up to now (ids in time order, as in a live system),
Ruzhou-like shares (a third settled on the spot, about half of the rest handled by the townships,
the others by city units and utilities, 5 % handed down by upper platforms), Chinese texts from
realistic sentences, callers drawn from a pool of numbers that call again (names and numbers
encrypted with the product's own key, searchable by digest), 1.7 calls per ticket. The keyword
index is built after the load, as a restore would. Then ``gunicorn hotline.wsgi`` (DEBUG off) and
``--clients`` concurrent signed-in users (default 16) request each page ``--requests`` times:

- the ticket list (default; filtered by unit + status + month and sorted by deadline);
- search by ticket number, by caller phone, by a Chinese keyword;
- a unit's inbox, the dispatcher's workbench, a ticket's page;
- the leader dashboard for a different month each time (so never from the cache);
- an XLSX export of about ``--export-rows`` rows (time, and the serving process's peak memory);
- then the month compute and the bulletin build of the latest complete month.

Every closed month is scored first and every ended day rolled up for the dashboard (as the monthly and
nightly jobs would have done over the decade). Each page is measured three ways: one user at a time (a
quarter of the requests: what the page costs); ``--clients`` users at once, each pausing ``--think``
seconds before each click (default 1–3 s: people at desks); and the same clients without any pause
(on a 2-core machine that is mostly queueing). Prints
p50/p95/max per page, and whether the issue's targets are met either way (pages p95 < 100 ms, keyword
search p95 < 200 ms). Never asserts timings. ``--keep-db`` reuses a filled database.

Options (after ``--``): ``--tickets N`` (10,000,000), ``--months N`` (120), ``--clients N`` (16),
``--requests N`` (per page, 96), ``--workers N`` (gunicorn, 4), ``--export-rows N`` (100,000),
``--think MIN-MAX`` (seconds, 1-3),
``--keep-db``, ``--dev`` (development settings, for the test suite's tiny run).
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode

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

PASSWORD = "Bench-Scale-2024!"
PAGE_TARGET_MS = 100
SEARCH_TARGET_MS = 200

SENTENCES = [
    "小区停水两天，物业说是管网维修，没有提前通知，请尽快恢复供水。",
    "路口路灯不亮已经一周，晚上出行不安全，请相关部门维修。",
    "楼下烧烤店油烟很大，晚上十二点后还在营业，影响休息。",
    "村里道路坑洼不平，下雨天积水严重，群众出行困难。",
    "反映垃圾堆放无人清运，天热气味很大，蚊蝇滋生。",
    "咨询城乡居民医疗保险缴费时间和缴费标准。",
    "夜间建筑工地施工噪音扰民，请执法部门查处。",
    "供电不稳定，一天停电好几次，家用电器损坏。",
    "天然气表计量异常，本月燃气费比平时高出很多。",
    "农民工工资被拖欠三个月，多次讨要无果，请求帮助。",
    "违章建筑占用公共通道，消防车无法通行。",
    "咨询新生儿落户需要准备哪些材料。",
    "公交车站台破损，雨天无处避雨，请尽快修缮。",
    "小区电梯经常故障停运，老人上下楼困难。",
    "学校周边有流动摊贩占道经营，交通拥堵，存在安全隐患。",
    "反映自来水浑浊发黄，有异味，无法饮用。",
    "冬季供暖温度不达标，室内只有十四度。",
    "建议在十字路口增设红绿灯，方便行人过马路。",
    "投诉商家销售过期食品，拒绝退换。",
    "河道有人倾倒建筑垃圾，污染环境。",
    "咨询养老保险退休手续办理流程。",
    "物业公司乱收停车费，业主意见很大。",
    "下水道堵塞，污水外溢到路面，臭气熏天。",
    "反映村干部优亲厚友，低保评定不公平。",
]
ROADS = ["幸福路", "人民路", "朝阳路", "广成路", "丹阳路", "向阳路", "望嵩路", "滨河路", "健康路", "文化路"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
# Shares of statuses among the tickets of the last 30 days (older ones are closed or merged).
RECENT_STATUSES = (["closed"] * 40 + ["handling"] * 22 + ["pending_sign"] * 8 + ["pending_dispatch"] * 6
                   + ["replied"] * 8 + ["pending_callback"] * 12 + ["return_pending"] * 3 + ["merged"])


def _search_index_migration():
    """The migration that defines the keyword index (tickets/search.py): rebuilt once after the load."""
    import importlib
    import pkgutil

    import tickets.migrations

    [name] = [m.name for m in pkgutil.iter_modules(tickets.migrations.__path__) if m.name.endswith("ticket_search_index")]
    return importlib.import_module(f"tickets.migrations.{name}")


def _arr(values) -> str:
    quoted = ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)
    return f"ARRAY[{quoted}]::text[]"


def _int_arr(values) -> str:
    return "ARRAY[" + ", ".join(str(int(v)) for v in values) + "]::bigint[]"


# ---------------------------------------------------------------------------------------------
# Run inside ``manage.py shell`` (Django set up on the benchmark database)
# ---------------------------------------------------------------------------------------------


def worker_generate(tickets: int, months: int, chunk: int = 500_000) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.common import generated_insert_sql
    from tickets.encryption import encrypt
    from tickets.models import (
        AppealType,
        AssessmentGroup,
        Category,
        Channel,
        Role,
        Ticket,
        Unit,
        UpperPlatform,
        User,
    )
    from tickets.privacy import phone_digest

    zhifang = Unit.objects.get(short_name="纸坊镇")
    for username, role, unit in [("bench_dispatcher", Role.DISPATCHER, None), ("bench_handler", Role.UNIT_HANDLER, zhifang),
                                 ("bench_leader", Role.LEADER, None), ("bench_operator", Role.OPERATOR, None)]:
        user, _ = User.objects.get_or_create(username=username, defaults={"role": role, "unit": unit})
        user.set_password(PASSWORD)
        user.save()
    existing = Ticket.objects.count()
    if existing >= tickets:
        print(json.dumps({"generate_seconds": 0, "tickets": existing}))
        return

    rng = random.Random(2024)
    townships = list(Unit.objects.filter(group=AssessmentGroup.TOWNSHIP, active=True).values_list("pk", "short_name"))
    city = list(Unit.objects.filter(active=True).exclude(group=AssessmentGroup.TOWNSHIP).values_list("pk", flat=True))
    categories = list(Category.objects.filter(parent__isnull=False, active=True).values_list("pk", flat=True))
    appeal = {a.code: a.pk for a in AppealType.objects.all()}
    appeal_pool = [appeal.get(c) for c in ["problem"] * 5 + ["consult"] * 3 + ["complaint"] * 2 + ["suggestion"]]
    appeal_pool = [a for a in appeal_pool if a] or list(appeal.values())
    channel = Channel.objects.order_by("order").values_list("pk", flat=True).first()
    platforms = list(UpperPlatform.objects.values_list("pk", flat=True)) or [None]
    phones = [f"13{rng.randrange(10**9):09d}" for _ in range(20_000)]
    names = [rng.choice(SURNAMES) + rng.choice(["女士", "先生"]) for _ in range(len(phones))]
    period_end = timezone.now()
    first_month = date(period_end.year, period_end.month, 1)
    for _ in range(months - 1):
        first_month = date(first_month.year - (first_month.month == 1), (first_month.month - 2) % 12 + 1, 1)
    start = timezone.make_aware(datetime(first_month.year, first_month.month, 1))
    span = (period_end - start).total_seconds()

    t = "g.ts"
    recent = f"({t} > now() - INTERVAL '30 days')"
    status = (f"CASE WHEN g.i % 3 = 0 THEN 'closed' WHEN NOT {recent} THEN (CASE WHEN g.i % 97 = 0 THEN 'merged' "
              f"ELSE 'closed' END) ELSE ({_arr(RECENT_STATUSES)})[(1 + g.i * 13 % {len(RECENT_STATUSES)})::int] END")
    dispatched = "g.i % 3 <> 0"
    has_unit = f"({dispatched} AND ({status}) <> 'pending_dispatch')"
    own_township = f"(ARRAY{[p for p, _ in townships]}::bigint[])[(1 + g.i * 17 % {len(townships)})::int]"
    handled = (f"CASE WHEN {has_unit} THEN (CASE WHEN g.i % 20 < 11 THEN {own_township} "
               f"ELSE ({_int_arr(city)})[(1 + g.i * 29 % {len(city)})::int] END) ELSE NULL END")
    replied = f"({status}) IN ('replied', 'pending_callback', 'closed')"
    d = f"({t} + INTERVAL '1 hour')"
    known = {
        "number": "'S' || lpad(g.i::text, 10, '0')",
        "source": "CASE WHEN g.i % 20 = 7 THEN 'upper' ELSE 'local' END",
        "channel_id": f"CASE WHEN g.i % 20 = 7 THEN NULL ELSE {channel} END",
        "platform_id": (f"CASE WHEN g.i % 20 = 7 THEN ({_int_arr([p for p in platforms if p])})"
                        f"[(1 + g.i % {max(1, len([p for p in platforms if p]))})::int] ELSE NULL END")
        if platforms[0] else "NULL",
        "upstream_number": "CASE WHEN g.i % 20 = 7 THEN 'UP' || g.i::text ELSE '' END",
        "handling_mode": f"CASE WHEN {dispatched} THEN 'dispatched' ELSE 'coordinated' END",
        "appeal_type_id": f"({_int_arr(appeal_pool)})[(1 + g.i * 11 % {len(appeal_pool)})::int]",
        "category_id": f"({_int_arr(categories)})[(1 + (g.i * 2654435761) % {len(categories)})::int]",
        "content": (f"({_arr([n for _, n in townships])})[(1 + g.i * 17 % {len(townships)})::int] || "
                    f"({_arr(SENTENCES)})[(1 + g.i * 31 % {len(SENTENCES)})::int]"),
        "address": (f"({_arr([n for _, n in townships])})[(1 + g.i * 17 % {len(townships)})::int] || "
                    f"({_arr(ROADS)})[(1 + g.i % {len(ROADS)})::int] || (g.i % 300)::text || '号'"),
        "caller_name": "c.name",
        "caller_phone": "c.phone",
        "caller_phone_digest": "c.digest",
        "township_id": own_township,
        "urgent": "g.i % 200 = 0",
        "confidential": "g.i % 500 = 0",
        "status": status,
        "unit_id": handled,
        "registered_at": t,
        "dispatch_deadline": f"{t} + INTERVAL '24 hours'",
        "dispatched_at": f"CASE WHEN {has_unit} THEN {d} ELSE NULL END",
        "sign_deadline": f"CASE WHEN {has_unit} THEN {d} + INTERVAL '24 hours' ELSE NULL END",
        "signed_at": (f"CASE WHEN {has_unit} AND ({status}) NOT IN ('pending_sign', 'return_pending') "
                      f"THEN {d} + (g.i % 30) * INTERVAL '1 hour' ELSE NULL END"),
        "handle_deadline": f"CASE WHEN {has_unit} THEN {d} + (3 + g.i % 3 * 2) * INTERVAL '1 day' ELSE NULL END",
        "replied_at": (f"CASE WHEN NOT {dispatched} THEN {t} WHEN {has_unit} AND {replied} "
                       f"THEN {d} + (g.i % 8) * INTERVAL '1 day' ELSE NULL END"),
        "reply_text": f"CASE WHEN {replied} THEN '已核实处理，情况已向群众说明。' ELSE '' END",
        "closed_at": (f"CASE WHEN ({status}) = 'closed' THEN (CASE WHEN {dispatched} THEN {d} + (g.i % 8 + 1) "
                      f"* INTERVAL '1 day' ELSE {t} END) ELSE NULL END"),
        "callback_result": (f"CASE WHEN ({status}) = 'closed' AND {dispatched} THEN (ARRAY['satisfied','satisfied',"
                            "'satisfied','satisfied','satisfied','satisfied','basic','basic','unsatisfied',"
                            "'satisfied'])[(1 + g.i % 10)::int] ELSE '' END"),
        "callback_resolved": f"CASE WHEN ({status}) = 'closed' AND {dispatched} THEN g.i % 13 <> 0 ELSE NULL END",
        "callback_at": (f"CASE WHEN ({status}) = 'closed' AND {dispatched} THEN {d} + (g.i % 8 + 1) * INTERVAL '1 day' "
                        "ELSE NULL END"),
        "created_at": t,
        "updated_at": t,
    }
    source = (f"FROM (SELECT i, TIMESTAMPTZ '{start.isoformat()}' + (i::float8 / {tickets} * {span}) "
              "* INTERVAL '1 second' AS ts FROM generate_series({a}::bigint, {b}::bigint) AS i) AS g "
              f"JOIN bench_callers AS c ON c.k = g.i * 7919 % {len(phones)} + 1")
    insert_tickets = generated_insert_sql(Ticket, known, source)
    call_columns = ("called_at, caller_phone, caller_phone_digest, agent_no, operator_id, duration_seconds, kind, "
                    "ticket_id, note, external_key, created_at")
    # 1.7 calls per ticket: the call that registered it, and for 70 % one more (a repeat call about it
    # while open, or a question answered at once).
    insert_calls = (
        f"INSERT INTO tickets_call ({call_columns}) "
        "SELECT registered_at - INTERVAL '4 minutes', caller_phone, caller_phone_digest, '1001', NULL::bigint, 180, 'new', id, "
        "'', NULL::text, registered_at FROM tickets_ticket WHERE id BETWEEN {lo} AND {hi} "
        "UNION ALL "
        "SELECT registered_at + INTERVAL '2 days', caller_phone, caller_phone_digest, '1002', NULL::bigint, 95, "
        "CASE WHEN id % 2 = 0 THEN 'repeat' ELSE 'consult' END, CASE WHEN id % 2 = 0 THEN id ELSE NULL END, '', NULL::text, "
        "registered_at FROM tickets_ticket WHERE id BETWEEN {lo} AND {hi} AND id % 10 < 7"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_callers")
        cursor.execute("CREATE UNLOGGED TABLE bench_callers (k int PRIMARY KEY, name text, phone text, digest text)")
        rows = [(i + 1, encrypt(names[i]), encrypt(phones[i]), phone_digest(phones[i])) for i in range(len(phones))]
        cursor.executemany("INSERT INTO bench_callers VALUES (%s, %s, %s, %s)", rows)
        # Indexes that a bulk load would rebuild once at the end rather than maintain row by row.
        cursor.execute("DROP INDEX IF EXISTS ticket_search_terms")
    a = existing + 1
    while a <= tickets:
        b = min(tickets, a + chunk - 1)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")  # benchmark database only
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SELECT coalesce(max(id), 0) FROM tickets_ticket")
            lo = cursor.fetchone()[0] + 1
            cursor.execute(insert_tickets.replace("{a}", str(a)).replace("{b}", str(b)))
            cursor.execute("SELECT coalesce(max(id), 0) FROM tickets_ticket")
            hi = cursor.fetchone()[0]
            cursor.execute(insert_calls.replace("{lo}", str(lo)).replace("{hi}", str(hi)))
        print(f"  {b:,} tickets, {time.perf_counter() - started:,.0f} s", flush=True)
        a = b + 1
    loaded = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_callers")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(_search_index_migration().INDEX)
        cursor.execute("VACUUM ANALYZE tickets_ticket")
        cursor.execute("VACUUM ANALYZE tickets_call")
    print(json.dumps({"generate_seconds": round(loaded, 1), "index_seconds": round(time.perf_counter() - started - loaded, 1),
                      "tickets": Ticket.objects.count()}))


# ---------------------------------------------------------------------------------------------
# The measuring side
# ---------------------------------------------------------------------------------------------


def _concurrently(sessions: list[requests.Session], paths: list[str], base: str) -> dict:
    """Each path once, spread over the sessions (one thread each); p50/p95/max in ms."""
    durations: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def one(index: int) -> None:
        session = sessions[index % len(sessions)]
        begin = time.perf_counter()
        try:
            code = session.get(base + paths[index], timeout=300).status_code
        except requests.RequestException:  # a worker killed by gunicorn's timeout: an error, measured
            code = 0
        elapsed = (time.perf_counter() - begin) * 1000
        with lock:
            durations.append(elapsed)
            statuses[code] = statuses.get(code, 0) + 1

    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        list(pool.map(one, range(len(paths))))
    return _summary(durations, sum(n for code, n in statuses.items() if code != 200))


def _summary(durations: list[float], errors: int) -> dict:
    durations = sorted(durations)
    return {"p50_ms": round(percentile(durations, 50), 1), "p95_ms": round(percentile(durations, 95), 1),
            "max_ms": round(durations[-1], 1), "requests": len(durations), "errors": errors}


def _users(sessions: list[requests.Session], paths: list[str], base: str, think: tuple[float, float],
           seed: int) -> dict:
    """Each session a user of its own (one thread), taking every len(sessions)-th path and pausing a
    random ``think`` seconds (uniform) before each click, as a person at a desk does; p50/p95/max in ms."""
    durations: list[float] = []
    errors = 0
    lock = threading.Lock()

    def user(number: int) -> None:
        nonlocal errors
        rng = random.Random(seed * 1000 + number)
        for path in paths[number::len(sessions)]:
            time.sleep(rng.uniform(*think))
            begin = time.perf_counter()
            try:
                code = sessions[number].get(base + path, timeout=300).status_code
            except requests.RequestException:
                code = 0
            elapsed = (time.perf_counter() - begin) * 1000
            with lock:
                durations.append(elapsed)
                errors += code != 200

    threads = [threading.Thread(target=user, args=(number,)) for number in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _summary(durations, errors)


def _think(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    try:
        bounds = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--think: seconds as MIN-MAX, e.g. 1-3 (got {text!r})") from None
    if not 0 <= bounds[0] <= bounds[1] <= 60:
        raise argparse.ArgumentTypeError(f"--think: 0 <= MIN <= MAX <= 60 (got {text!r})")
    return bounds


def _rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total = max(total, int(line.split()[1]))
        except OSError:
            pass
    return total


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _export(session: requests.Session, base: str, path: str, server_pid: int) -> dict:
    workers = _children(server_pid)
    before = _rss_kib(workers)
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_kib(workers))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    begin = time.perf_counter()
    response = session.get(base + path, timeout=1800, stream=True)
    size = sum(len(chunk) for chunk in response.iter_content(1 << 16))
    seconds = time.perf_counter() - begin
    done.set()
    sampler.join()
    return {"status": response.status_code, "seconds": round(seconds, 2), "bytes": size,
            "worker_rss_before_mib": round(before / 1024, 1), "worker_rss_peak_mib": round(peak / 1024, 1)}


def _months(first: date, count: int) -> list[str]:
    out, year, month = [], first.year, first.month
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def run(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="bench scale")
    parser.add_argument("--tickets", type=int, default=10_000_000)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=96)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--think", type=_think, default=(1.0, 3.0),
                        help="the users' pause before each click, seconds MIN-MAX (default 1-3)")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--dev", action="store_true",
                        help="development settings (DJANGO_DEBUG=1, no collectstatic): for the test suite's tiny run")
    args = parser.parse_args(argv)

    database_url = bench_database_url("_scale")
    # Sixteen users of each role sign in from one loopback address within a minute: the login throttles
    # (per client and per username, tickets/net.py) would refuse most of them; the pages are measured here.
    env = bench_env(database_url, DJANGO_SESSION_COOKIE_SECURE="false", DJANGO_CSRF_COOKIE_SECURE="false",
                    HOTLINE_LOGIN_THROTTLE="10000/min", HOTLINE_LOGIN_USERNAME_THROTTLE="10000/min",
                    HOTLINE_PUBLIC_RATE_LIMIT="100000/m",
                    # As deployed with a beat job: the dashboard reads the daily roll-up (reports/rollup.py),
                    # and is measured uncached (each pass would otherwise find months of the pass before).
                    HOTLINE_DAILY_ROLLUP="true", HOTLINE_DASHBOARD_CACHE_SECONDS="0")
    if args.dev:
        env["DJANGO_DEBUG"] = "1"
    started = time.perf_counter()
    if not args.keep_db:
        database_recreate(database_url)
    manage(env, "migrate", "--noinput", timeout=900)
    manage(env, "load_ruzhou", timeout=900)
    if not args.dev:
        manage(env, "collectstatic", "--noinput", "--verbosity", "0", timeout=900)
    code = f"from bench.scale import worker_generate; worker_generate({args.tickets}, {args.months})"
    out = manage(env, "shell", "--no-imports", "-c", code, timeout=6 * 3600)
    generated = json.loads(out.strip().splitlines()[-1])
    # A deployment of ten years has scored every closed month (the monthly Celery job): so has this one.
    scored = manage(env, "shell", "--no-imports", "-c", _SCORE_MONTHS, timeout=3600)
    probe = manage(env, "shell", "--no-imports", "-c", _PROBE.replace("{export_rows}", str(args.export_rows)),
                   timeout=600)
    facts = json.loads(probe.strip().splitlines()[-1])
    figures: dict = {"tickets_in_db": facts["tickets"], "calls_in_db": facts["calls"],
                     "calls_per_ticket": round(facts["calls"] / max(1, facts["tickets"]), 2),
                     "setup_seconds": round(time.perf_counter() - started, 1), **generated,
                     **json.loads(scored.strip().splitlines()[-1]),
                     "clients": args.clients, "requests_per_page": args.requests}
    rng = random.Random(7)
    n = args.requests
    months = _months(date.fromisoformat(facts["first_month"] + "-01"), args.months)
    latest = facts["latest_complete_month"]
    (ROOT / "artifacts").mkdir(exist_ok=True)
    # As deployed (docker-compose.yml): the web processes' statements are bounded, below gunicorn's timeout.
    web_env = {**env, "DATABASE_STATEMENT_TIMEOUT": "55"}
    with Gunicorn(web_env, workers=args.workers, log_path=ROOT / "artifacts" / "bench-scale-gunicorn.log") as server:
        base = server.base_url
        sessions = {role: [page_login(base, f"bench_{role}", PASSWORD) for _ in range(args.clients)]
                    for role in ("dispatcher", "handler", "leader", "operator")}
        unit = facts["unit_id"]
        pages = {
            "list_default": ("dispatcher", ["/tickets/"] * n),
            "list_unit_status_month_sorted": ("dispatcher", [
                f"/tickets/?unit={unit}&status=closed&date_from={m}-01&date_to={m}-28&sort=deadline"
                for m in rng.choices(months, k=n)]),
            "search_number": ("dispatcher", [f"/tickets/?q={rng.choice(facts['numbers'])}" for _ in range(n)]),
            "search_caller_phone": ("operator", [f"/api/tickets/?caller_phone={rng.choice(facts['phones'])}"
                                                 for _ in range(n)]),
            "search_keyword": ("dispatcher", [f"/tickets/?q={rng.choice(['停水', '路灯不亮', '噪音', '拖欠', '电梯', '垃圾'])}"
                                              for _ in range(n)]),
            "unit_inbox": ("handler", ["/"] * n),
            "workbench": ("dispatcher", ["/?queue=pending_dispatch"] * n),
            "ticket_page": ("dispatcher", [f"/tickets/{rng.randint(1, facts['max_id'])}/" for _ in range(n)]),
            "dashboard_any_month": ("leader", [f"/dashboard/?month={m}" for m in
                                               (rng.sample(months, min(n, len(months))) * (n // len(months) + 1))[:n]]),
        }
        for name, (role, paths) in pages.items():
            # One user at a time (what a page costs), then all the users at once pausing between clicks as
            # people do, then all the clients without pause (what the machine serves flat out: on 2
            # cores, mostly queueing).
            one = _concurrently(sessions[role][:1], paths[:max(1, n // 4)], base)
            users = _users(sessions[role], paths, base, args.think, seed=len(figures))
            figures[name] = {"one_user_p50_ms": one["p50_ms"], "one_user_p95_ms": one["p95_ms"],
                             "users_p50_ms": users["p50_ms"], "users_p95_ms": users["p95_ms"],
                             "users_errors": users["errors"], **_concurrently(sessions[role], paths, base)}
        start, end = facts["export_window"]
        window = urlencode({"registered_after": start, "registered_before": end})
        figures["export_xlsx"] = _export(sessions["dispatcher"][0], base, f"/api/tickets/export.xlsx?{window}",
                                         server.process.pid)
        figures["export_xlsx"]["rows_in_window"] = facts["export_rows"]
    begin = time.perf_counter()
    manage(env, "compute_assessment", latest, "--quiet-table", timeout=3600)
    compute = time.perf_counter() - begin
    begin = time.perf_counter()
    manage(env, "build_bulletin", latest, timeout=3600)
    figures["month_compute_seconds"] = round(compute, 2)
    figures["bulletin_build_seconds"] = round(time.perf_counter() - begin, 2)
    figures["month"] = latest
    for label, key in (("one_user", "one_user_p95_ms"), (f"{args.clients}_users_thinking", "users_p95_ms"),
                       (f"{args.clients}_clients", "p95_ms")):
        slow = [name for name in pages if name != "search_keyword" and figures[name][key] >= PAGE_TARGET_MS]
        figures[f"pages_target_p95_lt_100ms_{label}"] = "met" if not slow else f"NOT met: {', '.join(slow)}"
        figures[f"keyword_target_p95_lt_200ms_{label}"] = (
            "met" if figures["search_keyword"][key] < SEARCH_TARGET_MS else "NOT met")
    return figures


_SCORE_MONTHS = r"""
import json, time
from django.db.models import Min
from django.utils import timezone
from assessment.models import AssessmentRun
from assessment.services import assessment_compute
from tickets.models import Ticket
from tickets.periods import month_next
first = timezone.localtime(Ticket.objects.aggregate(lo=Min("registered_at"))["lo"]).date().replace(day=1)
current = timezone.localdate().replace(day=1)
done = set(AssessmentRun.objects.values_list("month", flat=True))
month, computed, began = first, 0, time.perf_counter()
while month < current:
    if month not in done:
        assessment_compute(month=month)
        computed += 1
    month = month_next(month)
scored_seconds = round(time.perf_counter() - began, 1)
# ... and the nightly job has rolled up every ended day for the dashboard.
from reports.rollup import rollup_all
began = time.perf_counter()
days = rollup_all()
print(json.dumps({"months_scored_in_setup": computed, "score_months_seconds": scored_seconds,
                  "days_rolled_up_in_setup": days, "rollup_all_seconds": round(time.perf_counter() - began, 1)}))
"""

_PROBE = r"""
import json
from datetime import timedelta
from django.db.models import Count, Max, Min
from django.utils import timezone
from tickets.models import Call, Ticket, Unit
from tickets.encryption import decrypt
agg = Ticket.objects.aggregate(n=Count("id"), lo=Min("registered_at"), hi=Max("id"))
first = timezone.localtime(agg["lo"])
now = timezone.localtime()
latest = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
busiest = (Ticket.objects.filter(unit__isnull=False).values("unit_id").annotate(n=Count("id")).order_by("-n").first()
           or {"unit_id": Unit.objects.order_by("pk").first().pk})
sample = list(Ticket.objects.order_by("?").values_list("number", "caller_phone")[:50]) if agg["n"] < 200000 else \
    list(Ticket.objects.filter(id__in=[1 + (i * 7919) % agg["hi"] for i in range(50)]).values_list("number", "caller_phone"))
# An export window: the latest months back until about --export-rows tickets.
rows, end = 0, now
start = end
while rows < {export_rows} and start > agg["lo"]:
    start = start - timedelta(days=7)
    rows = Ticket.objects.filter(registered_at__gte=start, registered_at__lt=end).count()
print(json.dumps({
    "tickets": agg["n"], "calls": Call.objects.count(), "max_id": agg["hi"],
    "first_month": first.strftime("%Y-%m"), "latest_complete_month": latest,
    "unit_id": busiest["unit_id"], "township_id": Unit.objects.get(short_name="纸坊镇").pk,
    "numbers": [n for n, _ in sample], "phones": [p for _, p in sample if p],
    "export_window": [start.isoformat(), end.isoformat()], "export_rows": rows,
}))
"""
