"""Live progress on stderr while a crawl runs (pages/s, articles new/changed/unchanged,
failures), built like Scrapy's LogStats: a LoopingCall reading crawler.stats."""

from __future__ import annotations

import sys
import time
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task


class Progress:
    def __init__(self, crawler: Any, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None
        self.tty = sys.stderr.isatty()
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> Progress:
        if not crawler.settings.getbool("WENHUA_PROGRESS"):
            raise NotConfigured
        return cls(crawler, crawler.settings.getfloat("WENHUA_PROGRESS_INTERVAL", 1.0))

    def line(self) -> str:
        stats = self.crawler.stats
        pages = stats.get_value("response_received_count", 0)
        elapsed = max(time.monotonic() - self.started, 1e-6)
        name = self.crawler.spider.site_def.name if self.crawler.spider else "?"
        return (
            f"[{name}] {pages} pages ({pages / elapsed:.1f}/s), articles "
            f"new {stats.get_value('wenhua/articles_new', 0)} "
            f"changed {stats.get_value('wenhua/articles_changed', 0)} "
            f"unchanged {stats.get_value('wenhua/articles_unchanged', 0)}, "
            f"images {stats.get_value('file_count', 0)}, "
            f"failures {stats.get_value('wenhua/failures', 0)}"
        )

    def show(self) -> None:
        end = "\r" if self.tty else "\n"
        sys.stderr.write(self.line() + end)
        sys.stderr.flush()

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.show)
        self.loop.start(self.interval, now=False)

    def spider_closed(self) -> None:
        if self.loop and self.loop.running:
            self.loop.stop()
        sys.stderr.write(self.line() + "\n")
        sys.stderr.flush()
