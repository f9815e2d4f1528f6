"""Integration: PostgreSQL restarted (and crashed) while gunicorn serves the API and the pages.

A private PostgreSQL cluster (never the shared one), migrated with the Ruzhou directory; gunicorn with
production-like settings (DEBUG off, persistent connections with health checks, tasks in-process)
and 2 workers. Client threads register tickets, dispatch and sign them, push tickets as an upper
platform and read list pages and the dashboard without pause; PostgreSQL goes down in the middle and
comes back. Then:

1. the app recovers by itself: every request a few seconds after PostgreSQL is back succeeds, with
   the same gunicorn master and workers;
2. during the outage every answer is a success or a clean 503 (API: ``database_unavailable`` with a
   Chinese detail and ``Retry-After``; pages: a Chinese 503 page) — never a 500, a traceback or a
   hung request;
3. nothing is half-written: every ticket has its number (gapless per day), its registration event and
   an event for each state it reached; and nothing is written twice: registrations carry an
   ``Idempotency-Key`` per intended ticket and are retried with it after a 503 or a broken
   connection, and the database holds exactly one ticket per key, the one answered (201, or 200 for
   a retry whose first attempt had committed); a platform's pushes retried after a 503 are
   registered once.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

import pytest
import requests
from django.db import connection

from bench.common import ROOT, Gunicorn, bench_env, manage, page_login
from bench.lists import PASSWORD
from tests.logscan import LOG_DIR

from .services import PrivatePostgres, postgres_bindir

pytestmark = [pytest.mark.postgres]

HOLD_DOWN_SECONDS = 2.0  # PostgreSQL stays down this long (a bare `pg_ctl restart` takes ~0.2 s)
WARM_SECONDS = 3.0  # traffic before the outage
AFTER_SECONDS = 8.0  # traffic after PostgreSQL is back
RECOVERY_BOUND_SECONDS = 5.0  # every request started this long after PostgreSQL is back must succeed
CLIENT_TIMEOUT = (5, 15)  # connect, read: a request that takes longer counts as hung

SETUP = r"""
import json
from rest_framework.authtoken.models import Token
from tickets.exchange.platforms import platform_token_issue
from tickets.models import Role, Unit, UpperPlatform, User
unit = Unit.objects.get(short_name="纸坊镇")
tokens = {}
for username, role, user_unit in [("f_operator", Role.OPERATOR, None), ("f_dispatcher", Role.DISPATCHER, None),
                                  ("f_handler", Role.UNIT_HANDLER, unit)]:
    user = User.objects.create_user(username=username, password=PASSWORD, role=role, unit=user_unit)
    tokens[username] = Token.objects.create(user=user).key
print(json.dumps({"tokens": tokens, "unit": unit.pk,
                  "platform_token": platform_token_issue(platform=UpperPlatform.objects.get(code="pds"))}))
"""


# The pages need the static files' manifest (DEBUG off); the same manifest without WhiteNoise's
# gzip/brotli copies takes ~1 s instead of ~1.5 min on a busy 2-core machine, and compression is
# not what this test is about.
COLLECTSTATIC = r"""
from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings
manifest_only = {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}
with override_settings(STORAGES={**settings.STORAGES, "staticfiles": manifest_only}):
    call_command("collectstatic", "--noinput", verbosity=0)
"""


@dataclass
class Stack:
    pg: PrivatePostgres
    url: str
    env: dict
    accounts: dict


@pytest.fixture(scope="module")
def stack():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL restart test: runs when the suite runs on PostgreSQL (DATABASE_URL=postgres://…)")
    if postgres_bindir() is None:
        pytest.skip("PostgreSQL restart test: initdb/pg_ctl are not installed (apt-get install postgresql)")
    pg = PrivatePostgres().init()
    try:
        pg.start()
        url = pg.create_database("hotline_fault")
        # Plain HTTP on loopback (cookies not "secure"), persistent connections as in production.
        env = bench_env(url, DJANGO_SESSION_COOKIE_SECURE="false", DJANGO_CSRF_COOKIE_SECURE="false",
                        DJANGO_STATIC_ROOT=str(pg.dir / "static"), DATABASE_CONN_MAX_AGE="60")
        env.setdefault("HOTLINE_FIELD_ENCRYPTION_KEYS", base64.urlsafe_b64encode(os.urandom(32)).decode())
        manage(env, "migrate", "--noinput", timeout=900)
        manage(env, "load_ruzhou", timeout=900)
        manage(env, "shell", "--no-imports", "-c", COLLECTSTATIC, timeout=900)
        out = manage(env, "shell", "--no-imports", "-c", f"PASSWORD = {PASSWORD!r}\n" + SETUP)
        yield Stack(pg=pg, url=url, env=env, accounts=json.loads(out.strip().splitlines()[-1]))
    finally:
        pg.destroy()


# --- clients -----------------------------------------------------------------------------------

CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Outcome:
    client: str
    what: str
    started: float
    ended: float
    status: int | None
    verdict: str  # "ok", "503" (clean), "bad"
    note: str = ""


@dataclass
class Record:
    outcomes: list[Outcome] = field(default_factory=list)
    # marker → {"key", "verdict", "status", "id", "number", "attempts"}
    registered: dict[str, dict] = field(default_factory=dict)
    pushed: dict[str, dict] = field(default_factory=dict)  # upstream number → {"id", "attempts", "created"}
    moves_after_failure: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> Outcome:
        with self.lock:
            self.outcomes.append(outcome)
        return outcome


def verdict_of(response: requests.Response, *, api: bool) -> tuple[str, str]:
    if 200 <= response.status_code < 300:  # a redirect (to the login page) is no success
        return "ok", ""
    text = response.text
    if response.status_code == 503 and "Traceback" not in text and response.headers.get("Retry-After"):
        if api:
            try:
                body = response.json()
            except ValueError:
                body = {}
            if body.get("code") == "database_unavailable" and CJK.search(body.get("detail", "")):
                return "503", ""
        elif response.headers.get("Content-Type", "").startswith("text/html") and "数据库" in text:
            return "503", ""
    return "bad", f"{response.status_code} {response.headers.get('Content-Type', '')} {text[:300]!r}"


def call(record: Record, client: str, what: str, session: requests.Session, method: str, url: str, *,
         api: bool, **kwargs) -> tuple[Outcome, requests.Response | None]:
    started = time.monotonic()
    try:
        response = session.request(method, url, timeout=CLIENT_TIMEOUT, **kwargs)
    except requests.RequestException as exc:  # a hung request, or gunicorn not answering
        return record.add(Outcome(client, what, started, time.monotonic(), None, "bad", repr(exc)[:300])), None
    verdict, note = verdict_of(response, api=api)
    return record.add(Outcome(client, what, started, time.monotonic(), response.status_code, verdict, note)), response


def token_session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    return session


def registrar(base: str, stack: Stack, record: Record, stop: threading.Event, name: str, moves: deque) -> None:
    """Registers tickets as a careful client does: one ``Idempotency-Key`` per intended ticket, and
    after a 503 or a broken connection the same request again with the same key until it is
    answered (201; or 200 when an earlier attempt had committed and its answer was lost). Each
    ticket also carries a unique marker that the database check looks for."""
    session = token_session(stack.accounts["tokens"]["f_operator"])
    i = 0
    while not stop.is_set():
        marker = f"[故障测试{name}-{i}]"
        body = {"channel": "phone", "appeal_type": "problem", "category": "0201", "title": "停水",
                "content": f"小区停水两天，无人维修。{marker}", "caller_name": "张三",
                "caller_phone": f"139000{i % 100000:05d}", "address": "纸坊镇某村", "township": stack.accounts["unit"]}
        entry = {"key": str(uuid.uuid4()), "verdict": "not sent", "attempts": 0}
        for attempt in range(1, 61):
            outcome, response = call(record, name, "register", session, "POST", f"{base}/api/tickets/", api=True,
                                     json=body, headers={"Idempotency-Key": entry["key"]})
            entry.update(verdict=outcome.verdict, status=outcome.status, attempts=attempt)
            if outcome.verdict == "ok":
                entry.update(id=response.json()["id"], number=response.json()["number"],
                             replayed=response.headers.get("Idempotent-Replayed") == "true")
                moves.append([entry["id"], "dispatch", False])
                break
            if outcome.verdict == "bad" and outcome.status is not None:
                break  # a wrong answer (not a 503, not a broken connection): reported, not retried
            time.sleep(0.1)
        with record.lock:
            record.registered[marker] = entry
        i += 1
        time.sleep(0.02)


def mover(base: str, stack: Stack, record: Record, stop: threading.Event, moves: deque) -> None:
    """Dispatches registered tickets to 纸坊镇 and signs them as its handler; a move answered 503 is
    retried, and a 409 on the retry means the first attempt had committed (its answer was lost)."""
    dispatcher = token_session(stack.accounts["tokens"]["f_dispatcher"])
    handler = token_session(stack.accounts["tokens"]["f_handler"])
    while not stop.is_set():
        try:
            item = moves.popleft()
        except IndexError:
            time.sleep(0.05)
            continue
        ticket_id, action, failed_before = item
        session, body = (dispatcher, {"unit": stack.accounts["unit"]}) if action == "dispatch" else (handler, {})
        outcome, response = call(record, "mover", action, session, "POST",
                                 f"{base}/api/tickets/{ticket_id}/{action}/", api=True, json=body)
        if outcome.verdict == "bad" and failed_before and response is not None and response.status_code == 409:
            outcome.verdict, outcome.note = "ok", "409 after a failed attempt: the first one had committed"
            with record.lock:
                record.moves_after_failure += 1
        if outcome.verdict == "ok":
            if action == "dispatch":
                moves.append([ticket_id, "sign", False])
        else:
            moves.append([ticket_id, action, True])
            time.sleep(0.05)


def pusher(base: str, stack: Stack, record: Record, stop: threading.Event, label: str) -> None:
    """An upper platform pushing tickets; a push answered 503 is retried with the same upstream
    number, which the inbound API deduplicates."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {stack.accounts['platform_token']}"
    k = 0
    while not stop.is_set():
        upstream = f"PDS-{label}-{k:04d}"
        body = {"upstream_number": upstream, "appeal_type": "complaint", "category": "0501",
                "content": "夜间施工噪音扰民。", "caller_name": "李四", "caller_phone": "13900009999",
                "township": "纸坊镇"}
        for attempt in range(1, 61):
            outcome, response = call(record, "pusher", "push", session, "POST", f"{base}/api/platforms/pds/tickets/",
                                     api=True, json=body)
            if outcome.verdict == "ok":
                with record.lock:
                    record.pushed[upstream] = {"id": response.json()["id"], "attempts": attempt,
                                               "created": response.json()["created"]}
                break
            time.sleep(0.1)
        k += 1
        time.sleep(0.02)


def repush(base: str, stack: Stack, record: Record) -> int:
    """Every upstream number pushed again (as a platform does when it lost the answers): 200, the
    existing ticket, nothing new. Returns how many were answered so."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {stack.accounts['platform_token']}"
    same = 0
    for upstream, entry in record.pushed.items():
        body = {"upstream_number": upstream, "appeal_type": "complaint", "category": "0501",
                "content": "夜间施工噪音扰民。", "township": "纸坊镇"}
        response = session.post(f"{base}/api/platforms/pds/tickets/", json=body, timeout=CLIENT_TIMEOUT)
        data = response.json()
        same += (response.status_code, data.get("id"), data.get("created")) == (200, entry["id"], False)
    return same


PAGES = ["/tickets/", "/dashboard/", "/?queue=pending_dispatch", "/api/tickets/?page_size=5"]


def reader(base: str, record: Record, stop: threading.Event, session: requests.Session) -> None:
    i = 0
    while not stop.is_set():
        path = PAGES[i % len(PAGES)]
        call(record, "reader", path, session, "GET", base + path, api=path.startswith("/api/"),
             allow_redirects=False)
        i += 1
        time.sleep(0.02)


# --- helpers -----------------------------------------------------------------------------------


def children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    data = f.read()
            except OSError:
                continue
            if int(data[data.rindex(")") + 2:].split()[1]) == pid:
                found.add(int(entry))
    return found


def database_state(url: str) -> dict:
    import psycopg

    with psycopg.connect(url) as conn:
        tickets = conn.execute("SELECT id, number, status, content, upstream_number, idempotency_key "
                               "FROM tickets_ticket").fetchall()
        events = conn.execute("SELECT ticket_id, type, to_status FROM tickets_ticketevent ORDER BY created_at, id"
                              ).fetchall()
        sequences = dict(conn.execute("SELECT key, value FROM tickets_ticketsequence").fetchall())
    return {"tickets": tickets, "events": events, "sequences": sequences}


def check_database(url: str, record: Record, mode: str) -> dict:
    state = database_state(url)
    events: dict[int, list[tuple[str, str]]] = {}
    for ticket_id, type_, to_status in state["events"]:
        events.setdefault(ticket_id, []).append((type_, to_status))

    # Every ticket: a well-formed number, one registration event, and its status reached by an event.
    by_day: dict[str, list[int]] = {}
    for ticket_id, number, status, _content, _upstream, _key in state["tickets"]:
        assert re.fullmatch(r"RZ\d{8}\d{5}", number), f"ticket {ticket_id} has no proper number: {number!r}"
        by_day.setdefault(number[2:10], []).append(int(number[10:]))
        types = [t for t, _ in events.get(ticket_id, [])]
        assert types.count("registered") == 1, f"ticket {number}: events {types}"
        reached = [to for _, to in events[ticket_id] if to]
        assert reached and reached[-1] == status, f"ticket {number} is {status} but its events say {reached}"
    # Numbers: no duplicate and no gap — a rolled-back registration gives its number back.
    for day, suffixes in by_day.items():
        assert sorted(suffixes) == list(range(1, state["sequences"][day] + 1)), f"numbers of {day} have gaps"

    # Registrations, retried with their Idempotency-Key until answered: every one answered (201, or
    # 200 for a retry whose earlier attempt had committed), and the database holds exactly one ticket
    # per key — the one answered. No duplicates at all, not even for answers lost in the outage.
    found: dict[str, list[tuple[int, str, str | None]]] = {}
    for ticket_id, number, _status, content, _upstream, key in state["tickets"]:
        if m := re.search(rf"\[故障测试{mode}[^\]]+\]", content):  # this test's registrations
            found.setdefault(m.group(0), []).append((ticket_id, number, key))
    unanswered = {m: e for m, e in record.registered.items() if e["verdict"] != "ok"}
    assert not unanswered, f"registrations never answered despite retries: {list(unanswered.items())[:5]}"
    assert all(len(rows) == 1 for rows in found.values()), "a registration was written twice"
    assert set(found) == set(record.registered), "tickets in the DB and registrations answered differ"
    for marker, entry in record.registered.items():
        assert found[marker] == [(entry["id"], entry["number"], entry["key"])], f"{marker}: {found[marker]} vs {entry}"
    keys = [key for rows in found.values() for _, _, key in rows]
    assert len(set(keys)) == len(keys) == len(record.registered)
    retried = [e for e in record.registered.values() if e["attempts"] > 1]

    # Platform pushes retried after a 503: one ticket per upstream number, the one answered.
    upstream_rows: dict[str, list[int]] = {}
    for ticket_id, _number, _status, _content, upstream, _key in state["tickets"]:
        if upstream:
            upstream_rows.setdefault(upstream, []).append(ticket_id)
    for upstream, entry in record.pushed.items():
        assert upstream_rows.get(upstream) == [entry["id"]], f"{upstream}: {upstream_rows.get(upstream)} vs {entry}"
    return {"tickets_in_db": len(state["tickets"]), "registrations": len(record.registered),
            "registrations_answered_201": sum(1 for e in record.registered.values() if e["status"] == 201),
            "registrations_retried": len(retried),
            # 200 + Idempotent-Replayed on a retry: the earlier attempt had committed, its answer was lost
            "committed_but_answer_lost_replayed": sum(1 for e in retried if e.get("replayed")),
            "pushes": len(record.pushed),
            "pushes_retried": sum(1 for e in record.pushed.values() if e["attempts"] > 1),
            "pushes_deduplicated_on_retry": sum(1 for e in record.pushed.values() if not e["created"])}


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_the_app_rides_out_a_postgres_restart(stack, mode):
    LOG_DIR.mkdir(parents=True, exist_ok=True)  # scanned for phone numbers at the end of the run
    log_path = LOG_DIR / f"fault-postgres-{mode}-gunicorn.log"
    env = dict(stack.env, DJANGO_LOG_LEVEL="WARNING")
    with Gunicorn(env, workers=2, log_path=log_path) as server:
        base = server.base_url
        master = server.process.pid
        workers_before = children(master)
        page_session = page_login(base, "f_dispatcher", PASSWORD)
        record, stop, moves = Record(), threading.Event(), deque()
        threads = [
            threading.Thread(target=registrar, args=(base, stack, record, stop, f"{mode}甲", moves)),
            threading.Thread(target=registrar, args=(base, stack, record, stop, f"{mode}乙", moves)),
            threading.Thread(target=mover, args=(base, stack, record, stop, moves)),
            threading.Thread(target=pusher, args=(base, stack, record, stop, mode)),
            threading.Thread(target=reader, args=(base, record, stop, page_session)),
        ]
        # given: traffic on a healthy system
        for thread in threads:
            thread.start()
        time.sleep(WARM_SECONDS)
        # when: PostgreSQL goes down (fast shutdown, or killed) and comes back
        down_at = time.monotonic()
        stack.pg.stop(mode)
        time.sleep(HOLD_DOWN_SECONDS)
        stack.pg.start()
        back_at = time.monotonic()
        time.sleep(AFTER_SECONDS)
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
        assert not any(thread.is_alive() for thread in threads), "a client thread hung"
        # then: one more round of each kind of request, all answered
        probe = Record()
        ok_session = token_session(stack.accounts["tokens"]["f_operator"])
        for path in PAGES:
            call(probe, "probe", path, page_session, "GET", base + path, api=path.startswith("/api/"),
                 allow_redirects=False)
        call(probe, "probe", "me", ok_session, "GET", f"{base}/api/me/", api=True)
        assert [o.verdict for o in probe.outcomes] == ["ok"] * len(probe.outcomes), probe.outcomes
        # ... and a platform that never got its answers pushes everything again: the same tickets
        assert repush(base, stack, record) == len(record.pushed)
        # ... by the same gunicorn master and workers
        assert server.process.poll() is None and server.process.pid == master
        assert children(master) == workers_before, "a gunicorn worker died and was replaced"

    outcomes = record.outcomes
    bad = [o for o in outcomes if o.verdict == "bad"]
    failed = [o for o in outcomes if o.verdict != "ok"]
    late = [o for o in outcomes if o.started >= back_at + RECOVERY_BOUND_SECONDS]
    figures = {
        "mode": mode,
        "requests": len(outcomes),
        "ok": sum(o.verdict == "ok" for o in outcomes),
        "clean_503": sum(o.verdict == "503" for o in outcomes),
        "bad": len(bad),
        "postgres_down_seconds": round(back_at - down_at, 2),
        "clients_saw_outage_seconds": round(max(o.ended for o in failed) - min(o.started for o in failed), 2)
        if failed else 0.0,
        # after pg_ctl reported PostgreSQL back: the last failure ended / the first success ended
        "recovered_after_seconds": round(max([o.ended - back_at for o in failed] + [0.0]), 2),
        "first_success_after_seconds": round(min(
            [o.ended - back_at for o in outcomes if o.verdict == "ok" and o.started >= back_at] + [99.0]), 2),
        "requests_after_recovery_bound": len(late),
        "moves_retried_after_lost_answer": record.moves_after_failure,
        "p_max_request_seconds": round(max((o.ended - o.started for o in outcomes), default=0.0), 2),
    }
    statuses: dict[str, int] = {}
    for o in bad:
        statuses[str(o.status)] = statuses.get(str(o.status), 0) + 1
    figures["bad_by_status"] = statuses
    (ROOT / "artifacts").mkdir(exist_ok=True)
    (ROOT / "artifacts" / f"fault-postgres-{mode}-failures.json").write_text(json.dumps(
        [{"client": o.client, "what": o.what, "at": round(o.started - back_at, 2), "status": o.status,
          "verdict": o.verdict, "note": o.note} for o in failed], ensure_ascii=False, indent=0))
    print(f"\nPostgreSQL {mode} restart:", json.dumps(figures, ensure_ascii=False))
    # (2) during the outage: successes and clean 503s only — no 500, traceback or hung request
    assert not bad, f"{len(bad)} bad answers, e.g. {bad[:5]}"
    assert figures["clean_503"] > 0, "the outage was not noticed: the test did not exercise it"
    # (1) recovered by itself within the bound, with traffic to show it
    assert len(late) >= 10 and all(o.verdict == "ok" for o in late), figures
    assert figures["recovered_after_seconds"] <= RECOVERY_BOUND_SECONDS, figures
    # (3) never half-written
    figures.update(check_database(stack.url, record, mode))
    assert figures["registrations_answered_201"] > 0 and figures["pushes"] > 0
    # The outage is logged (WARNING, one line per request), without tracebacks or request bodies.
    log = log_path.read_text(errors="replace")
    assert "Traceback" not in log and "Internal Server Error" not in log, log[-3000:]
    assert log.count("WARNING tickets.database") == figures["clean_503"]  # once per request answered 503
    assert "139000" not in log and "停水" not in log
    print(f"PostgreSQL {mode} restart, database:", json.dumps(figures, ensure_ascii=False))
    (ROOT / "artifacts").mkdir(exist_ok=True)
    (ROOT / "artifacts" / f"fault-postgres-{mode}.json").write_text(json.dumps(figures, ensure_ascii=False, indent=1))
