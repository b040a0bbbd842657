"""What a recrawl needs from the archive (#7): the articles already known (with the validators
of their current version, for conditional requests) and the durable frontier.

The frontier records every request a crawl schedules, keyed on (site, canonical URL), and
marks it done in the same transaction that stores its item or failure. A crawl killed at any
point leaves exactly the unfinished work pending; the next run re-enqueues it first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive.models import Article, ArticleVersion, FrontierEntry, Site, utcnow


@dataclass(frozen=True)
class KnownArticle:
    url: str
    last_seen: datetime
    etag: str | None
    last_modified: str | None
    category: str | None
    district: str | None

    def due(self, now: datetime, revisit_days: float) -> bool:
        return self.last_seen <= now - timedelta(days=revisit_days)

    def conditional_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


def known_articles(session: Session, site: str) -> dict[str, KnownArticle]:
    """Every archived article of a site by canonical URL, withdrawn ones included."""
    rows = session.execute(
        select(
            Article.url,
            Article.last_seen,
            ArticleVersion.etag,
            ArticleVersion.last_modified,
            ArticleVersion.category,
            ArticleVersion.district,
        )
        .join(Site, Site.id == Article.site_id)
        .join(ArticleVersion, ArticleVersion.id == Article.current_version_id)
        .where(Site.name == site)
    )
    return {row[0]: KnownArticle(*row) for row in rows}


def mark_seen(session: Session, url: str, seen: datetime) -> bool:
    """A 304: the current version still stands; only `last_seen` moves."""
    article = session.scalars(select(Article).where(Article.url == url)).one_or_none()
    if article is None:
        return False
    article.last_seen = max(article.last_seen, seen)
    return True


@dataclass(frozen=True)
class FrontierItem:
    url: str
    kind: str  # list | article
    context: dict[str, Any]


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


def pending(session: Session, site: str) -> list[FrontierItem]:
    rows = session.scalars(
        select(FrontierEntry)
        .where(FrontierEntry.site == site, FrontierEntry.state == "pending")
        .order_by(FrontierEntry.id)
    )
    return [FrontierItem(row.url, row.kind, dict(row.context or {})) for row in rows]
