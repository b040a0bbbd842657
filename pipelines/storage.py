"""Item pipeline: the archive database and the raw-capture store.

One crawl run row per spider, opened when the spider opens and closed with Scrapy's
final stats, so every run states what it did.

Database work runs on one writer thread, off the reactor (#10): the reactor keeps
downloading and parsing while the writer commits. Whatever items have queued up while
a transaction ran go into the next one together, so a busy crawl commits in batches
and a quiet one item at a time. An item counts as stored (its `process_item` returns)
only once its transaction has committed, and each item's frontier entry is marked done
in that same transaction: a crash loses at most the uncommitted batch, whose requests
are still pending in the frontier and are fetched again on resume.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from archive.config import resolve
from archive.db import Archive
from archive.incremental import mark_done, mark_seen
from archive.models import Article, ArticleVersion, utcnow
from archive.rawstore import RawStore
from archive.store import (
    ensure_site,
    finish_run,
    mark_gone,
    start_run,
    store_article,
    store_failure,
)
from crawler.items import ArticleItem, FailureItem, NotModifiedItem

RUN_SETTINGS = (
    "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "DOWNLOAD_DELAY",
    "AUTOTHROTTLE_ENABLED",
    "ROBOTSTXT_OBEY",
    "USER_AGENT",
    "DOWNLOAD_TIMEOUT",
    "RETRY_TIMES",
    # With a Redis frontier (#8) the per-domain limits are global across workers.
    "WENHUA_FRONTIER_URL",
    "WENHUA_GLOBAL_POLITENESS",
    "WENHUA_GLOBAL_CONCURRENCY",
    "WENHUA_GLOBAL_DELAY",
)

# A known article whose page answers these is withdrawn: marked gone, never deleted.
GONE_STATUSES = (404, 410)

# At most this many items share one transaction.
WRITE_BATCH = 64


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


@dataclass
class WarcLink:
    unlinked_version_id: int | None  # None: already pointed at its response record
    url: str
    key: str  # the capture's final URL, as the WARC writer knows it
    record: dict[str, Any]
    record_id: str | None  # the response record's WARC-Record-ID, when already written


@dataclass
class Outcome:
    """What one item's transaction did: the stats to count and the WARC work to do once
    it has committed (never before: a rolled-back batch is written again item by item)."""

    stats: list[tuple[str, int]] = field(default_factory=list)
    warc_link: WarcLink | None = None


Work = Callable[[Session], Outcome]


class _Job:
    def __init__(self, work: Work) -> None:
        self.work = work
        self.done: Deferred[Outcome] = Deferred()


class ArchiveWriter(threading.Thread):
    """The one thread that writes a crawl's items to the archive database."""

    def __init__(
        self,
        archive: Archive,
        batch: int = WRITE_BATCH,
        deliver: Callable[..., object] | None = None,
    ) -> None:
        super().__init__(name="archive-writer", daemon=True)
        self.archive = archive
        self.batch = batch
        # How results reach the caller: on the reactor thread (the default), which
        # owns the Deferreds.
        self.deliver = deliver or _call_from_thread
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.transactions = 0

    def submit(self, work: Work) -> Deferred[Outcome]:
        job = _Job(work)
        self.jobs.put(job)
        return job.done

    def finish(self) -> None:
        self.jobs.put(None)

    def run(self) -> None:
        stopping = False
        while not stopping:
            first = self.jobs.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self.batch:
                try:
                    more = self.jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            self._commit(batch)

    def _commit(self, batch: list[_Job]) -> None:
        try:
            with self.archive.session() as session:
                outcomes = [job.work(session) for job in batch]
            self.transactions += 1
        except Exception:
            if len(batch) > 1:
                # One bad item must not take the others with it: write them one by one.
                for job in batch:
                    self._commit([job])
                return
            self.deliver(batch[0].done.errback, Failure())  # type: ignore[no-untyped-call]
            return
        for job, outcome in zip(batch, outcomes, strict=True):
            self.deliver(job.done.callback, outcome)


def _call_from_thread(function: Callable[..., object], *args: object) -> None:
    from twisted.internet import reactor

    reactor.callFromThread(function, *args)


class ArchiveStoragePipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.config = resolve(settings.get("WENHUA_DATA_DIR"), settings.get("WENHUA_DB_URL"))
        self.archive: Archive | None = None
        self.writer: ArchiveWriter | None = None
        self.raw = RawStore(self.config.raw_dir)
        self.run_id: int | None = None
        self.site_id: int | None = None
        # `--since DATE`: articles published before it are not archived (#7).
        self.since: str | None = settings.get("WENHUA_SINCE") or None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchiveStoragePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.archive = Archive(self.config.db_url)
        settings = {key: self.crawler.settings.get(key) for key in RUN_SETTINGS}
        with self.archive.session() as session:
            self.site_id = ensure_site(session, spider.site_def).id
            self.run_id = start_run(session, [spider.site_def.name], settings).id
        self.crawler.stats.set_value("wenhua/run_id", self.run_id)
        self.writer = ArchiveWriter(self.archive)
        self.writer.start()

    async def process_item(self, item: Any) -> Any:
        from scrapy.utils.defer import maybe_deferred_to_future

        assert self.writer is not None
        work = self._work(item)
        if work is None:
            return item
        outcome = await maybe_deferred_to_future(self.writer.submit(work))
        for key, count in outcome.stats:
            self.crawler.stats.inc_value(key, count)
        if outcome.warc_link is not None:
            self._link_warc_records(outcome.warc_link)
        return item

    def _work(self, item: Any) -> Work | None:
        """The database work for one item, to run on the writer thread."""
        site = self.crawler.spider.site_def.name
        if isinstance(item, NotModifiedItem):
            return lambda session: self._not_modified(session, site, item)
        if isinstance(item, ArticleItem) and self._before_since(item.record):
            return lambda session: self._before_since_done(session, site, item)
        if isinstance(item, ArticleItem):
            return lambda session: self._article(session, site, item)
        if isinstance(item, FailureItem):
            return lambda session: self._failure(session, site, item)
        return None

    def _not_modified(self, session: Session, site: str, item: NotModifiedItem) -> Outcome:
        mark_seen(session, item.url, datetime.fromisoformat(item.fetched_at))
        mark_done(session, site, item.url)
        return Outcome(stats=[("wenhua/articles_unchanged", 1), ("wenhua/not_modified", 1)])

    def _before_since_done(self, session: Session, site: str, item: ArticleItem) -> Outcome:
        mark_done(session, site, item.capture.url)
        return Outcome(stats=[("wenhua/articles_before_since", 1)])

    def _article(self, session: Session, site: str, item: ArticleItem) -> Outcome:
        assert self.site_id is not None
        self.raw.put(item.capture.raw_sha256, item.capture.body)
        capture = {k: v for k, v in asdict(item.capture).items() if k != "body"}
        outcome = store_article(
            session,
            site_id=self.site_id,
            record=item.record,
            capture=capture,
            image_results=item.image_results,
            problems=item.problems,
            run_id=self.run_id,
        )
        mark_done(session, site, item.capture.url)
        failed_images = sum(1 for r in item.image_results if "error" in r)
        result = Outcome(
            stats=[(f"wenhua/articles_{outcome}", 1), ("wenhua/images_failed", failed_images)]
        )
        if outcome != "unchanged":
            result.warc_link = self._warc_link(session, item)
        else:
            self._forget_warc_location(item.capture.final_url)
        return result

    def _failure(self, session: Session, site: str, item: FailureItem) -> Outcome:
        raw_sha = None
        if item.capture is not None:
            raw_sha = item.capture.raw_sha256
            self.raw.put(raw_sha, item.capture.body)
            self._forget_warc_location(item.capture.final_url)
        gone = False
        if item.kind == "fetch" and item.http_status in GONE_STATUSES:
            when = (
                datetime.fromisoformat(item.capture.fetched_at)
                if item.capture is not None
                else utcnow()
            )
            gone = mark_gone(session, item.url, when, self.run_id)
        store_failure(
            session,
            run_id=self.run_id,
            url=item.url,
            kind=item.kind,
            reason=item.reason,
            http_status=item.http_status,
            raw_sha256=raw_sha,
            retries=item.retries,
        )
        mark_done(session, site, item.url)
        stats = [("wenhua/failures", 1), (f"wenhua/failures/{item.kind}", 1)]
        if gone:
            stats.append(("wenhua/articles_gone", 1))
        return Outcome(stats=stats)

    def _before_since(self, record: dict[str, Any]) -> bool:
        published = record.get("published_at")
        return bool(self.since and published and published[:10] < self.since)

    def _warc_link(self, session: Session, item: ArticleItem) -> WarcLink | None:
        """Point the new version at its WARC response record (#5) when the WARC writer has
        already written it; otherwise that is left for after commit."""
        from pipelines.warc import WarcExtension, set_location

        warc = WarcExtension.of(self.crawler)
        if warc is None:
            return None
        key = item.capture.final_url
        version = session.scalars(
            select(ArticleVersion)
            .join(Article, Article.current_version_id == ArticleVersion.id)
            .where(Article.url == item.record["url"])
        ).one()
        location = warc.take_location(key)
        if location is not None:
            set_location(version, location)
        return WarcLink(
            None if location is not None else version.id,
            item.record["url"],
            key,
            item.record,
            location.record_id if location is not None else None,
        )

    def _forget_warc_location(self, key: str) -> None:
        """No version points at this response's record: don't keep its location."""
        from pipelines.warc import WarcExtension

        warc = WarcExtension.of(self.crawler)
        if warc is not None:
            warc.take_location(key)

    def _link_warc_records(self, link: WarcLink) -> None:
        """After commit, on the reactor thread: the version's metadata record, and the
        version left to point at its response record when the WARC writer has written it."""
        from pipelines.warc import WarcExtension

        warc = WarcExtension.of(self.crawler)
        if warc is None:
            return
        if link.unlinked_version_id is not None:
            warc.pending.append((link.unlinked_version_id, link.key))
        warc.add_metadata(link.url, link.key, link.record, link.record_id)

    async def close_spider(self) -> None:
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet import threads

        if self.archive is None:
            return
        if self.writer is not None:
            self.writer.finish()
            await maybe_deferred_to_future(threads.deferToThread(self.writer.join))
            self.crawler.stats.set_value("wenhua/db_transactions", self.writer.transactions)
        stats = {
            k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in self.crawler.stats.get_stats().items()
        }
        stats["counts"] = run_counts(stats)
        reason = stats.get("finish_reason") or "finished"
        with self.archive.session() as session:
            if self.run_id is not None:
                finish_run(
                    session, self.run_id, stats, "finished" if reason == "finished" else str(reason)
                )
        self.archive.close()
