"""Preservation (#5) after a real demo crawl in a subprocess: WARC files valid and complete,
an article replayed from its WARC record, revisits for repeated payloads, `wenhua verify`
passing on intact data and failing on one flipped byte, and a BagIt package that validates."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from archive.db import Archive
from archive.models import ArticleVersion, WarcFile
from crawler.demo_portal import build_corpus
from tests.archive_checks import records_by_url

TIMEOUT = 900
CANONICAL = "http://demo.wenhua.local"
SEED_URL = CANONICAL + "/new-13173.html"
MAX_BYTES = 2_000_000  # small, so the largest site's WARC rolls over


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env={**os.environ, **(env or {})},
    )


def wenhua(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-c", "from archive.cli import main; main()", *args, env=env)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("warc-demo")
    result = wenhua(
        "demo",
        "--data-dir",
        str(data),
        "--no-progress",
        env={"WENHUA_WARC_MAX_BYTES": str(MAX_BYTES)},
    )
    assert result.returncode == 0, result.stderr
    assert "failures:   0" in result.stdout
    return data


def warc_files(data: Path) -> list[Path]:
    return sorted((data / "warc").glob("*.warc.gz"))


def records(path: Path) -> list[dict[str, Any]]:
    out = []
    with path.open("rb") as handle:
        iterator = ArchiveIterator(handle)
        for record in iterator:
            body = (
                record.content_stream().read()
                if record.rec_type in ("response", "request", "revisit")
                else record.raw_stream.read()
            )
            out.append(
                {
                    "type": record.rec_type,
                    "uri": record.rec_headers.get_header("WARC-Target-URI"),
                    "headers": dict(record.rec_headers.headers),
                    "offset": iterator.get_record_offset(),  # after the body: it reads on
                    "body": body,
                }
            )
    return out


def copy_of(demo: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(demo, target, ignore=shutil.ignore_patterns("logs"))
    return target


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_every_warc_file_passes_warcio_check_and_has_an_index(demo: Path) -> None:
    files = warc_files(demo)
    assert len(files) > 3  # one site's capture rolled over at WENHUA_WARC_MAX_BYTES
    for path in files:
        result = run("warcio", "check", str(path))
        assert result.returncode == 0, result.stdout + result.stderr
        assert path.with_name(path.name.removesuffix(".warc.gz") + ".cdxj").stat().st_size > 0
        first = records(path)[0]
        assert first["type"] == "warcinfo"
        info = first["body"].decode()
        assert "software: wenhua/" in info and "wenhua-crawl-run-id: " in info
    archive = Archive(f"sqlite:///{demo / 'archive.sqlite'}")
    with archive.session() as session:
        registered = {row.name for row in session.scalars(select(WarcFile))}
    archive.close()
    assert registered == {f"warc/{p.name}" for p in files}


def test_warcio_index_lists_every_article_at_its_canonical_url(demo: Path) -> None:
    served: set[str] = set()
    metadata: set[str] = set()
    for path in warc_files(demo):
        result = run("warcio", "index", "-f", "warc-type,warc-target-uri", str(path))
        assert result.returncode == 0, result.stderr
        for line in result.stdout.splitlines():
            entry = json.loads(line)
            uri = entry.get("warc-target-uri", "")
            if entry["warc-type"] == "response":
                assert uri.startswith(CANONICAL + "/")  # the URL the archive knows
                served.add(urlsplit(uri).path)
            elif entry["warc-type"] == "metadata":
                metadata.add(uri)
    paths = {article.path for article in build_corpus()}
    assert paths <= served
    assert "/robots.txt" in served
    assert metadata == {CANONICAL + path for path in paths}  # canonical URLs


def test_an_article_replays_from_its_warc_record(demo: Path) -> None:
    from datetime import UTC, datetime

    from crawler.extract.encoding import decode_html
    from crawler.extract.normalize import normalize
    from crawler.extract.rules import extract_raw
    from crawler.sitedefs import load_site

    archive = Archive(f"sqlite:///{demo / 'archive.sqlite'}")
    archived = records_by_url(archive)[SEED_URL]
    with archive.session() as session:
        versions = session.scalars(select(ArticleVersion)).all()
        assert all(v.warc_file and v.warc_offset is not None for v in versions)
        seed = next(v for v in versions if v.final_url == SEED_URL)
        where = (seed.warc_file, seed.warc_offset, seed.warc_length, seed.id)
    archive.close()
    assert where[0] is not None and where[1] is not None and where[2] is not None
    with (demo / where[0]).open("rb") as handle:
        handle.seek(where[1])
        member = handle.read(where[2])
    record = next(iter(ArchiveIterator(BytesIO(member))))
    assert record.rec_type == "response"
    assert record.http_headers.get_statuscode() == "200"
    assert record.http_headers.get_header("Transfer-Encoding") is None
    served_url = record.rec_headers.get_header("WARC-Target-URI")
    assert urlsplit(served_url).path == "/new-13173.html"
    body = record.content_stream().read()
    site = load_site("demo-culture-cloud")
    text, _ = decode_html(body, record.http_headers.get_header("Content-Type"), site.encoding)
    raw = extract_raw(text, served_url, site)
    replayed = normalize(
        raw, site=site, fetched_at=datetime.now(UTC), canonical_url=SEED_URL
    ).record
    for key in ("title", "published_at", "source", "editor", "author", "body_text"):
        assert replayed[key] == archived[key], key
    # Its metadata record holds the record as extracted, tied to the response record.
    response_id = record.rec_headers.get_header("WARC-Record-ID")
    meta = [
        r
        for path in warc_files(demo)  # after a rollover it may sit in the next file
        for r in records(path)
        if r["type"] == "metadata" and r["uri"] == SEED_URL
    ]
    assert len(meta) == 1
    assert meta[0]["headers"]["WARC-Concurrent-To"] == response_id
    extracted = json.loads(meta[0]["body"])
    assert extracted["url"] == SEED_URL and extracted["body_text"] == archived["body_text"]


def test_repeated_payloads_are_revisit_records(demo: Path) -> None:
    responses: dict[tuple[str, str], str] = {}
    revisits = []
    for path in warc_files(demo):
        for record in records(path):
            headers = record["headers"]
            if record["type"] == "response":
                responses[(record["uri"], headers["WARC-Date"])] = headers["WARC-Payload-Digest"]
            elif record["type"] == "revisit":
                revisits.append(headers)
    image_revisits = [
        h for h in revisits if h["WARC-Target-URI"].lower().endswith((".jpg", ".png", ".gif"))
    ]
    # The demo portal serves 22 image URLs whose bytes repeat another URL's.
    assert len(image_revisits) == 22
    for headers in revisits:
        assert headers["WARC-Profile"].endswith("/revisit/identical-payload-digest")
        original = (headers["WARC-Refers-To-Target-URI"], headers["WARC-Refers-To-Date"])
        assert responses[original] == headers["WARC-Payload-Digest"]


def test_verify_passes_on_intact_data(demo: Path) -> None:
    result = wenhua("verify", "--data-dir", str(demo))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all intact" in result.stdout
    assert f"{len(build_corpus())} article versions" in result.stdout


def test_verify_fails_on_a_flipped_byte_in_an_image(demo: Path, tmp_path: Path) -> None:
    data = copy_of(demo, tmp_path)
    image = sorted((data / "images").glob("*/*/*.*"))[0]
    flip_byte(image, image.stat().st_size // 2)
    result = wenhua("verify", "--data-dir", str(data))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    rel = str(image.relative_to(data))
    assert result.stdout.splitlines() == [f"{rel}: sha256 mismatch (recorded {image.stem})"]
    assert "1 problem(s)" in result.stderr


def test_verify_fails_on_a_flipped_byte_in_a_warc_file(demo: Path, tmp_path: Path) -> None:
    data = copy_of(demo, tmp_path)
    warc = warc_files(data)[0]
    flip_byte(warc, warc.stat().st_size // 2)
    result = wenhua("verify", "--data-dir", str(data))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    rel = f"warc/{warc.name}"
    problems = result.stdout.splitlines()
    assert f"{rel}: sha256 differs from the one recorded at capture" in problems
    # Only WARC problems: the file itself, its records, or versions pointing into it.
    assert all("warc/" in line for line in problems), problems


def test_verify_reports_missing_files_and_edited_records(demo: Path, tmp_path: Path) -> None:
    data = copy_of(demo, tmp_path)
    raw = sorted((data / "raw").glob("*/*.gz"))[0]
    raw.unlink()
    archive = Archive(f"sqlite:///{data / 'archive.sqlite'}")
    with archive.session() as session:
        version = session.scalars(select(ArticleVersion).order_by(ArticleVersion.id)).first()
        assert version is not None
        version.body_text += "（篡改）"
        version_id = version.id
    archive.close()
    result = wenhua("verify", "--data-dir", str(data))
    assert result.returncode == 1
    problems = result.stdout.splitlines()
    assert f"{raw.relative_to(data)}: raw capture missing" in problems
    assert any(p.startswith(f"article version {version_id}: stored record") for p in problems)


def test_bag_validates_and_a_tampered_bag_does_not(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "bag"
    result = wenhua(
        "bag",
        "--data-dir",
        str(demo),
        "--out",
        str(out),
        "--site",
        "demo-culture-cloud",
        "--from",
        "2020-01-01",
        "--to",
        "2020-12-31",
    )
    assert result.returncode == 0, result.stderr
    lines = (out / "data" / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    selected = [json.loads(line) for line in lines]
    assert selected and all(r["site"] == "demo-culture-cloud" for r in selected)
    assert all("2020-01-01" <= r["published_at"][:10] <= "2020-12-31" for r in selected)
    assert SEED_URL in {r["url"] for r in selected}
    for record in selected:
        for image in record["images"]:
            assert (out / "data" / image["path"]).is_file()
    assert list((out / "data" / "warc").glob("*.warc.gz"))
    info = (out / "bag-info.txt").read_text(encoding="utf-8")
    assert "Source-Organization: wenhua archive" in info
    assert f"Wenhua-Articles: {len(selected)}" in info and "Bagging-Date:" in info
    assert (out / "manifest-sha256.txt").is_file()
    assert run("bagit.py", "--validate", str(out)).returncode == 0

    flip_byte(out / "data" / "articles.jsonl", 10)
    assert run("bagit.py", "--validate", str(out)).returncode != 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--from", "last week"), "--from 'last week' is not a date"),
        (("--site", "no-such-site"), "--site no-such-site: no such site"),
    ],
)
def test_bag_mistakes_give_one_line_errors(
    demo: Path, tmp_path: Path, args: tuple[str, ...], needle: str
) -> None:
    result = wenhua("bag", "--data-dir", str(demo), "--out", str(tmp_path / "b"), *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]
