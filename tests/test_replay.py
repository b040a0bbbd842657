"""The captures as served (#18): WARC records under canonical URLs, replayed by pywb through
`wenhua serve`, after one real demo crawl (tests/conftest.py `demo_archive`)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from archive.config import resolve
from archive.db import Archive
from archive.models import Article, ArticleVersion, ImageUrl, Site
from archive.web.app import create_app
from archive.web.replay import missing_modules
from crawler.demo_portal import build_corpus
from tests.conftest import REQUIRE_SERVICES

CANONICAL = "http://demo.wenhua.local"
SEED_URL = CANONICAL + "/new-13173.html"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip


def _need_pywb() -> None:
    missing = missing_modules()
    if missing:
        reason = f"pywb is not installed (missing {', '.join(missing)}; see README)"
        if REQUIRE_SERVICES:
            pytest.fail(f"replay is required (WENHUA_REQUIRE_SERVICES=1) but {reason}")
        pytest.skip(reason)


def warc_records(data: Path) -> Iterator[tuple[str, dict[str, str]]]:
    for path in sorted((data / "warc").glob("*.warc.gz")):
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                yield record.rec_type, dict(record.rec_headers.headers)


def archived(data: Path) -> dict[str, Any]:
    archive = Archive(resolve(data).db_url)
    with archive.session() as session:
        facts = {
            "articles": {a.url: a.id for a in session.scalars(select(Article))},
            "final_urls": set(session.scalars(select(ArticleVersion.final_url))),
            "image_urls": set(session.scalars(select(ImageUrl.url))),
            "image_sha": {u.url: u.image_sha256 for u in session.scalars(select(ImageUrl))},
            "gbk": session.scalars(
                select(Article).join(Site).where(Site.name == "demo-trs-lubei").limit(1)
            ).one(),
        }
        facts["gbk_title"] = facts["gbk"].current.title
        facts["gbk_id"] = facts["gbk"].id
    archive.close()
    return facts


@pytest.fixture(scope="module")
def facts(demo_archive: Path) -> dict[str, Any]:
    return archived(demo_archive)


@pytest.fixture(scope="module")
def client(demo_archive: Path) -> Iterator[TestClient]:
    _need_pywb()
    config = resolve(demo_archive)
    with TestClient(create_app(config)) as test_client:
        yield test_client


def test_warc_records_name_the_canonical_urls_and_where_they_were_fetched(
    demo_archive: Path, facts: dict[str, Any]
) -> None:
    captures: set[str] = set()
    for rec_type, headers in warc_records(demo_archive):
        if rec_type == "warcinfo":
            continue
        uri = headers["WARC-Target-URI"]
        assert uri.startswith(CANONICAL + "/"), (rec_type, uri)
        if rec_type in ("response", "revisit"):
            captures.add(uri)
        if rec_type in ("response", "revisit", "request"):
            fetched = urlsplit(headers["Wenhua-Fetched-From"])
            assert fetched.hostname == "127.0.0.1"  # the demo portal's loopback port
            assert fetched._replace(scheme="", netloc="").geturl() == (
                urlsplit(uri)._replace(scheme="", netloc="").geturl()
            )
    # Every archived article and every archived image is captured under its own URL.
    assert set(facts["articles"]) <= captures
    assert facts["final_urls"] <= captures
    assert facts["image_urls"] <= captures
    assert {CANONICAL + a.path for a in build_corpus()} <= captures


def test_warcinfo_says_where_the_bytes_came_from(demo_archive: Path) -> None:
    infos = []
    for path in sorted((demo_archive / "warc").glob("*.warc.gz")):
        with path.open("rb") as handle:
            record = next(iter(ArchiveIterator(handle)))
            assert record.rec_type == "warcinfo"
            infos.append(record.content_stream().read().decode())
    for info in infos:
        fields = dict(line.split(": ", 1) for line in info.strip().splitlines())
        assert urlsplit(fields["wenhua-fetched-from"]).hostname == "127.0.0.1"
        assert fields["wenhua-canonical-origin"] == CANONICAL


def test_cdxj_indexes_list_the_captures_by_canonical_url(
    demo_archive: Path, facts: dict[str, Any]
) -> None:
    indexed: set[str] = set()
    records = {
        h["WARC-Target-URI"] for t, h in warc_records(demo_archive) if t in ("response", "revisit")
    }
    for index in (demo_archive / "warc").glob("*.cdxj"):
        lines = index.read_text(encoding="utf-8").splitlines()
        assert lines == sorted(lines)
        for line in lines:
            _surt, stamp, body = line.split(" ", 2)
            fields = json.loads(body)
            assert re.fullmatch(r"\d{14}", stamp)
            assert fields["url"].startswith(CANONICAL + "/")
            assert (index.parent / fields["filename"]).is_file()
            indexed.add(fields["url"])
    assert indexed == records  # captures only: no request or metadata lines


def test_api_gives_every_version_a_replay_url(client: TestClient, facts: dict[str, Any]) -> None:
    for article_id in facts["articles"].values():
        body = client.get(f"/api/articles/{article_id}").json()
        for version in body["versions"]:
            match = re.fullmatch(r"/replay/(\d{14})/(.+)", version["replay_url"])
            assert match, version["replay_url"]
            assert match.group(2) == version["final_url"]
            captured = datetime.fromisoformat(version["captured_at"])
            assert captured.utcoffset() == timedelta(hours=8)  # the API's times: China time
            assert captured.astimezone(UTC).strftime("%Y%m%d%H%M%S") == match.group(1)


def test_seed_article_replays_as_captured_with_its_images_from_the_archive(
    client: TestClient, facts: dict[str, Any]
) -> None:
    article_id = facts["articles"][SEED_URL]
    record = client.get(f"/api/articles/{article_id}").json()
    page = client.get(f"/articles/{article_id}").text
    replay_url = record["versions"][0]["replay_url"]
    assert f'<a href="{replay_url}">查看原网页存档</a>' in page

    replayed = client.get(replay_url)
    assert replayed.status_code == 200
    assert "http:" not in replayed.headers["content-security-policy"]  # 'self' only
    html = replayed.text
    assert f"<title>{record['title']}-唐山文化云</title>" in html
    sources = re.findall(r'<img[^>]+src="(/replay/\d{14}im_/[^"]+)"', html)
    assert len(record["images"]) == 9
    assert [s.split("im_/", 1)[1] for s in sources[:9]] == [i["url"] for i in record["images"]]
    for source, image in zip(sources, record["images"], strict=False):
        answer = client.get(source)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == image["mime"]
        assert hashlib.sha256(answer.content).hexdigest() == image["sha256"]


def test_a_gbk_page_replays_with_its_characters(client: TestClient, facts: dict[str, Any]) -> None:
    version = client.get(f"/api/articles/{facts['gbk_id']}").json()["versions"][0]
    replayed = client.get(version["replay_url"])
    assert replayed.status_code == 200
    declared = re.search(r"charset=([\w-]+)", replayed.headers["content-type"])
    meta = re.search(rb'<meta[^>]+charset="?([\w-]+)', replayed.content)
    charset = declared.group(1) if declared else meta.group(1).decode() if meta else "utf-8"
    assert charset.lower() in ("gbk", "gb2312", "gb18030")  # served as the portal served it
    assert facts["gbk_title"] in replayed.content.decode(charset)


class _Live(BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012 - shared by the test and its server thread

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"live")

    def log_message(self, *args: Any) -> None:
        pass


def test_replay_never_fetches_from_the_live_web(client: TestClient) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Live)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        live = f"http://127.0.0.1:{server.server_address[1]}/news.html"
        answer = client.get(f"/replay/20240101000000/{live}")
        assert answer.status_code == 404
        assert client.get(f"/replay/20240101000000im_/{live}").status_code == 404
    finally:
        server.shutdown()
        server.server_close()
    assert _Live.hits == []  # the page exists on the live web; the replay never asked it


# ---- a real browser -------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(demo_archive: Path) -> Iterator[str]:
    if not os.access(CHROMIUM, os.X_OK):
        if REQUIRE_SERVICES:
            pytest.fail(f"{CHROMIUM} is required (WENHUA_REQUIRE_SERVICES=1) but missing")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    _need_pywb()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from archive.cli import main; main()", "serve",
         "--data-dir", str(demo_archive), "--port", "0"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert "listening on http://" in line, line
    try:
        yield line.split("listening on ", 1)[1].strip().rstrip("/")
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@pytest.mark.browser
def test_browser_reaches_the_capture_from_the_article_page_with_nine_images(
    server: str, facts: dict[str, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import Route, sync_playwright

    origin = urlsplit(server).netloc
    outside: list[str] = []

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).netloc == origin:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.set_default_timeout(60_000)
        page.route("**/*", only_loopback)
        seen: list[str] = []
        page.on("request", lambda request: seen.append(request.url))
        page.goto(f"{server}/articles/{facts['articles'][SEED_URL]}")
        page.click("p.replay a")
        page.wait_for_load_state("load")
        assert "/replay/" in page.url and page.url.endswith(SEED_URL)
        assert page.title().startswith("路南区公共文化服务体系示范区创建工作取得阶段性成果")
        widths = page.eval_on_selector_all(
            "img[src*='/upload/']", "imgs => imgs.map(i => i.complete && i.naturalWidth)"
        )
        shot = Path(os.environ.get("WENHUA_SCREENSHOTS", tmp_path))
        page.screenshot(path=str(shot / "replay.png"), full_page=True)
        browser.close()
    assert len(widths) == 9 and all(w and w > 0 for w in widths), widths
    assert outside == []  # nothing but the local service was asked for
    assert all(urlsplit(url).netloc == origin for url in seen), seen


def test_replay_of_an_archive_without_warc_files_says_why(tmp_path: Path) -> None:
    config = resolve(tmp_path)
    with TestClient(create_app(config)) as fresh:
        answer = fresh.get("/replay/20240101000000/http://demo.wenhua.local/new-13173.html")
    assert answer.status_code == 503
    assert "replay unavailable" in answer.text
    assert not (tmp_path / "warc").exists()  # the service wrote nothing
