"""Writing to the archive: idempotent, versioned, nothing ever deleted.

An article is found by its canonical URL. A capture whose normalized record hashes the
same as the current version only moves `last_seen`; a different hash appends a version.
The hash covers what the page says (title, meta fields, body, image list), not the raw
bytes, which change with every server-side timestamp or compression run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive.incremental import FrontierItem
from archive.models import (
    Article,
    ArticleChange,
    ArticleVersion,
    CrawlRun,
    Failure,
    FrontierEntry,
    Image,
    ImageUrl,
    Problem,
    Site,
    VersionImage,
    WarcFile,
    utcnow,
)
from archive.runs import coverage_of, drift, previous_coverage
from archive.search import index_article
from crawler.extract.record import IMAGE_KEYS, hashed_fields, version_columns
from crawler.sitedefs import SiteDefinition


def content_hash(record: dict[str, Any]) -> str:
    """sha256 of the record's hashed fields; images as their ordered url/alt/caption."""
    essence: dict[str, Any] = {}
    for field in hashed_fields():
        if field.stored == "images":
            essence[field.name] = [
                [image.get(key) for key in IMAGE_KEYS] for image in record.get(field.name, [])
            ]
        else:
            essence[field.name] = record.get(field.name)
    blob = json.dumps(essence, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# One statement object per (dialect, table, conflict keys): built once and executed with
# parameters, so SQLAlchemy neither rebuilds nor recompiles it for every row.
_INSERT_IGNORE: dict[tuple[str, Any, tuple[str, ...]], Any] = {}


def _insert_ignore(session: Session, model: Any, values: dict[str, Any], keys: list[str]) -> None:
    """INSERT … ON CONFLICT DO NOTHING, so concurrent writers never duplicate a row."""
    dialect = session.get_bind().dialect.name
    cache_key = (dialect, model, tuple(keys))
    statement = _INSERT_IGNORE.get(cache_key)
    if statement is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(model).on_conflict_do_nothing(index_elements=keys)
        _INSERT_IGNORE[cache_key] = statement
    session.execute(statement, values)


def ensure_site(session: Session, site: SiteDefinition) -> Site:
    _insert_ignore(
        session,
        Site,
        {"name": site.name, "title": site.title, "family": site.family, "base_url": site.base_url},
        ["name"],
    )
    row = session.scalars(select(Site).where(Site.name == site.name)).one()
    row.title, row.family, row.base_url = site.title, site.family, site.base_url
    row.province, row.city, row.district = (
        site.region.province,
        site.region.city,
        site.region.district,
    )
    return row


def start_run(session: Session, sites: Iterable[str], settings: dict[str, Any]) -> CrawlRun:
    run = CrawlRun(sites={"names": list(sites)}, settings=settings, stats={})
    session.add(run)
    session.flush()
    return run


def finish_run(session: Session, run_id: int, stats: dict[str, Any], status: str) -> None:
    """The run's end, with its field coverage and the drift against the site's earlier runs."""
    run = session.get(CrawlRun, run_id)
    if run is not None:
        coverage = coverage_of(stats)
        if coverage is not None:
            stats = {
                **stats,
                "coverage": coverage,
                "drift": drift(coverage, previous_coverage(session, run)),
            }
        run.finished_at = utcnow()
        run.stats = stats
        run.status = status


def store_image(session: Session, facts: dict[str, Any], url: str, seen: datetime) -> None:
    _insert_ignore(
        session,
        Image,
        {
            "sha256": facts["sha256"],
            "mime": facts["mime"],
            "width": facts["width"],
            "height": facts["height"],
            "size": facts["size"],
            "path": facts["path"],
            "first_seen": seen,
        },
        ["sha256"],
    )
    _insert_ignore(
        session,
        ImageUrl,
        {"url": url, "image_sha256": facts["sha256"], "first_seen": seen},
        ["url", "image_sha256"],
    )


def store_article(
    session: Session,
    *,
    site_id: int,
    record: dict[str, Any],
    capture: dict[str, Any],
    image_results: list[dict[str, Any]],
    problems: list[dict[str, str]],
    run_id: int | None,
) -> str:
    """Store one extracted article; returns 'new', 'changed' or 'unchanged'."""
    fetched_at = datetime.fromisoformat(capture["fetched_at"])
    _insert_ignore(
        session,
        Article,
        {
            "url": record["url"],
            "site_id": site_id,
            "first_seen": fetched_at,
            "last_seen": fetched_at,
            "changed_at": fetched_at,
        },
        ["url"],
    )
    article = session.scalars(
        select(Article).where(Article.url == record["url"]).with_for_update()
    ).one()
    article.last_seen = max(article.last_seen, fetched_at)
    was_gone = article.gone_at is not None
    if was_gone:  # back after a withdrawal: the feed must see it
        article.gone_at = None
        article.changed_at = max(article.changed_at, fetched_at)
    digest = content_hash(record)
    current = (
        session.get(ArticleVersion, article.current_version_id)
        if article.current_version_id
        else None
    )
    if current is not None and current.content_hash == digest:
        _link_late_images(session, current.id, image_results, fetched_at)
        if was_gone:
            record_change(session, article.id, "restored", version_id=current.id)
        return "unchanged"

    version = ArticleVersion(
        article_id=article.id,
        crawl_run_id=run_id,
        content_hash=digest,
        fetched_at=fetched_at,
        http_status=capture["http_status"],
        final_url=capture["final_url"],
        content_type=capture.get("content_type"),
        last_modified=capture.get("last_modified"),
        etag=capture.get("etag"),
        raw_sha256=capture["raw_sha256"],
        **{f.name: record[f.name] if f.required else record.get(f.name) for f in version_columns()},
    )
    session.add(version)
    session.flush()
    for position, image in enumerate(record.get("images", [])):
        result = image_results[position] if position < len(image_results) else {}
        sha = result.get("sha256")
        if sha:
            store_image(session, result, image["url"], fetched_at)
        session.add(
            VersionImage(
                version_id=version.id,
                position=position,
                url=image["url"],
                image_sha256=sha,
                alt=image.get("alt"),
                caption=image.get("caption"),
            )
        )
        if not sha:
            session.add(
                Failure(
                    crawl_run_id=run_id,
                    url=image["url"],
                    kind="image",
                    reason=result.get("error", "not downloaded"),
                )
            )
    for problem in problems:
        session.add(
            Problem(crawl_run_id=run_id, version_id=version.id, url=record["url"], **problem)
        )
    outcome = "new" if current is None else "changed"
    article.current_version_id = version.id
    article.changed_at = fetched_at
    index_article(session, article.id)
    record_change(session, article.id, outcome, version_id=version.id)
    return outcome


def record_change(
    session: Session, article_id: int, kind: str, *, version_id: int | None = None
) -> int:
    """Append to the export feed's change log, in the caller's transaction; returns its id.

    kind is 'new', 'changed', 'gone' or 'restored'. Call it as the last write of the
    transaction: on PostgreSQL it locks the log until commit so that change ids become
    visible in id order (a reader that has seen id N has seen every id below N); SQLite
    serializes writers anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE article_changes IN SHARE ROW EXCLUSIVE MODE"))
    if version_id is None:
        version_id = session.scalar(
            select(Article.current_version_id).where(Article.id == article_id)
        )
    change = ArticleChange(article_id=article_id, version_id=version_id, kind=kind)
    session.add(change)
    session.flush()
    return change.id


def _link_late_images(
    session: Session, version_id: int, image_results: list[dict[str, Any]], seen: datetime
) -> None:
    """An image that failed when its version was stored and arrived on a later crawl."""
    missing = session.scalars(
        select(VersionImage).where(
            VersionImage.version_id == version_id, VersionImage.image_sha256.is_(None)
        )
    ).all()
    for link in missing:
        result = image_results[link.position] if link.position < len(image_results) else {}
        if result.get("sha256"):
            store_image(session, result, link.url, seen)
            link.image_sha256 = result["sha256"]


def mark_gone(session: Session, url: str, when: datetime, run_id: int | None) -> bool:
    """A known article's page now answers 404/410: set gone_at (nothing is deleted).

    Returns True when `url` is an archived article (already gone ones keep their first
    gone_at); an unknown URL is not an article and stays a plain fetch failure.
    """
    article = session.scalars(
        select(Article).where(Article.url == url).with_for_update()
    ).one_or_none()
    if article is None:
        return False
    if article.gone_at is None:
        article.gone_at = when
        article.changed_at = max(article.changed_at, when)
        record_change(session, article.id, "gone")
    return True


def store_failure(
    session: Session,
    *,
    run_id: int | None,
    url: str,
    kind: str,
    reason: str,
    http_status: int | None,
    raw_sha256: str | None,
    retries: int,
) -> None:
    session.add(
        Failure(
            crawl_run_id=run_id,
            url=url,
            kind=kind,
            reason=reason,
            http_status=http_status,
            raw_sha256=raw_sha256,
            retries=retries,
        )
    )


def store_page_problems(
    session: Session, *, run_id: int | None, url: str, problems: Iterable[dict[str, str]]
) -> None:
    """Values of a page that could not be used (a malformed or off-site link), not tied to
    an article version."""
    for problem in problems:
        session.add(Problem(crawl_run_id=run_id, version_id=None, url=url, **problem))


# The durable frontier (read back by archive.incremental): a crawl's requests are recorded
# as pending and marked done in the transaction that stores their item or failure.


def schedule(session: Session, site: str, entries: Iterable[FrontierItem]) -> None:
    """Record requests as pending (idempotent: a known URL goes back to pending)."""
    now = utcnow()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for entry in entries:
        statement = insert(FrontierEntry).values(
            site=site,
            url=entry.url,
            kind=entry.kind,
            context=entry.context,
            state="pending",
            updated_at=now,
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["site", "url"],
                set_={"state": "pending", "updated_at": now, "context": entry.context},
            )
        )


def mark_done(session: Session, site: str, url: str) -> None:
    session.execute(
        update(FrontierEntry)
        .where(FrontierEntry.site == site, FrontierEntry.url == url)
        .values(state="done", updated_at=utcnow())
    )


def mark_seen(session: Session, url: str, seen: datetime) -> bool:
    """A 304: the current version still stands; only `last_seen` moves."""
    article = session.scalars(select(Article).where(Article.url == url)).one_or_none()
    if article is None:
        return False
    article.last_seen = max(article.last_seen, seen)
    return True


def store_warc_file(
    session: Session, *, name: str, run_id: int | None, sha256: str, size: int, records: int
) -> None:
    """A closed WARC file, with the sha256 `wenhua verify` checks it against."""
    session.add(WarcFile(name=name, crawl_run_id=run_id, sha256=sha256, size=size, records=records))
