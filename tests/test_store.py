"""The archive store on SQLite and PostgreSQL: idempotent, versioned, nothing deleted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from archive.db import Archive
from archive.models import Article, ArticleVersion, Image, ImageUrl, Problem, VersionImage
from archive.store import content_hash, ensure_site, store_article
from crawler.sitedefs import load_site

SHA = "a" * 64


def record(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "url": "http://demo.wenhua.local/new-1.html",
        "title": "标题",
        "published_at": "2020-11-02T11:20:24+08:00",
        "published_precision": "second",
        "source": "路南发布",
        "editor": "王瑶",
        "author": None,
        "body_text": "第一段\n第二段",
        "body_html": "<p>第一段</p>",
        "images": [{"url": "http://demo.wenhua.local/1.jpg", "alt": "1.jpg", "caption": None}],
        "site": "demo-culture-cloud",
        "city": "唐山市",
        "district": "路南区",
        "category": "信息资讯",
    }
    base.update(changes)
    return base


def capture(when: str) -> dict[str, Any]:
    return {
        "fetched_at": when,
        "http_status": 200,
        "final_url": "http://demo.wenhua.local/new-1.html",
        "content_type": "text/html; charset=utf-8",
        "last_modified": None,
        "etag": '"x"',
        "raw_sha256": "b" * 64,
    }


IMAGE = {
    "sha256": SHA,
    "mime": "image/jpeg",
    "width": 10,
    "height": 8,
    "size": 99,
    "path": f"images/aa/aa/{SHA}.jpg",
}


def store(
    archive: Archive,
    rec: dict[str, Any],
    when: str,
    images: list[dict[str, Any]] | None = None,
    problems: list[dict[str, str]] | None = None,
) -> str:
    with archive.session() as session:
        site_id = ensure_site(session, load_site("demo-culture-cloud")).id
        return store_article(
            session,
            site_id=site_id,
            record=rec,
            capture=capture(when),
            image_results=[IMAGE] if images is None else images,
            problems=problems or [],
            run_id=None,
        )


def count(archive: Archive, model: Any) -> int:
    with archive.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_same_content_twice_adds_nothing(db_url: str) -> None:
    archive = Archive(db_url)
    assert store(archive, record(), "2024-01-01T00:00:00+00:00") == "new"
    assert store(archive, record(), "2024-02-01T00:00:00+00:00") == "unchanged"
    assert [
        count(archive, m) for m in (Article, ArticleVersion, Image, ImageUrl, VersionImage)
    ] == [1, 1, 1, 1, 1]
    with archive.session() as session:
        article = session.scalars(select(Article)).one()
        assert article.first_seen.isoformat() == "2024-01-01T00:00:00+00:00"
        assert article.last_seen.isoformat() == "2024-02-01T00:00:00+00:00"


def test_changed_content_appends_a_version(db_url: str) -> None:
    archive = Archive(db_url)
    store(archive, record(), "2024-01-01T00:00:00+00:00")
    assert (
        store(archive, record(body_text="第一段\n改过的第二段"), "2024-02-01T00:00:00+00:00")
        == "changed"
    )
    with archive.session() as session:
        article = session.scalars(select(Article)).one()
        versions = session.scalars(select(ArticleVersion).order_by(ArticleVersion.id)).all()
        assert len(versions) == 2
        assert article.current_version_id == versions[1].id
        assert versions[0].body_text == "第一段\n第二段"  # history is kept


def test_same_bytes_from_two_urls_stored_once(db_url: str) -> None:
    archive = Archive(db_url)
    store(archive, record(), "2024-01-01T00:00:00+00:00")
    other = record(
        url="http://demo.wenhua.local/new-2.html",
        images=[{"url": "http://demo.wenhua.local/copy.jpg", "alt": None, "caption": None}],
    )
    store(archive, other, "2024-01-01T00:00:00+00:00")
    assert count(archive, Image) == 1
    with archive.session() as session:
        assert sorted(session.scalars(select(ImageUrl.url))) == [
            "http://demo.wenhua.local/1.jpg",
            "http://demo.wenhua.local/copy.jpg",
        ]


def test_failed_image_is_linked_when_it_arrives_later(db_url: str) -> None:
    archive = Archive(db_url)
    store(archive, record(), "2024-01-01T00:00:00+00:00", images=[{"error": "HTTP 503"}])
    with archive.session() as session:
        assert session.scalars(select(VersionImage.image_sha256)).one() is None
    assert store(archive, record(), "2024-01-02T00:00:00+00:00") == "unchanged"
    with archive.session() as session:
        assert session.scalars(select(VersionImage.image_sha256)).one() == SHA


def test_problems_are_kept_with_the_version(db_url: str) -> None:
    archive = Archive(db_url)
    problem = {
        "field": "published_at",
        "raw": "发布时间:不详",
        "reason": "unrecognised date format",
    }
    store(archive, record(published_at=None), "2024-01-01T00:00:00+00:00", problems=[problem])
    with archive.session() as session:
        row = session.scalars(select(Problem)).one()
        assert (row.field, row.raw, row.reason) == tuple(problem.values())
        assert row.version_id is not None


def test_content_hash_ignores_fetch_context() -> None:
    assert content_hash(record()) == content_hash(record(category="别的", fetched_at="x"))
    assert content_hash(record()) != content_hash(record(title="新标题"))
