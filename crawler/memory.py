"""A long crawl's resident memory kept flat: the C allocator and the garbage collector.

CPython gives freed memory back to glibc's malloc, which keeps it: when the pages in flight
peak for a moment (the archive writer busy, the machine loaded), the crawl keeps that peak as
resident memory for the rest of the run, and each of its threads (WARC writer, writer pipes,
Twisted's pool) gets a malloc arena of its own to fragment. So, while a crawl runs, the
arenas are capped and glibc is asked every two seconds to hand free pages back to the kernel
(`malloc_trim`). Elsewhere (musl, macOS) there is no such call and nothing is done.

Before each trim the whole heap is collected. An HTTP connection lives for many requests, so
its objects reach the collector's oldest generation; when it closes, the cycles among its
protocol, factory, connector and Deferreds become garbage there, and with them responses
they still reference, their bodies and parsed lxml trees (in a 10,000-article crawl, about
300 closed connections, 100 responses and 7,000 other objects every 30 s). CPython collects
the oldest generation only when a quarter of it is new since the last full collection, which
on a long crawl is almost never: at 100,000 articles the crawl process grew from 220 to over
300 MB in its last 20,000, and fell back at each of the rare full collections. A full
collection every two seconds, over a heap whose start-up part is frozen, takes about 20 ms.

The collector: the crawl allocates young objects for every request, response, Deferred and
item; with Python's default thresholds (700, 10, 10) a 1,000-article crawl ran about 1,200
collections, nine of them over the whole heap of Scrapy's, lxml's and SQLAlchemy's module
objects: 18% of the crawl process's CPU. Freezing what exists when the crawl starts keeps
those out of every collection, and a larger first generation makes collections rarer.
Objects freed by reference counting, nearly all, are not affected.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

CRAWL_GC_THRESHOLD = (20_000, 20, 20)
# glibc's mallopt parameter number for the arena cap (M_ARENA_MAX in malloc.h).
M_ARENA_MAX = -8
CRAWL_MALLOC_ARENAS = 2
# Seconds between collections (and trims); WENHUA_COLLECT_INTERVAL, 0 turns both off. At
# 10 s the late phase of a 100,000-article crawl still gathered 20-45 MB of garbage between
# two collections; a collection takes about 20 ms, so every 2 s costs 1% of the process.
COLLECT_INTERVAL = 2.0


def _libc_call(name: str) -> Callable[..., int] | None:
    path = ctypes.util.find_library("c")
    if path is None:
        return None
    try:
        return getattr(ctypes.CDLL(path), name)  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


_malloc_trim = _libc_call("malloc_trim")
_mallopt = _libc_call("mallopt")


def trim_malloc() -> bool:
    """Hand the allocator's free pages back to the kernel; False where there is no such call."""
    if _malloc_trim is None:
        return False
    _malloc_trim(0)
    return True


def collect_and_trim() -> int:
    """Collect the whole heap, then hand the freed pages back; the objects collected."""
    found = gc.collect()
    trim_malloc()
    return found


@contextmanager
def crawl_memory() -> Iterator[None]:
    """Collector and allocator settings for the length of a crawl; the collector's are
    restored after (the arena cap stays: glibc has no way to read it back)."""
    before = gc.get_threshold()
    if _mallopt is not None:
        _mallopt(M_ARENA_MAX, CRAWL_MALLOC_ARENAS)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*CRAWL_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


class MemoryTrim:
    """Scrapy extension: `collect_and_trim` every WENHUA_COLLECT_INTERVAL seconds of a crawl."""

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.interval = interval
        self.loop: task.LoopingCall | None = None
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MemoryTrim:
        interval = crawler.settings.getfloat("WENHUA_COLLECT_INTERVAL", COLLECT_INTERVAL)
        if interval <= 0:
            raise NotConfigured
        return cls(crawler, interval)

    def opened(self, spider: Any = None) -> None:
        self.loop = task.LoopingCall(collect_and_trim)
        self.loop.start(self.interval, now=False)

    def closed(self, spider: Any = None) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
