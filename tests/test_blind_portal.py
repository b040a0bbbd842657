"""Crawl a hostile portal the accounting was not written against (tests/blind_portal.py)
with the real CLI, and damage the archive it made in ways tests/test_archive_guard.py does
not (#16): every linked article ends archived or listed by `wenhua failures`, the run
balances, no traceback; each damage makes `wenhua verify` exit 1 naming it."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.blind_portal import BlindPortal

TIMEOUT = 600
REPO = Path(__file__).resolve().parents[1]


def wenhua(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from archive.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env={**os.environ, **(env or {})},
    )


def scrapy_crawl(site: str, data: Path, *settings: str) -> subprocess.CompletedProcess[str]:
    """The configured-site crawl through Scrapy's own command, which takes settings (-s)."""
    flags = [arg for setting in settings for arg in ("-s", setting)]
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "portal", "-a", f"site={site}", *flags],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        cwd=REPO,
        env={**os.environ, "WENHUA_DATA": str(data), "PYTHONPATH": str(REPO)},
    )


def path_of(url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(url).path)


def archived_paths(db: sqlite3.Connection) -> set[str]:
    paths = set()
    for url, final in db.execute(
        "SELECT a.url, v.final_url FROM articles a JOIN article_versions v ON v.article_id = a.id"
    ):
        paths |= {path_of(url), path_of(final)}
    return paths


def failure_paths(data: Path) -> dict[str, str]:
    result = wenhua("failures", "--limit", "100000", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    listed = {}
    for line in result.stdout.splitlines():
        for word in line.split():
            if word.startswith("http"):
                listed.setdefault(path_of(word), line)
                break
    return listed


def accounts(db: sqlite3.Connection) -> list[tuple[int, str, dict[str, object]]]:
    return [
        (run_id, status, json.loads(stats or "{}").get("accounting", {}))
        for run_id, status, stats in db.execute("SELECT id, status, stats FROM crawl_runs")
    ]


def assert_balanced(account: dict[str, object]) -> None:
    assert account, "the run stored no accounting"
    assert account.get("scheduled") == account.get("settled"), account
    assert not account.get("unsettled"), account


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], dict]:
    """(data dir, every linked article path -> kind, crawl outputs)."""
    data = tmp_path_factory.mktemp("blind") / "data"
    outputs: dict[str, subprocess.CompletedProcess[str]] = {}
    with BlindPortal() as portal:
        outputs["start-url"] = wenhua(
            "crawl",
            "--start-url",
            portal.start_url,
            "--no-politeness",
            "--no-progress",
            "--data-dir",
            str(data),
        )
        # The stalling article is linked only now, for a crawl with a short timeout.
        portal.link_stalling_article()
        linked = portal.linked_articles()
        (site,) = [p.stem for p in (data / "sites").glob("auto-*.toml")]
        outputs["configured"] = scrapy_crawl(
            site,
            data,
            "DOWNLOAD_TIMEOUT=2",
            "RETRY_TIMES=1",
            "WENHUA_RETRY_BACKOFF=0.1",
            "DOWNLOAD_DELAY=0",
            "AUTOTHROTTLE_ENABLED=False",
            "WENHUA_PROGRESS=False",
        )
        hits = dict(portal.hits)
    offsite_hits = {p: n for p, n in hits.items() if p.endswith("_1012.html")}
    return data, linked, {"outputs": outputs, "offsite_hits": offsite_hits}


def test_no_traceback_and_documented_exit_status(crawled: tuple[Path, dict, dict]) -> None:
    data, _, info = crawled
    for name, result in info["outputs"].items():
        assert "Traceback" not in result.stderr, (name, result.stderr[-4000:])
    first = info["outputs"]["start-url"]
    db = sqlite3.connect(data / "archive.sqlite")
    (status,) = db.execute("SELECT status FROM crawl_runs ORDER BY id LIMIT 1").fetchone()
    # README: exit 0 when every run finished, 1 when a run failed.
    assert (first.returncode, status) in {(0, "finished"), (1, "failed")}, (
        first.returncode,
        status,
        first.stderr[-3000:],
    )
    assert status == "finished", first.stderr[-3000:]


def test_every_linked_article_is_archived_or_listed(crawled: tuple[Path, dict, dict]) -> None:
    data, linked, _ = crawled
    db = sqlite3.connect(data / "archive.sqlite")
    archived = archived_paths(db)
    listed = failure_paths(data)
    lost = {path: kind for path, kind in linked.items() if path not in archived | set(listed)}
    assert lost == {}, (sorted(archived), listed)
    # what must have failed, and what must have been archived, by what it does
    must_archive = {
        "plain",
        "scheme-less",
        "dotdot",
        "spaced",
        "gbk-header-utf8",
        "utf8-meta-gb2312",
        "bad-images",
        "redirect-chain",
        "duplicate-a",
    }
    for path, kind in linked.items():
        if kind in must_archive:
            assert path in archived, (kind, path, listed.get(path))
    for kind in ("http-404", "http-500", "http-503", "redirect-loop", "stalls", "chunked-cut"):
        (path,) = [p for p, k in linked.items() if k == kind]
        assert path in listed, (kind, listed)


def test_the_off_site_copy_is_never_fetched(crawled: tuple[Path, dict, dict]) -> None:
    _, _, info = crawled
    # the on-site URL answers a redirect once per crawl (retries aside); the portal counts by
    # path, so an off-site fetch would show as a second hit within one crawl
    assert all(n <= 2 for n in info["offsite_hits"].values()), info["offsite_hits"]


def test_every_run_balances(crawled: tuple[Path, dict, dict]) -> None:
    data, _, _ = crawled
    db = sqlite3.connect(data / "archive.sqlite")
    runs = accounts(db)
    assert len(runs) == 2, runs
    for _, _, account in runs:
        assert_balanced(account)


def test_encodings_that_lie_are_read_right(crawled: tuple[Path, dict, dict]) -> None:
    data, linked, _ = crawled
    db = sqlite3.connect(data / "archive.sqlite")
    titles = {
        path_of(url): title
        for url, title in db.execute(
            "SELECT a.url, v.title FROM articles a JOIN article_versions v ON v.article_id = a.id"
        )
    }
    for kind in ("gbk-header-utf8", "utf8-meta-gb2312"):
        (path,) = [p for p, k in linked.items() if k == kind]
        assert "群众文化活动周" in titles[path], (kind, titles[path])


def test_malformed_addresses_are_problems(crawled: tuple[Path, dict, dict]) -> None:
    data, _, _ = crawled
    result = wenhua("problems", "--limit", "100000", "--data-dir", str(data))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    for raw in ("http://[", ":99999", ":abc", "clip_image002.jpg"):
        assert raw in result.stdout, (raw, result.stdout)


def test_broken_images_are_failures_with_reasons(crawled: tuple[Path, dict, dict]) -> None:
    data, _, _ = crawled
    listed = failure_paths(data)
    for name in ("missing.jpg", "truncated.jpg", "bomb.png"):
        (line,) = [line for path, line in listed.items() if path.endswith(name)]
        assert "Failure" not in line.split(name, 1)[1].split()[:1], line


# --- damage the archive the crawl made --------------------------------------------------


def copy_of(data: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(data, target, ignore=shutil.ignore_patterns("logs"))
    return target


def verify(data: Path) -> tuple[int, list[str]]:
    result = wenhua("verify", "--data-dir", str(data))
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout.splitlines()


def test_verify_passes_on_the_crawled_archive(crawled: tuple[Path, dict, dict]) -> None:
    data, _, _ = crawled
    code, lines = verify(data)
    assert code == 0, lines


def response_records(warc: Path) -> list[tuple[int, int, str]]:
    """(offset, length, target URI) of every response record."""
    spans = []
    with warc.open("rb") as handle:
        records = ArchiveIterator(handle)
        for record in records:
            record.content_stream().read()
            if record.rec_type == "response":
                uri = record.rec_headers.get_header("WARC-Target-URI")
                spans.append((records.get_record_offset(), records.get_record_length(), uri))
    return spans


def version_pointer(db: sqlite3.Connection) -> tuple[int, str, int]:
    row = db.execute(
        "SELECT id, warc_file, warc_offset FROM article_versions "
        "WHERE warc_file IS NOT NULL ORDER BY id LIMIT 1"
    ).fetchone()
    return int(row[0]), str(row[1]), int(row[2])


def warc_path(data: Path, name: str) -> Path:
    path = data / name
    return path if path.exists() else data / "warc" / Path(name).name


def test_a_payload_byte_flipped_inside_a_gzip_member_is_found(
    crawled: tuple[Path, dict, dict], tmp_path: Path
) -> None:
    """The member is recompressed, so the gzip CRC holds: only the WARC digest tells."""
    data = copy_of(crawled[0], tmp_path)
    db = sqlite3.connect(data / "archive.sqlite")
    _, name, offset = version_pointer(db)
    warc = warc_path(data, name)
    whole = warc.read_bytes()
    spans = {o: length for o, length, _ in response_records(warc)}
    length = spans[offset]
    member = bytearray(gzip.decompress(whole[offset : offset + length]))
    at = member.rindex(b"</html>")  # inside the payload, far from the headers
    member[at + 2] ^= 0x01
    warc.write_bytes(whole[:offset] + gzip.compress(bytes(member)) + whole[offset + length :])
    code, lines = verify(data)
    assert code == 1
    assert any(warc.name in line for line in lines), lines


def test_a_raw_capture_replaced_by_another_valid_gzip_is_found(
    crawled: tuple[Path, dict, dict], tmp_path: Path
) -> None:
    data = copy_of(crawled[0], tmp_path)
    raws = sorted(p for p in (data / "raw").rglob("*") if p.is_file())
    assert len(raws) >= 2, raws
    raws[0].write_bytes(raws[1].read_bytes())
    code, lines = verify(data)
    assert code == 1
    assert any(raws[0].name in line for line in lines), lines


def test_an_image_swapped_with_another_of_the_same_size_is_found(
    crawled: tuple[Path, dict, dict], tmp_path: Path
) -> None:
    data = copy_of(crawled[0], tmp_path)
    images = sorted(p for p in (data / "images").rglob("*") if p.is_file())
    by_size: dict[int, list[Path]] = {}
    for image in images:
        by_size.setdefault(image.stat().st_size, []).append(image)
    pair = next((group for group in by_size.values() if len(group) >= 2), None)
    assert pair is not None, [(p.name, p.stat().st_size) for p in images]
    first, second = pair[:2]
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)
    code, lines = verify(data)
    assert code == 1
    for image in (first, second):
        assert any(image.name in line for line in lines), lines


def cdxj(data: Path) -> Path:
    return max((data / "warc").glob("*.cdxj"), key=lambda p: len(p.read_text().splitlines()))


def test_a_cdxj_sorted_wrongly_is_found(crawled: tuple[Path, dict, dict], tmp_path: Path) -> None:
    data = copy_of(crawled[0], tmp_path)
    index = cdxj(data)
    lines = index.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(set(lines)) >= 2
    index.write_text("".join(sorted(lines, reverse=True)), encoding="utf-8")
    code, problems = verify(data)
    assert code == 1
    assert any(index.name in p for p in problems), problems


def test_a_duplicated_cdxj_line_is_found(crawled: tuple[Path, dict, dict], tmp_path: Path) -> None:
    data = copy_of(crawled[0], tmp_path)
    index = cdxj(data)
    lines = index.read_text(encoding="utf-8").splitlines(keepends=True)
    index.write_text("".join(lines[:2] + lines[1:]), encoding="utf-8")
    code, problems = verify(data)
    assert code == 1
    assert any(index.name in p for p in problems), problems


def pointers(db: sqlite3.Connection) -> list[tuple[int, str, str, str, int, int]]:
    """(version id, article URL, raw sha256, WARC file, offset, length) of every version."""
    return db.execute(
        "SELECT v.id, a.url, v.raw_sha256, v.warc_file, v.warc_offset, v.warc_length "
        "FROM article_versions v JOIN articles a ON a.id = v.article_id "
        "WHERE v.warc_file IS NOT NULL ORDER BY v.id"
    ).fetchall()


@pytest.mark.parametrize("other", ["another page", "the same bytes under another URL"])
def test_a_version_pointed_at_another_record_is_found(
    other: str, crawled: tuple[Path, dict, dict], tmp_path: Path
) -> None:
    """A version's WARC pointer moved to another article's capture: to a different
    payload, or to the twin that serves the very same bytes (so only the URL tells)."""
    data = copy_of(crawled[0], tmp_path)
    db = sqlite3.connect(data / "archive.sqlite")
    rows = pointers(db)
    if other == "another page":
        victim = rows[0]
        target = next(r for r in rows if r[2] != victim[2] and r[3] == victim[3])
    else:
        victim, target = next(
            (a, b) for a in rows for b in rows if a[0] != b[0] and a[2] == b[2] and a[1] != b[1]
        )
    db.execute(
        "UPDATE article_versions SET warc_file = ?, warc_offset = ?, warc_length = ? WHERE id = ?",
        (target[3], target[4], target[5], victim[0]),
    )
    db.commit()
    db.close()
    code, lines = verify(data)
    assert code == 1, lines
    assert any(line.startswith(f"article version {victim[0]}:") for line in lines), lines


# --- the same portal as a configured site: selectors, not link discovery ----------------

TRS_DEFINITION = """name = "blind-trs"
title = "某某县文化和旅游局"
family = "trs"
base_url = "{base}"
checked = true
encoding = "gb18030"

[region]
province = "河北省"
city = "唐山市"
district = "某某县"

[[start]]
url = "/whj/index.html"
category = "文化动态"

[list]
article_links = ["ul.list li a::attr(href)"]
article_url_pattern = '/t\\d{{8}}_\\d+\\.html$'
next_page = ["xpath://span[@id='pagelinks']/a[normalize-space(.)='下一页']/@href"]

[fields]
title = ["div.article h1.article-title::text"]
meta = ["div.article div.article-info"]
editor = ["div.zrbj span::text"]
body = ["div.TRS_Editor"]
"""


def test_a_configured_site_crawl_loses_nothing(tmp_path: Path) -> None:
    data, sites = tmp_path / "data", tmp_path / "sites"
    sites.mkdir()
    with BlindPortal() as portal:
        portal.release_stalls()  # no short timeout here: the stalling article answers
        portal.link_stalling_article()
        definition = TRS_DEFINITION.format(base=portal.base_url)
        (sites / "blind-trs.toml").write_text(definition, encoding="utf-8")
        result = wenhua(
            "crawl",
            "blind-trs",
            "--no-politeness",
            "--no-progress",
            "--data-dir",
            str(data),
            env={"WENHUA_SITES": str(sites)},
        )
        linked = portal.linked_articles()
    assert "Traceback" not in result.stderr, result.stderr[-4000:]
    assert result.returncode == 0, result.stderr[-3000:]
    db = sqlite3.connect(data / "archive.sqlite")
    listed = failure_paths(data)
    lost = {p: k for p, k in linked.items() if p not in archived_paths(db) | set(listed)}
    assert lost == {}, listed
    ((_, status, account),) = accounts(db)
    assert status == "finished"
    assert_balanced(account)
