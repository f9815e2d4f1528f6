"""Integration: a real Celery worker on a private Redis, a loopback upstream that refuses the first
attempts, and Redis stopped and started in the middle. Every reply reaches the upstream, recorded
exactly once per idempotency key. Never touches the shared Redis on 6379."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from django.db import connection

from hotline.celery import app
from tests.faults.services import SupervisedWorker
from tickets import services
from tickets.exchange.outbox import outbox_sweep
from tickets.models import OutboxMessage, OutboxStatus, User

from .upstream_server import Upstream

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    def __init__(self, tmp_path):
        self.port = _free_port()
        self.dir = tmp_path
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()  # only the process this test started
            self.process.wait(10)


def _reset_pools():
    """Drop the broker connections made for the previous broker URL — also from kombu's global pool
    registry, which would otherwise hand a closed pool to the next test that publishes a task."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def private_redis_started(tmp_path) -> PrivateRedis:
    """A private redis-server for a test with a real worker, or a skip saying what is missing."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: this integration test starts its own Redis")
    if connection.vendor == "sqlite":
        pytest.skip("the worker thread needs a real database shared across connections: run with PostgreSQL")
    redis = PrivateRedis(tmp_path)
    redis.start()
    return redis


@pytest.fixture
def private_worker(tmp_path, settings, monkeypatch):
    redis = private_redis_started(tmp_path)
    settings.HOTLINE_OUTBOX_BACKOFF_SECONDS = 0.3
    settings.HOTLINE_OUTBOX_BACKOFF_MAX_SECONDS = 2
    settings.HOTLINE_OUTBOX_MAX_ATTEMPTS = 100
    saved = {k: app.conf.get(k) for k in ("broker_url", "task_always_eager", "result_backend",
                                          "task_publish_retry_policy", "broker_connection_timeout")}
    # Celery prefers the CELERY_BROKER_URL variable (set in CI) to ``broker_url``: without this the
    # worker would use the shared Redis and stopping the private one would prove nothing.
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{redis.port}/0")
    app.conf.update(broker_url=f"redis://127.0.0.1:{redis.port}/0", task_always_eager=False, result_backend=None,
                    task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2,
                                               "interval_max": 0.2},
                    broker_connection_timeout=1)
    _reset_pools()
    try:
        with SupervisedWorker(app) as worker:
            yield redis
        if worker.restarts:  # a known kombu crash, see SupervisedWorker; named, not hidden
            print(f"celery worker restarted {worker.restarts} time(s) after Redis went away")
    finally:
        redis.stop()
        app.conf.update(saved)
        _reset_pools()


def test_every_reply_reaches_the_upstream_once_even_when_redis_restarts(private_worker, ticket_in, upper_platform):
    redis = private_worker
    with Upstream(refuse_first=3) as upstream:
        # given
        upper_platform.reply_url = upstream.url
        upper_platform.save()
        handling = [ticket_in("handling", source="upper", platform=upper_platform, upstream_number=f"PDS-{i}",
                              channel=None) for i in range(5)]
        handler = User.objects.get(username="handler_a")
        # when: three replies while everything is up (the upstream refuses the first attempts)
        for ticket in handling[:3]:
            services.ticket_reply(ticket=ticket, actor=handler, reply_text="已处理完毕。")
        # (the beat job's sweep runs alongside, as in production)
        assert wait_for(lambda: outbox_sweep() >= 0 and
                        OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == 3), \
            list(OutboxMessage.objects.values("status", "attempts", "last_error"))
        # Redis goes down; two more replies are committed (their tasks cannot be queued)
        redis.stop()
        for ticket in handling[3:]:
            services.ticket_reply(ticket=ticket, actor=handler, reply_text="已处理完毕。")
        assert OutboxMessage.objects.count() == 5  # written with the replies, broker or not
        # Redis comes back; the beat sweep queues what is due
        redis.start()
        assert wait_for(lambda: outbox_sweep() >= 0 and
                        OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == 5, timeout=90)
    # then
    keys = set(OutboxMessage.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == 5
    assert set(upstream.received) == keys  # each recorded exactly once, by its key
    assert upstream.attempts >= 3 + 5  # the refused attempts were retried
    assert {p["upstream_number"] for p in upstream.received.values()} == {f"PDS-{i}" for i in range(5)}
