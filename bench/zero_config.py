"""Zero-configuration crawls: what an unchanged recrawl costs, and what two workers share.

On the zero-configuration test portal (tests/zero_config_portal.py, scaled to
`--per-column` articles in each of its three columns), with no site definition:

1. `wenhua crawl --start-url URL` (the first crawl: infers DATA/sites/auto-<host>.toml);
2. the same command again, nothing changed on the portal (no article due for a revisit);
3. again with `--revisit-all` (every known article re-checked with a conditional request);
4. two workers, `--frontier redis://… --db postgresql+psycopg://…`, on a fresh archive:
   pages the portal served more than once (robots.txt aside, which each worker reads).

Bytes are the response bodies the portal sent (its own count). `python -m bench.zero_config
[--per-column N]`; prints a Markdown section for docs/benchmarks.md. Needs Redis and
PostgreSQL for part 4 (as bench/workers.py). A benchmark is not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.__main__ import commit, machine
from bench.workers import REDIS_URL, fresh_database
from tests.zero_config_portal import ZeroConfigPortal

ROOT = Path(__file__).resolve().parent.parent


def wenhua(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from archive.cli import main; main()", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def run(*args: str) -> float:
    started = time.monotonic()
    process = wenhua(*args)
    _, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(err.decode()[-2000:])
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-column", type=int, default=200)
    options = parser.parse_args()
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        ZeroConfigPortal(per_column=options.per_column) as portal,
    ):
        data = Path(tmp) / "data"
        common = ["--data-dir", str(data), "--no-politeness", "--no-progress"]
        for label, extra in (
            ("first crawl", []),
            ("unchanged recrawl", []),
            ("unchanged recrawl, `--revisit-all`", ["--revisit-all"]),
        ):
            portal.stats.reset()
            seconds = run("crawl", "--start-url", portal.start_url, *common, *extra)
            stats = portal.stats
            rows.append(
                (
                    label,
                    sum(stats.hits.values()),
                    sum(stats.not_modified.values()),
                    stats.bytes_sent,
                    seconds,
                )
            )
        articles = len(portal.allowed())
        portal.stats.reset()
        prefix = f"wenhua-bench-{uuid.uuid4().hex[:8]}"
        with fresh_database() as db:
            worker_args = [
                "crawl",
                "--start-url",
                portal.start_url,
                "--data-dir",
                str(Path(tmp) / "w"),
                "--db",
                db,
                "--frontier",
                REDIS_URL,
                "--idle-exit",
                "3",
                "--no-politeness",
                "--no-progress",
            ]
            run("db", "upgrade", "--db", db)
            workers = [wenhua(*worker_args, env={"WENHUA_REDIS_PREFIX": prefix}) for _ in range(2)]
            for worker in workers:
                _, err = worker.communicate()
                if worker.returncode != 0:
                    raise SystemExit(err.decode()[-2000:])
        hits = dict(portal.stats.hits)
        robots = hits.pop("/robots.txt", 0)
        twice = sum(count - 1 for count in hits.values() if count > 1)
    first_bytes = rows[0][3]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print("## Zero-configuration recrawls and workers (issue 15)\n")
    print(
        f"Machine: {machine()}. Date: {now}. Commit: {commit()}. "
        f"Command: `python -m bench.zero_config --per-column {options.per_column}`.\n"
    )
    print(
        f"`wenhua crawl --start-url` on the zero-configuration test portal "
        f"(tests/zero_config_portal.py: {articles} articles in three TRS-like columns, one in "
        "GBK, robots.txt; every article of the first column with an image) with no site "
        "definition. Bytes are response bodies the portal sent.\n"
    )
    print("| crawl | requests | 304 | bytes | vs first | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, requests, not_modified, sent, seconds in rows:
        print(
            f"| {label} | {requests} | {not_modified} | {sent:,} | "
            f"{sent / first_bytes:.2%} | {seconds:.1f} |"
        )
    print(
        f"\nTwo workers (`--frontier redis://…`, one PostgreSQL archive) crawling the same "
        f"portal from scratch: {sum(hits.values())} pages served, {twice} of them more than "
        f"once; robots.txt read {robots} times (once per worker).\n"
    )


if __name__ == "__main__":
    main()
