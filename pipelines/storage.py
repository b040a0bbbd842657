"""Item pipeline: the archive database and the raw-capture store.

Everything a crawl writes to the archive goes through the archive writer process
(pipelines.writer), in the order it is sent: the crawl run row (opened when the spider
opens, closed with Scrapy's final stats, so every run states what it did), the spider's
items and frontier entries, the requests the Redis frontier gives up
(crawler.signals.request_given_up) and the closed WARC files. Items are stored several per
transaction; an item counts as stored (its `process_item` returns) only once its
transaction has committed.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads
from twisted.internet.defer import Deferred, DeferredList
from twisted.python.failure import Failure

from archive.config import resolve
from archive.db import Archive
from archive.locks import this_process
from archive.runs import PROCESS_SETTING
from crawler.accounting import Accounting, Ledger
from crawler.items import (
    ArticleItem,
    FailureItem,
    NotModifiedItem,
    PageProblems,
    ScheduledItem,
    SkippedItem,
)
from crawler.progress import run_counts
from crawler.signals import component_of, page_problems, request_given_up, store_outcome
from pipelines.warc import WarcExtension, WarcLocation
from pipelines.writer import (
    ArchiveWriter,
    ArticleJob,
    DoneJob,
    FailureJob,
    FinishRunJob,
    GivenUpJob,
    Job,
    NotModifiedJob,
    Outcome,
    PageProblemsJob,
    ScheduleJob,
    SkipJob,
    StartRunJob,
    WarcFilesJob,
)

logger = logging.getLogger(__name__)

RUN_SETTINGS = (
    "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "DOWNLOAD_DELAY",
    "AUTOTHROTTLE_ENABLED",
    "ROBOTSTXT_OBEY",
    "USER_AGENT",
    "DOWNLOAD_TIMEOUT",
    "RETRY_TIMES",
    # With a Redis frontier the per-domain limits are global across workers.
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
        self.writer: ArchiveWriter | None = None
        self.run_id: int | None = None
        self.site_id: int | None = None
        # `--since DATE`: articles published before it are not archived.
        self.since: str | None = settings.get("WENHUA_SINCE") or None
        crawler.signals.connect(self.given_up, signal=request_given_up)
        crawler.signals.connect(self.store_outcome, signal=store_outcome)
        crawler.signals.connect(self.page_problems, signal=page_problems)
        # Jobs sent from signal handlers, awaited before the run's balance is taken.
        self._pending: set[Deferred[Any]] = set()
        accounting = Accounting.of(crawler)
        self.ledger: Ledger = accounting.ledger if accounting is not None else Ledger()

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchiveStoragePipeline:
        return cls(crawler)

    @classmethod
    def of(cls, crawler: Any) -> ArchiveStoragePipeline | None:
        """The crawler's storage pipeline, for the normalize pipeline (which has its
        writer normalize articles); None when it is not among the item pipelines."""
        scraper = getattr(getattr(crawler, "engine", None), "scraper", None)
        return component_of(getattr(scraper, "itemproc", None), cls)

    async def open_spider(self) -> None:
        spider = self.crawler.spider
        # Migrates a new archive before the writer process opens it (migrate=False there).
        Archive(self.config.db_url).close()
        self.writer = ArchiveWriter(self.config.db_url, self.config.raw_dir)
        self.writer.start()
        settings = {key: self.crawler.settings.get(key) for key in RUN_SETTINGS}
        # Who crawls it: a later crawl tells a run left `running` by a killed process.
        settings[PROCESS_SETTING] = this_process()
        # Before any item: the spider's start() runs once every pipeline has opened.
        opened = await maybe_deferred_to_future(
            self.writer.submit(StartRunJob(spider.site_def, settings))
        )
        self.site_id, self.run_id = opened.site_id, opened.run_id
        self.crawler.stats.set_value("wenhua/run_id", self.run_id)

    async def process_item(self, item: Any) -> Any:
        assert self.writer is not None
        job = self._job(item)
        if job is None:
            return item
        try:
            outcome = await maybe_deferred_to_future(self.writer.submit(job))
        except Exception as exc:
            # Not stored: the ledger keeps the URL unsettled and the run cannot finish.
            logger.error("cannot store %s: %s", _url_of(job), exc)
            self.ledger.not_stored_error(_url_of(job), str(exc))
            self.crawler.stats.inc_value("wenhua/not_stored")
            return item
        self._stored(job, outcome)
        if isinstance(job, ArticleJob):
            self._after_article(job, outcome.unlinked_version_id)
        return item

    def _stored(self, job: Job, outcome: Outcome) -> None:
        for key, count in outcome.stats:
            self.crawler.stats.inc_value(key, count)
        if isinstance(job, ScheduleJob):
            for entry in job.entries:
                self.ledger.schedule(entry.url)
        if outcome.settled is not None:
            self.ledger.settle(*outcome.settled)

    def _submit_later(self, job: Job) -> None:
        """A job from a signal handler: stored in order with the items, awaited at close."""
        assert self.writer is not None
        stored = self.writer.submit(job)
        self._pending.add(stored)

        def done(outcome: Outcome) -> None:
            self._pending.discard(stored)
            self._stored(job, outcome)

        def lost(failure: Failure) -> None:
            self._pending.discard(stored)
            logger.error("cannot store %s: %s", _url_of(job), failure.value)
            self.ledger.not_stored_error(_url_of(job), str(failure.value))

        stored.addCallbacks(done, lost)

    def store_outcome(self, item: FailureItem | SkippedItem) -> None:
        """An outcome crawler.accounting found outside the callbacks (a dropped request,
        a callback or pipeline that raised)."""
        if self.writer is None:
            return
        job = self._job(item)
        if job is not None:
            self._submit_later(job)

    def page_problems(self, item: PageProblems) -> None:
        if self.writer is not None:
            self._submit_later(PageProblemsJob(self.run_id, item.url, item.problems))

    def _job(self, item: Any) -> Job | None:
        """What the writer is to store for this item."""
        site = self.crawler.spider.site_def.name
        if isinstance(item, ScheduledItem):
            return ScheduleJob(item.site, item.entries, item.done)
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
        if isinstance(item, SkippedItem):
            return SkipJob(site, self.run_id, item.url, item.reason, item.detail)
        if isinstance(item, PageProblems):
            return PageProblemsJob(self.run_id, item.url, item.problems)
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

    def _warc(self) -> WarcExtension | None:
        return WarcExtension.of(self.crawler)

    def _take_warc_place(self, key: str) -> WarcLocation | None:
        """Where the response's WARC record went, if written yet; taken from the WARC
        writer's map either way, so the map holds only responses not yet stored."""
        warc = self._warc()
        return warc.take_location(key) if warc is not None else None

    def _after_article(self, job: ArticleJob, unlinked_version_id: int | None) -> None:
        """After commit: the version's metadata record, and a version whose response
        record was not yet written is linked to it when the crawl closes."""
        warc = self._warc()
        if warc is None or not job.link_warc:
            return
        key = job.capture["final_url"]
        if unlinked_version_id is not None:
            warc.pending.append((unlinked_version_id, key))
        record_id = job.warc.record_id if job.warc is not None else None
        warc.add_metadata(job.record["url"], key, job.record, record_id)

    def given_up(self, url: str, reason: str, retries: int) -> None:
        """A request the Redis frontier gave up: recorded as a failure of this run."""
        if self.writer is None:
            return
        self._submit_later(GivenUpJob(self.run_id, url, reason, retries))

    async def close_spider(self) -> None:
        if self.writer is None:
            return
        if self._pending:
            await maybe_deferred_to_future(DeferredList(list(self._pending)))
        warc = self._warc()
        if warc is not None:
            # Closed first, so the writer records the files and the late version links.
            closed = await maybe_deferred_to_future(threads.deferToThread(warc.close))
            await self._bookkeeping(
                WarcFilesJob(self.run_id, closed.files, closed.links), "the WARC file rows"
            )
        self.crawler.stats.set_value("wenhua/db_batches", self.writer.transactions)
        stats = {
            k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in self.crawler.stats.get_stats().items()
        }
        stats["counts"] = run_counts(stats)
        balance = self.ledger.balance()
        stats["accounting"] = balance
        # Scrapy records finish_reason only after the pipelines close; a graceful stop
        # (Ctrl-C, SIGTERM) has cleared `crawling` before the spider starts closing.
        stopped = getattr(self.crawler, "crawling", True) is False
        reason = "shutdown" if stopped else str(stats.get("finish_reason") or "finished")
        status = run_status(reason, balance)
        if status != "finished":
            logger.error("run %s %s: %s", self.run_id, status, "; ".join(balance["problems"]))
        if self.run_id is not None:
            await self._bookkeeping(FinishRunJob(self.run_id, stats, status), "the run's end")
        await maybe_deferred_to_future(threads.deferToThread(self.writer.finish))

    async def _bookkeeping(self, job: Job, what: str) -> Outcome | None:
        """A job of the run itself: a writer that died cannot store it, and the crawl
        still closes (the error is logged)."""
        assert self.writer is not None
        try:
            return await maybe_deferred_to_future(self.writer.submit(job))
        except Exception as exc:
            logger.error("cannot store %s: %s", what, exc)
            return None


def run_status(finish_reason: str, balance: dict[str, Any]) -> str:
    """`finished` only for a run that ran to its end and accounted for every request;
    Ctrl-C (Scrapy's `shutdown`) is `interrupted`; a run that did not balance, could not
    store an outcome or met an error in our code or the definition is `failed`."""
    if finish_reason == "shutdown":
        return "interrupted"
    if finish_reason != "finished":
        return finish_reason
    return "finished" if balance["balanced"] else "failed"


def _url_of(job: Job) -> str:
    for name in ("url", "done"):
        value = getattr(job, name, None)
        if isinstance(value, str):
            return value
    capture = getattr(job, "capture", None)
    return str(capture["url"]) if isinstance(capture, dict) else type(job).__name__
