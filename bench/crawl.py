"""End-to-end crawl throughput and memory, next to the bare-download limit on the same server.

For each size, one portal process serves; the bare spider crawls it, then `wenhua crawl`
(fetch, extract, normalize, images, raw captures, database) crawls it with
--no-politeness into a fresh data directory. Rates use Scrapy's own start/finish times;
peak RSS is the sum over the crawl process and its archive writer, sampled every 0.2 s.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from archive.db import Archive
from archive.export import iter_records, write_records
from archive.models import Article, CrawlRun
from bench.portal import serving
from crawler.sitedefs import BUNDLED_DIR

TIMEOUT = 4 * 3600  # a 300,000-article crawl on a busy 2-core machine takes hours


@dataclass
class CrawlFigures:
    articles: int
    bare_pages_per_s: float
    full_pages_per_s: float
    full_articles_per_s: float
    full_pages: int
    peak_rss_mb: float
    data_bytes: dict[str, int]
    export_per_s: float
    # The crawl process alone and its children alone (the archive writer), each at its own
    # peak: where the memory is.
    crawl_rss_mb: float = 0.0
    writer_rss_mb: float = 0.0
    seconds: float = 0.0
    # CPU seconds (user + system): the bare spider, the crawl process, its writer. On a
    # machine whose cores are shared, pages per CPU second say what wall-clock rates cannot.
    bare_pages: int = 0
    bare_cpu_s: float = 0.0
    crawl_cpu_s: float = 0.0
    writer_cpu_s: float = 0.0

    @property
    def cpu_ratio(self) -> float:
        """Bare CPU per page over the crawl process's CPU per page: the rate ratio when
        each process has a core of its own (the crawl process is the bottleneck)."""
        if not (self.bare_pages and self.full_pages and self.crawl_cpu_s):
            return 0.0
        return (self.bare_cpu_s / self.bare_pages) / (self.crawl_cpu_s / self.full_pages)

    @property
    def ratio(self) -> float:
        return self.full_pages_per_s / self.bare_pages_per_s if self.bare_pages_per_s else 0.0


def _site_file(directory: Path, base: str, starts: list[str]) -> None:
    demo = tomllib.loads((BUNDLED_DIR / "demo-culture-cloud.toml").read_text(encoding="utf-8"))
    text = (BUNDLED_DIR / "demo-culture-cloud.toml").read_text(encoding="utf-8")
    head = text.split("[[start]]", 1)[0]
    tail = "[list]" + text.split("[list]", 1)[1]
    head = head.replace('name = "demo-culture-cloud"', 'name = "bench-portal"')
    head = head.replace(f'base_url = "{demo["base_url"]}"', f'base_url = "{base}"')
    entries = "".join(f'[[start]]\nurl = "{path}"\n\n' for path in starts)
    (directory / "bench-portal.toml").write_text(head + entries + tail, encoding="utf-8")


def _tree_rss_kb(root: int) -> tuple[int, int]:
    """Resident memory of a process and of all its descendants (the crawl and its archive
    writer), from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid = int(entry.name)
        children.setdefault(int(fields.get("PPid", "0").strip() or 0), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, todo = 0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return rss.get(root, 0), total


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a live process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _children_of(pid: int) -> list[int]:
    try:
        return [
            int(child)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
    except OSError:
        return []


def _peak_rss_of(
    cmd: list[str], env: dict[str, str], cpu: dict[int, float] | None = None
) -> tuple[subprocess.CompletedProcess[str], tuple[float, float, float]]:
    """Run the crawl; its peak resident memory in MB, summed over the crawl process and
    its children (the archive writer is a process of its own), sampled every 0.2 s; then
    the peaks of the crawl process alone and of its children alone."""
    process = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak_kb = crawl_kb = writer_kb = 0
    done = threading.Event()

    # WENHUA_BENCH_RSS_LOG=FILE: the samples as they come (seconds, crawl kB, writer kB),
    # to watch a long run's memory grow or stay flat.
    log_path = os.environ.get("WENHUA_BENCH_RSS_LOG")
    began = time.monotonic()

    def sample() -> None:
        nonlocal peak_kb, crawl_kb, writer_kb
        log = open(log_path, "a", encoding="utf-8") if log_path else None  # noqa: SIM115
        while not done.wait(0.2):
            own, children = _tree_rss_kb(process.pid)
            if cpu is not None:  # the last reading of each process before it ends
                for pid in (process.pid, *_children_of(process.pid)):
                    seconds = _cpu_s(pid)
                    if seconds is not None:
                        cpu[pid] = seconds
            if log is not None:
                print(f"{time.monotonic() - began:.1f} {own} {children}", file=log, flush=True)
            peak_kb = max(peak_kb, own + children)
            crawl_kb, writer_kb = max(crawl_kb, own), max(writer_kb, children)
        if log is not None:
            log.close()

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    finally:
        done.set()
        sampler.join()
    result = subprocess.CompletedProcess(cmd, process.returncode, out, err)
    return result, (peak_kb / 1024, crawl_kb / 1024, writer_kb / 1024)


def measure(count: int, bare: bool = True) -> CrawlFigures:
    """One size: the bare spider (unless `bare` is False: memory runs) and the full crawl."""
    with serving(count) as (base, starts), tempfile.TemporaryDirectory() as tmp:
        bare_stats = {"responses": 0, "seconds": 0.0}
        bare_cpu = 0.0
        if bare:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run(
                [sys.executable, "-m", "bench.bare", base, *starts],
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=True,
            )
            bare_stats = json.loads(done.stdout.strip().splitlines()[-1])
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            bare_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        sites = Path(tmp) / "sites"
        sites.mkdir()
        _site_file(sites, base, starts)
        data = Path(tmp) / "data"
        env = {**os.environ, "WENHUA_SITES": str(sites)}
        cmd = [
            sys.executable,
            "-c",
            "from archive.cli import main; main()",
            "crawl",
            "bench-portal",
            "--no-politeness",
            "--no-progress",
            "--data-dir",
            str(data),
        ]
        cpu: dict[int, float] = {}
        result, (rss, crawl_rss, writer_rss) = _peak_rss_of(cmd, env, cpu)
        crawl_pid = next(iter(cpu), None)  # sampled first: the crawl process itself
        if result.returncode != 0:
            raise RuntimeError(f"wenhua crawl failed: {result.stderr[-2000:]}")
        archive = Archive(f"sqlite:///{data / 'archive.sqlite'}")
        with archive.session() as session:
            run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
            assert run is not None
            articles = session.scalar(select(func.count()).select_from(Article)) or 0
            stats = run.stats
            # The run row opens with the spider and closes after the last item is stored.
            assert run.finished_at is not None
            seconds = (run.finished_at - run.started_at).total_seconds()
        export_per_s = _export_rate(archive)
        archive.close()
        pages = int(stats.get("response_received_count", 0))
        sizes = {
            name: sum(p.stat().st_size for p in (data / name).rglob("*") if p.is_file())
            for name in ("images", "raw", "warc")
            if (data / name).exists()
        }
        sizes["database"] = sum(p.stat().st_size for p in data.glob("archive.sqlite*"))
    return CrawlFigures(
        articles=articles,
        bare_pages_per_s=(
            bare_stats["responses"] / bare_stats["seconds"] if bare_stats["seconds"] else 0.0
        ),
        full_pages_per_s=pages / seconds,
        full_articles_per_s=articles / seconds,
        full_pages=pages,
        peak_rss_mb=rss,
        data_bytes=sizes,
        export_per_s=export_per_s,
        crawl_rss_mb=crawl_rss,
        writer_rss_mb=writer_rss,
        seconds=seconds,
        bare_pages=int(bare_stats["responses"]),
        bare_cpu_s=bare_cpu,
        crawl_cpu_s=cpu.get(crawl_pid, 0.0) if crawl_pid is not None else 0.0,
        writer_cpu_s=sum(v for pid, v in cpu.items() if pid != crawl_pid),
    )


def _export_rate(archive: Archive) -> float:
    """Articles per second through the JSON Lines export, written to /dev/null."""
    began = time.perf_counter()
    with archive.session() as session, open(os.devnull, "w", encoding="utf-8") as sink:
        count = write_records(iter_records(session), "jsonl", sink)
    return count / (time.perf_counter() - began)
