"""End-to-end crawl throughput and memory, next to the bare-download limit on the same server.

For each size, one portal process serves; the bare spider crawls it, then `wenhua crawl`
(fetch, extract, normalize, images, raw captures, database) crawls it with
--no-politeness into a fresh data directory. Rates use Scrapy's own start/finish times;
peak RSS is the crawl process's ru_maxrss.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
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

TIMEOUT = 3600


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


def _peak_rss_of(
    cmd: list[str], env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], float]:
    # Popen.communicate reaps the child, so read its peak RSS from /usr/bin/time-style wait4
    # by running it through a tiny wrapper that reports its own child's usage.
    wrapper = (
        "import os,resource,subprocess,sys,json;"
        "r=subprocess.run(sys.argv[1:]);"
        "u=resource.getrusage(resource.RUSAGE_CHILDREN);"
        "sys.stderr.write('\\nWENHUA_RSS_KB='+str(u.ru_maxrss)+'\\n');sys.exit(r.returncode)"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, *cmd],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    rss_kb = 0
    for line in result.stderr.splitlines():
        if line.startswith("WENHUA_RSS_KB="):
            rss_kb = int(line.split("=", 1)[1])
    return result, rss_kb / 1024


def measure(count: int) -> CrawlFigures:
    with serving(count) as (base, starts), tempfile.TemporaryDirectory() as tmp:
        bare = subprocess.run(
            [sys.executable, "-m", "bench.bare", base, *starts],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=True,
        )
        bare_stats = json.loads(bare.stdout.strip().splitlines()[-1])
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
        result, rss = _peak_rss_of(cmd, env)
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
        bare_pages_per_s=bare_stats["responses"] / bare_stats["seconds"],
        full_pages_per_s=pages / seconds,
        full_articles_per_s=articles / seconds,
        full_pages=pages,
        peak_rss_mb=rss,
        data_bytes=sizes,
        export_per_s=export_per_s,
    )


def _export_rate(archive: Archive) -> float:
    """Articles per second through the JSON Lines export, written to /dev/null."""
    began = time.perf_counter()
    with archive.session() as session, open(os.devnull, "w", encoding="utf-8") as sink:
        count = write_records(iter_records(session), "jsonl", sink)
    return count / (time.perf_counter() - began)
