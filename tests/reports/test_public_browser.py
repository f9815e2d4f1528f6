"""A visitor's browser opens the public archive and the April 2024 issue (no login)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def page():
    if not CHROMIUM:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        yield page
        browser.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_visitor_opens_archive_and_april_2024(page, live_server, demo_bulletin):
    # given the published demo and a visitor with no account
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # when they open the archive and follow the link to April 2024
    page.goto(f"{live_server.url}/bulletins/")
    assert page.locator("h1").inner_text() == "工作简报"
    page.get_by_role("link", name="2024年第4期").click()
    page.wait_for_url("**/bulletins/2024-04/")
    # then the issue is laid out like the printed bulletin
    assert page.locator(".bulletin-title").inner_text() == "汝州市12345政务服务便民热线四月份工作简报"
    body = page.locator("article.bulletin").inner_text()
    for text in ("2024年第4期", "(总第280期)", "汝州市人民政府办公室", "2024年5月24日", "一、工作概况",
                 "二、数据分析", "三、热点难点问题", "四、典型案例", "五、业务工作", "六、派驻工作",
                 "附件1", "附件2", "注：工单量小于9件的单位未计入本次考核。"):
        assert text in body
    tables = page.locator("table.bulletin-table")
    assert tables.count() == 4
    assert tables.nth(3).locator("tbody tr").count() == 23
    assert "登录" not in page.title()
    # every request stayed on the server (no CDN), no console errors
    assert all(url.startswith(live_server.url) for url in requests)
    assert errors == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "bulletin-2024-04.png"), full_page=True)
    # and the downloads are offered
    assert page.get_by_role("link", name="下载 PDF").get_attribute("href") == "/bulletins/2024-04/pdf/"
