"""The crawl's per-URL state on disk: the duplicate filter and the stores behind the
spider's scheduled set, the media cache and the WARC digest index.

What a user relies on: a URL is fetched once per crawl however often it is linked, a
resumed JOBDIR crawl does not fetch again what the stopped one had seen, and the state
held in memory stays bounded however large the crawl grows.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from scrapy import Request
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from crawler.frontier.seen import DiskDupeFilter, DiskStore

REPO = Path(__file__).resolve().parent.parent


def _filter(tmp_path: Path | None, cache: int) -> DiskDupeFilter:
    settings: dict[str, object] = {"WENHUA_SEEN_CACHE": cache}
    if tmp_path is not None:
        settings["JOBDIR"] = str(tmp_path)
    return DiskDupeFilter.from_crawler(get_crawler(settings_dict=settings))


def test_duplicates_are_filtered_beyond_the_memory_cache() -> None:
    dupes = _filter(None, cache=4)
    urls = [f"http://portal.example/new-{n}.html?a=1&b=2" for n in range(200)]
    assert [dupes.request_seen(Request(url)) for url in urls] == [False] * 200
    # Seen long ago (evicted from the 4-entry cache): still a duplicate, read from disk.
    assert all(dupes.request_seen(Request(url)) for url in urls)
    # The fingerprint is Scrapy's: the same request spelled differently is the same one.
    assert dupes.request_seen(Request("http://portal.example/new-7.html?b=2&a=1#top"))
    # A different method or body is a different request.
    assert not dupes.request_seen(Request(urls[7], method="POST", body=b"q=1"))
    assert dupes.store.cached <= 4
    assert len(dupes.store) == 201
    dupes.close("finished")


def test_a_resumed_jobdir_crawl_filters_what_the_stopped_one_had_seen(tmp_path: Path) -> None:
    first = _filter(tmp_path, cache=2)
    seen = [Request(f"http://portal.example/list-{n}.html") for n in range(50)]
    for request in seen:
        assert not first.request_seen(request)
    first.close("shutdown")
    assert (tmp_path / "requests.seen.sqlite").exists()

    resumed = _filter(tmp_path, cache=2)
    assert all(resumed.request_seen(request) for request in seen)
    assert not resumed.request_seen(Request("http://portal.example/list-50.html"))
    resumed.close("finished")

    # Without JOBDIR a new crawl starts afresh, as with Scrapy's own filter.
    fresh = _filter(None, cache=2)
    assert not fresh.request_seen(seen[0])
    fresh.close("finished")


def test_store_values_survive_eviction_and_failures_come_back_raising() -> None:
    store = DiskStore(cache=3)
    for n in range(100):
        store[f"sha1:{n}"] = (f"http://portal.example/upload/{n}.jpg", "2026-12-02T00:00:00Z")
    assert store.cached == 3
    assert store.get("sha1:5") == ("http://portal.example/upload/5.jpg", "2026-12-02T00:00:00Z")
    assert store.get("sha1:missing") is None
    assert store.setdefault("sha1:5", ("other", "date"))[0].endswith("/5.jpg")
    # The media pipeline caches a failed download as a Failure and raises it again for
    # the next article using the same image URL.
    try:
        raise ValueError("not a readable image")
    except ValueError:
        failure = Failure()
    failure.cleanFailure()
    store[b"fingerprint"] = failure
    for n in range(10):  # push it out of memory
        store[f"other-{n}"] = n
    back = store[b"fingerprint"]
    assert isinstance(back, Failure)
    assert back.check(ValueError)
    assert "not a readable image" in back.getErrorMessage()
    store.close()


class _Site(BaseHTTPRequestHandler):
    """Every page links every other page and itself: each is linked 30 times."""

    hits: dict[str, int]
    lock = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            self.hits[self.path] = self.hits.get(self.path, 0) + 1
        links = "".join(f'<a href="/p{n}.html">{n}</a>' for n in range(30))
        body = f"<html><body>{links}</body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _serving() -> Iterator[tuple[str, dict[str, int]]]:
    hits: dict[str, int] = {}
    handler = type("Handler", (_Site,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


CRAWL = """
import json, sys
from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

class Links(Spider):
    name = "links"
    async def start(self):
        yield Request(sys.argv[1] + "/p0.html")
    def parse(self, response):
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href)

settings = get_project_settings()
settings.setdict({"ROBOTSTXT_OBEY": False, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                  "ITEM_PIPELINES": {}, "EXTENSIONS": {}, "LOG_LEVEL": "ERROR",
                  "WENHUA_SEEN_CACHE": 1}, priority="cmdline")
process = CrawlerProcess(settings)
crawler = process.create_crawler(Links)
process.crawl(crawler)
process.start()
stats = crawler.stats.get_stats()
print(json.dumps({"filtered": stats.get("dupefilter/filtered", 0),
                  "dupefilter": settings.get("DUPEFILTER_CLASS")}))
"""


def test_a_crawl_fetches_each_url_once_with_a_one_entry_cache(tmp_path: Path) -> None:
    with _serving() as (base, hits):
        done = subprocess.run(
            [sys.executable, "-c", CRAWL, base],
            cwd=REPO,  # the Scrapy project's settings (scrapy.cfg)
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    assert stats["dupefilter"] == "crawler.frontier.seen.DiskDupeFilter"
    assert hits == {f"/p{n}.html": 1 for n in range(30)}
    # 30 pages x 30 links, of which 30 were new (p0 was the start).
    assert stats["filtered"] == 30 * 30 - 29
