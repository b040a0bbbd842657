"""The record's one table (crawler/extract/record.py), walked field by field.

Nothing here names a field: every check iterates over the table, so a field added there
is checked by normalization, storage, the content hash, export, fixity and history.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from archive.db import Archive
from archive.export import EXPORT_FIELDS, article_record
from archive.history import article_history
from archive.models import Article, ArticleVersion
from archive.store import content_hash
from crawler.extract.normalize import normalize
from crawler.extract.record import (
    BY_NAME,
    FIELDS,
    IMAGE_KEYS,
    Field,
    compared_fields,
    exported_fields,
    field_names,
    hashed_fields,
    make_record,
)
from crawler.extract.rules import RawArticle
from tests.test_store import record, store

REPO = Path(__file__).resolve().parents[1]
FIRST = "2024-01-01T00:00:00+00:00"
SECOND = "2024-02-01T00:00:00+00:00"


def wenhua(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from archive.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        check=False,
    )


def full_record(url: str = "http://demo.wenhua.local/new-1.html") -> dict[str, Any]:
    """A record with every field set (no None left to hide a missing column)."""
    rec = record(url=url, author="作者", fetched_at=FIRST)
    assert rec.keys() == set(field_names()), "tests/test_store.record() lacks a table field"
    return rec


def altered(value: Any) -> Any:
    """A different value of the same shape and length (columns have length limits)."""
    if isinstance(value, list):
        return [{**value[0], "caption": altered(value[0].get("caption"))}, *value[1:]]
    if not value:
        return "改"
    return value[:-1] + ("改" if value[-1] != "改" else "变")


def with_change(rec: dict[str, Any], field: Field) -> dict[str, Any]:
    return {**rec, field.name: altered(rec[field.name])}


def test_normalize_builds_exactly_the_table_in_its_order() -> None:
    raw = RawArticle(url="http://t.local/a.html", title="标题", body_html="<p>正文</p>")
    normalized = normalize(raw, site=None, fetched_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert tuple(normalized.record) == field_names()
    with pytest.raises(ValueError, match="missing"):
        make_record({name: None for name in field_names()[1:]})
    with pytest.raises(ValueError, match="unknown"):
        make_record({**dict.fromkeys(field_names()), "not_a_field": 1})


def test_stored_fields_name_their_columns() -> None:
    version_columns = {column.key for column in ArticleVersion.__table__.columns}
    article_columns = {column.key for column in Article.__table__.columns}
    for field in FIELDS:
        if field.stored in ("version", "capture"):
            assert field.name in version_columns, field.name
        elif field.stored == "article":
            assert field.name in article_columns, field.name


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
def test_a_field_changes_the_content_hash_exactly_when_hashed(field: Field) -> None:
    rec = full_record()
    changed = content_hash(with_change(rec, field)) != content_hash(rec)
    assert changed is field.hashed


def test_every_exported_field_is_in_the_export(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    archive = Archive(url)
    rec = full_record()
    store(archive, rec, FIRST, images=[])
    with archive.session() as session:
        article = session.scalars(select(Article)).one()
        assert article.current is not None
        direct = article_record(article, article.current)
    result = wenhua("export", "--db", url, "--data-dir", str(tmp_path), "--format", "json")
    assert result.returncode == 0, result.stderr
    [exported] = json.loads(result.stdout)
    result = wenhua("export", "--db", url, "--data-dir", str(tmp_path), "--format", "csv")
    assert result.returncode == 0, result.stderr
    header = next(csv.reader(io.StringIO(result.stdout.removeprefix("\ufeff"))))
    archive.close()

    assert [name for name in EXPORT_FIELDS if name in set(field_names())] == list(exported_fields())
    for name in exported_fields():
        # A spreadsheet column exactly when the schema says so (body_html is none).
        assert (name in header) is BY_NAME[name].sheet, name
        for out in (exported, direct):
            value = out[name]
            if isinstance(rec[name], list):
                value = [{key: item[key] for key in IMAGE_KEYS} for item in value]
            if BY_NAME[name].stored == "capture":  # the same instant, given at +08:00
                assert value.endswith("+08:00"), name
                value = datetime.fromisoformat(value)
                assert value == datetime.fromisoformat(rec[name]), name
                continue
            assert value == rec[name], name


def test_every_hashed_field_is_checked_by_verify(tmp_path: Path) -> None:
    archive = Archive(f"sqlite:///{tmp_path / 'archive.sqlite'}")
    untouched = full_record("http://demo.wenhua.local/untouched.html")
    store(archive, untouched, FIRST, images=[])
    tampered: dict[str, int] = {}
    for field in hashed_fields():
        store(archive, full_record(f"http://demo.wenhua.local/{field.name}.html"), FIRST, images=[])
    with archive.session() as session:
        for field in hashed_fields():
            url = f"http://demo.wenhua.local/{field.name}.html"
            article = session.scalars(select(Article).where(Article.url == url)).one()
            version = article.current
            assert version is not None
            if field.stored == "images":
                version.images[0].caption = altered(version.images[0].caption)
            else:
                setattr(version, field.name, altered(getattr(version, field.name)))
            tampered[field.name] = version.id
        control = session.scalars(select(Article).where(Article.url == untouched["url"])).one()
        control_id = control.current_version_id
    archive.close()

    result = wenhua("verify", "--data-dir", str(tmp_path))
    assert result.returncode == 1
    reported = {
        int(line.split(":")[0].removeprefix("article version "))
        for line in result.stdout.splitlines()
        if line.startswith("article version ") and "content hash" in line
    }
    assert {name for name, version_id in tampered.items() if version_id not in reported} == set()
    assert control_id not in reported


@pytest.mark.parametrize("name", compared_fields())
def test_every_compared_field_shows_in_history(name: str, tmp_path: Path) -> None:
    archive = Archive(f"sqlite:///{tmp_path / 'archive.sqlite'}")
    field = next(f for f in FIELDS if f.name == name)
    rec = full_record()
    store(archive, rec, FIRST, images=[])
    changed = with_change(rec, field)
    expected = {name}
    if not field.hashed:  # alone it would record no new version
        companion = hashed_fields()[0]
        changed = with_change(changed, companion)
        expected.add(companion.name)
    assert store(archive, changed, SECOND, images=[]) == "changed"
    with archive.session() as session:
        history = article_history(session, rec["url"])
    archive.close()
    assert set(history.versions[1]["changed_fields"]) == expected
