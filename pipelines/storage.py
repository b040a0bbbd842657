"""Item pipeline: the archive database and the raw-capture store.

One crawl run row per spider, opened when the spider opens and closed with Scrapy's
final stats, so every run states what it did. Items are stored by the archive writer
process (pipelines.writer, #10), several per transaction; an item counts as
stored (its `process_item` returns) only once its transaction has committed.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from archive.config import resolve
from archive.db import Archive
from archive.store import ensure_site, finish_run, start_run
from crawler.items import ArticleItem, FailureItem, NotModifiedItem
from crawler.progress import run_counts
from pipelines.warc import WarcLocation
from pipelines.writer import (
    ArchiveWriter,
    ArticleJob,
    DoneJob,
    FailureJob,
    Job,
    NotModifiedJob,
)

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


class ArchiveStoragePipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.config = resolve(settings.get("WENHUA_DATA_DIR"), settings.get("WENHUA_DB_URL"))
        self.archive: Archive | None = None
        self.writer: ArchiveWriter | None = None
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
        self.writer = ArchiveWriter(self.config.db_url, self.config.raw_dir)
        self.writer.start()

    async def process_item(self, item: Any) -> Any:
        from scrapy.utils.defer import maybe_deferred_to_future

        assert self.writer is not None
        job = self._job(item)
        if job is None:
            return item
        outcome = await maybe_deferred_to_future(self.writer.submit(job))
        for key, count in outcome.stats:
            self.crawler.stats.inc_value(key, count)
        if isinstance(job, ArticleJob):
            self._after_article(job, outcome.unlinked_version_id)
        return item

    def _job(self, item: Any) -> Job | None:
        """What the writer is to store for this item."""
        site = self.crawler.spider.site_def.name
        if isinstance(item, NotModifiedItem):
            return NotModifiedJob(site, item.url, item.fetched_at)
        if isinstance(item, ArticleItem) and self._before_since(item.record):
            self._take_warc_place(item.capture.final_url)
            return DoneJob(site, item.capture.url, "wenhua/articles_before_since")
        if isinstance(item, ArticleItem):
            assert self.site_id is not None
            return ArticleJob(
                site=site,
                site_id=self.site_id,
                run_id=self.run_id,
                record=item.record,
                capture=asdict(item.capture),
                image_results=item.image_results,
                problems=item.problems,
                warc=self._take_warc_place(item.capture.final_url),
                link_warc=self._warc() is not None,
            )
        if isinstance(item, FailureItem):
            if item.capture is not None:
                self._take_warc_place(item.capture.final_url)
            return FailureJob(
                site=site,
                run_id=self.run_id,
                url=item.url,
                kind=item.kind,
                reason=item.reason,
                http_status=item.http_status,
                retries=item.retries,
                capture=asdict(item.capture) if item.capture is not None else None,
            )
        return None

    def _before_since(self, record: dict[str, Any]) -> bool:
        published = record.get("published_at")
        return bool(self.since and published and published[:10] < self.since)

    def _warc(self) -> Any:
        from pipelines.warc import WarcExtension

        return WarcExtension.of(self.crawler)

    def _take_warc_place(self, key: str) -> WarcLocation | None:
        """Where the response's WARC record went, if written yet; taken from the WARC
        writer's map either way, so the map holds only responses not yet stored."""
        warc = self._warc()
        return warc.take_location(key) if warc is not None else None

    def _after_article(self, job: ArticleJob, unlinked_version_id: int | None) -> None:
        """After commit: the version's metadata record (#5), and a version whose response
        record was not yet written is linked to it when the crawl closes."""
        warc = self._warc()
        if warc is None or not job.link_warc:
            return
        key = job.capture["final_url"]
        if unlinked_version_id is not None:
            warc.pending.append((unlinked_version_id, key))
        record_id = job.warc.record_id if job.warc is not None else None
        warc.add_metadata(job.record["url"], key, job.record, record_id)

    async def close_spider(self) -> None:
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet import threads

        if self.archive is None:
            return
        if self.writer is not None:
            await maybe_deferred_to_future(threads.deferToThread(self.writer.finish))
            self.crawler.stats.set_value("wenhua/db_batches", self.writer.transactions)
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
