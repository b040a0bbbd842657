"""What one crawl worker costs per page: CPU, memory, PostgreSQL writes, Redis operations.

One `wenhua crawl bench-portal --no-politeness --frontier redis://… --db postgresql+psycopg://…`
worker crawls the bench portal (bench/portal.py) into a fresh PostgreSQL database, with
its frontier on a private `redis-server` started for the run (append-only file on,
`appendfsync everysec`), so the counters see this crawl only:

- CPU: user + system seconds of the crawl process, of its archive writer and of the
  PostgreSQL server processes serving the crawl's database (the server is local), from /proc;
- memory: peak RSS of each, and Redis' peak `used_memory`;
- PostgreSQL: `pg_stat_database` deltas of the fresh database (commits, rows inserted,
  updated, deleted), its size, and the most connections it had at once;
- Redis: `INFO commandstats` (calls per command, Lua scripts' inner commands included),
  the append-only file's size.

`python -m bench costs [--articles N]` prints the figures as JSON, per page and in total
(docs/scaling.md extrapolates from them). Needs `redis-server` on PATH and PostgreSQL
(WENHUA_TEST_PG_URL).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from archive.db import Archive
from archive.models import CrawlRun
from bench.crawl import TIMEOUT, _site_file
from bench.portal import serving
from bench.workers import IDLE_EXIT, _wenhua, fresh_database

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def private_redis(directory: Path) -> Iterator[tuple[str, Any]]:
    """A redis-server of our own (AOF on, no RDB snapshots), stopped afterwards."""
    import redis

    port = _free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(directory),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0", client
    finally:
        client.close()
        server.terminate()
        server.wait(10)


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        return [int(c) for t in tasks for c in (t / "children").read_text().split()]
    except OSError:
        return []


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


PG_COUNTERS = ("xact_commit", "xact_rollback", "tup_inserted", "tup_updated", "tup_deleted")


def _pg_stats(admin: str, name: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            f"SELECT {', '.join(PG_COUNTERS)}, pg_database_size(datname) "
            "FROM pg_stat_database WHERE datname = %s",
            (name,),
        ).fetchone()
    assert row is not None
    return {**dict(zip(PG_COUNTERS, row[:-1], strict=True)), "size": int(row[-1])}


def measure(count: int) -> dict[str, Any]:
    import psycopg

    with (
        serving(count) as (base, starts),
        tempfile.TemporaryDirectory() as tmp,
        fresh_database() as db,
        private_redis(Path(tmp)) as (redis_url, client),
    ):
        sites = Path(tmp) / "sites"
        sites.mkdir()
        _site_file(sites, base, starts)
        env = {**os.environ, "WENHUA_SITES": str(sites)}
        subprocess.run(_wenhua("db", "upgrade", "--db", db), check=True, capture_output=True)
        url = make_url(db)
        name = str(url.database)
        admin = url.set(drivername="postgresql", database="postgres").render_as_string(
            hide_password=False
        )
        before = _pg_stats(admin, name)
        client.config_resetstat()
        redis_base = int(client.info("memory")["used_memory"])
        cmd = _wenhua(
            "crawl",
            "bench-portal",
            "--no-politeness",
            "--no-progress",
            "--data-dir",
            str(Path(tmp) / "data"),
            "--frontier",
            redis_url,
            "--idle-exit",
            str(IDLE_EXIT),
            "--db",
            db,
        )
        process = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        cpu: dict[int, float] = {}
        backend_cpu: dict[int, float] = {}  # PostgreSQL server processes serving this crawl
        peak = {"crawl": 0, "writer": 0, "redis": 0, "connections": 0}
        done = threading.Event()

        def sample() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                while not done.wait(0.2):
                    kids = _children(process.pid)
                    for pid in [process.pid, *kids]:
                        seconds = _cpu_seconds(pid)
                        if seconds is not None:
                            cpu[pid] = seconds
                    peak["crawl"] = max(peak["crawl"], _rss_kb(process.pid))
                    peak["writer"] = max(peak["writer"], sum(_rss_kb(k) for k in kids))
                    peak["redis"] = max(peak["redis"], int(client.info("memory")["used_memory"]))
                    backends = [
                        int(r[0])
                        for r in conn.execute(
                            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,)
                        )
                    ]
                    peak["connections"] = max(peak["connections"], len(backends))
                    for pid in backends:  # the server runs on this machine
                        seconds = _cpu_seconds(pid)
                        if seconds is not None:
                            backend_cpu[pid] = seconds

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            _, err = process.communicate(timeout=TIMEOUT)
        finally:
            done.set()
            sampler.join()
        if process.returncode != 0:
            raise RuntimeError(f"wenhua crawl failed: {err[-2000:]}")
        time.sleep(1.5)  # backends report their counters at most once a second
        after = _pg_stats(admin, name)
        commandstats = client.info("commandstats")
        aof = int(client.info("persistence").get("aof_current_size", 0))
        archive = Archive(db, migrate=False)
        with archive.session() as session:
            run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
            assert run is not None and run.finished_at is not None
            stats = dict(run.stats)
            seconds = (run.finished_at - run.started_at).total_seconds()
        archive.close()
    pages = int(stats.get("response_received_count", 0))
    articles = int(stats.get("wenhua/articles_new", 0))
    crawl_cpu = cpu.get(process.pid, 0.0)
    pg_cpu = sum(backend_cpu.values())
    writer_cpu = sum(v for pid, v in cpu.items() if pid != process.pid)
    redis_calls = {
        name.removeprefix("cmdstat_"): int(values["calls"])
        for name, values in commandstats.items()
        if name not in ("cmdstat_config", "cmdstat_info", "cmdstat_ping")
    }
    pg = {key: after[key] - before[key] for key in PG_COUNTERS}
    total_redis = sum(redis_calls.values())
    return {
        "articles": articles,
        "pages": pages,
        "seconds": round(seconds, 1),
        "pages_per_s": round(pages / seconds, 1) if seconds else 0.0,
        "cpu_s": {"crawl": crawl_cpu, "writer": writer_cpu, "postgresql": pg_cpu},
        "cpu_ms_per_page": {
            "crawl": round(crawl_cpu / pages * 1000, 2),
            "writer": round(writer_cpu / pages * 1000, 2),
            "postgresql": round(pg_cpu / pages * 1000, 2),
        },
        "peak_rss_mb": {k: round(peak[k] / 1024, 1) for k in ("crawl", "writer")},
        "redis": {
            "calls": redis_calls,
            "calls_per_page": round(total_redis / pages, 2),
            "peak_used_memory_mb": round(peak["redis"] / 2**20, 2),
            "used_memory_before_mb": round(redis_base / 2**20, 2),
            "peak_bytes_per_page": round((peak["redis"] - redis_base) / pages, 1),
            "aof_bytes": aof,
            "aof_bytes_per_page": round(aof / pages, 1),
        },
        "postgresql": {
            **pg,
            "per_page": {k: round(v / pages, 3) for k, v in pg.items()},
            "database_bytes": after["size"],
            "bytes_per_article": round((after["size"] - before["size"]) / max(articles, 1)),
            "peak_connections": peak["connections"],
        },
    }


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench costs")
    parser.add_argument("--articles", type=int, default=3000)
    args = parser.parse_args()
    print(json.dumps(measure(args.articles), indent=2))


if __name__ == "__main__":
    main()
