"""A real in-process crawl of the demo portal (real HTTP on loopback, real Scrapy, real
SQLite), twice: every article archived exactly as the portal's ground truth says, every
image on disk under its sha256, and the second crawl adds nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from archive.config import resolve
from archive.db import Archive
from crawler.demo_portal import DemoPortal, build_corpus
from crawler.runner import crawl_settings
from crawler.sitedefs import available_sites
from tests.archive_checks import records_by_url, row_counts

CANONICAL = "http://demo.wenhua.local"


@pytest.fixture(scope="module")
def two_crawls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from scrapy.crawler import CrawlerProcess
    from twisted.internet import defer

    from crawler.spiders.portal import PortalSpider

    config = resolve(tmp_path_factory.mktemp("demo-archive"), None)
    names = [name for name in available_sites() if name.startswith("demo-")]
    archive = Archive(config.db_url)
    results: dict[str, Any] = {"config": config, "archive": archive}
    with DemoPortal() as portal:
        settings = crawl_settings(config, polite=False, progress=False)
        settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
        process = CrawlerProcess(settings)

        @defer.inlineCallbacks
        def crawl_twice() -> Any:
            for label in ("first", "second"):
                crawlers = [process.create_crawler(PortalSpider) for _ in names]
                yield defer.DeferredList(
                    [
                        process.crawl(c, site=n, serve_at=portal.base_url)
                        for c, n in zip(crawlers, names, strict=True)
                    ],
                    fireOnOneErrback=True,
                )
                results[label] = {
                    "counts": row_counts(archive),
                    "stats": [c.stats.get_stats() for c in crawlers],
                }

        failures: list[Any] = []

        def stop_reactor(_: Any) -> None:
            from twisted.internet import reactor

            reactor.stop()  # type: ignore[attr-defined]

        done = crawl_twice()
        done.addErrback(failures.append)
        done.addBoth(stop_reactor)
        process.start(stop_after_crawl=False)
        if failures:
            failures[0].raiseException()
    return results


def test_every_demo_article_is_archived_as_published(two_crawls: dict[str, Any]) -> None:
    records = records_by_url(two_crawls["archive"])
    corpus = build_corpus()
    assert len(corpus) >= 300
    assert len(records) == len(corpus)
    mismatches = []
    for article in corpus:
        record = records.get(CANONICAL + article.path)
        if record is None:
            mismatches.append((article.path, "missing"))
            continue
        expected = {
            "title": article.title,
            "published_at": article.published_at,
            "published_precision": article.published_precision,
            "source": article.source,
            "editor": article.editor,
            "author": article.author,
            "district": article.district,
            "category": article.category,
            "city": article.city,
            "body_text": "\n".join(article.paragraphs),
            "images": [(CANONICAL + i.path, i.alt or None, i.caption) for i in article.images],
        }
        got = {key: record[key] for key in expected if key != "images"}
        got["images"] = [(i["url"], i["alt"], i["caption"]) for i in record["images"]]
        for key, value in expected.items():
            if got[key] != value:
                mismatches.append((article.path, key, value, got[key]))
    assert mismatches == []


def test_seed_article(two_crawls: dict[str, Any]) -> None:
    seed = records_by_url(two_crawls["archive"])[CANONICAL + "/new-13173.html"]
    assert seed["title"] == "路南区公共文化服务体系示范区创建工作取得阶段性成果"
    assert seed["published_at"] == "2020-11-02T11:20:24+08:00"
    assert (seed["source"], seed["editor"], seed["author"]) == ("路南发布", "王瑶", None)
    assert len(seed["images"]) == 9
    data_dir: Path = two_crawls["config"].data_dir
    for image in seed["images"]:
        stored = (data_dir / image["path"]).read_bytes()
        assert hashlib.sha256(stored).hexdigest() == image["sha256"]
    assert len({i["sha256"] for i in seed["images"]}) == 9
    for chrome in ("全部评论", "相关场馆", "扫一扫", "1.jpg", "信息资讯"):
        assert chrome not in seed["body_text"]


def test_every_image_file_matches_its_sha256(two_crawls: dict[str, Any]) -> None:
    data_dir: Path = two_crawls["config"].data_dir
    records = records_by_url(two_crawls["archive"])
    paths = {(i["path"], i["sha256"]) for r in records.values() for i in r["images"]}
    assert paths and all(path for path, _ in paths)
    for path, sha in paths:
        assert hashlib.sha256((data_dir / path).read_bytes()).hexdigest() == sha


def test_second_crawl_adds_nothing(two_crawls: dict[str, Any]) -> None:
    first, second = two_crawls["first"], two_crawls["second"]
    assert first["counts"]["articles"] == len(build_corpus())
    assert first["counts"]["failures"] == 0
    assert second["counts"] == first["counts"]
    unchanged = sum(s.get("wenhua/articles_unchanged", 0) for s in second["stats"])
    new = sum(
        s.get("wenhua/articles_new", 0) + s.get("wenhua/articles_changed", 0)
        for s in second["stats"]
    )
    # Incremental (#7): nothing is due for a revisit yet, so no article is refetched.
    assert (unchanged, new) == (0, 0)
    assert sum(s.get("wenhua/lists_stopped_known", 0) for s in second["stats"]) > 0
