"""The archive writer process (#10): jobs that queue up are committed together, a job
whose write fails takes nothing else with it, and a writer that dies fails its jobs
instead of leaving the crawl waiting for ever."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select
from twisted.python.failure import Failure

from archive.db import Archive
from archive.models import Failure as FailureRow
from pipelines.writer import (
    ArchiveWriter,
    FailureJob,
    NotModifiedJob,
    Outcome,
    StorageError,
)


def _now(function: Any, *args: Any) -> None:
    function(*args)


def _failure_job(n: int) -> FailureJob:
    return FailureJob(
        site="demo",
        run_id=None,
        url=f"http://demo.example/{n}.html",
        kind="fetch",
        reason="HTTP 500",
        http_status=500,
        retries=3,
        capture=None,
    )


def _collect(writer: ArchiveWriter, jobs: list[Any]) -> tuple[dict[int, Any], threading.Event]:
    results: dict[int, Any] = {}
    settled = threading.Event()

    def keep(result: Any, position: int) -> None:
        results[position] = result
        if len(results) == len(jobs):
            settled.set()

    for position, job in enumerate(jobs):
        writer.submit(job).addBoth(keep, position)
    return results, settled


def test_a_batch_commits_and_a_failing_job_loses_nothing_else(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    Archive(db_url).close()  # the crawl migrates before the writer starts
    writer = ArchiveWriter(db_url, tmp_path / "raw", deliver=_now)
    jobs: list[Any] = [_failure_job(n) for n in range(5)]
    jobs.insert(2, NotModifiedJob(site="demo", url="http://demo.example/x", fetched_at="soon"))
    results, settled = _collect(writer, jobs)  # queued before the writer runs: one batch
    writer.start()
    assert settled.wait(120)
    writer.finish()

    stored = [p for p, r in results.items() if isinstance(r, Outcome)]
    assert stored == [0, 1, 3, 4, 5]
    assert all(("wenhua/failures", 1) in results[p].stats for p in stored)
    bad = results[2]
    assert isinstance(bad, Failure) and isinstance(bad.value, StorageError)
    assert "ValueError" in str(bad.value)  # the writer's traceback names the cause
    archive = Archive(db_url)
    with archive.session() as session:
        urls = sorted(session.scalars(select(FailureRow.url)))
    archive.close()
    assert urls == sorted(f"http://demo.example/{n}.html" for n in range(5))


def test_a_dead_writer_fails_its_jobs_instead_of_hanging(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    Archive(db_url).close()
    writer = ArchiveWriter(db_url, tmp_path / "raw", deliver=_now)
    writer.start()
    writer._process.kill()
    writer._process.join(30)
    results, settled = _collect(writer, [_failure_job(1)])
    assert settled.wait(60)
    assert isinstance(results[0], Failure) and "died" in str(results[0].value)
