"""A crawl killed with SIGKILL leaves its run `running`; the next crawl of the site marks
it `abandoned` with the reason, knowing from the process liveness archive.locks uses that
the crawl process is gone, and `wenhua runs` says so before that (#16)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.blind_portal import BlindPortal

BOUND = 300  # seconds any step may take before the test gives up


def crawl_command(portal: BlindPortal, data: Path) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from archive.cli import main; main()",
        "crawl",
        "--start-url",
        portal.start_url,
        "--no-politeness",
        "--no-progress",
        "--data-dir",
        str(data),
    ]


def wenhua(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from archive.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
    )


def runs(data: Path) -> list[tuple[int, str, dict]]:
    with sqlite3.connect(data / "archive.sqlite") as db:
        rows = db.execute("SELECT id, status, stats FROM crawl_runs ORDER BY id").fetchall()
    return [(int(i), str(s), json.loads(stats or "{}")) for i, s, stats in rows]


def test_a_run_left_running_by_a_killed_crawl_is_marked_abandoned(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with BlindPortal() as portal:
        portal.link_stalling_article()  # holds the crawl open until released
        crawl = subprocess.Popen(
            crawl_command(portal, data),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + BOUND
            while not portal.hits.get(portal.stall.path):
                assert crawl.poll() is None, "the crawl ended before it reached the stall"
                assert time.monotonic() < deadline, "the crawl never reached the stall"
                time.sleep(0.2)
        finally:
            os.killpg(crawl.pid, signal.SIGKILL)  # the crawl and its writer child
            crawl.wait(timeout=BOUND)
        assert [status for _, status, _ in runs(data)] == ["running"]
        listed = wenhua("runs", "--data-dir", str(data))
        assert listed.returncode == 0, listed.stderr
        assert "running (process gone)" in listed.stdout, listed.stdout
        assert [status for _, status, _ in runs(data)] == ["running"]  # runs wrote nothing

        portal.release_stalls()
        again = subprocess.run(
            crawl_command(portal, data), capture_output=True, text=True, timeout=BOUND
        )
    assert again.returncode == 0, again.stderr[-3000:]
    (first, status, stats), (_, second_status, _) = runs(data)
    assert (status, second_status) == ("abandoned", "finished")
    assert str(crawl.pid) in stats["abandoned"], stats
    shown = wenhua("runs", "show", str(first), "--data-dir", str(data))
    assert shown.returncode == 0 and "abandoned" in shown.stdout, shown.stdout
