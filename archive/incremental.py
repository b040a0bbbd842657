"""What a recrawl reads from the archive: the articles already known (with the validators
of their current version, for conditional requests) and the pending part of the durable
frontier.

The frontier records every request a crawl schedules, keyed on (site, canonical URL), and
marks it done in the same transaction that stores its item or failure. A crawl killed at any
point leaves exactly the unfinished work pending; the next run re-enqueues it first. The
writes (`schedule`, `mark_done`, `mark_seen`) are in archive.store with the archive's other
writes: during a crawl only the archive writer process makes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Article, ArticleVersion, FrontierEntry, Site


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


@dataclass(frozen=True)
class FrontierItem:
    url: str
    kind: str  # list | article
    context: dict[str, Any]


def pending(session: Session, site: str) -> list[FrontierItem]:
    rows = session.scalars(
        select(FrontierEntry)
        .where(FrontierEntry.site == site, FrontierEntry.state == "pending")
        .order_by(FrontierEntry.id)
    )
    return [FrontierItem(row.url, row.kind, dict(row.context or {})) for row in rows]
