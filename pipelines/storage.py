"""Item pipeline: the archive database and the raw-capture store.

One crawl run row per spider, opened when the spider opens and closed with Scrapy's
final stats, so every run states what it did. Each item is written in its own
transaction: a crash loses at most the item in flight.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select

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
)


# A known article whose page answers these is withdrawn: marked gone, never deleted.
GONE_STATUSES = (404, 410)


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


class ArchiveStoragePipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.config = resolve(settings.get("WENHUA_DATA_DIR"), settings.get("WENHUA_DB_URL"))
        self.archive: Archive | None = None
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

    def process_item(self, item: Any) -> Any:
        assert self.archive is not None and self.site_id is not None
        stats = self.crawler.stats
        site = self.crawler.spider.site_def.name
        if isinstance(item, NotModifiedItem):
            with self.archive.session() as session:
                mark_seen(session, item.url, datetime.fromisoformat(item.fetched_at))
                mark_done(session, site, item.url)
            stats.inc_value("wenhua/articles_unchanged")
            stats.inc_value("wenhua/not_modified")
            return item
        if isinstance(item, ArticleItem) and self._before_since(item.record):
            with self.archive.session() as session:
                mark_done(session, site, item.capture.url)
            stats.inc_value("wenhua/articles_before_since")
            return item
        if isinstance(item, ArticleItem):
            self.raw.put(item.capture.raw_sha256, item.capture.body)
            capture = {k: v for k, v in asdict(item.capture).items() if k != "body"}
            with self.archive.session() as session:
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
            if outcome != "unchanged":
                self._link_warc(item)
            stats.inc_value(f"wenhua/articles_{outcome}")
            stats.inc_value(
                "wenhua/images_failed", sum(1 for r in item.image_results if "error" in r)
            )
        elif isinstance(item, FailureItem):
            raw_sha = None
            if item.capture is not None:
                raw_sha = item.capture.raw_sha256
                self.raw.put(raw_sha, item.capture.body)
            gone = False
            with self.archive.session() as session:
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
            if gone:
                stats.inc_value("wenhua/articles_gone")
            stats.inc_value("wenhua/failures")
            stats.inc_value(f"wenhua/failures/{item.kind}")
        return item

    def _before_since(self, record: dict[str, Any]) -> bool:
        published = record.get("published_at")
        return bool(self.since and published and published[:10] < self.since)

    def _link_warc(self, item: ArticleItem) -> None:
        """Point the new version at its WARC response record, add its metadata record (#5)."""
        from pipelines.warc import WarcExtension, set_location

        warc = WarcExtension.of(self.crawler)
        if warc is None or self.archive is None:
            return
        key = item.capture.final_url
        with self.archive.session() as session:
            version = session.scalars(
                select(ArticleVersion)
                .join(Article, Article.current_version_id == ArticleVersion.id)
                .where(Article.url == item.record["url"])
            ).one()
            location = warc.location(key)
            if location is not None:
                set_location(version, location)
            else:
                warc.pending.append((version.id, key))
        warc.add_metadata(item.record["url"], key, item.record)

    def close_spider(self) -> None:
        if self.archive is None:
            return
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
