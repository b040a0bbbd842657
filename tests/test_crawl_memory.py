"""The crawl's collector and allocator settings (crawler.memory) do not outlive the crawl:
a program that runs crawls in its own process (a script, a notebook, a test suite) gets its
collector back as it was, with nothing left frozen."""

from __future__ import annotations

import gc
import weakref

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.memory import (
    CRAWL_GC_THRESHOLD,
    MemoryTrim,
    collect_and_trim,
    crawl_memory,
    trim_malloc,
)


def test_the_collector_is_restored_after_a_crawl() -> None:
    before = gc.get_threshold()
    with crawl_memory():
        assert gc.get_threshold() == CRAWL_GC_THRESHOLD
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_the_collector_is_restored_when_a_crawl_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), crawl_memory():
        raise RuntimeError("the crawl broke")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_glibc_gives_free_pages_back() -> None:
    # This machine kind runs glibc; elsewhere trim_malloc says it did nothing.
    assert trim_malloc() is True


def test_garbage_in_the_oldest_generation_is_collected_while_a_crawl_runs() -> None:
    # A closed connection's cycle, long-lived enough to sit in the oldest generation, which
    # CPython's own thresholds would leave alone for most of a long crawl.
    class Connection:
        pass

    with crawl_memory():
        connection = Connection()
        connection.cycle = connection  # type: ignore[attr-defined]
        gone = weakref.ref(connection)
        gc.collect()  # survives: now in the oldest generation
        del connection
        assert gone() is not None
        collect_and_trim()
        assert gone() is None


def test_collecting_and_trimming_runs_on_the_crawl_interval() -> None:
    crawler = get_crawler(settings_dict={"WENHUA_COLLECT_INTERVAL": 2.5})
    extension = MemoryTrim.from_crawler(crawler)
    assert extension.interval == 2.5
    off = get_crawler(settings_dict={"WENHUA_COLLECT_INTERVAL": 0})
    with pytest.raises(NotConfigured):
        MemoryTrim.from_crawler(off)
