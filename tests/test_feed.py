"""The incremental export feed: cursors miss nothing and repeat nothing, also mid-crawl."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from archive.db import Archive
from archive.feed import CursorError, iter_feed, parse_cursor, window_upper
from archive.models import ArticleChange
from tests.feed_helpers import mark_gone, put, site_id

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 600


def wenhua(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-c", "from archive.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=REPO,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"wenhua {' '.join(args)} failed:\n{result.stderr}")
    return result


def page(archive: Archive, since: int, **kw: Any) -> tuple[int, list[dict[str, Any]]]:
    with archive.session() as session:
        upper = window_upper(session, since, kw.pop("limit", None))
        return upper, list(iter_feed(session, since, upper, **kw))


def test_cursor_pages_report_new_changed_and_gone_once(db_url: str) -> None:
    archive = Archive(db_url)
    with archive.session() as s:
        put(s, "http://t.local/a", "文化甲")
        put(s, "http://t.local/b", "文化乙", district="古冶区")
    first, rows = page(archive, 0)
    assert [(r["url"], r["change"], r["version_number"]) for r in rows] == [
        ("http://t.local/a", "new", 1),
        ("http://t.local/b", "new", 1),
    ]
    # Nothing happened: an empty page, same cursor.
    assert page(archive, first) == (first, [])
    with archive.session() as s:
        assert put(s, "http://t.local/a", "文化甲") == "unchanged"
        assert put(s, "http://t.local/a", "文化甲改") == "changed"
        put(s, "http://t.local/a", "文化甲再改")
        mark_gone(s, "http://t.local/b")
        put(s, "http://t.local/c", "文化丙")
    second, rows = page(archive, first)
    assert [(r["url"], r["change"]) for r in rows] == [
        ("http://t.local/a", "changed"),
        ("http://t.local/b", "gone"),
        ("http://t.local/c", "new"),
    ]
    a = rows[0]
    assert a["body_text"] == "文化甲再改" and a["version_number"] == 3
    assert rows[1]["gone_at"] is not None
    # One row per version with --all-versions; filters narrow the feed.
    _, versions = page(archive, first, all_versions=True)
    assert [(r["url"], r["version_number"]) for r in versions] == [
        ("http://t.local/a", 2),
        ("http://t.local/a", 3),
        ("http://t.local/b", 1),
        ("http://t.local/c", 1),
    ]
    _, gu = page(archive, 0, district="古冶区")
    assert [r["url"] for r in gu] == ["http://t.local/b"]
    _, none = page(archive, 0, site="other-site")
    assert none == []
    # The article comes back unchanged: that is a change too.
    with archive.session() as s:
        put(s, "http://t.local/b", "文化乙", district="古冶区")
    _, rows = page(archive, second)
    assert [(r["url"], r["change"], r["gone_at"]) for r in rows] == [
        ("http://t.local/b", "restored", None)
    ]
    # Pages of at most 2 changes chain up to every version, each once.
    since, chained = 0, []
    while True:
        upper, limited = page(archive, since, limit=2, all_versions=True)
        if upper == since:
            break
        assert len(limited) <= 2
        chained += [r["change_id"] for r in limited]
        since = upper
    _, every = page(archive, 0, all_versions=True)
    assert chained == [r["change_id"] for r in every]
    archive.close()


@pytest.mark.parametrize("bad", ["x", "c", "c-1", "12", "c1 2"])
def test_bad_cursor_is_refused(bad: str) -> None:
    with pytest.raises(CursorError):
        parse_cursor(bad)


def test_export_cli_prints_next_cursor_last(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    archive = Archive(url)
    with archive.session() as s:
        put(s, "http://t.local/a", "文化甲")
        put(s, "http://t.local/b", "文化乙")
    full = wenhua("export", "--db", url, "--data-dir", str(tmp_path))
    cursor = full.stderr.strip().splitlines()[-1].removeprefix("next cursor: ")
    assert len(full.stdout.splitlines()) == 2
    with archive.session() as s:
        put(s, "http://t.local/b", "文化乙改")
    out = tmp_path / "since.csv"
    since = wenhua("export", "--db", url, "--since", cursor, "--format", "csv", "--out", str(out))
    assert since.stderr.strip().splitlines()[-1].startswith("next cursor: c")
    text = out.read_text(encoding="utf-8")
    assert "http://t.local/b" in text and "http://t.local/a" not in text
    bad = wenhua("export", "--db", url, "--since", "yesterday", check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("wenhua: error: --since 'yesterday'")
    archive.close()


WRITER = """
import sys
from pathlib import Path
from archive.db import Archive
from tests.feed_helpers import mark_gone, put

db_url, prefix, stop = sys.argv[1], sys.argv[2], Path(sys.argv[3])
archive = Archive(db_url, migrate=False)
i = 0
while i < 40 or not stop.exists():
    with archive.session() as s:
        put(s, f"http://t.local/{prefix}/{i}", f"{prefix} 文化 {i}")
    if i % 3 == 2:
        with archive.session() as s:
            put(s, f"http://t.local/{prefix}/{i - 1}", f"{prefix} 文化 {i - 1} 改")
    if i % 5 == 4:
        with archive.session() as s:
            mark_gone(s, f"http://t.local/{prefix}/{i - 2}")
    i += 1
    if i > 5000:
        break
archive.close()
"""


def test_since_pages_while_writers_append(db_url: str, tmp_path: Path) -> None:
    """Two writers append concurrently; a reader follows the cursor. Union == the log."""
    archive = Archive(db_url)
    with archive.session() as s:
        site_id(s)  # before the writers, which would race to create it
    stop = tmp_path / "stop"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, db_url, prefix, str(stop)],
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        for prefix in ("w1", "w2")
    ]
    pages: list[tuple[int, int, list[dict[str, Any]]]] = []
    since = 0
    try:
        # Read while the writers run (they only stop when told) until 8 pages had changes.
        while sum(1 for _, _, rows in pages if rows) < 8:
            assert all(w.poll() is None for w in writers), "a writer died"
            upper, rows = page(archive, since)
            pages.append((since, upper, rows))
            since = upper
    finally:
        stop.touch()
        for writer in writers:
            _, err = writer.communicate(timeout=TIMEOUT)
            assert writer.returncode == 0, err
    upper, rows = page(archive, since)
    pages.append((since, upper, rows))

    with archive.session() as s:
        log = [(c.id, c.article_id) for c in s.scalars(select(ArticleChange))]
    exported = [(r["change_id"], r["id"]) for _, _, rows in pages for r in rows]
    assert len(exported) == len(set(exported)), "a change was exported twice"
    assert len({cid for cid, _ in exported}) == len(exported)
    for change_id, article_id in log:  # nothing missed: each change is in its window's page
        window = next(rows for lo, hi, rows in pages if lo < change_id <= hi)
        assert any(r["id"] == article_id and r["change_id"] >= change_id for r in window), change_id
    # --all-versions from the start is exactly the log, in order.
    _, everything = page(archive, 0, all_versions=True)
    assert [(r["change_id"], r["id"]) for r in everything] == sorted(log)
    archive.close()


def test_export_since_cli_matches_feed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    archive = Archive(url)
    with archive.session() as s:
        for i in range(3):
            put(s, f"http://t.local/{i}", f"文化 {i}")
    result = wenhua("export", "--db", url, "--since", "c1", "--format", "json")
    rows = json.loads(result.stdout)
    assert [r["url"] for r in rows] == ["http://t.local/1", "http://t.local/2"]
    assert result.stderr.strip().splitlines()[-1] == "next cursor: c3"
    archive.close()
