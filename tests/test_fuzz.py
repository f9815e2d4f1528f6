"""Schemathesis fuzzing of the whole API against the project's own OpenAPI schema.

One test per operation of ``/api/schema/``. Every generated request (valid and invalid data) is
sent through the Django WSGI application with each persona's token (operator, dispatcher, unit
handler, assessor, editor, leader, administrator) and anonymously, and each answer must:

* never be a server error (``not_a_server_error``);
* use a documented status code and content type, and match the documented body schema;
* when it is an error, be JSON carrying a stable ``code`` (``tickets.exceptions``).

Bounded for CI: ``FUZZ_EXAMPLES`` examples per operation (default 3, derandomized so CI is
reproducible); ``make fuzz`` raises it and randomises. Path ids are often swapped for ids that
exist (tickets in every state, a supervision, an outbox message, an import job, a bulletin, …) so
the fuzzer reaches the code behind the 404s. Findings are kept as explicit tests in
``tests/tickets/test_api_fuzz_regressions.py``.
"""

from __future__ import annotations

import json
import os
from io import BytesIO

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from assessment.models import RuleSet
from reports.models import Bulletin
from tickets import services
from tickets.exchange.platforms import platform_token_issue
from tickets.models import ImportJob, Notification, OutboxMessage, Ticket, UpperPlatform

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
LONG_RUN = "FUZZ_EXAMPLES" in os.environ
ROLES = ["operator", "dispatcher", "unit_handler", "assessor", "editor", "leader", "admin"]


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation, read from the same generator ``/api/schema/`` uses."""
    document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    return sorted((method.upper(), path) for path, item in document["paths"].items() for method in item
                  if method in {"get", "post", "put", "patch", "delete"})


OPERATIONS = _operations()


def error_body_has_code(ctx, response, case):
    """Every API error answers ``{"code", "detail", ...}``."""
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"{response.status_code} is not JSON: {response.content[:200]!r}") from exc
    assert isinstance(body, dict) and isinstance(body.get("code"), str) and body["code"], (
        f"{response.status_code} without a code: {body!r}")
    return None


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          error_body_has_code]


@pytest.fixture(scope="module")
def keep_db_connection():
    """The raw WSGI handler closes the database connection after each request (Django's test
    client does not): that would close the test's transaction on PostgreSQL."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def api_schema(keep_db_connection, django_db_blocker):
    with django_db_blocker.unblock():
        return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def world(personas, ticket_in, new_ticket, dispatcher, settings, tmp_path):
    """Users with tokens and objects in various states, so the ids the fuzzer uses exist."""
    settings.MEDIA_ROOT = str(tmp_path)
    cache.clear()
    tokens = {role: Token.objects.create(user=personas[role]).key for role in ROLES}
    tickets = {state: ticket_in(state) for state in
               ("pending_dispatch", "pending_sign", "return_pending", "handling", "replied", "pending_callback",
                "closed", "merged")}
    supervision = services.supervision_open(ticket=tickets["handling"], actor=dispatcher, reason="群众反映强烈")
    platform = UpperPlatform.objects.get(code="pds")
    platform_token = platform_token_issue(platform=platform)
    upper = new_ticket(source="upper", platform=platform, upstream_number="PDS-FUZZ-1")
    outbox = OutboxMessage.objects.create(platform=platform, ticket=upper, kind="reply", idempotency_key="fuzz-1")
    job = ImportJob(kind="calls", original_name="calls.csv", created_by=personas["admin"])
    job.file.save("calls.csv", BytesIO(b"x"), save=False)
    job.save()
    Bulletin.objects.create(period="2024-04", month="2024-04-01", title="第4期", office="汝州市12345热线",
                            number_in_year=4, number_total=40, data={"x": 1})
    real = {
        "ticket_id": [t.pk for t in Ticket.objects.all()],
        "supervision_id": [supervision.pk],
        "message_id": [outbox.pk],
        "notification_id": list(Notification.objects.values_list("pk", flat=True)[:3]),
        "job_id": [job.pk],
        "id": list(RuleSet.objects.values_list("pk", flat=True)) or [1],
        "unit_id": [personas["unit_handler"].unit_id],
        "period": ["2024-04"],
        "month": ["2024-04"],
        "code": ["pds"],
    }
    return {"tokens": tokens, "platform_token": platform_token, "real": real,
            "token_rows": list(Token.objects.filter(key__in=tokens.values()))}


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_fuzz_operation(method, path, api_schema, world):
    operation = api_schema[path][method]
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                         operation.as_strategy(GenerationMode.NEGATIVE))
    real = world["real"]

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG_RUN, database=None,
              suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate, Phase.shrink] if LONG_RUN else [Phase.explicit, Phase.generate])
    @given(case=strategy, use_real=st.booleans(), pick=st.integers(min_value=0, max_value=100))
    def run(case, use_real, pick):
        if use_real and case.path_parameters:
            for name in list(case.path_parameters):
                if name in real:
                    case.path_parameters[name] = real[name][pick % len(real[name])]
        # DELETE /api/auth/tokens/{user_id}/ may have revoked a persona's token: put it back
        Token.objects.bulk_create(world["token_rows"], ignore_conflicts=True)
        for role in [*ROLES, None]:
            headers = {"Authorization": f"Token {world['tokens'][role]}"} if role else {}
            if path.startswith("/api/platforms/"):
                headers = {"Authorization": f"Bearer {world['platform_token']}"} if role else {}
            cache.clear()  # login throttling and axes counters must not leak between roles
            case.call_and_validate(headers=headers, checks=CHECKS)

    run()
