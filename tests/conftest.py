"""Shared fixtures: the Ruzhou directory (loaded once per database), personas per role, and
helpers that bring a ticket to any state through the real services."""

from __future__ import annotations

import os

import pytest
from django.db import connection
from hypothesis import settings as hypothesis_settings

from tickets import directory_cache, services
from tickets.models import AppealType, Category, Channel, Role, Unit, UpperPlatform, User
from tickets.services.directory import directory_load_ruzhou
from tickets.workcalendar import invalidate, load_from_chinese_calendar

# Every log record of the run goes to artifacts/logs/; the run fails if any holds a phone number.
pytest_plugins = ["tests.logscan"]

# Property-based tests explore at random while developing; CI replays a fixed sequence, so that a
# submission's result does not depend on luck (run with HYPOTHESIS_PROFILE=explore to search anew).
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
hypothesis_settings.register_profile("explore", deadline=None, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _ensure_directory():
    if not Unit.objects.exists():
        directory_load_ruzhou()
        load_from_chinese_calendar(first_year=2020)
    # Each test's rows are rolled back: no process cache may keep another test's calendar or directory.
    invalidate()
    directory_cache.invalidate()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        _ensure_directory()


@pytest.fixture(autouse=True, scope="session")
def _media_in_tmp(tmp_path_factory):
    """Stored files (attachments; the published bulletins' PDF/DOCX/XLSX, stored on first download)
    go to a temporary directory, never into the working copy. Session-scoped: Hypothesis tests refuse
    function-scoped fixtures; a test may still set its own ``settings.MEDIA_ROOT``."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture
def directory(db):
    """The Ruzhou directory and calendar (re-loaded after a transactional test flushed them)."""
    _ensure_directory()


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


def make_user(username: str, role: str, unit: Unit | None = None) -> User:
    user = User.objects.create_user(username=username, password="pw-Test-12345", role=role, unit=unit)
    return user


@pytest.fixture
def unit_a(directory):
    return Unit.objects.get(short_name="纸坊镇")


@pytest.fixture
def unit_b(directory):
    return Unit.objects.get(short_name="国网汝州市供电公司")


@pytest.fixture
def operator(directory):
    return make_user("op", Role.OPERATOR)


@pytest.fixture
def dispatcher(directory):
    return make_user("disp", Role.DISPATCHER)


@pytest.fixture
def unit_handler(unit_a):
    return make_user("handler_a", Role.UNIT_HANDLER, unit_a)


@pytest.fixture
def other_unit_handler(unit_b):
    return make_user("handler_b", Role.UNIT_HANDLER, unit_b)


@pytest.fixture
def assessor(directory):
    return make_user("assessor", Role.ASSESSOR)


@pytest.fixture
def editor(directory):
    return make_user("editor", Role.EDITOR)


@pytest.fixture
def leader(directory):
    return make_user("leader", Role.LEADER)


@pytest.fixture
def admin_user(directory):
    user = make_user("root", Role.ADMIN)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def personas(operator, dispatcher, unit_handler, other_unit_handler, assessor, editor, leader, admin_user):
    return {
        "operator": operator,
        "dispatcher": dispatcher,
        "unit_handler": unit_handler,
        "other_unit_handler": other_unit_handler,
        "assessor": assessor,
        "editor": editor,
        "leader": leader,
        "admin": admin_user,
    }


def ticket_kwargs(**overrides):
    kwargs = {
        "appeal_type": AppealType.objects.get(code="problem"),
        "category": Category.objects.get(code="0201"),
        "channel": Channel.objects.get(code="phone"),
        "content": "小区停水两天，无人维修。",
        "caller_name": "张三",
        "caller_phone": "13812345678",
        "address": "纸坊镇某村",
        "township": Unit.objects.get(short_name="纸坊镇"),
    }
    kwargs.update(overrides)
    return kwargs


@pytest.fixture
def new_ticket(operator):
    """A factory: ``new_ticket(**fields)`` registers a ticket for dispatch through the service."""

    def make(**overrides):
        actor = overrides.pop("actor", operator)
        return services.ticket_create(actor=actor, **ticket_kwargs(**overrides))

    return make


STATE_PATH = ["pending_dispatch", "pending_sign", "handling", "replied", "pending_callback", "closed"]


@pytest.fixture
def ticket_in(new_ticket, dispatcher, unit_handler, unit_a):
    """``ticket_in("handling")`` — a ticket brought to that state through the real services."""

    def make(state: str, **overrides):
        ticket = new_ticket(**overrides)
        if state == "pending_dispatch":
            return ticket
        if state == "merged":
            return services.ticket_merge(ticket=ticket, into=new_ticket(), actor=dispatcher)
        ticket = services.ticket_dispatch(ticket=ticket, unit=unit_a, actor=dispatcher)
        if state == "pending_sign":
            return ticket
        if state == "return_pending":
            return services.ticket_return_request(ticket=ticket, actor=unit_handler, reason="不属于本单位职责")
        ticket = services.ticket_sign(ticket=ticket, actor=unit_handler)
        if state == "handling":
            return ticket
        ticket = services.ticket_reply(ticket=ticket, actor=unit_handler, reply_text="已安排维修，恢复供水。")
        if state == "replied":
            return ticket
        ticket = services.ticket_review(ticket=ticket, actor=dispatcher, passed=True)
        if state == "pending_callback":
            return ticket
        if state == "closed":
            return services.ticket_callback(ticket=ticket, actor=dispatcher, result="satisfied", resolved=True)
        if state == "unsatisfied":
            return services.ticket_callback(ticket=ticket, actor=dispatcher, result="unsatisfied", resolved=False)
        raise ValueError(state)

    return make


@pytest.fixture
def upper_platform(directory):
    return UpperPlatform.objects.get(code="pds")


@pytest.fixture
def tasks_in_process():
    """Celery tasks run in the test's process even when the suite runs with a real broker (CI):
    for tests of what a task does, not of how it is queued."""
    from hotline.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = saved


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: throttle and rate-limit counts, idempotency tokens and cache
    versions of one test must not reach another (the suite runs in random order, in CI on a shared Redis)."""
    from django.core.cache import cache

    try:
        cache.clear()
    except Exception:  # a test that stopped the cache's server itself
        pass
    yield
