"""The archive's schema (SQLAlchemy 2 typed ORM).

An article is identified by its canonical URL and owns an append-only list of versions;
`current_version_id` points at the newest. Images are content-addressed by sha256: one row
per distinct byte string, every URL it was seen at, and an ordered link table from
versions to images. Nothing is ever deleted: a withdrawn page only sets `gone_at`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from crawler.extract.record import Field

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    family: Mapped[str] = mapped_column(String(50), default="")
    base_url: Mapped[str] = mapped_column(String(500), default="")
    province: Mapped[str | None] = mapped_column(String(50))
    city: Mapped[str | None] = mapped_column(String(50))
    district: Mapped[str | None] = mapped_column(String(50))


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    sites: Mapped[dict[str, Any]] = mapped_column(default=dict)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("article_versions.id", use_alter=True)
    )
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    # When the current version was recorded or the article withdrawn: the export feed's clock.
    changed_at: Mapped[datetime] = mapped_column(index=True)
    gone_at: Mapped[datetime | None]

    site: Mapped[Site] = relationship()
    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article",
        foreign_keys="ArticleVersion.article_id",
        order_by="ArticleVersion.id",
    )
    current: Mapped[ArticleVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )


class ArticleVersion(Base):
    __tablename__ = "article_versions"
    __table_args__ = (Index("ix_article_versions_district_published", "district", "published_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    # Provenance of the capture this version was extracted from.
    fetched_at: Mapped[datetime]
    http_status: Mapped[int]
    final_url: Mapped[str] = mapped_column(String(2000))
    content_type: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    etag: Mapped[str | None] = mapped_column(String(200))
    raw_sha256: Mapped[str] = mapped_column(String(64))
    # The normalized record. published_at is ISO 8601 at +08:00, fixed width, so it sorts.
    title: Mapped[str] = mapped_column(Text)
    published_at: Mapped[str | None] = mapped_column(String(25), index=True)
    published_precision: Mapped[str | None] = mapped_column(String(10))
    source: Mapped[str | None] = mapped_column(String(300))
    editor: Mapped[str | None] = mapped_column(String(300))
    author: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(50))
    district: Mapped[str | None] = mapped_column(String(50))
    category: Mapped[str | None] = mapped_column(String(100))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # The response record this version was extracted from: WARC file relative to the
    # data directory, offset and length of its gzip member.
    warc_file: Mapped[str | None] = mapped_column(String(300))
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    warc_length: Mapped[int | None]

    article: Mapped[Article] = relationship(back_populates="versions", foreign_keys=[article_id])
    images: Mapped[list[VersionImage]] = relationship(order_by="VersionImage.position")


def stored_value(
    field: Field,
    article: Article,
    version: ArticleVersion,
    *,
    instant: Callable[[datetime], Any],
    images: Callable[[list[VersionImage]], Any],
) -> Any:
    """A record field as the archive keeps it for an article and one of its versions: the
    column of its name or the site's name; a capture time through `instant`, the version's
    ordered image links through `images` (each reader spells those its own way)."""
    if field.stored == "article":
        return getattr(article, field.name)
    if field.stored == "site":
        return article.site.name
    if field.stored == "images":
        return images(version.images)
    if field.stored == "capture":
        return instant(getattr(version, field.name))
    return getattr(version, field.name)


class Image(Base):
    __tablename__ = "images"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    mime: Mapped[str] = mapped_column(String(50))
    width: Mapped[int]
    height: Mapped[int]
    size: Mapped[int]
    path: Mapped[str] = mapped_column(String(300))  # relative to the data directory
    first_seen: Mapped[datetime]


class ImageUrl(Base):
    __tablename__ = "image_urls"
    __table_args__ = (UniqueConstraint("url", "image_sha256", name="uq_image_urls_url_sha"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), index=True)
    image_sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"))
    first_seen: Mapped[datetime]


class VersionImage(Base):
    """An image as one article version uses it (image_sha256 null: it could not be fetched)."""

    __tablename__ = "version_images"

    version_id: Mapped[int] = mapped_column(ForeignKey("article_versions.id"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    image_sha256: Mapped[str | None] = mapped_column(ForeignKey("images.sha256"), index=True)
    alt: Mapped[str | None] = mapped_column(Text)
    caption: Mapped[str | None] = mapped_column(Text)

    image: Mapped[Image | None] = relationship()


class Problem(Base):
    """A value the normalizer could not make sense of, kept for an archivist to fix."""

    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("article_versions.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    field: Mapped[str] = mapped_column(String(50))
    raw: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Failure(Base):
    """A fetch, extraction or image that did not make it into the archive, with why."""

    __tablename__ = "failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    kind: Mapped[str] = mapped_column(String(20))  # fetch | extraction | image
    http_status: Mapped[int | None]
    reason: Mapped[str] = mapped_column(Text)
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    retries: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleChange(Base):
    """The export feed's log: one row per new version, withdrawal or return of an article.

    Rows are appended in the same transaction as the change they record, and ids are
    handed out in commit order (see archive.store.record_change), so "every change after
    id N" never misses a row that commits later with a smaller id.
    """

    __tablename__ = "article_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    # The version current after the change (for 'gone': the one that was withdrawn).
    version_id: Mapped[int | None] = mapped_column(ForeignKey("article_versions.id"))
    kind: Mapped[str] = mapped_column(String(20))  # new | changed | gone | restored
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WarcFile(Base):
    """A closed WARC file: its sha256 as written, for `wenhua verify`, and its run."""

    __tablename__ = "warc_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)  # relative to the data dir
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    records: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FrontierEntry(Base):
    """A request a crawl scheduled: durable, so a killed crawl resumes where it stopped.

    `url` is canonical; `context` carries the start page's category and district.
    """

    __tablename__ = "frontier"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(2000))
    kind: Mapped[str] = mapped_column(String(10))  # list | article
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | done
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("site", "url", name="uq_frontier_site_url"),
        Index("ix_frontier_site_state", "site", "state"),
    )
