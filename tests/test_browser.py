"""A researcher in a real browser: Debian's Chromium driven by Playwright, over a demo archive."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import openpyxl
import pytest

from tests.conftest import REQUIRE_SERVICES

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

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


LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


class Offline:
    """A browser page that may reach only loopback: every other request is aborted and
    noted, and so is every Content-Security-Policy violation the page reports."""

    def __init__(self, browser: Browser, javascript: bool = False) -> None:
        self.context = browser.new_context(
            java_script_enabled=javascript,
            viewport={"width": 1200, "height": 900},
            locale="zh-CN",  # Accept-Language and navigator.language as a researcher has them
        )
        self.refused: list[str] = []
        self.violations: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        self.page.on("console", self._console)

    def _route(self, route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or parts.hostname in LOOPBACK:
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(message.text)

    def close(self) -> None:
        self.context.close()
        assert self.refused == [], f"the UI tried to reach other hosts: {self.refused}"
        assert self.violations == [], self.violations


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("WENHUA_SCREENSHOTS", tmp_path))


def _total(page: Page) -> int:
    return int(page.inner_text("#total"))


def _dates(page: Page) -> list[str]:
    return [t.get_attribute("datetime") or "" for t in page.locator("ol.results time").all()]


def _titles(page: Page) -> list[str]:
    return page.locator("ol.results h2 a").all_inner_texts()


def test_every_page_and_the_api_docs_work_offline(
    server: str, browser: Browser, shots: Path
) -> None:
    fonts = subprocess.run(["fc-match", "Noto Sans CJK SC"], capture_output=True, text=True)
    if "NotoSansCJK" not in fonts.stdout:
        _need("fonts-noto-cjk is not installed: screenshots would show boxes for Chinese")
    plain = Offline(browser)
    page = plain.page
    # The guard itself: a page that asks for another host is caught, and nothing is sent.
    page.set_content('<img src="http://example.invalid/probe.png">')
    assert plain.refused == ["http://example.invalid/probe.png"]
    plain.refused.clear()
    page.goto(f"{server}/search?q=文化")
    assert _total(page) > 0
    page.screenshot(path=str(shots / "search-offline.png"))
    page.goto(server + (page.locator("ol.results h2 a").first.get_attribute("href") or ""))
    assert page.locator("article.body").count() == 1
    assert "存档于 " in page.inner_text("p.cite")
    page.goto(f"{server}/stats")
    assert page.locator("svg rect").count() > 0
    year = page.locator("nav.years a[data-year]").first
    chosen = year.get_attribute("data-year")
    year.click()
    assert page.url.endswith(f"/stats?year={chosen}")
    assert not page.locator("details.data").get_attribute("open")  # the table starts folded
    page.screenshot(path=str(shots / "stats-year.png"))
    page.click("header a[href='/docs']")
    plain.close()

    scripted = Offline(browser, javascript=True)  # Swagger UI is a script
    scripted.page.goto(f"{server}/docs")
    operations = scripted.page.locator(".opblock-summary-path")
    operations.first.wait_for()
    assert "/api/articles" in operations.all_inner_texts()
    scripted.page.screenshot(path=str(shots / "docs-offline.png"))
    scripted.close()


def test_facets_narrow_and_their_counts_match(server: str, browser: Browser, shots: Path) -> None:
    offline = Offline(browser)
    page = offline.page
    page.goto(f"{server}/search?q=文化")
    everything = _total(page)
    for facet in ("district", "year", "source"):
        page.goto(f"{server}/search?q=文化")
        item = (
            page.locator(f'section[data-facet="{facet}"] li').filter(has=page.locator("a")).nth(1)
        )
        count = int(item.locator(".count").inner_text())
        value = item.locator("a").get_attribute("data-value") or ""
        item.locator("a").click()
        assert _total(page) == count < everything, facet
        shown = page.locator(f'section[data-facet="{facet}"] strong').inner_text()
        assert value in shown
        if facet == "district":
            districts = page.locator("ol.results .meta span:nth-child(2)").all_inner_texts()
            assert set(districts) == {value}
            page.screenshot(path=str(shots / "search-facet.png"))
        if facet == "year":
            assert {d[:4] for d in _dates(page)} == {value}
    offline.close()


def test_sort_orders_by_date_both_ways(server: str, browser: Browser) -> None:
    offline = Offline(browser)
    page = offline.page
    page.goto(f"{server}/search?q=文化")
    page.click(".sort a[data-sort=oldest]")
    oldest = _dates(page)
    assert oldest == sorted(oldest) and len(oldest) == 20
    page.click(".sort a[data-sort=newest]")
    newest = _dates(page)
    assert newest == sorted(newest, reverse=True) and newest[0] > oldest[-1]
    page.select_option("select[name=sort]", "oldest")  # the form keeps the order too
    page.click("button[type=submit]")
    assert _dates(page) == oldest
    offline.close()


def test_numbered_pages(server: str, browser: Browser) -> None:
    offline = Offline(browser)
    page = offline.page
    page.goto(f"{server}/search?q=文化&sort=oldest")
    total = _total(page)
    pages = (total + 19) // 20
    assert pages >= 3
    numbers = page.locator("nav.pager a").all_inner_texts()
    assert "2" in numbers and "下一页" in numbers and "末页" in numbers
    first, first_dates = _titles(page), _dates(page)
    page.click("nav.pager a:text-is('2')")
    assert page.inner_text("nav.pager strong") == "2"
    second = _titles(page)
    assert second and set(second).isdisjoint(first)
    assert _dates(page)[0] >= first_dates[-1]  # page 2 goes on where page 1 stopped
    page.click("nav.pager a[rel=last]")
    assert page.inner_text("nav.pager strong") == str(pages)
    assert len(_titles(page)) == total - 20 * (pages - 1)
    page.click("nav.pager a[rel=first]")
    assert _titles(page) == first
    offline.close()


def test_download_the_result_set(server: str, browser: Browser, tmp_path: Path) -> None:
    offline = Offline(browser)
    page = offline.page
    page.goto(f"{server}/search?q=非遗&sort=newest")
    total = _total(page)
    assert total > 20  # more than one page: the file holds them all
    files: dict[str, Path] = {}
    assert page.locator(".download a").all_inner_texts() == ["CSV", "XLSX", "JSONL"]
    for fmt in [a.get_attribute("data-format") for a in page.locator(".download a").all()]:
        assert fmt
        with page.expect_download() as caught:
            page.click(f".download a[data-format={fmt}]")
        files[fmt] = tmp_path / caught.value.suggested_filename
        caught.value.save_as(files[fmt])
    rows = list(csv.DictReader(io.StringIO(files["csv"].read_bytes().decode("utf-8-sig"))))
    assert len(rows) == total and all("非遗" in r["title"] + r["body_text"] for r in rows)
    dates = [r["published_at"] for r in rows if r["published_at"]]
    assert dates == sorted(dates, reverse=True)
    records = [json.loads(line) for line in files["jsonl"].read_text("utf-8").splitlines()]
    assert [r["url"] for r in records] == [r["url"] for r in rows]
    (sheet,) = openpyxl.load_workbook(files["xlsx"], read_only=True).worksheets
    header, *cells = list(sheet.iter_rows(values_only=True))
    assert [row[header.index("网址")] for row in cells] == [r["url"] for r in rows]
    offline.close()
