"""The log scan of a test run (tests/logscan.py): it finds every form of phone number, it leaves ticket
numbers, timestamps and digests alone, it fails the run on a hit, and the records that Django's
configured loggers write reach its capture file already scrubbed."""

from __future__ import annotations

import hashlib
import logging
import os
import time
import uuid
from types import SimpleNamespace

import pytest

from tests.logscan import LogScan, files_to_scan, find_numbers, mask, scan, scan_file

PLANTED = [
    ("mobile", "来电人手机13900012345，要求回电"),
    ("mobile", "caller_phone=13900012345&category=0101"),
    ("mobile", "号码 139 0001 2345 打不通"),
    ("mobile", "号码139-0001-2345打不通"),
    ("+86", "phone +8613900012345 failed"),
    ("+86", "phone +86 139 0001 2345 failed"),
    ("+86", "phone 0086-13900012345 failed"),
    ("+86", "座机+86-375-6012345"),
    ("landline", "座机 0375-6012345 无人接听"),
    ("landline", "座机03756012345无人接听"),
    ("landline", "座机 0371-60123456"),
    ("landline", "座机(0375)6012345"),
    ("landline", "{'caller_phone': '037566012345'}"),
]

NOT_NUMBERS = [
    "工单 RZ2024040100001 已派单",
    "BENCH000000001 seeded",
    "2024-04-01T10:00:00+08:00 registered",
    "2026-11-28 04:56:13,536 INFO tickets.tasks auto-urge: 13 tickets urged",
    "1712000000.123456 epoch seconds, 1712000000123 epoch ms",
    "took 0.13900012345 s",
    f"digest {hashlib.sha256(b'13900012345').hexdigest()}",
    "hmac ab13900012345cd03756012345ef",
    f"task {uuid.UUID('01390001-2345-4000-8000-037560123450')} succeeded",
    f"task {uuid.uuid4()} succeeded",
    "来电人 王* 139****2345 已脱敏",
    "来电 [电话已隐去] 询问进度",
    "GET /api/tickets/1390001234/ 200",
    "listening on 127.0.0.1:54321, pid 13900",
    "金额 12,345,678.00 元，面积 3756012 平方米",
]


@pytest.mark.parametrize(("kind", "line"), PLANTED)
def test_a_planted_number_is_found_in_each_format(kind, line):
    # when
    found = find_numbers(line)

    # then
    assert [k for k, _ in found] == [kind], found


@pytest.mark.parametrize("line", NOT_NUMBERS)
def test_ticket_numbers_timestamps_and_digests_are_not_numbers(line):
    assert find_numbers(line) == []


def test_a_finding_shows_file_and_line_with_the_number_masked(tmp_path):
    # given
    log = tmp_path / "worker.log"
    log.write_text("启动\n一切正常\n来电 13900012345 回访失败\n座机 0375-6012345\n", encoding="utf-8")

    # when
    lines, findings = scan_file(log)

    # then
    assert lines == 4
    assert [(f.line, f.kind, f.masked) for f in findings] == [(3, "mobile", "139******45"),
                                                              (4, "landline", "037*-*****45")]
    assert "13900012345" not in str(findings[0]) and str(findings[0]).endswith("worker.log:3: mobile 139******45")
    assert mask("+8613900012345") == "+861********45"


def test_only_the_files_of_this_run_are_scanned(tmp_path):
    # given: an old file, a subprocess log of this run, our capture file and another run's capture file
    started = time.time()
    old = tmp_path / "gunicorn-old.log"
    old.write_text("13900012345\n")
    os.utime(old, (started - 3600, started - 3600))
    ours = tmp_path / "pytest-100.log"
    ours.write_text("ok\n")
    worker = tmp_path / "bench-soak-gunicorn.log"
    worker.write_text("ok\n")
    (tmp_path / "pytest-200.log").write_text("13900012345\n")

    # when
    chosen = files_to_scan(tmp_path, since=started - 1, own_pid=100)

    # then
    assert chosen == [worker, ours]
    assert scan(tmp_path, since=started - 1, own_pid=100) == (2, 2, [])


def test_a_number_in_any_log_file_of_the_run_fails_the_run(tmp_path):
    # given: a scan of its own directory, as the session starts
    plugin = LogScan(tmp_path)
    plugin.start()
    logging.getLogger("tests.logscan_probe").warning("捕获正常")
    (tmp_path / "celery-worker.log").write_text("received task args=('13900012345',)\n", encoding="utf-8")
    session = SimpleNamespace(exitstatus=pytest.ExitCode.OK)

    # when
    plugin.pytest_sessionfinish(session, pytest.ExitCode.OK)

    # then
    files, lines, findings = plugin.result
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
    assert files == 2 and lines >= 2
    assert [(f.path.name, f.line, f.masked) for f in findings] == [("celery-worker.log", 1, "139******45")]
    assert "捕获正常" in (tmp_path / f"pytest-{os.getpid()}.log").read_text(encoding="utf-8")
    assert plugin.handler not in logging.getLogger().handlers


def test_a_clean_run_keeps_its_exit_status(tmp_path):
    # given
    plugin = LogScan(tmp_path)
    plugin.start()
    logging.getLogger("tests.logscan_probe").warning("工单 RZ2024040100001 于 2024-04-01T10:00:00 派单")
    session = SimpleNamespace(exitstatus=pytest.ExitCode.OK)

    # when
    plugin.pytest_sessionfinish(session, pytest.ExitCode.OK)

    # then
    assert session.exitstatus == pytest.ExitCode.OK and plugin.result[2] == []


def _capture(request):
    plugin = request.config.pluginmanager.get_plugin("hotline-logscan")
    assert plugin is not None and plugin.handler is not None, "tests/logscan.py is not active in this run"
    plugin.handler.flush()
    return plugin


def _lines_with(plugin, marker: str) -> list[str]:
    plugin.handler.flush()
    text = plugin.path.read_text(encoding="utf-8")
    return [line for line in text.splitlines() if marker in line]


def test_records_of_djangos_configured_loggers_reach_the_capture_file_scrubbed(request):
    # given
    plugin = _capture(request)
    marker = f"logscan-e2e-{uuid.uuid4().hex[:8]}"

    # when: a message, its arguments and an exception, through the loggers Django configured
    logging.getLogger("tickets.services").warning("%s 来电人 %s 回访失败", marker, "13900012345")
    logging.getLogger("django.request").error("%s 座机 0375-6012345", marker)
    try:
        raise ValueError(f"{marker} 无法联系 +86 139 0001 2345")
    except ValueError:
        logging.getLogger("tickets.exchange.delivery").exception("%s 发送失败", marker)

    # then
    lines = _lines_with(plugin, marker)
    assert len(lines) == 4, lines  # three records, the exception's last line names the marker too
    assert sum("[电话已隐去]" in line for line in lines) == 3, lines
    assert all(find_numbers(line) == [] for line in lines), lines


def test_loggers_that_do_not_propagate_are_captured_too(request, settings):
    # given: a logger configured with propagate=False (its records never reach the root logger)
    plugin = _capture(request)
    settings.LOGGING = {**settings.LOGGING, "loggers": {**settings.LOGGING.get("loggers", {}),
                                                        "tests.isolated": {"propagate": False}}}
    isolated = logging.getLogger("tests.isolated")
    isolated.propagate = False
    marker = f"logscan-isolated-{uuid.uuid4().hex[:8]}"
    try:
        # when
        plugin.attach()
        isolated.warning("%s 来电 13900012345", marker)

        # then
        lines = _lines_with(plugin, marker)
        assert len(lines) == 1 and "[电话已隐去]" in lines[0] and "13900012345" not in lines[0]
    finally:
        isolated.removeHandler(plugin.handler)
        isolated.propagate = True


def test_a_celery_worker_test_does_not_blind_the_capture_for_later_tests(request):
    # given: a test left the root logger at ERROR, as a Celery worker's logging setup does
    plugin = _capture(request)
    root = logging.getLogger()
    configured = root.level
    marker = f"logscan-level-{uuid.uuid4().hex[:8]}"
    root.setLevel(logging.ERROR)
    try:
        # when: the next test starts
        plugin.pytest_runtest_setup(None)
        logging.getLogger("tickets.tasks").warning("%s 自动催办跳过", marker)

        # then
        assert root.level == configured == plugin.root_level
        assert len(_lines_with(plugin, marker)) == 1
    finally:
        root.setLevel(configured)
