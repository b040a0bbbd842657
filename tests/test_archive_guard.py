"""The archive survives its operators (#16, archive side), on an archive made by real
crawls of the demo TRS site (one article edited between two crawls, so it has two
versions): `wenhua verify` finds each kind of damage and names it, read-only commands
create, migrate and write nothing and work on an archive the user may only read, and user
mistakes end in one line, exit 2."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import inspect, update
from warcio.archiveiterator import ArchiveIterator

from archive.cli import cli
from archive.db import Archive, alembic_config, head_revision, make_engine
from archive.fixity import warc_file_problems
from archive.models import ArticleVersion
from archive.rawstore import RawStore
from archive.search import split_query
from crawler.demo_portal import DemoPortal, build_corpus
from crawler.demo_portal.corpus import CANONICAL_BASE, SITE_TRS
from crawler.sitedefs import BUNDLED_DIR
from pipelines.warc import write_cdxj
from tests.test_store import record, store

TIMEOUT = 600
READ_COMMANDS: list[list[str]] = [
    ["export"],
    ["search", "文化"],
    ["verify"],
    ["runs"],
    ["runs", "show", "1"],
    ["history", CANONICAL_BASE + "/lubei/"],
    ["failures"],
    ["problems"],
    ["bag", "--out", "{tmp}/bag"],
    ["wacz", "--out", "{tmp}/x.wacz"],
    ["serve", "--port", "0"],
]


def wenhua(
    *args: str, cwd: Path | None = None, read_only_user: bool = False
) -> subprocess.CompletedProcess[str]:
    prefix: list[str] = []
    if read_only_user and os.geteuid() == 0:
        # root ignores file modes; without these capabilities it obeys them like anyone.
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot drop the file-mode override")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    return subprocess.run(
        [*prefix, sys.executable, "-c", "from archive.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        cwd=cwd,
    )


def crawl(data: Path, portal: DemoPortal, sites: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from archive.cli import main; main()",
            "crawl",
            SITE_TRS,
            "--serve-at",
            portal.base_url,
            "--no-politeness",
            "--no-progress",
            "--data-dir",
            str(data),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env={**os.environ, "WENHUA_SITES": str(sites)},
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("guard")
    sites = root / "sites"
    sites.mkdir()
    definition = (BUNDLED_DIR / f"{SITE_TRS}.toml").read_text(encoding="utf-8")
    # Every article is due again on the second crawl, so the edited one gets a version.
    (sites / f"{SITE_TRS}.toml").write_text(f"revisit_days = 0\n{definition}", encoding="utf-8")
    data = root / "data"
    with DemoPortal() as portal:
        crawl(data, portal, sites)
        edited = next(a for a in build_corpus() if a.site == SITE_TRS and a.images)
        portal.edit(edited.path)
        crawl(data, portal, sites)
    return data


def copy_of(crawled: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(crawled, target, ignore=shutil.ignore_patterns("logs"))
    return target


def connect(data: Path) -> sqlite3.Connection:
    return sqlite3.connect(data / "archive.sqlite")


def verify(data: Path) -> tuple[int, list[str]]:
    result = wenhua("verify", "--data-dir", str(data))
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout.splitlines()


def two_version_article(db: sqlite3.Connection) -> tuple[int, int, int]:
    """(article id, old version id, current version id) of the edited article."""
    rows = db.execute(
        "SELECT article_id, min(id), max(id) FROM article_versions "
        "GROUP BY article_id HAVING count(*) = 2"
    ).fetchall()
    assert len(rows) == 1, rows
    article_id, old, current = rows[0]
    return int(article_id), int(old), int(current)


def delete_version(db: sqlite3.Connection, version_id: int) -> None:
    """Delete a version row the way a careful hand would: its dependent rows too, so no
    foreign key is left dangling and only the crawl's own account can tell."""
    for table in ("version_images", "problems", "article_changes"):
        db.execute(f"DELETE FROM {table} WHERE version_id = ?", (version_id,))
    db.execute("DELETE FROM article_versions WHERE id = ?", (version_id,))


def warc_files(data: Path) -> list[Path]:
    return sorted((data / "warc").glob("*.warc.gz"))


def test_verify_passes_on_the_intact_archive(crawled: Path) -> None:
    code, lines = verify(crawled)
    assert code == 0, lines
    assert "all intact" in lines[-1]
    db = connect(crawled)
    versions = db.execute("SELECT count(*) FROM article_versions").fetchone()[0]
    db.close()
    assert f"{versions} article versions" in lines[-1]


def test_a_deleted_version_row_is_found(crawled: Path, tmp_path: Path) -> None:
    data = copy_of(crawled, tmp_path)
    db = connect(data)
    _article, old, _current = two_version_article(db)
    delete_version(db, old)
    db.commit()
    db.close()
    code, lines = verify(data)
    assert code == 1
    assert len(lines) == 1, lines
    assert lines[0].startswith("warc/")
    assert lines[0].endswith("predates every version of the article (a version row was deleted)")


def test_a_deleted_current_version_is_found_even_with_the_article_put_back(
    crawled: Path, tmp_path: Path
) -> None:
    data = copy_of(crawled, tmp_path)
    db = connect(data)
    article_id, old, current = two_version_article(db)
    db.execute("UPDATE articles SET current_version_id = ? WHERE id = ?", (old, article_id))
    db.execute("UPDATE search_docs SET version_id = ? WHERE article_id = ?", (old, article_id))
    delete_version(db, current)
    db.commit()
    db.close()
    code, lines = verify(data)
    assert code == 1
    assert len(lines) == 1, lines
    assert lines[0].endswith("no article version has its content (a version row deleted or edited)")


def test_a_deleted_article_with_its_version_is_found(crawled: Path, tmp_path: Path) -> None:
    data = copy_of(crawled, tmp_path)
    db = connect(data)
    article_id, url, version_id = db.execute(
        "SELECT a.id, a.url, v.id FROM articles a JOIN article_versions v ON v.article_id = a.id "
        "ORDER BY a.id LIMIT 1"
    ).fetchone()
    db.execute("UPDATE articles SET current_version_id = NULL WHERE id = ?", (article_id,))
    delete_version(db, version_id)
    db.execute("DELETE FROM article_changes WHERE article_id = ?", (article_id,))
    db.execute("DELETE FROM search_docs WHERE article_id = ?", (article_id,))
    db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
    db.commit()
    db.close()
    code, lines = verify(data)
    assert code == 1
    # Fetched twice (both crawls): each capture names the missing row.
    assert lines and all(url in line and "has no article row" in line for line in lines), lines


@pytest.mark.parametrize("column", ["body_html", "title", "district"])
def test_an_edited_field_is_found_and_named(column: str, crawled: Path, tmp_path: Path) -> None:
    data = copy_of(crawled, tmp_path)
    db = connect(data)
    version_id = db.execute("SELECT max(id) FROM article_versions").fetchone()[0]
    db.execute(
        f"UPDATE article_versions SET {column} = coalesce({column}, '') || '（改）' WHERE id = ?",
        (version_id,),
    )
    db.commit()
    db.close()
    code, lines = verify(data)
    assert code == 1
    named = [line for line in lines if line.startswith(f"article version {version_id}: {column} ")]
    assert len(named) == 1, lines
    assert "differs from the WARC metadata record" in named[0]


def test_an_edited_article_url_is_found(crawled: Path, tmp_path: Path) -> None:
    data = copy_of(crawled, tmp_path)
    db = connect(data)
    article_id = db.execute("SELECT min(id) FROM articles").fetchone()[0]
    db.execute("UPDATE articles SET url = url || '?moved' WHERE id = ?", (article_id,))
    db.commit()
    db.close()
    code, lines = verify(data)
    assert code == 1
    assert any(" url differs from the WARC metadata record" in line for line in lines), lines


def test_a_deleted_and_a_corrupted_image_are_found(crawled: Path, tmp_path: Path) -> None:
    data = copy_of(crawled, tmp_path)
    first, second = sorted((data / "images").glob("*/*/*.*"))[:2]
    first.unlink()
    damaged = bytearray(second.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    second.write_bytes(bytes(damaged))
    code, lines = verify(data)
    assert code == 1
    assert lines == [
        f"{first.relative_to(data)}: image file missing",
        f"{second.relative_to(data)}: sha256 mismatch (recorded {second.stem})",
    ]


def cdxj_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_a_deleted_cdxj_line_is_found(crawled: Path, tmp_path: Path) -> None:
    data = copy_of(crawled, tmp_path)
    index = sorted((data / "warc").glob("*.cdxj"))[0]
    lines = cdxj_lines(index)
    removed = json.loads(lines[1].split(" ", 2)[2])
    index.write_text("".join(lines[:1] + lines[2:]), encoding="utf-8")
    code, problems = verify(data)
    assert code == 1
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"warc/{index.name}: no line for the ")
    assert f"record at offset {removed['offset']} " in problems[0]


@pytest.mark.parametrize("key", ["offset", "length", "digest"])
def test_an_altered_cdxj_line_is_found(key: str, crawled: Path, tmp_path: Path) -> None:
    data = copy_of(crawled, tmp_path)
    index = sorted((data / "warc").glob("*.cdxj"))[0]
    lines = cdxj_lines(index)
    head, stamp, body = lines[2].split(" ", 2)
    fields = json.loads(body)
    fields[key] = {
        "offset": str(int(fields["offset"]) + 1),
        "length": str(int(fields["length"]) + 1),
        "digest": "sha1:" + "A" * 32,
    }[key]
    lines[2] = f"{head} {stamp} {json.dumps(fields)}\n"
    index.write_text("".join(lines), encoding="utf-8")
    code, problems = verify(data)
    assert code == 1
    assert problems and all(p.startswith(f"warc/{index.name}: ") for p in problems), problems
    assert any(p.startswith(f"warc/{index.name}: line 3") for p in problems), problems


def test_a_missing_cdxj_index_is_found(crawled: Path, tmp_path: Path) -> None:
    data = copy_of(crawled, tmp_path)
    index = sorted((data / "warc").glob("*.cdxj"))[0]
    index.unlink()
    code, problems = verify(data)
    assert code == 1
    assert problems == [f"warc/{index.name}: CDXJ index missing (for warc/{index.stem}.warc.gz)"]


def test_a_truncated_warc_file_is_found(crawled: Path, tmp_path: Path) -> None:
    data = copy_of(crawled, tmp_path)
    warc = max(warc_files(data), key=lambda path: path.stat().st_size)
    whole = warc.read_bytes()
    warc.write_bytes(whole[: len(whole) // 2])
    code, problems = verify(data)
    assert code == 1
    rel = f"warc/{warc.name}"
    assert f"{rel}: sha256 differs from the one recorded at capture" in problems
    assert any(p.startswith(rel) and "is cut off" in p for p in problems), problems
    index = f"warc/{warc.name.removesuffix('.warc.gz')}.cdxj"
    assert any(p.startswith(index) and "past the readable end" in p for p in problems)


def record_spans(warc: Path) -> list[tuple[int, int]]:
    """(offset, length) of every record, read from the intact file."""
    spans = []
    with warc.open("rb") as handle:
        records = ArchiveIterator(handle)
        for item in records:
            item.content_stream().read()
            spans.append((records.get_record_offset(), records.get_record_length()))
    return spans


def test_a_warc_file_cut_anywhere_is_found(crawled: Path, tmp_path: Path) -> None:
    """Wherever a copy or a full disk cuts the file, in a record's header block, its
    payload, or the gzip member's last bytes, reading the file says so."""
    warc = min(warc_files(crawled), key=lambda path: path.stat().st_size)
    assert warc_file_problems(warc) == []
    whole = warc.read_bytes()
    spans = record_spans(warc)
    cuts = set()
    for offset, length in spans[1 : len(spans) : max(1, len(spans) // 12)]:
        # the WARC/1.1 line, mid-header, mid-payload, inside the 8-byte gzip trailer
        cuts |= {offset + 5, offset + 60, offset + length // 2, offset + length - 3}
    cut_file = tmp_path / warc.name
    silent = []
    for cut in sorted(cuts):
        cut_file.write_bytes(whole[:cut])
        problems = warc_file_problems(cut_file)
        if not any("cut off" in problem for problem in problems):
            silent.append((cut, problems))
    assert len(cuts) >= 40
    assert silent == []


def _cut_last_metadata_record(data: Path, db: sqlite3.Connection) -> tuple[int, int]:
    """Leave the archive as a crawl killed between storing its last version and writing that
    version's WARC metadata record would: the file ends before the metadata record (and
    is registered so). The id of the version left without its metadata record."""
    warc = max(warc_files(data), key=lambda path: path.stat().st_mtime)
    spans = record_spans(warc)
    with warc.open("rb") as handle:
        kinds = [item.rec_type for item in ArchiveIterator(handle)]
    last = max(i for i, kind in enumerate(kinds) if kind == "metadata")
    offset = spans[last][0]
    # The kill took the rest of the file with it; the index is of what was written.
    warc.write_bytes(warc.read_bytes()[:offset])
    write_cdxj(warc)
    digest = hashlib.sha256(warc.read_bytes()).hexdigest()
    name = f"warc/{warc.name}"
    db.execute(
        "UPDATE warc_files SET sha256 = ?, size = ?, records = ? WHERE name = ?",
        (digest, offset, last, name),
    )
    version_id, run_id = db.execute(
        "SELECT id, crawl_run_id FROM article_versions WHERE warc_file = ? "
        "AND warc_offset < ? ORDER BY warc_offset DESC LIMIT 1",
        (name, offset),
    ).fetchone()
    db.commit()
    return int(version_id), int(run_id)


def test_a_run_killed_before_its_last_metadata_record_is_a_note_not_damage(
    crawled: Path, tmp_path: Path
) -> None:
    data = copy_of(crawled, tmp_path)
    db = connect(data)
    version_id, run_id = _cut_last_metadata_record(data, db)
    db.execute("UPDATE crawl_runs SET status = 'interrupted' WHERE id = ?", (run_id,))
    db.commit()
    db.close()
    result = wenhua("verify", "--data-dir", str(data))
    assert result.returncode == 0, result.stdout
    assert f"article version {version_id}: its run {run_id} ended 'interrupted'" in result.stderr


def test_a_missing_metadata_record_of_a_finished_run_is_damage(
    crawled: Path, tmp_path: Path
) -> None:
    data = copy_of(crawled, tmp_path)
    db = connect(data)
    version_id, _run_id = _cut_last_metadata_record(data, db)
    db.close()
    code, problems = verify(data)
    assert code == 1
    assert any(
        p.startswith(f"article version {version_id}: no WARC metadata record refers to")
        for p in problems
    ), problems


def test_corrupted_database_pages_are_found(crawled: Path, tmp_path: Path) -> None:
    data = copy_of(crawled, tmp_path)
    db = connect(data)
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    # A leaf page of the versions table, found through SQLite's own page map.
    page = db.execute(
        "SELECT pageno FROM dbstat WHERE name = 'article_versions' AND pagetype = 'leaf' "
        "ORDER BY pageno LIMIT 1 OFFSET 3"
    ).fetchone()[0]
    db.close()
    with (data / "archive.sqlite").open("r+b") as handle:
        handle.seek((page - 1) * page_size + 8)
        handle.write(b"\xff" * 64)
    code, problems = verify(data)
    assert code == 1
    assert problems and problems[0].startswith("archive.sqlite: "), problems


def test_a_file_that_is_no_database_is_damage_for_verify(crawled: Path, tmp_path: Path) -> None:
    data = copy_of(crawled, tmp_path)
    (data / "archive.sqlite").write_bytes(b"not a database at all" * 100)
    code, problems = verify(data)
    assert code == 1
    path = (data / "archive.sqlite").resolve()
    assert problems == [f"{path} is not an archive database: file is not a database"]


# -- read-only commands -----------------------------------------------------------------


def read_commands(tmp: Path) -> Iterator[list[str]]:
    for args in READ_COMMANDS:
        if args[0] != "serve":
            yield [arg.replace("{tmp}", str(tmp)) for arg in args]


@pytest.mark.parametrize("where", ["data-dir", "db"])
def test_read_commands_on_no_archive_say_so_and_create_nothing(where: str, tmp_path: Path) -> None:
    missing = tmp_path / "nothing" / "here"
    place = ["--data-dir", str(missing)]
    if where == "db":
        place = ["--db", f"sqlite:///{missing / 'archive.sqlite'}"]
    for args in [*read_commands(tmp_path / "out"), ["serve", "--port", "0"], ["sites", "list"]]:
        result = wenhua(*args, *place, cwd=tmp_path)
        if args == ["sites", "list"]:  # lists the configured sites, never crawled
            assert result.returncode == 0, result.stderr
            continue
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr.startswith("wenhua: error: no archive at "), result.stderr
        assert len(result.stderr.splitlines()) == 1, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.pg
def test_read_commands_on_an_empty_postgresql_database_create_no_table(
    pg_url: str, tmp_path: Path
) -> None:
    for args in [*read_commands(tmp_path / "out"), ["serve", "--port", "0"], ["sites", "list"]]:
        result = wenhua(*args, "--db", pg_url, "--data-dir", str(tmp_path / "d"), cwd=tmp_path)
        if args == ["sites", "list"]:
            assert result.returncode == 0, result.stderr
            continue
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("wenhua: error: ") and "holds no archive" in result.stderr
    engine = make_engine(pg_url)
    assert inspect(engine).get_table_names() == []
    engine.dispose()
    assert list(tmp_path.iterdir()) == []


def test_read_commands_on_an_older_archive_ask_for_db_upgrade(tmp_path: Path) -> None:
    data = tmp_path / "old"
    engine = make_engine(f"sqlite:///{data / 'archive.sqlite'}")
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        command.downgrade(cfg, "-1")
    engine.dispose()
    before = hashlib.sha256((data / "archive.sqlite").read_bytes()).hexdigest()
    for args in [*read_commands(tmp_path / "out"), ["serve", "--port", "0"], ["sites", "list"]]:
        result = wenhua(*args, "--data-dir", str(data), cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("wenhua: error: the archive "), result.stderr
        assert result.stderr.rstrip().endswith(f"needs {head_revision()}: run `wenhua db upgrade`")
    assert hashlib.sha256((data / "archive.sqlite").read_bytes()).hexdigest() == before
    assert sorted(p.name for p in data.iterdir()) == ["archive.sqlite"]
    assert not (tmp_path / "out").exists()


def make_read_only(data: Path) -> None:
    for path in [data, *data.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)


def make_writable(data: Path) -> None:
    for path in [data, *data.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)


def test_read_commands_work_on_a_read_only_archive(crawled: Path, tmp_path: Path) -> None:
    data = copy_of(crawled, tmp_path)
    listing = sorted(str(p.relative_to(data)) for p in data.rglob("*"))
    digest = hashlib.sha256((data / "archive.sqlite").read_bytes()).hexdigest()
    url = json.loads(exported_lines(data)[0])["url"]
    make_read_only(data)
    try:
        for args in read_commands(tmp_path / "out"):
            if args[0] == "history":
                args = ["history", url]
            result = wenhua(*args, "--data-dir", str(data), read_only_user=True)
            assert result.returncode == 0, (args, result.stderr[-2000:])
            assert "Traceback" not in result.stderr
        result = wenhua("sites", "list", "--data-dir", str(data), read_only_user=True)
        assert result.returncode == 0 and f"{SITE_TRS}" in result.stdout
        assert "never crawled" not in result.stdout.split(SITE_TRS, 1)[1].split("\n")[1]
        served = serve_once(data)
        assert served["total"] > 0
    finally:
        make_writable(data)
    assert sorted(str(p.relative_to(data)) for p in data.rglob("*")) == listing
    assert hashlib.sha256((data / "archive.sqlite").read_bytes()).hexdigest() == digest


def exported_lines(data: Path) -> list[str]:
    result = wenhua("export", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def serve_once(data: Path) -> dict[str, int]:
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    process = subprocess.Popen(
        [
            *prefix,
            sys.executable,
            "-c",
            "from archive.cli import main; main()",
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(data),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "listening on " in line, line + process.stderr.read()
        base = line.split("listening on ", 1)[1].strip()
        query = urllib.parse.quote("文化")
        with urllib.request.urlopen(f"{base}api/articles?q={query}", timeout=60) as response:
            body: dict[str, int] = json.loads(response.read())
        return body
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


# -- user mistakes ----------------------------------------------------------------------


def one_line_error(args: list[str], data: Path) -> str:
    result = CliRunner().invoke(cli, [*args, "--data-dir", str(data)])
    assert result.exit_code == 2, (args, result.output, result.exception)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("wenhua: error: "), result.stderr
    return lines[0]


def test_user_mistakes_are_one_line_errors(crawled: Path, tmp_path: Path) -> None:
    huge = str(10**30)
    assert "there is no folder" in one_line_error(
        ["export", "--out", str(tmp_path / "missing" / "x.jsonl")], crawled
    )
    assert not (tmp_path / "missing").exists()
    assert "--port 99999" in one_line_error(["serve", "--port", "99999"], crawled)
    assert huge in one_line_error(["runs", "show", huge], crawled)
    assert "no crawl run with id 9223372036854775807" in one_line_error(
        ["runs", "show", str(2**63 - 1)], crawled
    )
    assert "--offset" in one_line_error(["search", "文化", "--offset", huge], crawled)
    assert "--page" in one_line_error(["search", "文化", "--page", huge], crawled)
    for command_name in ("runs", "failures", "problems"):
        assert "--limit" in one_line_error([command_name, "--limit", huge], crawled)
    words = [f"文化{i}" for i in range(300)]
    assert len(split_query(" ".join(words))) == 300
    assert "words" in one_line_error(["search", *words], crawled)
    assert "--query has more than" in one_line_error(["export", "-q", " ".join(words)], crawled)


def test_a_huge_search_term_is_answered(crawled: Path) -> None:
    result = CliRunner().invoke(cli, ["search", "文" * 200_000, "--data-dir", str(crawled)])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == "0 matching articles"


@pytest.mark.parametrize("damage", ["pages", "not a database"])
def test_a_damaged_archive_is_a_one_line_error_for_every_read(
    damage: str, crawled: Path, tmp_path: Path
) -> None:
    data = copy_of(crawled, tmp_path)
    path = (data / "archive.sqlite").resolve()
    if damage == "pages":
        db = sqlite3.connect(path)
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        pages = [
            row[0]
            for row in db.execute(
                "SELECT pageno FROM dbstat WHERE name IN ('article_versions', 'crawl_runs')"
            )
        ]
        db.close()
        with path.open("r+b") as handle:
            for page in pages:
                handle.seek((page - 1) * page_size)
                handle.write(b"\xde\xad\xbe\xef" * (page_size // 4))
    else:
        path.write_bytes(gzip.compress(b"x" * 10000))
    for args in (["runs"], ["runs", "show", "1"], ["export"], ["search", "文化"]):
        result = wenhua(*args, "--data-dir", str(data))
        assert result.returncode == 2, (args, result.stdout[-500:], result.stderr[-2000:])
        assert len(result.stderr.splitlines()) == 1, result.stderr[-2000:]
        assert result.stderr.startswith("wenhua: error: ") and str(path) in result.stderr


@pytest.mark.pg
def test_verify_on_postgresql_checks_indexes_with_amcheck(pg_url: str, tmp_path: Path) -> None:
    archive = Archive(pg_url)
    store(archive, record(), "2020-11-02T03:20:24+00:00", images=[])
    page = "<html><title>标题</title></html>".encode()
    sha = hashlib.sha256(page).hexdigest()
    RawStore(tmp_path / "raw").put(sha, page)  # the capture the helper only names
    with archive.session() as session:
        session.execute(update(ArticleVersion).values(raw_sha256=sha))
    archive.close()
    result = wenhua("verify", "--db", pg_url, "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "amcheck extension is not installed" in result.stderr
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION amcheck")
    engine.dispose()
    result = wenhua("verify", "--db", pg_url, "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "amcheck" not in result.stderr
    assert "1 article versions" in result.stdout
    exported = wenhua("export", "--db", pg_url, "--data-dir", str(tmp_path))
    assert exported.returncode == 0, exported.stderr
    assert [json.loads(line)["url"] for line in exported.stdout.splitlines()] == [record()["url"]]


@pytest.mark.parametrize("table", ["article_versions", "articles", "images", "image_urls"])
@pytest.mark.parametrize("where", ["cell pointers", "last cell", "middle cell"])
def test_any_damaged_page_is_reported_not_raised(
    crawled: Path, tmp_path: Path, table: str, where: str
) -> None:
    # Damaged rows read back as NULLs, numbers or bytes where text was written: verify
    # reports the damage and goes on, whichever table and part of a page the damage hits.
    data = copy_of(crawled, tmp_path)
    db = connect(data)
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    pages = db.execute(
        "SELECT pageno, ncell, unused FROM dbstat WHERE name = ? AND pagetype = 'leaf' "
        "AND ncell > 0 ORDER BY pageno",
        (table,),
    ).fetchall()
    db.close()
    assert pages, table
    with (data / "archive.sqlite").open("r+b") as handle:
        for page, ncell, unused in pages[:: max(1, len(pages) // 3)]:
            # A leaf page: 8-byte header, 2-byte pointer per cell, free space, then the
            # cells, filled from the page's end.
            cells_from = 8 + 2 * ncell + unused
            position = {
                "cell pointers": 8,
                "last cell": page_size - 64,
                "middle cell": (cells_from + page_size) // 2,
            }[where]
            handle.seek((page - 1) * page_size + position)
            handle.write(b"\xff" * 64)
    code, problems = verify(data)
    assert code == 1, f"damage to {table} ({where}) went unnoticed"
    assert problems
