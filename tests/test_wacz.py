"""`wenhua wacz` (#18): a WACZ package of the demo archive's captures that py-wacz's own
validator accepts, with every selected article's page and its images, after one real demo
crawl (tests/conftest.py `demo_archive`)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from archive.config import resolve
from archive.db import Archive
from archive.models import Article, Site

SEED_URL = "http://demo.wenhua.local/new-13173.html"


def wenhua(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from archive.cli import main; main()", *args],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip


def contents(package: Path) -> dict[str, Any]:
    with zipfile.ZipFile(package) as wacz:
        names = wacz.namelist()
        pages = [json.loads(line) for line in wacz.read("pages/pages.jsonl").splitlines()]
        records: dict[str, list[tuple[str, bytes]]] = {}
        for name in names:
            if name.startswith("archive/"):
                for record in ArchiveIterator(BytesIO(wacz.read(name))):
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    body = record.content_stream().read()
                    records.setdefault(uri, []).append((record.rec_type, body))
        index = gzip.decompress(wacz.read("indexes/index.cdx.gz")).decode().splitlines()
    return {"names": names, "pages": pages, "records": records, "index": index}


def archived(data: Path) -> dict[str, Any]:
    archive = Archive(resolve(data).db_url)
    with archive.session() as session:
        by_site: dict[str, set[str]] = {}
        titles: dict[str, str] = {}
        seed_images: list[str] = []
        for article in session.scalars(select(Article).join(Site)):
            by_site.setdefault(article.site.name, set()).add(article.url)
            assert article.current is not None
            titles[article.url] = article.current.title or ""
            if article.url == SEED_URL:
                seed_images = [image.url for image in article.current.images]
    archive.close()
    return {"by_site": by_site, "titles": titles, "seed_images": seed_images}


@pytest.fixture(scope="module")
def package(demo_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wacz") / "demo.wacz"
    result = wenhua("wacz", "--data-dir", str(demo_archive), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wacz {out}: 376 articles, 376 pages")
    return out


def test_wacz_validate_accepts_the_demo_package(package: Path) -> None:
    result = subprocess.run(
        ["wacz", "validate", "-f", str(package)], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation succeeded, the passed WACZ is valid" in result.stdout


def test_pages_list_every_article_with_its_title_and_capture(
    package: Path, demo_archive: Path
) -> None:
    facts = archived(demo_archive)
    found = contents(package)
    header, *pages = found["pages"]
    assert header["format"] == "json-pages-1.0"
    every = set().union(*facts["by_site"].values())
    assert {page["url"] for page in pages} == every
    for page in pages:
        assert page["title"] == facts["titles"][page["url"]]
        kinds = [kind for kind, _ in found["records"][page["url"]]]
        assert "response" in kinds  # the page's capture is in the package


def test_the_seed_article_and_its_nine_images_are_packaged(
    package: Path, demo_archive: Path
) -> None:
    facts = archived(demo_archive)
    records = contents(package)["records"]
    (kind, html), *_ = records[SEED_URL]
    assert kind == "response"
    assert "路南区公共文化服务体系示范区创建工作取得阶段性成果".encode() in html
    assert len(facts["seed_images"]) == 9
    for url in facts["seed_images"]:
        kinds = {kind for kind, _ in records[url]}
        assert "response" in kinds, url  # the bytes, not only a revisit


def test_site_and_dates_select_the_articles(demo_archive: Path, tmp_path: Path) -> None:
    facts = archived(demo_archive)
    out = tmp_path / "lubei.wacz"
    result = wenhua("wacz", "--data-dir", str(demo_archive), "--out", str(out),
                    "--site", "demo-trs-lubei")  # fmt: skip
    assert result.returncode == 0, result.stderr
    urls = {page["url"] for page in contents(out)["pages"][1:]}
    assert urls == facts["by_site"]["demo-trs-lubei"]

    dated = tmp_path / "2020.wacz"
    result = wenhua("wacz", "--data-dir", str(demo_archive), "--out", str(dated),
                    "--from", "2020-01-01", "--to", "2020-12-31")  # fmt: skip
    assert result.returncode == 0, result.stderr
    archive = Archive(resolve(demo_archive).db_url)
    with archive.session() as session:
        expected = {
            a.url
            for a in session.scalars(select(Article))
            if a.current is not None and (a.current.published_at or "").startswith("2020-")
        }
    archive.close()
    assert expected and {page["url"] for page in contents(dated)["pages"][1:]} == expected


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--out", "{tmp}/x.zip"], "ends in .wacz"),
        (["--out", "{tmp}/exists.wacz"], "file exists"),
        (["--out", "{tmp}/x.wacz", "--site", "no-such-site"], "--site no-such-site"),
        (["--out", "{tmp}/x.wacz", "--from", "2021-01-01", "--to", "2020-01-01"], "is after"),
        (["--out", "{tmp}/x.wacz", "--from", "2020-13-01"], "--from"),
        (["--out", "{tmp}/x.wacz", "--from", "2001-01-01", "--to", "2001-12-31"], "nothing"),
    ],
)
def test_mistakes_are_one_line_errors(
    demo_archive: Path, tmp_path: Path, args: list[str], says: str
) -> None:
    (tmp_path / "exists.wacz").write_bytes(b"keep me")
    result = wenhua("wacz", "--data-dir", str(demo_archive),
                    *[a.replace("{tmp}", str(tmp_path)) for a in args])  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wenhua: error: ") and says in lines[0]
    assert (tmp_path / "exists.wacz").read_bytes() == b"keep me"
    assert not (tmp_path / "x.wacz").exists()
