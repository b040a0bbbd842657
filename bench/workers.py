"""Pages per second with 1, 2 and 3 crawl workers sharing one Redis frontier.

For each worker count: the bench portal (bench/portal.py) serves N articles from a child
process, a fresh PostgreSQL database and a fresh Redis key prefix are made, and that many
`wenhua crawl bench-portal --no-politeness --frontier … --db …` processes crawl it into one
shared data directory. Pages = responses received by all workers together (Scrapy's
`response_received_count`, images included); time = first worker start to last worker
finish, less the idle-exit wait every worker spends after the frontier empties.

`python -m bench workers [--articles N] [--workers 1,2,3] [--no-write]`. Needs Redis
(WENHUA_BENCH_REDIS_URL, default redis://127.0.0.1:6379/0) and PostgreSQL (WENHUA_TEST_PG_URL,
default postgresql+psycopg://postgres@127.0.0.1:5432/test: its server makes the databases).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from archive.db import Archive
from archive.models import Article, CrawlRun
from bench.crawl import TIMEOUT, _site_file
from bench.portal import serving

PG_URL = os.environ.get("WENHUA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("WENHUA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
IDLE_EXIT = 2.0


@dataclass
class WorkerFigures:
    workers: int
    articles: int
    pages: int
    seconds: float

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0


@contextmanager
def fresh_database() -> Iterator[str]:
    import psycopg

    url = make_url(PG_URL)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"wenhua_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wenhua(*args: str) -> list[str]:
    return [sys.executable, "-c", "from archive.cli import main; main()", *args]


def measure(workers: int, count: int) -> WorkerFigures:
    import redis

    prefix = f"wenhua-bench-{uuid.uuid4().hex[:8]}"
    with (
        serving(count) as (base, starts),
        tempfile.TemporaryDirectory() as tmp,
        fresh_database() as db,
    ):
        sites = Path(tmp) / "sites"
        sites.mkdir()
        _site_file(sites, base, starts)
        env = {**os.environ, "WENHUA_SITES": str(sites), "WENHUA_REDIS_PREFIX": prefix}
        subprocess.run(_wenhua("db", "upgrade", "--db", db), check=True, capture_output=True)
        cmd = _wenhua(
            "crawl",
            "bench-portal",
            "--no-politeness",
            "--no-progress",
            "--data-dir",
            str(Path(tmp) / "data"),
            "--db",
            db,
            "--frontier",
            REDIS_URL,
            "--idle-exit",
            str(IDLE_EXIT),
        )
        processes = [
            subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for _ in range(workers)
        ]
        for process in processes:
            _, err = process.communicate(timeout=TIMEOUT)
            if process.returncode != 0:
                raise RuntimeError(f"a worker failed: {err.decode()[-2000:]}")
        archive = Archive(db)
        with archive.session() as session:
            runs = list(session.scalars(select(CrawlRun)))
            articles = session.scalar(select(func.count()).select_from(Article)) or 0
            pages = sum(int(r.stats.get("response_received_count", 0)) for r in runs)
            began = min(r.started_at for r in runs)
            ended = max(r.finished_at for r in runs if r.finished_at is not None)
        archive.close()
        client = redis.Redis.from_url(REDIS_URL)
        stale = list(client.scan_iter(f"{prefix}:*"))
        if stale:
            client.delete(*stale)
        client.close()
    seconds = (ended - began).total_seconds() - IDLE_EXIT
    return WorkerFigures(workers, articles, pages, seconds)


def table(rows: list[WorkerFigures]) -> str:
    lines = [
        "| workers | articles | pages (all workers) | seconds | pages/s | vs 1 worker |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    one = rows[0].pages_per_s if rows else 0.0
    for r in rows:
        ratio = f"{r.pages_per_s / one:.2f}×" if one else "-"
        lines.append(
            f"| {r.workers} | {r.articles} | {r.pages} | {r.seconds:.1f} | {r.pages_per_s:.1f} | {ratio} |"
        )
    return "\n".join(lines)
