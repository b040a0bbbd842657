"""A researcher in a real browser: Debian's Chromium driven by Playwright, over a demo archive."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 600


def _need(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"browser tests are required (WENHUA_REQUIRE_SERVICES=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not os.access(CHROMIUM, os.X_OK):
        _need(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _need("playwright is not installed (pip install -e '.[test]')")
    data = tmp_path_factory.mktemp("browser-demo")
    command = [sys.executable, "-c", "from archive.cli import main; main()"]
    subprocess.run([*command, "demo", "--data-dir", str(data), "--no-progress"], cwd=REPO,
                   check=True, capture_output=True, timeout=TIMEOUT)  # fmt: skip
    proc = subprocess.Popen(
        [*command, "serve", "--data-dir", str(data), "--port", "0"],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()  # printed once the socket listens
    assert "listening on http://" in line, line
    try:
        yield line.split("listening on ", 1)[1].strip().rstrip("/")
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def test_search_open_article_and_see_archived_images(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(java_script_enabled=False)  # reading must work without JS
        page.set_default_timeout(60_000)
        page.goto(f"{server}/search")
        page.fill("input[name=q]", "路南")
        page.click("button[type=submit]")
        assert int(page.inner_text("#total")) > 0
        assert page.locator("ol.results mark").first.inner_text() == "路南"
        shot = Path(os.environ.get("WENHUA_SCREENSHOTS", tmp_path))
        page.screenshot(path=str(shot / "search.png"), full_page=False)
        # Open the first result that has images.
        links = page.locator("ol.results h2 a")
        for i in range(links.count()):
            page.goto(server + links.nth(i).get_attribute("href"))  # type: ignore[operator]
            if page.locator("article.body img").count():
                break
        else:
            pytest.fail("no result for 路南 shows an archived image")
        images = page.locator("article.body img")
        page.wait_for_load_state("load")
        for i in range(images.count()):
            image = images.nth(i)
            assert (image.get_attribute("src") or "").startswith("/images/")
            assert image.evaluate("img => img.complete && img.naturalWidth") > 0
        assert page.locator("table.provenance").inner_text().count("200") >= 1
        page.screenshot(path=str(shot / "article.png"), full_page=False)
        browser.close()
