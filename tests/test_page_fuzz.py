"""Hypothesis fuzzing of every page (beside ``tests/test_fuzz.py``, which fuzzes the API).

One test per URL pattern outside ``/api/`` and ``/admin/`` (read from the URLconf, so a new page is
fuzzed without touching this file). The forms and query parameters of each page are found by
crawling every GET page as every role and reading its ``<form>``s (fields, their options and
default values) and the query strings of its links, plus the query parameters the views read
(``QUERY_PARAMS``). Hypothesis then sends each URL — path parameters real or malformed — with
generated values for those fields (NUL, lone surrogates sent as CESU-8 bytes, huge and negative
numbers, non-ASCII digits, dates in year 1 and 9999, long strings, real option values) by GET and,
where a form posts, by POST, as each role and anonymously. No answer may be a server error.

Bounded for CI: ``FUZZ_EXAMPLES`` examples per pattern (default 3, derandomized); ``make fuzz`` raises
it and randomises. Findings are kept as explicit tests in ``tests/tickets/test_malformed_input.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from html.parser import HTMLParser
from io import BytesIO
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from assessment import services as assessment_services
from assessment.models import Adjustment, RuleSet, UnitScore
from reports import services as report_services
from tickets import services
from tickets.models import ImportJob, OutboxMessage, Ticket, Unit, UpperPlatform

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
LONG_RUN = "FUZZ_EXAMPLES" in os.environ
ROLES = ["operator", "dispatcher", "unit_handler", "assessor", "editor", "leader", "admin", None]
MONTH = dt.date(2024, 4, 1)

# Query parameters the page views read (request.GET) that a crawl may not see in a form or a link.
QUERY_PARAMS = ["page", "q", "queue", "status", "sort", "month", "m", "u", "unit", "category", "township",
                "kq", "caller_phone", "date_from", "date_to", "overdue", "next"]

NASTY = ["", " ", "\x00", "a\x00b", "\ud800", "x\udfff", "²", "١٢", "１２", "0", "-1", "1.5", "1e5", "0x10",
         str(2**31), str(2**63), str(2**64), "9" * 40, "9999-12-31", "0001-01-01", "2024-02-30", "9999-12",
         "0000-00", "2024-04", "2099-12-31", "2100-01-01", "true", "null", "[]", "{\"a\": 1}", "<script>x</script>",
         "' OR '1'='1", "../../etc/passwd", "x" * 5000, "汝州" * 300, "\n", "\t=cmd|' /C calc'!A0"]
NASTY_VALUES = st.one_of(st.sampled_from(NASTY), st.text(max_size=40),
                         st.integers(min_value=-(2**70), max_value=2**70).map(str))


# --- The URL patterns -------------------------------------------------------------------------------


def _templates() -> list[tuple[str, str]]:
    """(view name, path template with ``<converter:name>`` placeholders) of every page pattern."""
    found: list[tuple[str, str]] = []

    def regex_to_route(pattern: str) -> str:
        route = re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", r"<str:\1>", pattern)
        return route.lstrip("^").rstrip("$")

    def walk(resolvers, prefix: str, namespace: str):
        for entry in resolvers:
            part = str(entry.pattern)
            part = regex_to_route(part) if part.startswith("^") else part
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, prefix + part, ns)
            elif isinstance(entry, URLPattern) and entry.name:
                found.append((f"{namespace}{entry.name}", "/" + prefix + part))

    walk(get_resolver().url_patterns, "", "")
    # Not the API (tests/test_fuzz.py), nor Django's admin, nor logout (it would sign the role out).
    pages = [(name, path) for name, path in found
             if not path.startswith(("/api/", "/admin/", "/static/", "/media/")) and name != "logout"]
    return sorted(set(pages), key=lambda item: item[1])


TEMPLATES = _templates()
PLACEHOLDER = re.compile(r"<(?:(\w+):)?(\w+)>")


def fill(template: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: quote(values[m.group(2)], safe="", errors="surrogatepass"), template)


def placeholders(template: str) -> list[tuple[str, str]]:
    return [(m.group(1) or "str", m.group(2)) for m in PLACEHOLDER.finditer(template)]


# --- Forms and links on the pages ----------------------------------------------------------------


class FormParser(HTMLParser):
    """Forms (method, action, {field: [known values]}) and link query parameters of one page."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.links: list[str] = []
        self._form: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"method": (a.get("method") or "get").lower(), "action": a.get("action") or "",
                          "fields": {}}
            self.forms.append(self._form)
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag in ("input", "select", "textarea", "button") and a.get("name"):
            target = self._form if self._form is not None else {"fields": {}}
            values = target["fields"].setdefault(a["name"], [])
            if a.get("value") is not None:
                values.append(a["value"])
        elif tag == "option" and self._form is not None and self._form["fields"]:
            last = list(self._form["fields"])[-1]
            if a.get("value") is not None:
                self._form["fields"][last].append(a["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def view_name_of(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.view_name


class Surface:
    """Per view name: the GET parameters and POST fields seen, with known values."""

    def __init__(self):
        self.get: dict[str, dict[str, set[str]]] = {}
        self.post: dict[str, dict[str, set[str]]] = {}

    def add(self, kind: str, view: str, fields: dict[str, list[str]]):
        target = getattr(self, kind).setdefault(view, {})
        for name, values in fields.items():
            target.setdefault(name, set()).update(v for v in values if len(v) < 200)


_SURFACE: Surface | None = None


def crawl(clients: dict, urls: list[str]) -> Surface:
    surface = Surface()
    for client in clients.values():
        for url in urls:
            response = client.get(url)
            if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
                continue
            parser = FormParser()
            parser.feed(response.content.decode())
            for form in parser.forms:
                view = view_name_of(urlsplit(form["action"]).path or urlsplit(url).path)
                if view:
                    surface.add("post" if form["method"] == "post" else "get", view, form["fields"])
            for href in parser.links:
                parts = urlsplit(href)
                if parts.query and not parts.netloc:
                    view = view_name_of(parts.path or url)
                    if view:
                        fields: dict[str, list[str]] = {}
                        for key, value in parse_qsl(parts.query, keep_blank_values=True):
                            fields.setdefault(key, []).append(value)
                        surface.add("get", view, fields)
    return surface


# --- The world the pages show --------------------------------------------------------------------


@pytest.fixture
def world(personas, ticket_in, new_ticket, dispatcher, assessor, editor, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.HOTLINE_PUBLIC_RATE_LIMIT = "100000/m"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"login": "100000/m", "login_username": "100000/m"}}
    cache.clear()
    tickets = {state: ticket_in(state) for state in
               ("pending_dispatch", "pending_sign", "return_pending", "handling", "replied", "pending_callback",
                "closed", "merged")}
    services.supervision_open(ticket=tickets["handling"], actor=dispatcher, reason="群众反映强烈")
    platform = UpperPlatform.objects.get(code="pds")
    upper = new_ticket(source="upper", platform=platform, upstream_number="PDS-PAGE-FUZZ-1")
    OutboxMessage.objects.create(platform=platform, ticket=upper, kind="reply", idempotency_key="page-fuzz-1",
                                 status="failed")
    job = ImportJob(kind="calls", original_name="calls.csv", created_by=personas["admin"])
    job.file.save("calls.csv", BytesIO(b"x"), save=False)
    job.save()
    unit = personas["unit_handler"].unit
    assessment_services.adjustment_create(unit=unit, month=MONTH, points=1, reason="表扬", actor=assessor)
    assessment_services.assessment_compute(month=MONTH, actor=assessor)
    report_services.bulletin_build(month=MONTH, actor=editor)
    clients = {}
    for role in ROLES:
        client = Client()
        if role:
            client.force_login(personas[role])
        clients[role] = client
    real = {
        "pk": [str(t.pk) for t in Ticket.objects.all()[:5]],
        "tickets:pk": [str(t.pk) for t in tickets.values()],
        "assessment:rule-edit:pk": [str(pk) for pk in RuleSet.objects.values_list("pk", flat=True)],
        "assessment:adjustment-delete:pk": [str(pk) for pk in Adjustment.objects.values_list("pk", flat=True)],
        "assessment:score:pk": [str(pk) for pk in UnitScore.objects.values_list("pk", flat=True)[:3]],
        "assessment:score-tickets:pk": [str(pk) for pk in UnitScore.objects.values_list("pk", flat=True)[:3]],
        "attachment_id": ["1"],
        "job_id": [str(job.pk)],
        "unit_id": [str(unit.pk), str(Unit.objects.order_by("pk").first().pk)],
        "month": ["2024-04"],
        "period": ["2024-04"],
        "kind": ["sign", "close", "resolved", "satisfied", "all"],
        "action": ["dispatch", "sign", "return", "return-decide", "extension", "extension-decide", "reply",
                   "review", "callback", "redo", "judge-close", "merge", "urge", "supervise", "supervise-close",
                   "grant-contact"],
        "code": ["pds"],
    }
    return {"clients": clients, "real": real}


def real_values(real: dict, view: str, name: str) -> list[str]:
    app = view.split(":")[0]
    return real.get(f"{view}:{name}") or real.get(f"{app}:{name}") or real.get(name) or ["1"]


def surface_for(world) -> Surface:
    global _SURFACE
    if _SURFACE is None:
        urls = []
        for view, template in TEMPLATES:
            values = {name: real_values(world["real"], view, name)[0] for _, name in placeholders(template)}
            urls.append(fill(template, values))
        _SURFACE = crawl(world["clients"], urls)
    return _SURFACE


def field_values(known: set[str]):
    return st.one_of(st.sampled_from(sorted(known)), NASTY_VALUES) if known else NASTY_VALUES


def form_data(fields: dict[str, set[str]]):
    """Some of the fields, each with one to three values."""
    if not fields:
        return st.just([])
    names = sorted(fields)
    return st.lists(
        st.sampled_from(names).flatmap(
            lambda name: st.lists(field_values(fields[name]), min_size=1, max_size=3).map(
                lambda values: [(name, v) for v in values])),
        max_size=len(names) + 2,
    ).map(lambda groups: [pair for group in groups for pair in group])


def encode(pairs: list[tuple[str, str]]) -> str:
    # A lone surrogate goes out as its CESU-8 bytes (what a broken client sends); Django decodes it.
    return urlencode(pairs, encoding="utf-8", errors="surrogatepass")


# --- The test ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("view", "template"), TEMPLATES, ids=[t for _, t in TEMPLATES])
def test_fuzz_page(view, template, world):
    surface = surface_for(world)
    real = world["real"]
    get_fields = {name: set() for name in QUERY_PARAMS}
    for name, values in surface.get.get(view, {}).items():
        get_fields.setdefault(name, set()).update(values)
    post_fields = surface.post.get(view, {})
    params = placeholders(template)
    path_values = st.fixed_dictionaries({
        name: st.one_of(st.sampled_from(real_values(real, view, name)), NASTY_VALUES) for _, name in params})

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG_RUN, database=None,
              suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate, Phase.shrink] if LONG_RUN else [Phase.explicit, Phase.generate])
    @given(path=path_values, query=form_data(get_fields), body=form_data(post_fields), post=st.booleans())
    def run(path, query, body, post):
        url = fill(template, path)
        for role, client in world["clients"].items():
            cache.clear()
            target = f"{url}?{encode(query)}" if query else url
            response = client.get(target)
            assert response.status_code < 500, (role, "GET", target, response.status_code)
            if post or post_fields:
                response = client.post(url, encode(body), content_type="application/x-www-form-urlencoded")
                assert response.status_code < 500, (role, "POST", url, body, response.status_code)

    run()


def test_the_crawl_finds_the_forms(world):
    """The fuzzing above reaches the pages' real forms (a guard against a crawl that finds nothing)."""
    surface = surface_for(world)
    assert {"tickets:call-new", "tickets:action", "reports:bulletin-edit", "assessment:stationing",
            "exchange:outbox"} <= set(surface.post), sorted(surface.post)
    assert {"tickets:list"} <= set(surface.get)
