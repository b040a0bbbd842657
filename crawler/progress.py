"""Live progress on stderr while a crawl runs, and a final summary.

One line for the whole crawl, however many spiders share the process (`wenhua crawl
--all`, `wenhua demo`): pages, pages/s, articles new/changed/unchanged, failures, totals
over every crawler, and how many sites are done. It is refreshed every
WENHUA_PROGRESS_INTERVAL seconds ('\\r' on a terminal, one line per interval otherwise),
again whenever a site finishes, and at the end a summary gives one line per site and a
total line, with the same figures as the crawl run rows (`pipelines.storage.run_counts`).

Built like Scrapy's LogStats: an extension per crawler, reading `crawler.stats`. The
extensions of one crawl share a `CrawlProgress` found in a module-level registry under
the WENHUA_PROGRESS_GROUP setting, which `crawler.runner.run_crawl` sets to a fresh token.
A setting carries the key rather than the object because Scrapy deep-copies settings
for every crawler, and a key needs no attribute patched onto Crawler objects. Without a
group (e.g. `scrapy crawl portal`) every crawler is its own group. The entry is dropped
when the group's last crawler closes, so repeated in-process crawls do not share one.
"""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.utils.asyncio import AsyncioLoopingCall
    from twisted.internet.task import LoopingCall

LIVE_KEYS = ("articles_new", "articles_changed", "articles_unchanged")


def run_counts(stats: dict[str, Any]) -> dict[str, int]:
    """The run's headline figures, from Scrapy's and the pipelines' stats."""
    return {
        "pages": int(stats.get("wenhua/pages", 0)),
        "articles_new": int(stats.get("wenhua/articles_new", 0)),
        "articles_changed": int(stats.get("wenhua/articles_changed", 0)),
        "articles_unchanged": int(stats.get("wenhua/articles_unchanged", 0)),
        "articles_gone": int(stats.get("wenhua/articles_gone", 0)),
        "images": int(stats.get("file_count", 0)),
        "images_failed": int(stats.get("wenhua/images_failed", 0)),
        "failures": int(stats.get("wenhua/failures", 0)),
    }


def progress_group(sites: int) -> dict[str, Any]:
    """Settings that make the crawlers of one process report as one crawl of `sites` sites."""
    return {"WENHUA_PROGRESS_GROUP": uuid.uuid4().hex, "WENHUA_PROGRESS_SITES": sites}


def _counts(crawler: Crawler) -> dict[str, int]:

    stats = crawler.stats
    return run_counts(stats.get_stats() if stats is not None else {})


def _site_name(crawler: Crawler) -> str:
    spider = crawler.spider
    site = getattr(spider, "site_def", None)
    return str(site.name) if site is not None else (spider.name if spider else "?")


@dataclass
class SiteResult:
    site: str
    counts: dict[str, int]
    reason: str


class CrawlProgress:
    """The figures of every crawler in one crawl, printed as one line."""

    def __init__(self, key: str, interval: float, sites: int, out: TextIO | None = None) -> None:
        self.key = key
        self.interval = interval
        self.expected = sites
        self.out = out or sys.stderr
        self.tty = self.out.isatty()
        self.crawlers: list[Crawler] = []
        self.results: dict[int, SiteResult] = {}  # id(crawler) -> figures when it closed
        self.loop: AsyncioLoopingCall | LoopingCall | None = None
        self.started = time.monotonic()
        self.last = (self.started, 0)  # (time, pages) at the previous line, for the rate
        self.rate = 0.0
        self.width = 0  # of the last '\r' line, to blank what a shorter one leaves

    def add(self, crawler: Crawler) -> None:
        self.crawlers.append(crawler)

    def totals(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for crawler in self.crawlers:
            result = self.results.get(id(crawler))
            counts = result.counts if result else _counts(crawler)
            for key, value in counts.items():
                total[key] = total.get(key, 0) + value
        return total

    def sites(self) -> int:
        return max(self.expected, len(self.crawlers))

    def line(self) -> str:
        total = self.totals()
        now = time.monotonic()
        pages = total.get("pages", 0)
        then, pages_then = self.last
        # A line printed because a site finished may come moments after a tick: keep the
        # tick's rate rather than divide by a sliver of a second.
        if now - then >= self.interval / 2:
            self.rate = (pages - pages_then) / (now - then)
            self.last = (now, pages)
        rate = self.rate
        articles = " ".join(f"{key[9:]} {total.get(key, 0)}" for key in LIVE_KEYS)
        return (
            f"crawl: {len(self.results)} of {self.sites()} sites done, "
            f"{pages} pages ({rate:.1f}/s), articles {articles}, "
            f"failures {total.get('failures', 0)}, {now - self.started:.0f}s"
        )

    def show(self) -> None:
        text = self.line()
        if self.tty:
            self.out.write("\r" + text.ljust(self.width))
            self.width = len(text)
        else:
            self.out.write(text + "\n")
        self.out.flush()

    def opened(self) -> None:
        if self.loop is None:
            self.started = time.monotonic()
            self.last = (self.started, 0)
            self.loop = create_looping_call(self.show)
            self.loop.start(self.interval, now=False)

    def closed(self, crawler: Crawler, reason: str) -> None:
        self.results[id(crawler)] = SiteResult(_site_name(crawler), _counts(crawler), reason)
        if len(self.results) < len(self.crawlers):
            self.show()  # a site is done: say so now, not at the next tick
            return
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.tty and self.width:
            self.out.write("\n")
        self.out.write(self.summary() + "\n")
        self.out.flush()
        _GROUPS.pop(self.key, None)

    def summary(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        results = sorted(self.results.values(), key=lambda r: r.site)
        width = max([len(r.site) for r in results] + [len("total")])
        sites = f"{len(results)} site{'s' if len(results) != 1 else ''}"
        lines = [f"crawl finished: {sites} in {elapsed:.1f}s"]
        for result in results:
            lines.append(f"  {result.site:{width}}  {_figures(result.counts)}, {result.reason}")
        total = self.totals()
        lines.append(
            f"  {'total':{width}}  {_figures(total)} "
            f"({total.get('pages', 0) / elapsed:.1f} pages/s)"
        )
        return "\n".join(lines)


def _figures(counts: dict[str, int]) -> str:
    return (
        f"pages {counts.get('pages', 0)}, articles new {counts.get('articles_new', 0)} "
        f"changed {counts.get('articles_changed', 0)} "
        f"unchanged {counts.get('articles_unchanged', 0)} gone {counts.get('articles_gone', 0)}, "
        f"images downloaded {counts.get('images', 0)}, failures {counts.get('failures', 0)}"
    )


_GROUPS: dict[str, CrawlProgress] = {}


class Progress:
    """The per-crawler extension: hands its crawler's signals to the shared CrawlProgress."""

    def __init__(self, crawler: Crawler, group: CrawlProgress) -> None:
        self.crawler = crawler
        self.group = group
        group.add(crawler)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        settings = crawler.settings
        if not settings.getbool("WENHUA_PROGRESS"):
            raise NotConfigured
        key = settings.get("WENHUA_PROGRESS_GROUP") or f"crawler-{id(crawler)}"
        group = _GROUPS.get(key)
        if group is None:
            group = _GROUPS[key] = CrawlProgress(
                key,
                settings.getfloat("WENHUA_PROGRESS_INTERVAL", 1.0),
                settings.getint("WENHUA_PROGRESS_SITES", 1),
            )
        return cls(crawler, group)

    def spider_opened(self) -> None:
        self.group.opened()

    def spider_closed(self, reason: str) -> None:
        self.group.closed(self.crawler, reason)
