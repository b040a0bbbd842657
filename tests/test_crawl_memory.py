"""The crawl's collector and allocator settings (crawler.memory) do not outlive the crawl:
a program that runs crawls in its own process (a script, a notebook, a test suite) gets its
collector back as it was, with nothing left frozen."""

from __future__ import annotations

import gc

import pytest

from crawler.memory import CRAWL_GC_THRESHOLD, crawl_memory, trim_malloc


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
