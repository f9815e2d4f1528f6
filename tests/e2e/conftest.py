"""Browser tests: Playwright's Python package driving Debian's chromium against pytest-django's
live server. Every test records the requests the pages make (all must go to the live server) and
the console errors (there must be none), and saves screenshots under ``artifacts/screenshots``."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still
# plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--lang=zh-CN"]
PASSWORD = "pw-Test-12345"


def pytest_collection_modifyitems(config, items):
    """Browser tests flush the database (live server, transactional): run them last so that tests
    relying on the session-wide directory are not affected."""
    browser = [i for i in items if i.get_closest_marker("browser")]
    if browser:
        items[:] = [i for i in items if not i.get_closest_marker("browser")] + browser


@pytest.fixture(scope="module")
def browser():
    """One chromium per test module (not per session: another module may start its own Playwright,
    and two sync Playwright instances cannot run at once)."""
    if not CHROMIUM:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def empty_cache():
    """The dashboard is cached: each test starts from an empty cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


class Session:
    """One signed-in browser context, with the requests and console errors it produced."""

    def __init__(self, browser, base_url: str, name: str):
        self.base_url = base_url
        self.name = name
        self.context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN",
                                           timezone_id="Asia/Shanghai")
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.expected_errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.console_errors.append(f"pageerror: {e}"))

    def goto(self, path: str):
        return self.page.goto(self.base_url + path)

    def login(self, username: str, password: str = PASSWORD):
        self.goto("/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.press("#id_password", "Enter")
        self.page.wait_for_url(re.compile(r".*/$"))
        return self

    def shot(self, label: str):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{label}.png"), full_page=True)

    def expect_error(self, pattern: str):
        """An error the test provokes on purpose (a 403/404/400 page logs one in chromium)."""
        self.expected_errors.append(pattern)

    def check(self):
        host = urlsplit(self.base_url).netloc
        outside = [u for u in self.requests if not (urlsplit(u).netloc == host or u.startswith(("data:", "blob:")))]
        assert outside == [], f"requests outside the server: {outside}"
        unexpected = [e for e in self.console_errors if not any(p in e for p in self.expected_errors)]
        assert unexpected == [], f"console errors: {unexpected}"

    def close(self):
        self.context.close()


@pytest.fixture
def session(browser, live_server, directory):
    """``session(name)`` → a fresh browser context; each is checked for outside requests and
    console errors at the end of the test."""
    opened: list[Session] = []

    def make(name: str = "s") -> Session:
        s = Session(browser, live_server.url, name)
        opened.append(s)
        return s

    yield make
    try:
        for s in opened:
            s.check()
    finally:
        for s in opened:
            s.close()
