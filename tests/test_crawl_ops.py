"""Crawl operations (#7) against a misbehaving demo portal, through the `wenhua` command as a
user runs it: real subprocess crawls, a real loopback server with injected faults, a real
SQLite archive, and a real SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from archive.db import Archive
from archive.models import Article, ArticleVersion, CrawlRun, Failure, FrontierEntry
from crawler.demo_portal import DemoPortal, build_corpus
from crawler.demo_portal.corpus import CANONICAL_BASE, SITE_TRS, DemoArticle
from crawler.demo_portal.server import Faults
from tests.archive_checks import records_by_url

TIMEOUT = 600
SITE = SITE_TRS  # the GBK family, 88 articles: the smallest whole site
USER_AGENT = "wenhua-test/1.0 (+https://example.org/wenhua-contact)"


def trs_articles() -> list[DemoArticle]:
    return [a for a in build_corpus() if a.site == SITE]


def wenhua_cmd(data_dir: Path, portal: DemoPortal, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from archive.cli import main; main()",
        "crawl",
        SITE,
        "--serve-at",
        portal.base_url,
        "--no-politeness",
        "--no-progress",
        "--data-dir",
        str(data_dir),
        *extra,
    ]


def crawl(data_dir: Path, portal: DemoPortal, *extra: str) -> dict[str, Any]:
    """Run one crawl to the end; returns that run's Scrapy stats as stored in CrawlRun."""
    result = subprocess.run(
        wenhua_cmd(data_dir, portal, *extra),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    archive = Archive(f"sqlite:///{data_dir / 'archive.sqlite'}")
    with archive.session() as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        assert run is not None
        stats = dict(run.stats)
    archive.close()
    return stats


def url_of(article: DemoArticle) -> str:
    return CANONICAL_BASE + article.path


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A faulty portal crawled three times: first, an unchanged recrawl, and a --revisit-all
    recrawl after one article was edited and one withdrawn."""
    arts = trs_articles()
    faults = Faults(
        unavailable={arts[0].path: 2},
        drop={arts[1].path: 1},
        truncate={arts[2].path: 1},
        gbk_no_charset={arts[3].path},
        disallow=[arts[4].path],
        redirect_loop={arts[5].path},
        huge={arts[6].path: 33 * 1024 * 1024},  # over DOWNLOAD_MAXSIZE (32 MiB)
    )
    data = tmp_path_factory.mktemp("ops-faults")
    out: dict[str, Any] = {"arts": arts, "data": data}
    with DemoPortal(faults=faults) as portal:
        out["first"] = crawl(data, portal, "--user-agent", USER_AGENT)
        out["hits_after_first"] = dict(portal.hits)
        out["user_agents"] = set(portal.user_agents)
        out["second"] = crawl(data, portal)
        out["hits_after_second"] = dict(portal.hits)
        portal.edit(arts[7].path)
        portal.withdraw(arts[8].path, 410)
        out["third"] = crawl(data, portal, "--revisit-all")
    out["archive"] = Archive(f"sqlite:///{data / 'archive.sqlite'}")
    return out


def failures_by_url(archive: Archive) -> dict[str, list[Failure]]:
    found: dict[str, list[Failure]] = {}
    with archive.session() as session:
        for row in session.scalars(select(Failure)):
            session.expunge(row)
            found.setdefault(row.url, []).append(row)
    return found


def test_transient_faults_are_retried_until_archived(faulty: dict[str, Any]) -> None:
    arts = faulty["arts"]
    records = records_by_url(faulty["archive"])
    hits = faulty["hits_after_first"]
    for article in arts[:3]:  # 503 twice, dropped once, truncated once
        assert records[url_of(article)]["title"] == article.title
    assert hits[arts[0].path] == 3
    assert hits[arts[1].path] == 2 and hits[arts[2].path] == 2
    stats = faulty["first"]
    assert stats["retry/reason_count/503 Service Unavailable"] == 2
    # Twisted's connection pool itself re-sends once on a dropped keep-alive connection, so
    # one of the drop/truncation retries may not pass through Scrapy's retry middleware.
    assert stats["retry/count"] >= 3
    assert stats["wenhua/retry_backoffs"] == stats["retry/count"]
    assert not {url_of(a) for a in arts[:4]} & set(failures_by_url(faulty["archive"]))


def test_gbk_without_charset_and_a_lying_meta_decodes(faulty: dict[str, Any]) -> None:
    article = faulty["arts"][3]
    record = records_by_url(faulty["archive"])[url_of(article)]
    assert record["title"] == article.title
    assert record["body_text"] == "\n".join(article.paragraphs)


def test_robots_disallowed_article_is_never_fetched(faulty: dict[str, Any]) -> None:
    article = faulty["arts"][4]
    assert faulty["hits_after_first"].get(article.path, 0) == 0
    assert faulty["hits_after_second"].get(article.path, 0) == 0
    assert url_of(article) not in records_by_url(faulty["archive"])


def test_redirect_loop_and_huge_page_are_bounded_failures(faulty: dict[str, Any]) -> None:
    arts = faulty["arts"]
    failures = failures_by_url(faulty["archive"])
    loop = failures[url_of(arts[5])]
    assert loop[0].kind == "fetch" and "redirect" in loop[0].reason.lower()
    assert faulty["hits_after_first"][arts[5].path] <= 25  # REDIRECT_MAX_TIMES, not forever
    huge = failures[url_of(arts[6])]
    assert huge[0].kind == "fetch" and huge[0].reason
    every_other = {url_of(a) for a in arts} - {url_of(a) for a in arts[4:7]}
    assert every_other <= set(records_by_url(faulty["archive"]))


def test_identifying_user_agent_is_sent(faulty: dict[str, Any]) -> None:
    assert faulty["user_agents"] == {USER_AGENT}


def test_unchanged_recrawl_transfers_under_a_tenth_of_the_bytes(faulty: dict[str, Any]) -> None:
    first, second = faulty["first"], faulty["second"]
    assert second["downloader/response_bytes"] < first["downloader/response_bytes"] / 10
    assert second.get("wenhua/articles_new", 0) == second.get("wenhua/articles_changed", 0) == 0
    assert second["wenhua/lists_stopped_known"] >= 1
    # No known article and no image of one was fetched again.
    before, after = faulty["hits_after_first"], faulty["hits_after_second"]
    arts = faulty["arts"]
    known = [a for a in arts if a not in arts[4:7]]
    paths = [a.path for a in known] + [i.path for a in known for i in a.images]
    assert [p for p in paths if after.get(p) != before.get(p)] == []


def test_revisit_all_answers_304_finds_the_edit_and_the_withdrawal(
    faulty: dict[str, Any],
) -> None:
    arts, third = faulty["arts"], faulty["third"]
    archive: Archive = faulty["archive"]
    archived = len(arts) - 3  # robots, redirect loop and huge page never made it
    assert third["wenhua/not_modified"] == archived - 2
    assert third["wenhua/articles_changed"] == 1
    assert third["downloader/response_bytes"] < faulty["first"]["downloader/response_bytes"] / 10
    with archive.session() as session:
        edited = session.scalars(select(Article).where(Article.url == url_of(arts[7]))).one()
        titles = [v.title for v in edited.versions]
        assert titles == [arts[7].title, arts[7].title + "（更正）"]
        versions = session.scalar(select(func.count()).select_from(ArticleVersion))
        assert versions == archived + 1
        seen = session.scalars(select(Article).where(Article.url == url_of(arts[9]))).one()
        assert seen.last_seen > seen.first_seen  # the 304 moved last_seen
    withdrawn = failures_by_url(archive)[url_of(arts[8])]
    assert [(f.kind, f.http_status) for f in withdrawn] == [("fetch", 410)]


def _stored(db: Path) -> int:
    import sqlite3

    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as con:
        try:
            return int(con.execute("SELECT count(*) FROM articles").fetchone()[0])
        except sqlite3.OperationalError:  # schema not created yet
            return 0


def test_sigkilled_crawl_resumes_to_a_complete_archive(tmp_path: Path) -> None:
    arts = trs_articles()
    db = tmp_path / "archive.sqlite"
    with DemoPortal() as portal:
        process = subprocess.Popen(
            wenhua_cmd(tmp_path, portal),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + TIMEOUT
            while _stored(db) < 5 and process.poll() is None:
                assert time.monotonic() < deadline, "crawl stored nothing in time"
                time.sleep(0.05)
            assert process.poll() is None, "the crawl finished before it could be killed"
            os.kill(process.pid, signal.SIGKILL)
        finally:
            process.kill()
            process.wait(timeout=60)
        killed_at = _stored(db)
        assert 5 <= killed_at < len(arts)
        stats = crawl(tmp_path, portal)
    assert stats.get("wenhua/frontier_resumed", 0) > 0
    archive = Archive(f"sqlite:///{db}")
    records = records_by_url(archive)
    assert sorted(records) == sorted(url_of(a) for a in arts)
    for article in arts:
        assert records[url_of(article)]["title"] == article.title
    with archive.session() as session:
        versions = session.scalars(select(ArticleVersion.article_id)).all()
        assert len(versions) == len(set(versions)) == len(arts)
        left = session.scalar(
            select(func.count()).select_from(FrontierEntry).where(FrontierEntry.state == "pending")
        )
        assert left == 0
    archive.close()


def test_a_changed_article_reuses_its_archived_images_without_fetching_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Images already in the archive are not downloaded again when an article that uses
    them is refetched (#7); the known-image look-up is the one that runs off the reactor."""
    from crawler.sitedefs import BUNDLED_DIR

    sites = tmp_path / "sites"
    sites.mkdir()
    definition = (BUNDLED_DIR / f"{SITE}.toml").read_text(encoding="utf-8")
    # Every known article is due on every crawl, so the edited one is refetched.
    (sites / f"{SITE}.toml").write_text(f"revisit_days = 0\n{definition}", encoding="utf-8")
    monkeypatch.setenv("WENHUA_SITES", str(sites))
    article = next(a for a in trs_articles() if len(a.images) >= 2)
    data = tmp_path / "data"
    with DemoPortal() as portal:
        first = crawl(data, portal)
        fetched = {image.path: portal.hits[image.path] for image in article.images}
        assert all(count == 1 for count in fetched.values()), fetched
        portal.edit(article.path)
        second = crawl(data, portal)
        assert {image.path: portal.hits[image.path] for image in article.images} == fetched
    assert first["wenhua/articles_new"] == len(trs_articles())
    assert second["wenhua/articles_changed"] == 1
    assert second["wenhua/images_known"] == len(article.images)
    archive = Archive(f"sqlite:///{data / 'archive.sqlite'}")
    with archive.session() as session:
        edited = session.scalars(select(Article).where(Article.url == url_of(article))).one()
        latest = max(edited.versions, key=lambda version: version.id)
        assert [link.image_sha256 is not None for link in latest.images] == [True] * len(
            article.images
        )
    archive.close()
