"""Many crawl workers sharing one crawl (#8): real `wenhua crawl --frontier` subprocesses
against a real Redis and one fresh PostgreSQL archive, a real loopback demo portal counting
hits server-side, and a real SIGKILL.

Each test gets its own Redis key prefix (WENHUA_REDIS_PREFIX) and deletes its keys after,
so test runs sharing the Redis server never see each other's crawl.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from sqlalchemy import func, select

from archive.db import Archive
from archive.models import Article, ArticleVersion, CrawlRun
from crawler.demo_portal import DemoPortal, build_corpus
from crawler.demo_portal.corpus import CANONICAL_BASE, SITE_CULTURE_CLOUD, SITE_TRS
from crawler.sitedefs import BUNDLED_DIR
from pipelines.storage import ArchiveStoragePipeline
from pipelines.writer import ArchiveWriter
from tests.archive_checks import records_by_url
from tests.conftest import _need_service

REDIS_URL = os.environ.get("WENHUA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TIMEOUT = 600


@dataclass
class RedisSpace:
    url: str
    prefix: str

    def keys(self) -> list[bytes]:
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            return list(client.scan_iter(f"{self.prefix}:*"))
        finally:
            client.close()


@pytest.fixture
def redis_space() -> Iterator[RedisSpace]:
    """The Redis at WENHUA_TEST_REDIS_URL (default 127.0.0.1:6379/0) and a key prefix of
    this test's own, deleted afterwards."""
    try:
        import redis
    except ImportError:
        _need_service("Redis", "redis-py is not installed (pip install -e '.[test]')")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        _need_service("Redis", f"cannot connect to {REDIS_URL}: {exc}")
    space = RedisSpace(REDIS_URL, f"wenhua-test-{uuid.uuid4().hex[:10]}")
    try:
        yield space
    finally:
        stale = list(client.scan_iter(f"{space.prefix}:*"))
        if stale:
            client.delete(*stale)
        client.close()


def wenhua(*args: str) -> list[str]:
    return [sys.executable, "-c", "from archive.cli import main; main()", *args]


def worker(
    site: str,
    portal: DemoPortal,
    data: Path,
    db: str,
    space: RedisSpace,
    *extra: str,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    cmd = wenhua(
        "crawl",
        site,
        "--serve-at",
        portal.base_url,
        "--no-progress",
        "--data-dir",
        str(data),
        "--db",
        db,
        "--frontier",
        space.url,
        *extra,
    )
    environment = {**os.environ, "WENHUA_REDIS_PREFIX": space.prefix, **(env or {})}
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        start_new_session=True,
    )


def finish(processes: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    """Wait for every worker to exit by itself; (return code, stderr tail) of each."""
    results = []
    for process in processes:
        try:
            _, err = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"a worker did not exit by itself: {err[-2000:]}")
        results.append((process.returncode, err[-3000:]))
    return results


def upgrade(db: str) -> None:
    # Migrate before the workers start, as the README suggests (not required: workers
    # migrating a new archive at once wait on a lock; the three-worker test relies on it).
    subprocess.run(wenhua("db", "upgrade", "--db", db), check=True, capture_output=True)


def site_articles(site: str) -> dict[str, str]:
    return {CANONICAL_BASE + a.path: a.title for a in build_corpus() if a.site == site}


def assert_each_article_once(db: str, site: str) -> list[CrawlRun]:
    expected = site_articles(site)
    archive = Archive(db)
    try:
        records = records_by_url(archive)
        assert sorted(records) == sorted(expected)
        assert {url: r["title"] for url, r in records.items()} == expected
        with archive.session() as session:
            assert session.scalar(select(func.count()).select_from(Article)) == len(expected)
            owners = session.scalars(select(ArticleVersion.article_id)).all()
            assert len(owners) == len(set(owners)) == len(expected)
            runs = list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
            for run in runs:
                session.expunge(run)
        return runs
    finally:
        archive.close()


@pytest.mark.redis
@pytest.mark.pg
@pytest.mark.slow
def test_three_workers_fetch_every_page_once_and_store_every_article_once(
    tmp_path: Path, pg_url: str, redis_space: RedisSpace
) -> None:
    site = SITE_CULTURE_CLOUD  # the biggest demo site
    # No `db upgrade` first: three workers opening one new archive at once must migrate it
    # once (the others wait on the migration lock).
    data = tmp_path / "shared-data"
    with DemoPortal() as portal:
        workers = [
            worker(site, portal, data, pg_url, redis_space, "--no-politeness", "--idle-exit", "3")
            for _ in range(3)
        ]
        results = finish(workers)
        hits = dict(portal.hits)
        warcs = sorted((data / "warc").glob("*.warc.gz"))
        # The same command the next day: the finished crawl left no state behind, so this
        # worker seeds a fresh, incremental crawl on its own.
        rerun_args = ("--no-politeness", "--idle-exit", "1")
        again = finish([worker(site, portal, data, pg_url, redis_space, *rerun_args)])
    assert [code for code, _ in results] == [0, 0, 0], [err for _, err in results]
    assert again[0][0] == 0, again[0][1]
    # Server-side: every page and image was fetched exactly once by the three together.
    repeated = {path: n for path, n in hits.items() if n != 1 and path != "/robots.txt"}
    assert repeated == {}
    corpus = [a for a in build_corpus() if a.site == site]
    fetched = set(hits)
    assert {a.path for a in corpus} <= fetched
    assert {i.path for a in corpus for i in a.images} <= fetched
    runs = assert_each_article_once(pg_url, site)
    first, rerun = runs[:3], runs[3]
    # One seeder; every article was stored as new by exactly one of the workers.
    assert sum(int(r.stats.get("wenhua/frontier_seeded", 0)) for r in first) == 1
    assert sum(int(r.stats.get("wenhua/articles_new", 0)) for r in first) == len(corpus)
    assert rerun.stats.get("wenhua/frontier_seeded") == 1
    assert rerun.stats.get("wenhua/articles_new", 0) == 0
    assert rerun.stats.get("wenhua/lists_stopped_known", 0) >= 1
    assert redis_space.keys() == []  # the crawl is over: the shared state is cleared
    # The WARC files of all workers in the shared data directory pass fixity.
    assert len(warcs) >= 3 and len({p.name for p in warcs}) == len(warcs)
    verify = subprocess.run(
        wenhua("verify", "--data-dir", str(data), "--db", pg_url),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout[-2000:] + verify.stderr[-2000:]
    bag = subprocess.run(
        wenhua("bag", "--out", str(tmp_path / "bag"), "--data-dir", str(data), "--db", pg_url),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert bag.returncode == 0, bag.stderr[-2000:]
    bagged = {p.name for p in (tmp_path / "bag" / "data" / "warc").glob("*.warc.gz")}
    assert bagged == {p.name for p in warcs}


def wait_stored(db: str, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while _stored(db) < count:
        assert process.poll() is None, "the worker finished before it could be killed"
        assert time.monotonic() < deadline, "the workers stored nothing in time"
        time.sleep(0.05)


def _stored(db: str) -> int:
    archive = Archive(db)
    try:
        with archive.session() as session:
            return int(session.scalar(select(func.count()).select_from(Article)) or 0)
    finally:
        archive.close()


@pytest.mark.redis
@pytest.mark.pg
@pytest.mark.slow
def test_a_sigkilled_worker_loses_nothing(
    tmp_path: Path, pg_url: str, redis_space: RedisSpace
) -> None:
    site = SITE_TRS
    total = len(site_articles(site))
    upgrade(pg_url)
    # A short lease: the killed worker's requests come back to the others in seconds.
    env = {"WENHUA_FRONTIER_LEASE": "5"}
    with DemoPortal() as portal:
        args = ("--no-politeness", "--idle-exit", "3")
        # The victim starts first, so it is surely holding leases when it is killed.
        victim = worker(site, portal, tmp_path / "w0", pg_url, redis_space, *args, env=env)
        others: list[subprocess.Popen[str]] = []
        try:
            wait_stored(pg_url, 3, victim)
            others = [
                worker(site, portal, tmp_path / f"w{n}", pg_url, redis_space, *args, env=env)
                for n in (1, 2)
            ]
            wait_stored(pg_url, 10, victim)
            os.kill(victim.pid, signal.SIGKILL)
            assert _stored(pg_url) < total, "the crawl was over before the kill"
        finally:
            victim.kill()
            victim.communicate(timeout=60)
        results = finish(others)
    assert victim.returncode == -signal.SIGKILL
    assert [code for code, _ in results] == [0, 0], [err for _, err in results]
    runs = assert_each_article_once(pg_url, site)
    # The killed worker's leased requests went back on the queue after the lease timeout.
    assert sum(int(r.stats.get("wenhua/frontier_requeued", 0)) for r in runs) >= 1
    assert redis_space.keys() == []


def _polite_site(directory: Path) -> str:
    """The TRS demo site cut to one list page (~20 articles), so a crawl with a delay
    between requests stays short."""
    text = (BUNDLED_DIR / "demo-trs-lubei.toml").read_text(encoding="utf-8")
    head, rest = text.split("[[start]]", 1)
    first_start, _ = rest.split("[[start]]", 1)
    tail = "[list]" + text.split("[list]", 1)[1]
    tail = "\n".join(line for line in tail.splitlines() if not line.startswith("next_page"))
    name = "polite-trs"
    head = head.replace('name = "demo-trs-lubei"', f'name = "{name}"')
    directory.mkdir()
    (directory / f"{name}.toml").write_text(
        head + "[[start]]" + first_start + tail + "\n", encoding="utf-8"
    )
    return name


@pytest.mark.redis
@pytest.mark.pg
@pytest.mark.slow
def test_politeness_is_global_across_workers(
    tmp_path: Path, pg_url: str, redis_space: RedisSpace
) -> None:
    delay = 0.25
    sites = tmp_path / "sites"
    site = _polite_site(sites)
    upgrade(pg_url)
    env = {
        "WENHUA_SITES": str(sites),
        "WENHUA_DOMAIN_CONCURRENCY": "1",
        "WENHUA_DOMAIN_DELAY": str(delay),
    }
    with DemoPortal() as portal:
        workers = [
            worker(
                site, portal, tmp_path / f"w{n}", pg_url, redis_space, "--idle-exit", "3", env=env
            )
            for n in range(2)
        ]
        results = finish(workers)
        arrivals = list(portal.arrivals)
        most_at_once = portal.max_in_flight
        hits = dict(portal.hits)
    assert [code for code, _ in results] == [0, 0], [err for _, err in results]
    assert sum(n for path, n in hits.items() if "/t" in path) >= 10  # articles were fetched
    assert most_at_once == 1
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    # Measured where the server reads the request line: the time a request spends between
    # taking its slot and reaching the server (a few ms on loopback) can shave the gap.
    assert min(gaps) >= delay - 0.05, sorted(gaps)[:5]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--frontier", "http://127.0.0.1:6379/0"], "is not a Redis URL"),
        (["--frontier", "redis://127.0.0.1:1/0"], "cannot reach Redis at redis://127.0.0.1:1/0"),
        (["--frontier", "redis://127.0.0.1:6379/0", "--idle-exit", "-1"], "--idle-exit -1"),
    ],
)
def test_frontier_mistakes_are_one_line_errors(
    tmp_path: Path, options: list[str], message: str
) -> None:
    cmd = wenhua("crawl", SITE_TRS, *options)
    result = subprocess.run(
        [*cmd, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wenhua: error: "), result.stderr
    assert message in lines[0]


@pytest.fixture
def frontiers(redis_space: RedisSpace) -> Iterator[tuple[Any, Any]]:
    """Two workers' schedulers on one crawl's keys, without a running crawl (no reactor)."""
    import redis
    from scrapy import Spider
    from scrapy.utils.test import get_crawler

    from crawler.frontier.scheduler import RedisFrontier

    made = []
    for _ in range(2):
        crawler = get_crawler(Spider)
        frontier = RedisFrontier(
            crawler, redis.Redis.from_url(redis_space.url), 0.3, 0, redis_space.prefix
        )
        frontier.bind("unit")
        made.append(frontier)
    yield made[0], made[1]
    for frontier in made:
        frontier.client.close()


@pytest.mark.redis
def test_queue_orders_by_priority_and_filters_duplicates(frontiers: tuple[Any, Any]) -> None:
    a, b = frontiers
    assert a.enqueue_request(Request("http://x.cn/list-1"))
    assert b.enqueue_request(Request("http://x.cn/article-1", priority=10))
    assert a.enqueue_request(Request("http://x.cn/list-2"))
    assert not b.enqueue_request(Request("http://x.cn/list-1"))  # seen by the other worker
    assert len(a) == 3
    order = [b.next_request().url, a.next_request().url, b.next_request().url]
    assert order == ["http://x.cn/article-1", "http://x.cn/list-1", "http://x.cn/list-2"]
    assert a.next_request() is None and not a.has_pending_requests()
    assert not a.frontier_empty()  # three leases are out


@pytest.mark.redis
def test_leases_acks_retries_redirects_and_expiry(frontiers: tuple[Any, Any]) -> None:
    a, b = frontiers
    for path in ("done", "retried", "redirected", "lost"):
        a.enqueue_request(Request(f"http://x.cn/{path}"))
    done, retried, redirected, lost = (a.next_request() for _ in range(4))
    a.ack(done)
    # A retry has the same fingerprint: it replaces its lease by a queue entry.
    assert a.enqueue_request(retried.replace(dont_filter=True))
    # A redirect is new work that finishes the request it replaces.
    assert a.enqueue_request(redirected.replace(url="http://x.cn/moved"))
    leased = {m.decode() for m in a.client.zrange(a.keys["leases"], 0, -1)}
    assert leased == {a.fingerprint(lost)}
    assert sorted(r.url for r in (b.next_request(), b.next_request())) == [
        "http://x.cn/moved",
        "http://x.cn/retried",
    ]
    # Worker a "dies" holding `lost`: after the lease, worker b gets it back.
    deadline = time.monotonic() + 30
    again = None
    while again is None or again.url != "http://x.cn/lost":
        assert time.monotonic() < deadline, "the expired lease was never re-queued"
        again = b.next_request()
        time.sleep(0.05)
    b.ack(again)
    assert a.fingerprint(lost) not in {m.decode() for m in a.client.zrange(a.keys["leases"], 0, -1)}


@pytest.mark.redis
def test_one_seeder_and_a_finished_crawl_is_cleared_and_seeded_again(
    frontiers: tuple[Any, Any], redis_space: RedisSpace
) -> None:
    a, b = frontiers
    assert a.claim_seed() and not b.claim_seed()
    assert not b.frontier_empty()  # seeding: workers that find nothing yet must not leave
    a.seed([Request("http://x.cn/start")])
    assert not b.claim_seed()  # a live crawl is joined, not seeded again
    start = b.next_request()
    b.ack(start)
    assert a.frontier_empty()
    a.spider_idle(a.crawler.spider)  # idle exit 0: the crawl is over; the state goes
    assert redis_space.keys() == []
    assert b.claim_seed()  # tomorrow's run seeds afresh; the old duplicate filter is gone
    assert b.enqueue_request(Request("http://x.cn/start"))


@pytest.mark.redis
def test_a_request_that_keeps_killing_workers_is_given_up_and_recorded(
    frontiers: tuple[Any, Any], tmp_path: Path
) -> None:
    from scrapy import Spider

    from archive.models import Failure
    from crawler.frontier.scheduler import MAX_REQUEUES

    archive = Archive(f"sqlite:///{tmp_path / 'archive.sqlite'}")

    class Worker(Spider):
        name = "worker"

        def state(self) -> Archive:
            return archive

        def canonical(self, url: str) -> str:
            return url

    a, _ = frontiers
    a.spider = Worker()
    # The storage pipeline records what the frontier gives up, through the archive writer.
    storage = ArchiveStoragePipeline(a.crawler)
    storage.writer = ArchiveWriter(archive.url, tmp_path / "raw", deliver=lambda f, *v: f(*v))
    storage.writer.start()
    a.enqueue_request(Request("http://x.cn/poison"))
    taken = 0
    deadline = time.monotonic() + 60
    while not a.crawler.stats.get_value("wenhua/frontier_given_up"):
        assert time.monotonic() < deadline, "the request was never given up"
        if a.next_request() is not None:
            taken += 1  # and never acknowledged: its worker "dies" every time
        time.sleep(0.05)
    assert taken == MAX_REQUEUES + 1
    assert a.frontier_empty()
    storage.writer.finish()
    with archive.session() as session:
        failures = session.scalars(select(Failure)).all()
    assert [(f.url, f.kind) for f in failures] == [("http://x.cn/poison", "fetch")]
    assert "given up" in failures[0].reason
    archive.close()
