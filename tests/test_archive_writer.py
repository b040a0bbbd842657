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
    writer.kill()
    results, settled = _collect(writer, [_failure_job(1)])
    assert settled.wait(60)
    assert isinstance(results[0], Failure) and "died" in str(results[0].value)


def test_the_writer_normalizes_an_article_as_the_crawl_process_would(tmp_path: Path) -> None:
    """NormalizeJob (#20): the record and problems are those `normalize` gives in-process,
    answered between stored jobs without counting as a transaction; a job for a site the
    writer was never told about fails with the normalizer's own exception."""
    from datetime import datetime

    from crawler.demo_portal.corpus import FAMILY_CULTURE_CLOUD, corpus
    from crawler.demo_portal.family_culture_cloud import render_article
    from crawler.extract.normalize import normalize
    from crawler.extract.rules import extract_raw
    from crawler.extract.urls import OriginMap
    from crawler.sitedefs import BUNDLED_DIR, load_site_file
    from pipelines.writer import NormalizeJob, NormalizerJob

    site = load_site_file(BUNDLED_DIR / "demo-culture-cloud.toml")
    origins = OriginMap(site.base_url, "http://127.0.0.1:9")  # image URLs get rewritten
    demo = corpus()
    pages = [a for a in demo.articles if a.family == FAMILY_CULTURE_CLOUD][:3]
    fetched_at = "2024-05-01T08:00:00+00:00"
    raws = []
    for article in pages:
        html = render_article(article, demo.layouts[article.path])
        raws.append(extract_raw(html, "http://127.0.0.1:9" + article.path, site))

    def job(raw: Any, site_name: str = site.name) -> NormalizeJob:
        return NormalizeJob(
            site=site_name,
            raw=raw,
            fetched_at=fetched_at,
            category="活动",
            district=None,
            canonical_url=origins.to_canonical(raw.url),
        )

    db_url = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    Archive(db_url).close()
    writer = ArchiveWriter(db_url, tmp_path / "raw", deliver=_now)
    jobs: list[Any] = [NormalizerJob(site, origins), _failure_job(1), job(raws[0])]
    jobs += [_failure_job(2), job(raws[1]), job(raws[2]), job(raws[0], "no-such-site")]
    results, settled = _collect(writer, jobs)
    writer.start()
    assert settled.wait(120)
    writer.finish()

    for position, raw in ((2, raws[0]), (4, raws[1]), (5, raws[2])):
        expected = normalize(
            raw,
            site=site,
            fetched_at=datetime.fromisoformat(fetched_at),
            category="活动",
            district=None,
            canonical_url=origins.to_canonical(raw.url),
            rewrite_url=origins.to_canonical,
        )
        outcome = results[position]
        assert isinstance(outcome, Outcome) and outcome.normalized is not None
        assert outcome.normalized == (expected.record, expected.problem_dicts())
    assert any(
        image for r in (results[p] for p in (2, 4, 5)) for image in r.normalized[0]["images"]
    )
    unknown = results[6]
    assert isinstance(unknown, Failure) and isinstance(unknown.value, KeyError)
    assert all(("wenhua/failures", 1) in results[p].stats for p in (1, 3))
    # Only the two failure jobs were transactions (one or two batches).
    assert 1 <= writer.transactions <= 2
