"""Zero-configuration crawls are crawls like any other: `wenhua crawl --start-url` on a portal
no definition describes (tests/zero_config_portal.py) infers a definition, keeps it in the
data directory, and every later crawl of it is incremental — conditional requests, new
versions for edits, withdrawals marked gone and reported by the feed, SIGKILL resume, Redis
workers, and the field coverage that tells when a template changed under its definition."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from archive.config import resolve
from archive.db import Archive
from archive.web.app import create_app
from crawler.extract.discovery import auto_definition
from crawler.sitedefs import SiteDefinitionError, load_site_file
from tests.archive_checks import records_by_url
from tests.test_scale_out import RedisSpace, redis_space  # noqa: F401 (fixture)
from tests.zero_config_portal import FORBIDDEN, SPECIAL, ZeroConfigPortal

ROOT = Path(__file__).resolve().parent.parent
SITE = "auto-127.0.0.1"
TIMEOUT = 600


def wenhua(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from archive.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=False,
    )


def crawl(data: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    result = wenhua("crawl", *args, "--data-dir", data, "--no-politeness", "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def cursor(data: Path) -> str:
    """The feed's cursor now: the last stderr line of an export."""
    result = wenhua("export", "--data-dir", data, "--format", "jsonl", "--out", data / "x.jsonl")
    assert result.returncode == 0, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("next cursor: "), result.stderr
    return last.removeprefix("next cursor: ")


def feed(data: Path, since: str) -> list[dict[str, Any]]:
    out = data / "feed.jsonl"
    result = wenhua("export", "--data-dir", data, "--since", since, "--out", out)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in out.read_text("utf-8").splitlines() if line]


def api_changes(data: Path, since: str) -> set[tuple[str, str]]:
    """What the HTTP API's feed (`/api/changes`) lists since a cursor."""
    archive = Archive(f"sqlite:///{data / 'archive.sqlite'}")
    try:
        with TestClient(create_app(resolve(data, None), archive)) as client:
            page = client.get("/api/changes", params={"since": since}).json()
    finally:
        archive.close()
    assert page["has_more"] is False
    return {(item["url"], item["change"]) for item in page["items"]}


def rows(data: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(data / "archive.sqlite") as db:
        return db.execute(query).fetchall()


def versions_per_url(data: Path) -> dict[str, int]:
    return dict(
        rows(
            data,
            "SELECT a.url, count(v.id) FROM articles a "
            "JOIN article_versions v ON v.article_id = a.id GROUP BY a.url",
        )
    )


def assert_clean_logs(data: Path) -> None:
    for log in (data / "logs").glob("*.log"):
        text = log.read_text("utf-8", errors="replace")
        assert "AttributeError" not in text and "Traceback" not in text, log


@pytest.mark.slow
def test_a_portal_with_no_definition_is_archived_and_recrawled_incrementally(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with ZeroConfigPortal() as portal:
        base = portal.base_url
        first = crawl(data, "--start-url", portal.start_url)
        definition = data / "sites" / f"{SITE}.toml"
        assert definition.is_file(), first.stderr
        assert str(definition) in first.stderr
        first_bytes = portal.stats.bytes_sent

        # Every article, with the fields the page prints, in the GBK column too.
        expected = {base + a.path: a for a in portal.allowed()}
        archive = Archive(f"sqlite:///{data / 'archive.sqlite'}")
        try:
            records = records_by_url(archive)
        finally:
            archive.close()
        assert sorted(records) == sorted(expected)
        for url, article in expected.items():
            record = records[url]
            assert record["title"] == article.title, url
            assert record["published_at"][:16] == article.published_text.replace(" ", "T"), url
            assert (record["source"], record["editor"]) == (article.source, article.editor), url
            assert record["body_text"].startswith(article.body[:20]), url
            assert record["site"] == SITE
        assert base + SPECIAL in records  # a page of no known URL shape, read as an article
        assert portal.stats.hits[FORBIDDEN] == 0  # robots.txt obeyed
        since_first = cursor(data)

        # Between the crawls: an edit (in the GBK column), a withdrawal, an addition.
        edited = portal.live("tzgg")[1]
        withdrawn = portal.live("whhd")[2]
        portal.edit(edited.path)
        portal.withdraw(withdrawn.path)
        added = portal.add("xwdt")
        portal.stats.reset()

        # The same command again reuses the definition and is incremental.
        second = crawl(data, "--start-url", portal.start_url, "--revisit-all")
        assert "inferred" not in second.stderr
        known = {a.removeprefix(base) for a in expected}
        assert dict(portal.stats.conditional) == dict.fromkeys(known, 1)
        assert portal.stats.hits[added.path] == 1
        assert versions_per_url(data) == {
            **dict.fromkeys(expected, 1),
            base + edited.path: 2,
            base + added.path: 1,
        }
        gone = rows(data, "SELECT url FROM articles WHERE gone_at IS NOT NULL")
        assert gone == [(base + withdrawn.path,)]
        changes = {(item["url"], item["change"]) for item in feed(data, since_first)}
        assert changes == {
            (base + added.path, "new"),
            (base + edited.path, "changed"),
            (base + withdrawn.path, "gone"),
        }
        assert api_changes(data, since_first) == changes
        since_second = cursor(data)

        # By its name, on its revisit schedule (edited in the definition, as a user would).
        text = definition.read_text("utf-8")
        assert "revisit_days = 7" in text
        definition.write_text(text.replace("revisit_days = 7", "revisit_days = 0"), "utf-8")
        portal.stats.reset()
        crawl(data, SITE)
        live = {a.path for a in portal.live()}
        assert set(portal.stats.conditional) == live | {withdrawn.path}
        assert dict(portal.stats.not_modified) == dict.fromkeys(live, 1)
        assert feed(data, since_second) == []
        # Lists are read until one lists no unknown article: no further page of any column.
        assert [path for path in portal.stats.hits if "/index_" in path] == []
        # Nothing changed: no article page was sent in full.
        assert portal.stats.bytes_sent < first_bytes / 3

        listed = wenhua("sites", "list", "--data-dir", data, "--format", "json")
        assert listed.returncode == 0, listed.stderr
        status = next(row for row in json.loads(listed.stdout) if row["site"] == SITE)
        assert (status["runs"], status["gone"], status["articles"]) == (3, 1, len(live))
        assert status["drift"] == []
        check = wenhua("sites", "check", SITE, "--data-dir", data)
        assert check.returncode == 0, check.stdout + check.stderr
    runs = rows(data, "SELECT status, stats FROM crawl_runs ORDER BY id")
    assert [status for status, _ in runs] == ["finished"] * 3
    assert json.loads(runs[0][1])["coverage"]["fields"]["title"] == 1.0
    assert_clean_logs(data)


def _stored(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as con:
        try:
            return int(con.execute("SELECT count(*) FROM articles").fetchone()[0])
        except sqlite3.OperationalError:  # schema not created yet
            return 0


@pytest.mark.slow
def test_a_sigkilled_zero_config_crawl_resumes_to_a_complete_archive(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = data / "archive.sqlite"
    with ZeroConfigPortal(delay=0.3) as portal:
        # Polite (two requests at a time, with a delay), so it can be killed halfway.
        command = [
            sys.executable,
            "-c",
            "from archive.cli import main; main()",
            "crawl",
            "--start-url",
            portal.start_url,
            "--data-dir",
            str(data),
            "--no-progress",
        ]
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + TIMEOUT
            while _stored(db) < 4 and process.poll() is None:
                assert time.monotonic() < deadline, "the crawl stored nothing in time"
                time.sleep(0.05)
            assert process.poll() is None, "the crawl finished before it could be killed"
            os.kill(process.pid, signal.SIGKILL)
        finally:
            process.kill()
            process.wait(timeout=60)
        assert 4 <= _stored(db) < len(portal.allowed())
        crawl(data, "--start-url", portal.start_url)
        expected = {portal.base_url + a.path for a in portal.allowed()}
    runs = rows(data, "SELECT stats FROM crawl_runs ORDER BY id")
    assert json.loads(runs[-1][0]).get("wenhua/frontier_resumed", 0) > 0
    assert versions_per_url(data) == dict.fromkeys(expected, 1)
    assert rows(data, "SELECT count(*) FROM frontier WHERE state = 'pending'") == [(0,)]


@pytest.mark.slow
def test_a_definition_change_that_breaks_the_body_shows_as_template_drift(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    # A portal that ignores conditional requests: every article is extracted again.
    with ZeroConfigPortal(conditional=False) as portal:
        crawl(data, "--start-url", portal.start_url)
        definition = data / "sites" / f"{SITE}.toml"
        # The body container the definition names is now the empty share box.
        text = definition.read_text("utf-8").replace(
            "[fields]\n", '[fields]\nbody = ["div.share"]\n'
        )
        definition.write_text(text, "utf-8")
        second = crawl(data, SITE, "--revisit-all")
        listed = wenhua("sites", "list", "--data-dir", data)
    assert "template drift on auto-127.0.0.1: body_text in 0%" in second.stdout, second.stdout
    assert listed.returncode == 0
    lines = listed.stdout.split(SITE, 1)[1].splitlines()[1:]
    block = "\n".join(line for line in lines[: _block_end(lines)])
    assert "warning: template drift" in block and "body_text" in block, listed.stdout
    last = json.loads(rows(data, "SELECT stats FROM crawl_runs ORDER BY id DESC")[0][0])
    # The images were in the body too.
    assert {w["field"] for w in last["drift"]} == {"body_text", "images"}
    last["drift"] = [w for w in last["drift"] if w["field"] == "body_text"]
    assert last["drift"][0]["before"] == 1.0 and last["drift"][0]["coverage"] == 0.0
    shown = wenhua("runs", "show", "2", "--data-dir", data, "--format", "json")
    assert "body_text" in {w["field"] for w in json.loads(shown.stdout)["drift"]}
    text = wenhua("runs", "show", "2", "--data-dir", data).stdout
    assert "body_text=0%" in text and "warning  template drift on auto-127.0.0.1" in text, text


def _block_end(lines: list[str]) -> int:
    """The lines of one site in `sites list`: indented, up to the next site's line."""
    return next((i for i, line in enumerate(lines) if not line.startswith(" ")), len(lines))


@pytest.mark.redis
@pytest.mark.pg
@pytest.mark.slow
def test_two_redis_workers_share_a_zero_config_crawl_and_fetch_each_page_once(
    tmp_path: Path,
    pg_url: str,
    redis_space: RedisSpace,  # noqa: F811 (fixture)
) -> None:
    data = tmp_path / "data"
    with ZeroConfigPortal() as portal:
        command = [
            sys.executable,
            "-c",
            "from archive.cli import main; main()",
            "crawl",
            "--start-url",
            portal.start_url,
            "--data-dir",
            str(data),
            "--db",
            pg_url,
            "--frontier",
            redis_space.url,
            "--idle-exit",
            "3",
            "--no-politeness",
            "--no-progress",
        ]
        env = {**os.environ, "WENHUA_REDIS_PREFIX": redis_space.prefix}
        subprocess.run(
            [*command[:3], "db", "upgrade", "--db", pg_url], check=True, capture_output=True
        )
        workers = [
            subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for _ in range(2)
        ]
        for worker in workers:
            _, err = worker.communicate(timeout=TIMEOUT)
            assert worker.returncode == 0, err.decode()[-3000:]
        hits = dict(portal.stats.hits)
        expected = {portal.base_url + a.path for a in portal.allowed()}
    assert hits.pop("/robots.txt") <= 2  # each worker reads it once
    assert hits and all(count == 1 for count in hits.values()), hits
    archive = Archive(pg_url)
    try:
        records = records_by_url(archive)
    finally:
        archive.close()
    assert sorted(records) == sorted(expected)
    assert redis_space.keys() == []


def test_a_start_url_on_another_origin_of_a_saved_host_is_a_one_line_error(
    tmp_path: Path,
) -> None:
    saved = tmp_path / "sites" / "auto-portal.example.toml"
    saved.parent.mkdir()
    saved.write_text(auto_definition("http://portal.example:8080/wlj/index.html"), "utf-8")
    result = wenhua(
        "crawl", "--start-url", "http://portal.example:9090/wlj/index.html", "--data-dir", tmp_path
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wenhua: error: auto-portal.example"), lines
    assert "http://portal.example:8080" in lines[0] and str(saved) in lines[0]
    alone = wenhua("crawl", "demo-trs-lubei", "--allow-domain", "x.cn", "--data-dir", tmp_path)
    assert alone.returncode == 2 and "--allow-domain goes with --start-url" in alone.stderr


@pytest.mark.parametrize(
    ("line", "key", "problem"),
    [
        ('scope = "wlj/"', "list.scope", "is not a path"),
        ('allow_domains = ["http://x.cn/"]', "list.allow_domains", "host names"),
        ("follow_unknown = 1", "list.follow_unknown", "true or false"),
        ('list_url_patterns = ["(["]', "list.list_url_patterns", "regular expression"),
    ],
)
def test_link_discovery_keys_are_validated(
    tmp_path: Path, line: str, key: str, problem: str
) -> None:
    name, value = line.split(" = ", 1)
    text = auto_definition("http://portal.example/wlj/index.html")
    if value.startswith("[") and f"{name} = [\n" in text:  # a multi-line array: its first item
        body = text.replace(f"{name} = [\n", f"{name} = [{value[1:-1]},\n", 1)
    else:
        body = re.sub(rf"^{name} = .*$", lambda _: line, text, count=1, flags=re.M)
    assert body != text
    path = tmp_path / "auto-portal.example.toml"
    path.write_text(body, "utf-8")
    with pytest.raises(SiteDefinitionError) as error:
        load_site_file(path)
    assert f"key '{key}" in str(error.value) and problem in str(error.value), error.value
