"""Live progress and the final summary of a crawl of several sites in one process (#7): a
real `wenhua crawl` of two demo sites (subprocess, loopback demo portal), its stderr read
as a pipe and as a terminal, compared with the crawl runs it stored."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select

from archive.db import Archive
from archive.models import CrawlRun
from archive.runs import COUNT_KEYS
from crawler.demo_portal import DemoPortal, build_corpus
from crawler.demo_portal.corpus import SITE_HANWEB, SITE_TRS
from crawler.demo_portal.server import Faults

TIMEOUT = 600
REPO = Path(__file__).resolve().parent.parent
SITES = (SITE_TRS, SITE_HANWEB)
FIGURES = (
    r"pages (\d+), articles new (\d+) changed (\d+) unchanged (\d+) gone (\d+), "
    r"images downloaded (\d+), failures (\d+)"
)
LIVE = re.compile(
    r"crawl: (\d+) of (\d+) sites done, (\d+) pages \(\d+\.\d/s\), "
    r"articles new (\d+) changed (\d+) unchanged (\d+), failures (\d+), \d+s"
)
HEAD = re.compile(r"crawl finished: (\d+) sites in \d+\.\ds")
SITE_LINE = re.compile(rf"  (\S+) +{FIGURES}, (\S+)")
TOTAL_LINE = re.compile(rf"  total +{FIGURES} \(\d+\.\d pages/s\)")


def command(portal: DemoPortal, data: Path) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from archive.cli import main; main()",
        "crawl",
        *SITES,
        "--serve-at",
        portal.base_url,
        "--no-politeness",
        "--data-dir",
        str(data),
    ]


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WENHUA_DATA", "WENHUA_DB")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return env


def stored_counts(data: Path) -> dict[str, tuple[tuple[int, ...], str]]:
    """Site -> (run counts in COUNT_KEYS order, run status), from crawl_runs."""
    archive = Archive(f"sqlite:///{data / 'archive.sqlite'}")
    with archive.session() as session:
        runs = session.scalars(select(CrawlRun)).all()
        found = {
            run.sites["names"][0]: (
                tuple(int(run.stats["counts"][key]) for key in COUNT_KEYS),
                run.status,
            )
            for run in runs
        }
    archive.close()
    return found


def test_one_live_line_and_a_summary_matching_the_stored_runs(tmp_path: Path) -> None:
    trs = [a for a in build_corpus() if a.site == SITE_TRS]
    with DemoPortal(faults=Faults(redirect_loop={trs[0].path})) as portal:
        result = subprocess.run(
            command(portal, tmp_path),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
            env=environment(),
        )
    assert result.returncode == 0, result.stderr[-3000:]
    stored = stored_counts(tmp_path)
    assert set(stored) == set(SITES)
    assert stored[SITE_TRS][0][COUNT_KEYS.index("failures")] == 1  # the redirect loop

    lines = result.stderr.splitlines()
    head = next(i for i, line in enumerate(lines) if HEAD.fullmatch(line))
    live, summary = lines[:head], lines[head:]
    # Every line before the summary is the one aggregated line: no per-spider lines, no logs.
    matches = [LIVE.fullmatch(line) for line in live]
    assert live and all(matches), live
    figures = [tuple(int(g) for g in m.groups()) for m in matches if m]
    assert {f[1] for f in figures} == {2}
    for earlier, later in itertools.pairwise(figures):
        assert all(b >= a for a, b in zip(earlier, later, strict=True))  # totals only grow
    # When the first site finishes the line says so, and its totals include that site's.
    done = [f for f in figures if f[0] == 1]
    assert done
    assert any(done[0][2] >= counts[0] and done[0][3] >= counts[1] for counts, _ in stored.values())

    assert summary[0].startswith("crawl finished: 2 sites in ")
    per_site: dict[str, tuple[tuple[int, ...], str]] = {}
    for line in summary[1:3]:
        match = SITE_LINE.fullmatch(line)
        assert match, line
        groups = match.groups()
        per_site[groups[0]] = (tuple(int(g) for g in groups[1:8]), groups[8])
    assert per_site == stored
    total = TOTAL_LINE.fullmatch(summary[3])
    assert total, summary[3]
    sums = tuple(sum(counts[i] for counts, _ in stored.values()) for i in range(len(COUNT_KEYS)))
    assert tuple(int(g) for g in total.groups()) == sums
    assert len(summary) == 4

    # Scrapy's log went to DATA/logs/, not to the terminal.
    logs = list((tmp_path / "logs").glob("crawl-*.log"))
    assert len(logs) == 1
    log = logs[0].read_text(encoding="utf-8")
    assert "Spider closed (finished)" in log and "[scrapy.core.engine]" in log
    assert "[scrapy" not in result.stderr


def read_all(fd: int, into: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the terminal's other side closed
            return
        if not chunk:
            return
        into.append(chunk)


def test_on_a_terminal_the_live_line_is_rewritten_in_place(tmp_path: Path) -> None:
    import pty

    master, slave = pty.openpty()
    chunks: list[bytes] = []
    reader = threading.Thread(target=read_all, args=(master, chunks), daemon=True)
    reader.start()
    try:
        with DemoPortal() as portal:
            process = subprocess.Popen(
                command(portal, tmp_path),
                stdout=subprocess.DEVNULL,
                stderr=slave,
                env=environment(),
            )
            os.close(slave)
            assert process.wait(timeout=TIMEOUT) == 0
        reader.join(timeout=60)
    finally:
        os.close(master)
    # The terminal turns each '\n' into '\r\n'; undo that to see what the program wrote.
    text = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    live, _, summary = text.partition("crawl finished: 2 sites")
    assert live.startswith("\rcrawl: ") and live.endswith("\n")
    assert live.count("\n") == 1  # one line, rewritten by '\r', ended once
    assert all(LIVE.fullmatch(part.rstrip(" \n")) for part in live.split("\r")[1:])
    stored: dict[str, Any] = stored_counts(tmp_path)
    assert sorted(line.split()[0] for line in summary.splitlines()[1:3]) == sorted(stored)
