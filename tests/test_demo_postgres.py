"""`wenhua demo --db postgresql+psycopg://…` archives the whole demo portal into PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.db import Archive
from crawler.demo_portal import build_corpus
from tests.archive_checks import records_by_url
from tests.test_cli import SEED_URL, wenhua


@pytest.mark.pg
@pytest.mark.slow
def test_demo_into_postgresql(pg_url: str, tmp_path: Path) -> None:
    result = wenhua("demo", "--db", pg_url, "--data-dir", str(tmp_path), "--no-progress")
    assert f"articles:   {len(build_corpus())}" in result.stdout
    assert "failures:   0" in result.stdout
    assert not (tmp_path / "archive.sqlite").exists()  # the database was PostgreSQL
    archive = Archive(pg_url)
    records = records_by_url(archive)
    archive.close()
    assert len(records) == len(build_corpus())
    seed = records[SEED_URL]
    assert seed["published_at"] == "2020-11-02T11:20:24+08:00"
    assert seed["published_precision"] == "second"
    assert (seed["source"], seed["editor"], seed["author"]) == ("路南发布", "王瑶", None)
    assert seed["site"] == "demo-culture-cloud" and seed["city"] == "唐山市"
    assert seed["gone_at"] is None and seed["first_seen"] == seed["last_seen"]
    assert seed["images"] and all(len(i["sha256"]) == 64 for i in seed["images"])
