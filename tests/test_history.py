"""Versions, history and gone marking at the store level, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from archive.db import Archive
from archive.export import iter_records
from archive.history import UnknownArticleError, article_history
from archive.models import Article
from archive.store import mark_gone
from tests.test_store import record, store

URL = "http://demo.wenhua.local/new-1.html"


def test_history_lists_versions_with_changed_fields_and_diff(db_url: str) -> None:
    archive = Archive(db_url)
    store(archive, record(), "2024-01-01T00:00:00+00:00")
    store(archive, record(), "2024-01-15T00:00:00+00:00")  # unchanged: no version
    store(
        archive, record(title="新标题", body_text="第一段\n新的第二段"), "2024-02-01T00:00:00+00:00"
    )
    with archive.session() as session:
        found = article_history(session, "HTTP://Demo.Wenhua.Local:80/new-1.html#comments")
    assert found.url == URL
    # The same instants, given in China time.
    assert [v["fetched_at"] for v in found.versions] == [
        "2024-01-01T08:00:00+08:00",
        "2024-02-01T08:00:00+08:00",
    ]
    assert found.current_version == 2
    assert found.versions[0]["changed_fields"] == []
    assert found.versions[1]["changed_fields"] == ["title", "body_text"]
    assert found.versions[1]["body_diff"].splitlines()[2:] == [
        "@@ -1,2 +1,2 @@",
        " 第一段",
        "-第二段",
        "+新的第二段",
    ]
    assert found.versions[1]["http_status"] == 200 and found.versions[1]["etag"] == '"x"'
    archive.close()


def test_history_of_unknown_url_names_it(db_url: str) -> None:
    archive = Archive(db_url)
    with archive.session() as session, pytest.raises(UnknownArticleError, match="new-404"):
        article_history(session, "http://demo.wenhua.local/new-404.html")
    archive.close()


def test_gone_is_marked_kept_exported_and_cleared_on_return(db_url: str) -> None:
    archive = Archive(db_url)
    store(archive, record(), "2024-01-01T00:00:00+00:00")
    withdrawn = datetime(2024, 3, 1, tzinfo=UTC)
    with archive.session() as session:
        assert mark_gone(session, URL, withdrawn, None) is True
        assert mark_gone(session, "http://demo.wenhua.local/never.html", withdrawn, None) is False
    with archive.session() as session:
        assert mark_gone(session, URL, datetime(2024, 4, 1, tzinfo=UTC), None) is True
        exported = list(iter_records(session))
        assert session.scalars(select(Article.url)).all() == [URL]
    # Still exported, with the first time it was seen gone.
    assert [(r["url"], r["gone_at"], r["title"]) for r in exported] == [
        (URL, "2024-03-01T08:00:00+08:00", "标题")
    ]
    assert store(archive, record(), "2024-05-01T00:00:00+00:00") == "unchanged"
    with archive.session() as session:
        article = session.scalars(select(Article)).one()
        assert article.gone_at is None
        assert article.changed_at.isoformat() == "2024-05-01T00:00:00+00:00"
    archive.close()
