"""Benchmark: a month of intake at ten times Ruzhou's rate while units sign and reply and leaders
open dashboards — the soak run.

Ruzhou takes about 9,000 calls and 5,000 tickets a month (21 townships, ~60 units); ten times that is
90,000 calls and 50,000 tickets. The month cannot be replayed in real time, so it is compressed: its
whole volume goes through the real HTTP stack (``gunicorn hotline.wsgi`` with DEBUG off on a fresh
PostgreSQL database, ``BENCH_DATABASE_URL`` with ``_soak`` appended to its name) as fast as
``--clients`` concurrent clients can push it, one day after another:

* the month has 30 days, 22 of them working days; intake on a weekend day is a third of a working
  day's; units, the centre's review and leaders work on working days only;
* operators open the registration workbench (``/calls/new/`` and its caller panel), register the
  ticket (``POST /api/tickets/``, 30 % settled on the spot) and log its call (``POST /api/calls/``);
  the other calls of the month (queries, consultations, hang-ups, repeat calls about open tickets)
  are logged too;
* dispatchers open the ticket's page and dispatch it to a unit (the caller's township or a
  department) the same day, and open the ticket list and their workbench now and then;
* the unit's handler (one per unit, all ~60 units) opens the inbox and signs within a working day,
  opens the ticket and replies 1–5 working days later (3 % ask for the ticket to be returned first);
* the centre reviews the reply (5 % sent back), calls the caller back (3 % unsatisfied: closed by
  judgement), urges some tickets;
* leaders open the dashboard, the previous month's assessment tables and the published bulletin.

Each ticket's steps run one after another (the next is only scheduled when the previous answered),
so no two clients ever act on the same ticket: any answer other than the expected one is an error.
Tickets whose next step falls after the month's last day stay open, as they would.

Reports the duration, throughput, per endpoint and page count/errors/p50/p95/max, the first error
bodies, whether each page's p95 is under 200 ms, and writes the figures to
``artifacts/bench/soak.json``. Never asserts timings.

Options (after ``--``): ``--scale F`` (1.0 = the full month; 0.01 for a quick look), ``--clients N``,
``--workers N``, ``--threads N``, ``--max-minutes M`` (stop after this, reporting the days done),
``--seed N``, ``--keep-db``, ``--dev`` (development settings, for the test suite's tiny run).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import requests

from .api_create import CONTENTS, SURNAMES
from .common import (
    ROOT,
    Gunicorn,
    bench_database_url,
    bench_env,
    database_recreate,
    load_average,
    manage,
    percentile,
)

# --- the month ------------------------------------------------------------------------------------

TICKETS_PER_MONTH = 50_000  # 10 × Ruzhou's ~5,000
CALLS_PER_MONTH = 90_000  # 10 × Ruzhou's ~9,000
DAYS = 30
WEEKEND_WEIGHT = 1 / 3  # a weekend day's intake, relative to a working day's
COORDINATED_SHARE = 0.30  # settled on the spot by the operator
REPEAT_CALL_SHARE = 0.25  # dispatched tickets whose caller calls again while the unit handles it
RETURN_SHARE = 0.03  # units that ask for the ticket to be returned instead of signing
REVIEW_FAIL_SHARE = 0.05  # replies the centre sends back
UNSATISFIED_SHARE = 0.03  # callbacks that end unsatisfied (closed by judgement)
URGE_SHARE = 0.05  # tickets the centre urges while they are handled
ASSIST_SHARE = 0.5  # registrations where the operator's caller panel is loaded
OTHER_CALL_KINDS = [("query", 0.35), ("consult", 0.40), ("hangup", 0.20), ("other", 0.05)]
# Page views, per ticket registered (the month's totals scale with the intake).
PAGE_RATES = {
    "dispatcher_list": 1 / 10,
    "dispatcher_workbench": 1 / 10,
    "centre_review_queue": 1 / 20,
    "leader_dashboard": 1 / 25,
    "leader_assessment": 1 / 100,
    "leader_bulletin_archive": 1 / 200,
    "leader_bulletin": 1 / 100,
}
WEEKDAY_ONLY_PAGES = {"centre_review_queue", "leader_dashboard", "leader_assessment", "leader_bulletin_archive",
                      "leader_bulletin"}
PAGE_TARGET_MS = 200.0
N_OPERATORS, N_DISPATCHERS, N_LEADERS = 6, 3, 3


SETUP = r"""
import json
from datetime import timedelta
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from importlib import import_module
from django.utils import timezone
from rest_framework.authtoken.models import Token
from assessment.services import assessment_compute
from reports.models import Bulletin
from reports.services import bulletin_build, bulletin_publish
from tickets.models import AppealType, AssessmentGroup, Category, Channel, Role, Unit, User

BACKEND = "django.contrib.auth.backends.ModelBackend"
SessionStore = import_module(settings.SESSION_ENGINE).SessionStore
def account(username, role, unit=None):
    user, _ = User.objects.get_or_create(username=username, defaults={"role": role, "unit": unit})
    token, _ = Token.objects.get_or_create(user=user)
    session = SessionStore()
    session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), BACKEND
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {"token": token.key, "session": session.session_key}

units = list(Unit.objects.filter(active=True).order_by("id"))
out = {
    "operators": [account(f"bench_op{i}", Role.OPERATOR) for i in range(1, {operators} + 1)],
    "dispatchers": [account(f"bench_disp{i}", Role.DISPATCHER) for i in range(1, {dispatchers} + 1)],
    "leaders": [account(f"bench_leader{i}", Role.LEADER) for i in range(1, {leaders} + 1)],
    "units": {str(u.id): account(f"bench_unit{u.id}", Role.UNIT_HANDLER, u) for u in units},
    "townships": [u.id for u in units if u.group == AssessmentGroup.TOWNSHIP],
    "departments": [u.id for u in units if u.group != AssessmentGroup.TOWNSHIP],
    "categories": list(Category.objects.filter(parent__isnull=False, active=True).values_list("code", flat=True)),
    "appeal_types": list(AppealType.objects.values_list("code", flat=True)),
    "channels": list(Channel.objects.values_list("code", flat=True)),
    "cookie": settings.SESSION_COOKIE_NAME,
}
# Last month's assessment tables and published bulletin, for the leaders to open.
editor, _ = User.objects.get_or_create(username="bench_editor", defaults={"role": Role.EDITOR})
previous = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
assessment_compute(month=previous)
bulletin = Bulletin.objects.filter(month=previous).first()
if bulletin is None or not bulletin.is_published:
    bulletin_publish(bulletin=bulletin_build(month=previous, actor=editor), actor=editor)
out["period"] = f"{previous:%Y-%m}"
print(json.dumps(out))
"""

STATUS_COUNT = ("from django.db.models import Count; from tickets.models import Call, Ticket; import json; "
                "print(json.dumps({'tickets': dict(Ticket.objects.values_list('status').annotate(n=Count('id'))), "
                "'calls': Call.objects.count()}))")


# --- options --------------------------------------------------------------------------------------


def _bounded(kind, low, high):
    def parse(text: str):
        value = kind(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench soak --", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=_bounded(float, 0.0001, 2.0), default=1.0,
                        help="share of the 10× month to push (default 1.0 = 50,000 tickets, 90,000 calls)")
    parser.add_argument("--clients", type=_bounded(int, 1, 64), default=4,
                        help="concurrent clients (default 4: one per gunicorn worker; more only queue)")
    parser.add_argument("--workers", type=_bounded(int, 1, 32), default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--threads", type=_bounded(int, 1, 16), default=1, help="threads per worker (default 1)")
    parser.add_argument("--max-minutes", type=_bounded(float, 0.1, 720), default=480.0,
                        help="stop after this many minutes, reporting the days done (default 480)")
    parser.add_argument("--seed", type=int, default=12345, help="random seed of the scenario (default 12345)")
    parser.add_argument("--keep-db", action="store_true", help="reuse the database as it is (no recreate)")
    parser.add_argument("--dev", action="store_true",
                        help="development settings (DJANGO_DEBUG=1, no collectstatic, which takes a minute): for "
                             "the test suite's tiny run; its timings are not production-like")
    return parser.parse_args(argv)


# --- the scenario ---------------------------------------------------------------------------------


def month_days() -> list[bool]:
    """Whether each of the 30 days is a working day (the month starts on a Monday)."""
    return [day % 7 < 5 for day in range(DAYS)]


def spread(total: int, weights: list[float]) -> list[int]:
    """``total`` split over days in proportion to ``weights`` (largest remainder: the sum is exact)."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    for i in sorted(range(len(shares)), key=lambda i: shares[i] - counts[i], reverse=True)[:total - sum(counts)]:
        counts[i] += 1
    return counts


@dataclass
class Step:
    role: str  # "operator", "dispatcher", "unit", "centre", "leader"
    action: str
    delay: int = 0  # working days after the previous step (0: the same day)


@dataclass
class TicketPlan:
    """One ticket's life, step by step; ``pk`` is known once it is registered."""

    n: int
    body: dict
    steps: list[Step]
    unit: int | None = None
    pk: int | None = None
    done: list[str] = field(default_factory=list)


def ticket_plan(n: int, rng: random.Random, directory: dict) -> TicketPlan:
    township = rng.choice(directory["townships"])
    coordinated = rng.random() < COORDINATED_SHARE
    body = {
        "source": "local",
        "channel": rng.choice(directory["channels"]),
        "handling_mode": "coordinated" if coordinated else "dispatched",
        "appeal_type": rng.choice(directory["appeal_types"]),
        "category": rng.choice(directory["categories"]),
        "title": f"浸泡测试工单{n}",
        "content": rng.choice(CONTENTS),
        "caller_name": rng.choice(SURNAMES) + rng.choice("先生女士"),
        "caller_phone": f"139{rng.randrange(10**8):08d}",
        "address": "汝州市某小区",
        "township": township,
        "urgent": rng.random() < 0.05,
        "confidential": rng.random() < 0.02,
    }
    steps = [Step("operator", "workbench")]
    if rng.random() < ASSIST_SHARE:
        steps.append(Step("operator", "assist"))
    steps += [Step("operator", "register"), Step("operator", "call")]
    if coordinated:
        body["reply_text"] = "已当场答复来电人，来电人表示满意。"
        return TicketPlan(n, body, steps)
    steps += [Step("dispatcher", "page"), Step("dispatcher", "dispatch")]
    if rng.random() < RETURN_SHARE:
        steps += [Step("unit", "inbox", 1), Step("unit", "return"), Step("centre", "return_decide"),
                  Step("dispatcher", "page"), Step("dispatcher", "dispatch_other")]
    steps += [Step("unit", "inbox", 1 if rng.random() < 0.6 else 0), Step("unit", "sign")]
    handling = rng.choice([1, 2, 2, 3, 3, 4, 5])
    if rng.random() < REPEAT_CALL_SHARE:
        steps.append(Step("operator", "repeat_call", 1))
        handling = max(handling - 1, 0)
    if rng.random() < URGE_SHARE:
        steps.append(Step("centre", "urge", 1))
        handling = max(handling - 1, 0)
    steps += [Step("unit", "page", handling), Step("unit", "reply")]
    if rng.random() < REVIEW_FAIL_SHARE:
        steps += [Step("centre", "review_fail", 1), Step("unit", "page", 1), Step("unit", "reply")]
    steps.append(Step("centre", "review", rng.choice([0, 1])))
    if rng.random() < UNSATISFIED_SHARE:
        steps += [Step("centre", "callback_unsatisfied", 1), Step("centre", "judge_close")]
    else:
        steps.append(Step("centre", "callback", rng.choice([0, 1, 1, 2])))
    return TicketPlan(n, body, steps, unit=township if rng.random() < 0.6 else rng.choice(directory["departments"]))


# --- measuring ------------------------------------------------------------------------------------


class Stats:
    """Latencies and errors per endpoint, collected by every client thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: list[str] = []
        self.requests = 0

    def record(self, endpoint: str, ms: float, error: str | None) -> None:
        with self.lock:
            self.requests += 1
            self.latencies[endpoint].append(ms)
            if error is not None:
                self.errors[endpoint] += 1
                if len(self.samples) < 10:
                    self.samples.append(f"{endpoint}: {error}")


def _error_text(response: requests.Response) -> str:
    code = ""
    try:
        body = response.json()
        code = f" {body.get('code')}: {body.get('detail')}" if isinstance(body, dict) else ""
    except ValueError:
        title = re.search(r"<title>(.*?)</title>", response.text, re.S)
        code = f" {title.group(1).strip()[:80]}" if title else ""
    return f"{response.status_code}{code}"[:300]


class Client:
    """One client thread's keep-alive connections: an API session (token) and a page session
    (session cookie) per account."""

    def __init__(self, base_url: str, cookie_name: str, stats: Stats):
        self.base = base_url
        self.cookie_name = cookie_name
        self.stats = stats
        self.sessions: dict[tuple[str, str], requests.Session] = {}

    def _session(self, account: dict, kind: str) -> requests.Session:
        key = (account["token"], kind)
        session = self.sessions.get(key)
        if session is None:
            session = self.sessions[key] = requests.Session()
            if kind == "api":
                session.headers["Authorization"] = f"Token {account['token']}"
            else:
                session.cookies.set(self.cookie_name, account["session"])
        return session

    def call(self, endpoint: str, account: dict, method: str, path: str, *, expect: int = 200, **kwargs):
        """One timed request; returns the response when it is the expected one, else None."""
        session = self._session(account, "api" if path.startswith("/api/") else "page")
        started = time.perf_counter()
        try:
            response = session.request(method, self.base + path, timeout=60, allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            self.stats.record(endpoint, (time.perf_counter() - started) * 1000, f"{type(exc).__name__}: {exc}"[:300])
            return None
        elapsed = (time.perf_counter() - started) * 1000
        ok = response.status_code == expect
        self.stats.record(endpoint, elapsed, None if ok else _error_text(response))
        return response if ok else None

    def close(self):
        for session in self.sessions.values():
            session.close()


class Month:
    """The day-by-day driver: each day's work is a queue that the client threads drain; a ticket's
    next step is put on the queue of the day it falls on, once the previous step has answered."""

    def __init__(self, options, directory: dict, base_url: str):
        self.options = options
        self.dir = directory
        self.rng = random.Random(options.seed)
        self.rng_lock = threading.Lock()
        self.stats = Stats()
        self.base_url = base_url
        self.working = month_days()
        self.day = 0
        self.queue: queue.Queue = queue.Queue()
        self.later: dict[int, list] = defaultdict(list)
        self.later_lock = threading.Lock()
        self.registered = 0
        self.calls_logged = 0
        self.open_at_end = 0

    # -- planning ----------------------------------------------------------------------------------
    def plan(self) -> dict:
        scale = self.options.scale
        tickets = max(1, round(TICKETS_PER_MONTH * scale))
        weights = [1.0 if w else WEEKEND_WEIGHT for w in self.working]
        plans = [ticket_plan(n, self.rng, self.dir) for n in range(1, tickets + 1)]
        repeats = sum(1 for p in plans for s in p.steps if s.action == "repeat_call")
        other_calls = max(0, round(CALLS_PER_MONTH * scale) - tickets - repeats)
        per_day = spread(tickets, weights)
        calls_per_day = spread(other_calls, weights)
        it = iter(plans)
        for day in range(DAYS):
            self.later[day] += [("ticket", next(it), 0) for _ in range(per_day[day])]
            kinds = self.rng.choices([k for k, _ in OTHER_CALL_KINDS], [w for _, w in OTHER_CALL_KINDS],
                                     k=calls_per_day[day])
            self.later[day] += [("call", kind, None) for kind in kinds]
        pages = {}
        for page, rate in PAGE_RATES.items():
            total = max(1, round(tickets * rate))
            page_weights = [(1.0 if w else 0.0) if page in WEEKDAY_ONLY_PAGES else (1.0 if w else WEEKEND_WEIGHT)
                            for w in self.working]
            for day, count in enumerate(spread(total, page_weights)):
                self.later[day] += [("page", page, None)] * count
            pages[page] = total
        return {"tickets_planned": tickets, "calls_planned": tickets + repeats + other_calls,
                "coordinated_planned": sum(1 for p in plans if p.body["handling_mode"] == "coordinated"),
                "page_views_planned": pages}

    def due_day(self, step: Step) -> int:
        """The day a step falls on: ``delay`` days on — working days for units and the centre's
        review, who keep office hours; operators and dispatchers work every day."""
        office = step.role in ("unit", "centre")
        day, left = self.day, step.delay
        while left > 0:
            day += 1
            if day >= DAYS:
                return day
            if not office or self.working[day]:
                left -= 1
        while office and day < DAYS and not self.working[day]:
            day += 1
        return day

    def schedule(self, plan: TicketPlan, index: int) -> None:
        if index >= len(plan.steps):
            return
        day = self.due_day(plan.steps[index])
        if day >= DAYS:
            with self.later_lock:
                self.open_at_end += 1
            return
        if day == self.day:
            self.queue.put(("ticket", plan, index))
        else:
            with self.later_lock:
                self.later[day].append(("ticket", plan, index))

    # -- the work ------------------------------------------------------------------------------------
    def pick(self, seq):
        with self.rng_lock:
            return self.rng.choice(seq)

    def do_ticket(self, client: Client, plan: TicketPlan, index: int) -> None:
        step = plan.steps[index]
        op = self.dir["operators"][plan.n % len(self.dir["operators"])]
        centre = self.dir["dispatchers"][plan.n % len(self.dir["dispatchers"])]
        unit = self.dir["units"].get(str(plan.unit)) if plan.unit else None
        pk = plan.pk
        ok = None
        match step.action:
            case "workbench":
                ok = client.call("page GET /calls/new/", op, "GET", "/calls/new/")
            case "assist":
                ok = client.call("page GET /calls/assist/", op, "GET", "/calls/assist/", params={
                    "caller_phone": plan.body["caller_phone"], "category": plan.body["category"],
                    "township": plan.body["township"]})
            case "register":
                ok = client.call("api POST /api/tickets/", op, "POST", "/api/tickets/", json=plan.body, expect=201)
                if ok is not None:
                    plan.pk = ok.json()["id"]
                    with self.later_lock:
                        self.registered += 1
            case "call":
                ok = client.call("api POST /api/calls/", op, "POST", "/api/calls/", expect=201, json={
                    "kind": "new", "caller_phone": plan.body["caller_phone"], "ticket": pk,
                    "duration_seconds": 60 + plan.n % 300})
                if ok is not None:
                    with self.later_lock:
                        self.calls_logged += 1
            case "repeat_call":
                ok = client.call("api POST /api/calls/", op, "POST", "/api/calls/", expect=201, json={
                    "kind": "repeat", "caller_phone": plan.body["caller_phone"], "ticket": pk,
                    "duration_seconds": 45, "note": "来电人询问办理进度。"})
                if ok is not None:
                    with self.later_lock:
                        self.calls_logged += 1
            case "page":
                account = centre if step.role == "dispatcher" else unit
                ok = client.call("page GET /tickets/{id}/", account, "GET", f"/tickets/{pk}/")
            case "dispatch" | "dispatch_other":
                if step.action == "dispatch_other":  # after a return: another unit of the same kind
                    plan.unit = self.pick([u for u in self.dir["departments"] if u != plan.unit])
                ok = client.call("api POST /api/tickets/{id}/dispatch/", centre, "POST",
                                 f"/api/tickets/{pk}/dispatch/", json={"unit": plan.unit})
            case "inbox":
                ok = client.call("page GET / (unit inbox)", self.dir["units"][str(plan.unit)], "GET", "/")
            case "sign":
                ok = client.call("api POST /api/tickets/{id}/sign/", unit, "POST", f"/api/tickets/{pk}/sign/")
            case "return":
                ok = client.call("api POST /api/tickets/{id}/return/", unit, "POST", f"/api/tickets/{pk}/return/",
                                 json={"reason": "该事项不属于本单位职责范围，请改派。"})
            case "return_decide":
                ok = client.call("api POST /api/tickets/{id}/return-decide/", centre, "POST",
                                 f"/api/tickets/{pk}/return-decide/", json={"approve": True, "note": "同意退单，改派。"})
            case "urge":
                ok = client.call("api POST /api/tickets/{id}/urge/", centre, "POST", f"/api/tickets/{pk}/urge/",
                                 json={"note": "来电人多次反映，请加快办理。"})
            case "reply":
                ok = client.call("api POST /api/tickets/{id}/reply/", unit, "POST", f"/api/tickets/{pk}/reply/",
                                 json={"reply_text": "经核实，已安排人员处理完毕，并向来电人说明情况。",
                                       "internal_note": "现场照片已存档。"})
            case "review" | "review_fail":
                passed = step.action == "review"
                ok = client.call("api POST /api/tickets/{id}/review/", centre, "POST", f"/api/tickets/{pk}/review/",
                                 json={"passed": passed, "note": "" if passed else "答复过于简单，请补充处理结果。"})
            case "callback" | "callback_unsatisfied":
                satisfied = step.action == "callback"
                ok = client.call("api POST /api/tickets/{id}/callback/", centre, "POST",
                                 f"/api/tickets/{pk}/callback/", json={
                                     "result": "satisfied" if satisfied else "unsatisfied", "resolved": satisfied,
                                     "note": "" if satisfied else "来电人认为问题未解决。"})
            case "judge_close":
                ok = client.call("api POST /api/tickets/{id}/judge-close/", centre, "POST",
                                 f"/api/tickets/{pk}/judge-close/",
                                 json={"note": "经研判，承办单位已依法依规处理，予以办结。"})
            case _:  # pragma: no cover - a typo in the scenario
                raise ValueError(step.action)
        if ok is not None:  # a failed step ends the ticket's story (the error is counted)
            plan.done.append(step.action)
            self.schedule(plan, index + 1)

    def do_call(self, client: Client, kind: str) -> None:
        op = self.pick(self.dir["operators"])
        with self.rng_lock:
            phone = f"139{self.rng.randrange(10**8):08d}"
        note = {"query": "查询工单办理进度。", "consult": "咨询政策，已当场答复。"}.get(kind, "")
        if client.call("api POST /api/calls/", op, "POST", "/api/calls/", expect=201, json={
                "kind": kind, "caller_phone": phone, "duration_seconds": 30, "note": note}) is not None:
            with self.later_lock:
                self.calls_logged += 1

    def do_page(self, client: Client, page: str) -> None:
        dispatcher, leader = self.pick(self.dir["dispatchers"]), self.pick(self.dir["leaders"])
        paths = {
            "dispatcher_list": ("page GET /tickets/", dispatcher, "/tickets/"),
            "dispatcher_workbench": ("page GET /?queue=pending_dispatch", dispatcher, "/?queue=pending_dispatch"),
            "centre_review_queue": ("page GET /?queue=replied", dispatcher, "/?queue=replied"),
            "leader_dashboard": ("page GET /dashboard/", leader, "/dashboard/"),
            "leader_assessment": ("page GET /assessment/{month}/", leader, f"/assessment/{self.dir['period']}/"),
            "leader_bulletin_archive": ("page GET /bulletins/", leader, "/bulletins/"),
            "leader_bulletin": ("page GET /bulletins/{period}/", leader, f"/bulletins/{self.dir['period']}/"),
        }
        endpoint, account, path = paths[page]
        client.call(endpoint, account, "GET", path)

    def worker(self) -> None:
        client = Client(self.base_url, self.dir["cookie"], self.stats)
        try:
            while True:
                item = self.queue.get()
                try:
                    if item is None:
                        return
                    kind, what, extra = item
                    if kind == "ticket":
                        self.do_ticket(client, what, extra)
                    elif kind == "call":
                        self.do_call(client, what)
                    else:
                        self.do_page(client, what)
                except Exception as exc:  # a bug in the scenario must not hang the day
                    self.stats.record("client", 0.0, f"{type(exc).__name__}: {exc}"[:300])
                finally:
                    self.queue.task_done()
        finally:
            client.close()

    def run(self, deadline: float) -> int:
        """Run the days; returns how many were completed before ``deadline``."""
        threads = [threading.Thread(target=self.worker, daemon=True) for _ in range(self.options.clients)]
        for thread in threads:
            thread.start()
        done = 0
        for day in range(DAYS):
            if time.monotonic() > deadline:
                break
            self.day = day
            with self.later_lock:
                work = self.later.pop(day, [])
            self.rng.shuffle(work)
            for item in work:
                self.queue.put(item)
            self.queue.join()
            done = day + 1
        with self.later_lock:  # stopped early: the registered tickets still waiting for their next step
            self.open_at_end += sum(1 for items in self.later.values() for i in items
                                    if i[0] == "ticket" and i[1].pk is not None)
        for _ in threads:
            self.queue.put(None)
        for thread in threads:
            thread.join(30)
        return done


def warm_up(base_url: str, directory: dict, clients: int) -> None:
    """Every worker imports, connects and fills its caches before timing starts (untimed)."""
    stats = Stats()
    client = Client(base_url, directory["cookie"], stats)
    op, disp, leader = directory["operators"][0], directory["dispatchers"][0], directory["leaders"][0]
    for _ in range(max(clients, 4)):
        client.call("w", op, "GET", "/calls/new/")
        client.call("w", disp, "GET", "/tickets/")
        client.call("w", leader, "GET", "/dashboard/")
        client.call("w", op, "GET", "/api/me/")
    client.close()
    if stats.errors:
        raise RuntimeError(f"warm-up failed: {stats.samples[:3]}")


def endpoint_figures(stats: Stats) -> dict:
    figures = {}
    for endpoint in sorted(stats.latencies):
        values = sorted(stats.latencies[endpoint])
        row = {"count": len(values), "errors": stats.errors.get(endpoint, 0),
               "p50_ms": round(percentile(values, 50), 1), "p95_ms": round(percentile(values, 95), 1),
               "max_ms": round(values[-1], 1) if values else 0.0}
        if endpoint.startswith("page "):
            row["target"] = "met" if row["p95_ms"] < PAGE_TARGET_MS else "NOT met"
        figures[endpoint] = row
    return figures


def database_url_for_soak() -> str:
    return bench_database_url("_soak")


def run(argv: list[str]) -> dict:
    options = parse(argv)
    database_url = database_url_for_soak()
    # Plain HTTP on loopback: the session cookie must not be "secure" for the clients to send it back.
    env = bench_env(database_url, DJANGO_SESSION_COOKIE_SECURE="false", DJANGO_CSRF_COOKIE_SECURE="false")
    setup_started = time.monotonic()
    if options.dev:
        env["DJANGO_DEBUG"] = "1"
    if not options.keep_db:
        database_recreate(database_url)
    manage(env, "migrate", "--noinput", timeout=900)
    manage(env, "load_ruzhou", timeout=900)
    if not options.dev:
        manage(env, "collectstatic", "--noinput", "--verbosity", "0", timeout=900)
    code = SETUP.replace("{operators}", str(N_OPERATORS)).replace("{dispatchers}", str(N_DISPATCHERS)).replace(
        "{leaders}", str(N_LEADERS))
    directory = json.loads(manage(env, "shell", "--no-imports", "-c", code).strip().splitlines()[-1])
    setup_seconds = time.monotonic() - setup_started

    log_dir = ROOT / "artifacts" / "logs"
    out_dir = ROOT / "artifacts" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    with Gunicorn(env, workers=options.workers, threads=options.threads,
                  log_path=log_dir / "bench-soak-gunicorn.log") as server:
        warm_up(server.base_url, directory, options.clients)
        month = Month(options, directory, server.base_url)
        planned = month.plan()
        load_before = load_average()
        started = time.monotonic()
        days_done = month.run(started + options.max_minutes * 60)
        elapsed = time.monotonic() - started
        load_after = load_average()
    final = json.loads(manage(env, "shell", "--no-imports", "-c", STATUS_COUNT).strip().splitlines()[-1])
    server_errors = (log_dir / "bench-soak-gunicorn.log").read_text(errors="replace").count("Traceback")

    stats = month.stats
    endpoints = endpoint_figures(stats)
    pages = {k: v for k, v in endpoints.items() if k.startswith("page ")}
    errors = sum(stats.errors.values())
    figures = {
        "scale": f"{options.scale:g}",
        "settings": "development (--dev)" if options.dev else "production (DEBUG off)",
        "clients": options.clients,
        "gunicorn": f"-w {options.workers} --threads {options.threads}",
        "setup_seconds": round(setup_seconds, 1),
        "days_done": f"{days_done}/{DAYS}",
        **planned,
        "duration_s": round(elapsed, 1),
        "requests": stats.requests,
        "throughput_requests_per_s": round(stats.requests / elapsed, 1) if elapsed else 0.0,
        "tickets_registered": month.registered,
        "throughput_tickets_per_s": round(month.registered / elapsed, 2) if elapsed else 0.0,
        "calls_logged": month.calls_logged,
        "tickets_open_at_month_end": month.open_at_end,
        "database": final,
        "errors": errors,
        "error_samples": stats.samples[:5],
        "server_tracebacks": server_errors,
        "pages_target_met": f"{sum(v['target'] == 'met' for v in pages.values())}/{len(pages)} pages p95 < "
                            f"{PAGE_TARGET_MS:.0f} ms",
        "endpoints": endpoints,
        "cpu_cores": os.cpu_count(),
        "load_average": [load_before, load_after],
    }
    (out_dir / "soak.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2))
    return figures
