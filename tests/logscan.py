"""Pytest plugin: the logs of a test run contain no phone numbers.

At session start a handler is attached at DEBUG to the root logger and to every logger that
``settings.LOGGING`` configures with ``propagate: False``; it writes each formatted record (message
with its arguments, exception and stack text) to ``artifacts/logs/pytest-<pid>.log``. Warnings that
pytest records go to the same file. Processes the tests start (gunicorn of the soak benchmark…) write
their logs into ``artifacts/logs/`` too.

At session finish every file of ``artifacts/logs/`` written during this run is scanned for mainland
mobile numbers, landlines with an area code and the +86 / 0086 forms; each hit is printed as
``file:line`` with the number masked, and the run fails. Ticket numbers (``RZ2024040100001``),
timestamps, hex digests and UUIDs are not numbers and are not reported.

Registered by ``tests/conftest.py`` (``pytest_plugins``).
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / "artifacts" / "logs"
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
KEEP_SECONDS = 24 * 3600

# A number is not part of a longer run of letters, digits or a decimal: that keeps ticket numbers,
# timestamps, floats, hex digests and the like out, while a number inside Chinese text is still found.
_BEFORE = r"(?<![0-9A-Za-z.])"
_AFTER = r"(?![0-9A-Za-z]|\.\d)"
PATTERNS: dict[str, re.Pattern[str]] = {
    "+86": re.compile(_BEFORE + r"(?:\+|00)86[- ]?(?:1[3-9]\d{9}|1[3-9]\d[- ]\d{4}[- ]\d{4}|\d{2,3}-?\d{7,8})" + _AFTER),
    "mobile": re.compile(_BEFORE + r"(?:1[3-9]\d{9}|1[3-9]\d[- ]\d{4}[- ]\d{4})" + _AFTER),
    "landline": re.compile(r"(?<![0-9A-Za-z.+])(?:0\d{2,3}-?\d{7,8}|\(0\d{2,3}\)\d{7,8})" + _AFTER),
}
# Tokens that look like numbers but are identifiers: UUIDs and long hexadecimal digests.
IDENTIFIERS = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|(?<![0-9A-Za-z])[0-9a-fA-F]{16,}"
)


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    kind: str
    masked: str

    def __str__(self) -> str:
        try:
            shown = self.path.relative_to(ROOT)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}: {self.kind} {self.masked}"


def mask(number: str) -> str:
    """Keep the first three and the last two digits: enough to find the source, not to call anyone."""
    digits = [i for i, ch in enumerate(number) if ch.isdigit()]
    hidden = set(digits[3:-2])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(number))


def find_numbers(line: str) -> list[tuple[str, str]]:
    """``[(kind, number)]`` of the phone numbers in one line of log text."""
    text = IDENTIFIERS.sub(lambda m: "#" * len(m.group()), line)
    found: list[tuple[str, str]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in PATTERNS.items():  # +86 first, so that its digits are not reported twice
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            taken.append(match.span())
            found.append((kind, match.group()))
    return found


def scan_file(path: Path) -> tuple[int, list[Finding]]:
    """(lines read, findings) of one log file."""
    lines, findings = 0, []
    with open(path, encoding="utf-8", errors="replace") as f:
        for lines, line in enumerate(f, start=1):  # noqa: B007 - the count is returned
            findings += [Finding(path, lines, kind, mask(number)) for kind, number in find_numbers(line)]
    return lines, findings


def files_to_scan(log_dir: Path, *, since: float, own_pid: int) -> list[Path]:
    """Files of ``log_dir`` written since ``since`` — except the capture files of other pytest runs
    going on at the same time (they scan their own)."""
    if not log_dir.is_dir():
        return []
    chosen = []
    for path in sorted(log_dir.iterdir()):
        if not path.is_file() or path.stat().st_mtime < since:
            continue
        other = re.fullmatch(r"pytest-(\d+)\.log", path.name)
        if other and int(other.group(1)) != own_pid:
            continue
        chosen.append(path)
    return chosen


def scan(log_dir: Path, *, since: float, own_pid: int) -> tuple[int, int, list[Finding]]:
    """(files, lines, findings) of every log file of this run."""
    files, lines, findings = 0, 0, []
    for path in files_to_scan(log_dir, since=since, own_pid=own_pid):
        n, found = scan_file(path)
        files += 1
        lines += n
        findings += found
    return files, lines, findings


class CaptureHandler(logging.FileHandler):
    """Writes every record it is given, at any level, to the run's capture file. It stays open until
    the session ends: ``logging.config.dictConfig`` (Celery's worker setup, a re-configuration) closes
    every existing handler, and a closed file handler would drop the rest of the run's records."""

    def __init__(self, path: Path):
        super().__init__(path, mode="w", encoding="utf-8", delay=False)
        self.setLevel(logging.DEBUG)
        self.setFormatter(logging.Formatter(FORMAT))

    def close(self) -> None:
        self.flush()  # closed by someone else: keep writing

    def finish(self) -> None:
        super().close()


def _isolated_loggers() -> list[logging.Logger]:
    """Loggers that ``settings.LOGGING`` configures with ``propagate: False`` (their records never
    reach the root logger)."""
    try:
        from django.conf import settings

        configured = settings.LOGGING.get("loggers", {}) if settings.configured else {}
    except Exception:  # Django not installed or not configured: only the root logger
        configured = {}
    return [logging.getLogger(name) for name, spec in configured.items() if spec.get("propagate", True) is False]


class LogScan:
    def __init__(self, log_dir: Path = LOG_DIR):
        self.log_dir = log_dir
        self.pid = os.getpid()
        self.path = log_dir / f"pytest-{self.pid}.log"
        self.started = 0.0
        self.handler: CaptureHandler | None = None
        self.root_level = logging.NOTSET
        self.result: tuple[int, int, list[Finding]] | None = None

    # -- capture ---------------------------------------------------------------------------------
    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for old in self.log_dir.glob("pytest-*.log"):  # capture files of earlier runs, after a day
            if old.stat().st_mtime < time.time() - KEEP_SECONDS:
                old.unlink(missing_ok=True)
        self.started = time.time() - 1  # file systems with coarse timestamps
        self.handler = CaptureHandler(self.path)
        self.root_level = logging.getLogger().level  # as settings.LOGGING configured it
        self.attach()

    def attach(self) -> None:
        """(Re-)attach the handler and restore the root logger's level: a Celery worker started by a
        test hijacks the root logger's handlers and sets its level, which would hide the records of
        every later test."""
        if self.handler is None:
            return
        root = logging.getLogger()
        if root.level != self.root_level:
            root.setLevel(self.root_level)
        for logger in [logging.getLogger(), *_isolated_loggers()]:
            if self.handler not in logger.handlers:
                logger.addHandler(self.handler)

    def write_warning(self, message: str, where: str) -> None:
        if self.handler is None:
            return
        record = logging.LogRecord("py.warnings", logging.WARNING, where, 0, "%s", (message,), None)
        self.handler.handle(record)

    def stop(self) -> None:
        if self.handler is None:
            return
        for logger in [logging.getLogger(), *_isolated_loggers(), *logging.Logger.manager.loggerDict.values()]:
            if isinstance(logger, logging.Logger) and self.handler in logger.handlers:
                logger.removeHandler(self.handler)
        self.handler.finish()

    # -- pytest hooks ------------------------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session):
        self.start()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        self.attach()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item):
        self.attach()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item):
        self.attach()

    def pytest_warning_recorded(self, warning_message, when, nodeid, location):
        where = nodeid or (f"{location[0]}:{location[1]}" if location else when)
        self.write_warning(f"{warning_message.category.__name__}: {warning_message.message} ({where})", where)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session, exitstatus):
        self.stop()
        self.result = scan(self.log_dir, since=self.started, own_pid=self.pid)
        if self.result[2]:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        if self.result is None:
            return
        files, lines, findings = self.result
        if findings:
            terminalreporter.section("phone numbers in the logs", sep="=", red=True, bold=True)
            for finding in findings[:50]:
                terminalreporter.line(str(finding), red=True)
            if len(findings) > 50:
                terminalreporter.line(f"… and {len(findings) - 50} more")
            terminalreporter.line(f"log scan: {len(findings)} phone number(s) in {files} file(s), "
                                  f"{lines} lines — the run fails", red=True, bold=True)
        else:
            terminalreporter.line(f"log scan: {files} file(s), {lines} lines in {self.log_dir.relative_to(ROOT)}/, "
                                  "no phone numbers")


def pytest_configure(config):
    config.pluginmanager.register(LogScan(), "hotline-logscan")
