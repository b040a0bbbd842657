"""The archive writer: a child process that stores a crawl's items, and the only
part of a crawl that writes to the archive.

The crawl process is bound by Python's interpreter lock: downloading, parsing and
normalizing share one core. Storing an article (the ORM, the search keys, the raw
capture's gzip) costs about as much again, so it runs in a process of its own and the
crawl and the database work use both cores. Normalizing an article (body cleaning with
BeautifulSoup, meta-line and date parsing) is pure work on the page's extracted fields, so
it runs here too (`NormalizeJob`), answered at once rather than after a transaction: the
crawl process keeps its core for downloading, parsing and the media pipeline.

Jobs are plain picklable records (an item's record, capture, image results, problems,
and the WARC location of its response when already written; the requests a page adds to
the durable frontier; the crawl run's row; the closed WARC files; the requests the Redis
frontier gave up). The writer commits
whatever jobs have queued up while the last transaction ran in one transaction, so a
busy crawl commits in batches and a quiet one item at a time; a batch that fails is
written again job by job, so one bad item takes nothing else with it. Each job marks its
frontier entry done in its own transaction: a crash loses at most the uncommitted batch,
whose requests are still pending in the frontier and are fetched again on resume. If the
crawl process dies, the writer finishes the batch in hand and exits.
"""

from __future__ import annotations

import itertools
import json
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db import Archive
from archive.incremental import FrontierItem
from archive.models import Article, ArticleVersion, utcnow
from archive.rawstore import RawStore
from archive.runs import COVERAGE_STAT
from archive.store import (
    ensure_site,
    finish_run,
    mark_done,
    mark_gone,
    mark_seen,
    schedule,
    start_run,
    store_article,
    store_failure,
    store_page_problems,
    store_warc_file,
)
from crawler.extract.normalize import normalize
from crawler.extract.record import fields_found
from crawler.extract.rules import RawArticle
from crawler.extract.urls import OriginMap
from crawler.sitedefs import SiteDefinition
from pipelines.warcfiles import WarcLocation, WrittenFile, set_location

if TYPE_CHECKING:
    # Only the crawl process's side (ArchiveWriter) uses Twisted, and imports it where it
    # does: the writer process imports this module too, and Twisted would be 15 MB of it.
    from twisted.internet.defer import Deferred

# At most this many items share one transaction.
WRITE_BATCH = 64
# A known article whose page answers these is withdrawn: marked gone, never deleted.
GONE_STATUSES = (404, 410)


class StorageError(Exception):
    """An item the writer could not store; the message carries the writer's traceback."""


@dataclass
class Outcome:
    """What one job's transaction did: the stats to count, and the new version still to
    point at its WARC record (its response was not written when the job was sent)."""

    stats: list[tuple[str, int]] = field(default_factory=list)
    unlinked_version_id: int | None = None
    # StartRunJob: the new run and the site's row.
    run_id: int | None = None
    site_id: int | None = None
    # Not an item's storage (frontier, run and WARC rows): not counted in db_batches.
    bookkeeping: bool = False
    # The request this job gave its outcome to: (canonical URL, outcome), for the ledger
    # (crawler.accounting): `archived:new`, `list`, `failed:fetch`, `skipped:robots.txt`, …
    settled: tuple[str, str] | None = None
    # NormalizeJob: the article's record and its problems (as dicts).
    normalized: tuple[dict[str, Any], list[dict[str, str]]] | None = None


@dataclass(frozen=True)
class ArticleJob:
    site: str
    site_id: int
    run_id: int | None
    record: dict[str, Any]
    capture: dict[str, Any]  # crawler.items.Capture as a dict, body included
    image_results: list[dict[str, Any]]
    problems: list[dict[str, str]]
    warc: WarcLocation | None  # where its response record went, when already written
    link_warc: bool  # WARC capture is on: a new version wants its record


@dataclass(frozen=True)
class NotModifiedJob:
    site: str
    url: str
    fetched_at: str


@dataclass(frozen=True)
class DoneJob:
    """Nothing to store (e.g. published before --since); the request is finished."""

    site: str
    url: str
    stat: str
    skip: str = "published before --since"  # the outcome's reason, for the ledger


@dataclass(frozen=True)
class FailureJob:
    site: str
    run_id: int | None
    url: str
    kind: str
    reason: str
    http_status: int | None
    retries: int
    capture: dict[str, Any] | None  # with body, when there was a response


@dataclass(frozen=True)
class SkipJob:
    """A scheduled request deliberately not archived: a `skipped` row of `wenhua failures`
    with its reason, and its frontier entry done (it would be skipped again on resume)."""

    site: str
    run_id: int | None
    url: str
    reason: str
    detail: str


@dataclass(frozen=True)
class PageProblemsJob:
    run_id: int | None
    url: str
    problems: list[dict[str, str]]


@dataclass(frozen=True)
class ScheduleJob:
    """Requests for the durable frontier, with the list page they finish (if any): one
    transaction, so a crash leaves the page or its children pending."""

    site: str
    entries: list[FrontierItem]
    done: str | None


@dataclass(frozen=True)
class GivenUpJob:
    """A request the Redis frontier gave up: a failure of the run, with no response."""

    run_id: int | None
    url: str
    reason: str
    retries: int


@dataclass(frozen=True)
class StartRunJob:
    site: SiteDefinition
    settings: dict[str, Any]


@dataclass(frozen=True)
class FinishRunJob:
    run_id: int
    stats: dict[str, Any]
    status: str


@dataclass(frozen=True)
class WarcFilesJob:
    """The crawl's closed WARC files, and the versions whose response record was written
    after they were stored: (version id, where the record went)."""

    run_id: int | None
    files: list[WrittenFile]
    links: list[tuple[int, WarcLocation]]


@dataclass(frozen=True)
class NormalizerJob:
    """What normalizing a site's articles needs besides the page: its definition and its
    origin map (image URLs are rewritten to the canonical origin). Sent once, before the
    site's first NormalizeJob, so an article's job carries only the page's own fields."""

    site: SiteDefinition
    origins: OriginMap


@dataclass(frozen=True)
class NormalizeJob:
    """An article's extracted fields, to become its record (crawl.extract.normalize, the
    function `wenhua extract` uses); stores nothing, answered as soon as it is read."""

    site: str
    raw: RawArticle
    fetched_at: str  # ISO 8601, the capture's
    category: str | None
    district: str | None
    canonical_url: str


# Jobs the writer answers at once, outside any transaction: pure work, no database.
Immediate = NormalizerJob | NormalizeJob


class Normalizing:
    """The writer's side of normalization: the sites' definitions, and each article's job."""

    def __init__(self) -> None:
        self.sites: dict[str, NormalizerJob] = {}

    def answer(self, job_id: int, job: Immediate) -> Result:
        if isinstance(job, NormalizerJob):
            self.sites[job.site.name] = job
            return (job_id, True, Outcome(bookkeeping=True))
        try:
            context = self.sites[job.site]
            result = normalize(
                job.raw,
                site=context.site,
                fetched_at=datetime.fromisoformat(job.fetched_at),
                category=job.category,
                district=job.district,
                canonical_url=job.canonical_url,
                rewrite_url=context.origins.to_canonical,
            )
        except Exception as exc:  # the crawl process raises it, as if it had normalized
            return (job_id, False, _portable(exc))
        normalized = (result.record, result.problem_dicts())
        return (job_id, True, Outcome(bookkeeping=True, normalized=normalized))


def _portable(exc: Exception) -> Exception | str:
    """The exception itself when it survives pickling (so the crawl process sees the same
    error), else the traceback's text."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return "".join(traceback.format_exception(exc))
    return exc


Job = (
    ArticleJob
    | NotModifiedJob
    | DoneJob
    | FailureJob
    | SkipJob
    | PageProblemsJob
    | ScheduleJob
    | GivenUpJob
    | StartRunJob
    | FinishRunJob
    | WarcFilesJob
)


def apply(session: Session, raw: RawStore, job: Job) -> Outcome:
    """The database work of one job, in the caller's transaction."""
    if isinstance(job, ScheduleJob):
        schedule(session, job.site, job.entries)
        if job.done is not None:
            mark_done(session, job.site, job.done)
            return Outcome(bookkeeping=True, settled=(job.done, "list"))
        return Outcome(bookkeeping=True)
    if isinstance(job, NotModifiedJob):
        mark_seen(session, job.url, datetime.fromisoformat(job.fetched_at))
        mark_done(session, job.site, job.url)
        return Outcome(
            stats=[("wenhua/articles_unchanged", 1), ("wenhua/not_modified", 1)],
            settled=(job.url, "archived:not modified"),
        )
    if isinstance(job, DoneJob):
        mark_done(session, job.site, job.url)
        return Outcome(stats=[(job.stat, 1)], settled=(job.url, f"skipped:{job.skip}"))
    if isinstance(job, SkipJob):
        store_failure(
            session,
            run_id=job.run_id,
            url=job.url,
            kind="skipped",
            reason=f"{job.reason}: {job.detail}",
            http_status=None,
            raw_sha256=None,
            retries=0,
        )
        mark_done(session, job.site, job.url)
        return Outcome(
            stats=[("wenhua/skipped", 1), (f"wenhua/skipped/{job.reason}", 1)],
            settled=(job.url, f"skipped:{job.reason}"),
        )
    if isinstance(job, PageProblemsJob):
        store_page_problems(session, run_id=job.run_id, url=job.url, problems=job.problems)
        return Outcome(stats=[("wenhua/problems", len(job.problems))], bookkeeping=True)
    if isinstance(job, ArticleJob):
        return _article(session, raw, job)
    if isinstance(job, FailureJob):
        return _failure(session, raw, job)
    return _bookkeeping(session, job)


def _bookkeeping(
    session: Session, job: GivenUpJob | StartRunJob | FinishRunJob | WarcFilesJob
) -> Outcome:
    if isinstance(job, GivenUpJob):
        store_failure(
            session,
            run_id=job.run_id,
            url=job.url,
            kind="fetch",
            reason=job.reason,
            http_status=None,
            raw_sha256=None,
            retries=job.retries,
        )
        return Outcome(bookkeeping=True, settled=(job.url, "failed:given up"))
    if isinstance(job, StartRunJob):
        site_id = ensure_site(session, job.site).id
        run_id = start_run(session, [job.site.name], job.settings).id
        return Outcome(run_id=run_id, site_id=site_id, bookkeeping=True)
    if isinstance(job, FinishRunJob):
        finish_run(session, job.run_id, job.stats, job.status)
        return Outcome(bookkeeping=True)
    for written in job.files:
        store_warc_file(
            session,
            name=written.name,
            run_id=job.run_id,
            sha256=written.sha256,
            size=written.size,
            records=written.records,
        )
    for version_id, location in job.links:
        version = session.get(ArticleVersion, version_id)
        if version is not None:
            set_location(version, location)
    return Outcome(bookkeeping=True)


def _article(session: Session, raw: RawStore, job: ArticleJob) -> Outcome:
    capture = dict(job.capture)
    raw.put(capture["raw_sha256"], capture.pop("body"))
    outcome = store_article(
        session,
        site_id=job.site_id,
        record=job.record,
        capture=capture,
        image_results=job.image_results,
        problems=job.problems,
        run_id=job.run_id,
    )
    mark_done(session, job.site, capture["url"])
    failed_images = sum(1 for result in job.image_results if "error" in result)
    result = Outcome(
        stats=[(f"wenhua/articles_{outcome}", 1), ("wenhua/images_failed", failed_images)],
        settled=(capture["url"], f"archived:{outcome}"),
    )
    # Field coverage of the run (archive.runs): what this page's extraction found.
    result.stats.append((COVERAGE_STAT + "articles", 1))
    result.stats += [(COVERAGE_STAT + name, 1) for name in fields_found(job.record)]
    if outcome != "unchanged" and job.link_warc:
        version = session.scalars(
            select(ArticleVersion)
            .join(Article, Article.current_version_id == ArticleVersion.id)
            .where(Article.url == job.record["url"])
        ).one()
        if job.warc is not None:  # in the same transaction as the version
            set_location(version, job.warc)
        else:
            result.unlinked_version_id = version.id
    return result


def _failure(session: Session, raw: RawStore, job: FailureJob) -> Outcome:
    raw_sha = None
    if job.capture is not None:
        raw_sha = job.capture["raw_sha256"]
        raw.put(raw_sha, job.capture["body"])
    gone = False
    if job.kind == "fetch" and job.http_status in GONE_STATUSES:
        when = (
            datetime.fromisoformat(job.capture["fetched_at"])
            if job.capture is not None
            else utcnow()
        )
        gone = mark_gone(session, job.url, when, job.run_id)
    store_failure(
        session,
        run_id=job.run_id,
        url=job.url,
        kind=job.kind,
        reason=job.reason,
        http_status=job.http_status,
        raw_sha256=raw_sha,
        retries=job.retries,
    )
    mark_done(session, job.site, job.url)
    stats = [("wenhua/failures", 1), (f"wenhua/failures/{job.kind}", 1)]
    if gone:
        stats.append(("wenhua/articles_gone", 1))
    return Outcome(stats=stats, settled=(job.url, f"failed:{job.kind}"))


# One job's result: (job id, stored, Outcome or the error: its text, or a NormalizeJob's
# exception itself).
Result = tuple[int, bool, Outcome | str | Exception]


def commit_batch(archive: Archive, raw: RawStore, batch: list[tuple[int, Job]]) -> list[Result]:
    """Store the jobs in one transaction; if it fails, each job in its own."""
    try:
        with archive.session() as session:
            outcomes = [apply(session, raw, job) for _, job in batch]
    except Exception:
        if len(batch) > 1:
            return [result for one in batch for result in commit_batch(archive, raw, [one])]
        return [(batch[0][0], False, traceback.format_exc())]
    return [(job_id, True, outcome) for (job_id, _), outcome in zip(batch, outcomes, strict=True)]


# The writer process's program: the crawl's import path, then `_writer_child`.
_CHILD_MAIN = (
    "import json, sys; sys.path[:0] = json.loads(sys.argv[1]); "
    "from pipelines.writer import _writer_child; _writer_child(*map(int, sys.argv[2:]))"
)


def _writer_child(jobs_fd: int, results_fd: int) -> None:
    """The writer process's entry point: its two pipe ends, then its settings from the pipe."""
    jobs = Connection(jobs_fd, writable=False)
    results = Connection(results_fd, readable=False)
    try:
        db_url, raw_dir, batch_size = jobs.recv()
    except EOFError:
        return  # the crawl process died before it sent them
    _writer_main(db_url, raw_dir, batch_size, jobs, results)


def _writer_main(db_url: str, raw_dir: str, batch_size: int, jobs: Any, results: Any) -> None:
    """The child process: take jobs, commit them in batches, send the results back.

    `jobs` and `results` are the child's ends of two one-way pipes; the crawl process holds
    the other ends only. When it dies (even halfway through sending a job) reading `jobs`
    ends with EOFError and the writer stops: nothing more will come.

    Ctrl-C reaches the whole process group; the crawl process decides how to stop (it
    sends what is left and then the end), so the writer ignores SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    archive = Archive(db_url, migrate=False)
    raw = RawStore(Path(raw_dir))
    normalizing = Normalizing()

    def stored_job(message: Any) -> Any:
        """The message if it is a job to store; an immediate job is answered here and
        None returned (the pipeline is waiting for its record, not for a commit)."""
        if isinstance(message, tuple) and isinstance(message[1], NormalizerJob | NormalizeJob):
            results.send([normalizing.answer(*message)])
            return None
        return message

    try:
        while True:
            try:
                first = jobs.recv()
            except EOFError:
                return
            if first is None:
                break
            try:
                first = stored_job(first)
            except (BrokenPipeError, OSError):
                return  # nobody reads the results any more
            if first is None:
                continue
            batch = [first]
            stopping = False
            while len(batch) < batch_size and jobs.poll(0):
                try:
                    more = jobs.recv()
                except EOFError:
                    break
                if more is None:
                    stopping = True
                    break
                try:
                    more = stored_job(more)
                except (BrokenPipeError, OSError):
                    return
                if more is not None:
                    batch.append(more)
            try:
                results.send(commit_batch(archive, raw, batch))
            except (BrokenPipeError, OSError):
                return  # nobody reads the results any more
            if stopping:
                break
        results.send(None)
    finally:
        archive.close()


class ArchiveWriter:
    """The crawl's side of the writer process: submit jobs, get Deferreds that fire (on
    the reactor thread, through `deliver`) once their transaction has committed."""

    def __init__(
        self,
        db_url: str,
        raw_dir: Path,
        batch: int = WRITE_BATCH,
        deliver: Callable[..., object] | None = None,
    ) -> None:
        self.deliver = deliver or _call_from_thread
        self.transactions = 0
        self._ids = itertools.count(1)
        self._waiting: dict[int, Deferred[Outcome]] = {}
        self._lock = threading.Lock()
        self._stopped: str | None = None  # why the writer no longer answers
        # A fresh interpreter, not a fork: forking a process that runs a reactor and threads
        # is not safe. Started with subprocess rather than multiprocessing's spawn, which
        # also starts its resource tracker (a third interpreter, 15 MB, for semaphores and
        # shared memory this writer never uses); the two pipes are multiprocessing's own
        # Connection objects over plain file descriptors.
        jobs_read, jobs_write = os.pipe()
        results_read, results_write = os.pipe()
        self._jobs_out = Connection(jobs_write, readable=False)
        self._results_in = Connection(results_read, writable=False)
        self._child_fds = (jobs_read, results_write)
        self._config = (db_url, str(raw_dir), batch)
        self._process: subprocess.Popen[bytes] | None = None
        # Sending can block while the writer is busy: a thread does it, never the reactor.
        self._outbox: queue.SimpleQueue[tuple[int, Job | Immediate] | None] = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send, name="archive-jobs", daemon=True)
        self._reader = threading.Thread(target=self._read, name="archive-results", daemon=True)

    def start(self) -> None:
        # Started with SIGINT ignored, the child's interpreter keeps ignoring it from its
        # first instruction (an ignored signal stays ignored across exec): a Ctrl-C while it
        # imports gives no KeyboardInterrupt there.
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _CHILD_MAIN, json.dumps(sys.path)]
                + [str(fd) for fd in self._child_fds],
                pass_fds=self._child_fds,
                stdin=subprocess.DEVNULL,
            )
        finally:
            if main:
                signal.signal(signal.SIGINT, previous)
        # Only the child keeps these ends: its death (or ours) is then seen as EOF.
        for fd in self._child_fds:
            os.close(fd)
        # The database URL may carry a password: sent through the pipe, not on a command line.
        self._jobs_out.send(self._config)
        self._sender.start()
        self._reader.start()

    def kill(self) -> None:
        """Kill the writer process and wait for it (what a crash or the OOM killer does)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(30)

    def submit(self, job: Job | Immediate) -> Deferred[Outcome]:
        from twisted.internet.defer import Deferred
        from twisted.python.failure import Failure

        done: Deferred[Outcome] = Deferred()
        if self._stopped is not None:  # nobody would ever answer
            done.errback(Failure(StorageError(self._stopped)))  # type: ignore[no-untyped-call]
            return done
        job_id = next(self._ids)
        with self._lock:
            self._waiting[job_id] = done
        self._outbox.put((job_id, job))
        return done

    def finish(self) -> None:
        """Let the writer store what it has, then stop it (blocking: call from a thread)."""
        self._outbox.put(None)
        self._sender.join()
        self._reader.join()
        if self._process is not None:
            self._process.wait()

    def _send(self) -> None:
        while True:
            message = self._outbox.get()
            try:
                self._jobs_out.send(message)
            except OSError:
                return  # the writer is gone; the reader fails what is waiting
            if message is None:
                self._jobs_out.close()
                return

    def _read(self) -> None:
        from twisted.python.failure import Failure

        while True:
            try:
                results = self._results_in.recv()
            except (EOFError, OSError):
                self._fail_all(f"the archive writer process died (exit {self._exit_code()})")
                return
            if results is None:
                self._fail_all("the archive writer process stopped")
                return
            # Bookkeeping and normalization (an Outcome marked so, or a NormalizeJob's
            # exception) are not an item's transaction.
            if not all(
                isinstance(value, Exception) or (isinstance(value, Outcome) and value.bookkeeping)
                for _, _, value in results
            ):
                self.transactions += 1
            for job_id, stored, value in results:
                with self._lock:
                    done = self._waiting.pop(job_id)
                if stored:
                    self.deliver(done.callback, value)
                else:
                    error = value if isinstance(value, Exception) else StorageError(value)
                    self.deliver(done.errback, Failure(error))  # type: ignore[no-untyped-call]

    def _exit_code(self) -> int | None:
        if self._process is None:
            return None
        try:
            return self._process.wait(5)
        except subprocess.TimeoutExpired:
            return None

    def _fail_all(self, reason: str) -> None:
        from twisted.python.failure import Failure

        self._stopped = reason
        with self._lock:
            left = list(self._waiting.values())
            self._waiting.clear()
        for done in left:
            self.deliver(done.errback, Failure(StorageError(reason)))  # type: ignore[no-untyped-call]


def _call_from_thread(function: Callable[..., object], *args: object) -> None:
    # Imported here: importing the reactor at module level would install the default one
    # before Scrapy installs asyncio's.
    from twisted.internet import reactor

    reactor.callFromThread(function, *args)
