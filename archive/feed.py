"""The incremental export feed: every article created, changed or withdrawn after a cursor.

A cursor is the id of the last change-log row a reader has seen, written `c<id>`. A page
covers the change ids in (since, upper]: with the default (one row per article) each
article appears once, as of its latest change in the window; with `all_versions` every
change is its own row. Because change ids become visible in id order (see
`archive.store.record_change`), the next page starting at `upper` misses nothing and
repeats nothing, also while a crawl is writing.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import Any, TypedDict, Unpack

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from archive.export import article_record
from archive.models import Article, ArticleChange, ArticleVersion, Site, VersionImage
from archive.search import district_names

CURSOR = re.compile(r"c(\d{1,18})")
FEED_FIELDS = ("change_id", "change", "version_id", "version_number")
# Their headings in a spreadsheet export.
FEED_LABELS = {
    "change_id": "变更编号",
    "change": "变更",
    "version_id": "版本编号",
    "version_number": "版本",
}


class CursorError(ValueError):
    pass


def parse_cursor(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    match = CURSOR.fullmatch(cursor.strip())
    if match is None:
        raise CursorError(
            f"{cursor!r} is not a cursor (use the 'next cursor: c…' value an export printed)"
        )
    return int(match.group(1))


def make_cursor(change_id: int) -> str:
    return f"c{change_id}"


def window_upper(session: Session, since: int, limit: int | None = None) -> int:
    """The last change id of the page starting after `since` (at most `limit` changes)."""
    if limit is not None:
        upper = session.scalar(
            select(ArticleChange.id)
            .where(ArticleChange.id > since)
            .order_by(ArticleChange.id)
            .offset(limit - 1)
            .limit(1)
        )
        if upper is not None:
            return int(upper)
    upper = session.scalar(select(func.max(ArticleChange.id)))
    return max(int(upper or 0), since)


def _filtered(
    session: Session, query: Select[Any, Any], site: str | None, district: str | None
) -> Select[Any, Any]:
    if site:
        query = query.join(Article, Article.id == ArticleChange.article_id).join(
            Site, Site.id == Article.site_id
        )
        query = query.where(Site.name == site)
    if district:
        query = query.join(ArticleVersion, ArticleVersion.id == ArticleChange.version_id)
        query = query.where(ArticleVersion.district.in_(district_names(session, district)))
    return query


class FeedFilters(TypedDict, total=False):
    """What narrows a feed page, shared by `change_ids` and `iter_feed` (all optional)."""

    site: str | None
    district: str | None
    all_versions: bool  # one row per change, not per article
    articles: Collection[int] | None  # only these article ids (e.g. a search's results)


def change_ids(
    session: Session, since: int, upper: int, **filters: Unpack[FeedFilters]
) -> list[int]:
    """The change ids of the window, in order; `articles` keeps only those articles'."""
    window = (ArticleChange.id > since, ArticleChange.id <= upper)
    columns = (ArticleChange.id, ArticleChange.article_id)
    if filters.get("all_versions", False):
        query = select(*columns).where(*window)
    else:
        latest = (
            select(func.max(ArticleChange.id).label("id"))
            .where(*window)
            .group_by(ArticleChange.article_id)
            .subquery()
        )
        query = select(*columns).join(latest, latest.c.id == ArticleChange.id)
    query = _filtered(session, query, filters.get("site"), filters.get("district"))
    articles = filters.get("articles")
    rows = session.execute(query.order_by(ArticleChange.id))
    return [row.id for row in rows if articles is None or row.article_id in articles]


def iter_feed(
    session: Session,
    since: int,
    upper: int,
    *,
    batch: int = 500,
    **filters: Unpack[FeedFilters],
) -> Iterator[dict[str, Any]]:
    """Export records of the changes in (since, upper], in change order (only of the
    `articles` ids when given, e.g. a search's result set)."""
    ids = change_ids(session, since, upper, **filters)
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        rows = session.execute(
            select(ArticleChange, Article, ArticleVersion)
            .join(Article, Article.id == ArticleChange.article_id)
            .join(ArticleVersion, ArticleVersion.id == ArticleChange.version_id)
            .where(ArticleChange.id.in_(chunk))
            .order_by(ArticleChange.id)
            .options(
                selectinload(Article.site),
                selectinload(ArticleVersion.images).selectinload(VersionImage.image),
            )
        ).all()
        numbers = version_numbers(session, {article.id for _, article, _ in rows})
        for change, article, version in rows:
            record = article_record(article, version)
            record.update(
                change_id=change.id,
                change=change.kind,
                version_id=version.id,
                version_number=numbers.get(version.id),
            )
            yield record
        session.expunge_all()


def version_numbers(session: Session, article_ids: set[int]) -> dict[int, int]:
    """version id -> its number (1 = first capture) within its article."""
    numbers: dict[int, int] = {}
    seen: dict[int, int] = {}
    for version_id, article_id in session.execute(
        select(ArticleVersion.id, ArticleVersion.article_id)
        .where(ArticleVersion.article_id.in_(article_ids))
        .order_by(ArticleVersion.id)
    ):
        seen[article_id] = seen.get(article_id, 0) + 1
        numbers[version_id] = seen[article_id]
    return numbers
