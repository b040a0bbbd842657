"""`python -m bench all [--quick]`: run the benchmarks, print a table, write docs/benchmarks.md.

Sections: end-to-end crawl throughput next to the bare-download limit, peak memory as the
crawl grows, export throughput and archive size. (Search latency and extraction speed have
their own scripts, bench/search_bench.py and bench/extraction.py, folded in when present.)
`python -m bench workers [--articles N]`: pages/s with 1, 2 and 3 crawl workers on a Redis
frontier (bench/workers.py). `python -m bench memory [--sizes 10000,100000,300000]`: peak
memory of the full crawl (crawl process and archive writer) as the crawl grows, without
the bare spider. `python -m bench costs [--articles N]`: what one Redis-frontier worker
costs per page (CPU, memory, PostgreSQL writes, Redis operations; bench/costs.py). A benchmark is not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bench.crawl import CrawlFigures, measure

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GB RAM, {platform.platform()}, Python {platform.python_version()}"


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def crawl_table(rows: list[CrawlFigures]) -> str:
    lines = [
        "| articles | requests | bare pages/s | full pages/s | full articles/s | full / bare | peak RSS MB | export articles/s "
        "| bare CPU ms/page | crawl process CPU ms/page | writer CPU ms/page | bare / crawl CPU per page |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        bare_ms = r.bare_cpu_s / r.bare_pages * 1000 if r.bare_pages else 0.0
        crawl_ms = r.crawl_cpu_s / r.full_pages * 1000 if r.full_pages else 0.0
        writer_ms = r.writer_cpu_s / r.full_pages * 1000 if r.full_pages else 0.0
        lines.append(
            f"| {r.articles} | {r.full_pages} | {r.bare_pages_per_s:.1f} | {r.full_pages_per_s:.1f} "
            f"| {r.full_articles_per_s:.1f} | {r.ratio:.0%} | {r.peak_rss_mb:.0f} | {r.export_per_s:.0f} "
            f"| {bare_ms:.2f} | {crawl_ms:.2f} | {writer_ms:.2f} | {r.cpu_ratio:.0%} |"
        )
    return "\n".join(lines)


def size_table(rows: list[CrawlFigures]) -> str:
    lines = [
        "| articles | database MB | images MB | raw captures MB | WARC MB | total per 1,000 articles MB |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        mb = {k: v / 2**20 for k, v in r.data_bytes.items()}
        total = sum(mb.values())
        lines.append(
            f"| {r.articles} | {mb.get('database', 0):.1f} | {mb.get('images', 0):.1f} | "
            f"{mb.get('raw', 0):.1f} | {mb.get('warc', 0):.1f} | {total / r.articles * 1000:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "what", choices=["all", "crawl", "workers", "memory", "costs"], nargs="?", default="all"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, to show it still runs")
    parser.add_argument(
        "--no-write", action="store_true", help="print only; leave docs/benchmarks.md"
    )
    parser.add_argument(
        "--articles", type=int, default=2000, help="workers: portal size (default 2000)"
    )
    parser.add_argument(
        "--workers", default="1,2,3", help="workers: worker counts to compare (default 1,2,3)"
    )
    parser.add_argument(
        "--sizes",
        help="memory, crawl: portal sizes, comma-separated (memory: 10000,100000; crawl: 1000,10000)",
    )
    args = parser.parse_args()
    if args.what == "costs":
        from bench.costs import measure as costs

        print(json.dumps(costs(args.articles), indent=2))
        return
    if args.what == "memory":
        memory_benchmark([int(n) for n in (args.sizes or "10000,100000").split(",")], args.no_write)
        return
    if args.what == "workers":
        workers_benchmark(args.articles, [int(n) for n in args.workers.split(",")], args.no_write)
        return
    sizes = [200] if args.quick else [1000, 10000]
    if args.what == "crawl" and args.sizes:
        sizes = [int(n) for n in args.sizes.split(",")]
    rows = []
    for size in sizes:
        print(f"crawling a {size}-article portal …", flush=True)
        rows.append(measure(size))
    crawl = crawl_table(rows)
    sizes_md = size_table(rows)
    print(crawl)
    print(sizes_md)
    if args.no_write or args.quick:
        return
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    DOC.parent.mkdir(exist_ok=True)
    section = (
        "## Crawl throughput, memory, export, archive size\n\n"
        f"Machine: {machine()}. Date: {stamp}. Commit: {commit()}. "
        f"Command: `python -m bench {args.what}"
        + (f" --sizes {args.sizes}" if args.what == "crawl" and args.sizes else "")
        + "`.\n\n"
        "Full pipeline = `wenhua crawl --no-politeness` (fetch, extract, normalize, images, raw "
        "captures, SQLite); bare = a Scrapy spider that only downloads and follows the same "
        "links (bench/bare.py), same server, same run, same concurrency.\n\n"
        f"{crawl}\n\n{sizes_md}\n"
    )
    _write_section("## Crawl throughput, memory, export, archive size", section)


def memory_table(rows: list[CrawlFigures]) -> str:
    lines = [
        "| articles | requests | seconds | full pages/s | peak RSS MB (crawl + writer) "
        "| crawl process MB | writer process MB | vs smallest |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        growth = r.peak_rss_mb / rows[0].peak_rss_mb - 1 if rows[0].peak_rss_mb else 0.0
        lines.append(
            f"| {r.articles} | {r.full_pages} | {r.seconds:.0f} | {r.full_pages_per_s:.1f} "
            f"| {r.peak_rss_mb:.0f} | {r.crawl_rss_mb:.0f} | {r.writer_rss_mb:.0f} | {growth:+.1%} |"
        )
    return "\n".join(lines)


def memory_benchmark(sizes: list[int], no_write: bool) -> None:
    """`python -m bench memory`: peak RSS of the full crawl as it grows."""
    rows = []
    for size in sizes:
        print(f"crawling a {size}-article portal (full pipeline only) …", flush=True)
        rows.append(measure(size, bare=False))
        print(memory_table(rows), flush=True)
    result = memory_table(rows)
    if no_write:
        return
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    marker = "## Crawl memory as the crawl grows (issue 20)"
    section = (
        f"{marker}\n\n"
        f"Machine: {machine()}. Date: {stamp}. Commit: {commit()}. "
        f"Command: `python -m bench memory --sizes {','.join(map(str, sizes))}`.\n\n"
        "`wenhua crawl bench-portal --no-politeness` into a fresh SQLite archive; peak "
        "resident memory sampled from /proc every 0.2 s, summed over the crawl process and "
        "its archive writer (the two other columns are each process at its own peak).\n\n"
        f"{result}\n"
    )
    _write_section(marker, section)


def workers_benchmark(articles: int, counts: list[int], no_write: bool) -> None:
    """`python -m bench workers`: pages/s with N workers on a Redis frontier (#8)."""
    from bench.workers import IDLE_EXIT, measure, table

    rows = []
    for count in counts:
        print(f"{count} worker(s) crawling a {articles}-article portal …", flush=True)
        rows.append(measure(count, articles))
    result = table(rows)
    print(result)
    if no_write:
        return
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    marker = "## Crawl workers on a Redis frontier (issue 8)"
    section = (
        f"{marker}\n\n"
        f"Machine: {machine()}. Date: {stamp}. Commit: {commit()}. "
        f"Command: `python -m bench workers --articles {articles}`.\n\n"
        "N `wenhua crawl bench-portal --no-politeness --frontier redis://… --db postgresql+psycopg://…` "
        "processes share one crawl of the bench portal (its own process) into one fresh "
        "PostgreSQL database and one data directory. Pages are responses received by all "
        "workers together (lists, articles, images); seconds run from the first worker's start "
        f"to the last one's finish, less the {IDLE_EXIT:g} s idle exit. The workers, the portal, "
        "Redis and PostgreSQL share the machine's cores, so the gain from more workers is "
        "bounded by them.\n\n"
        f"{result}\n"
    )
    _write_section(marker, section)


def _write_section(marker: str, section: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if marker in text:
        before, rest = text.split(marker, 1)
        after = rest.split("\n## ", 1)
        text = before + section + ("\n## " + after[1] if len(after) > 1 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
