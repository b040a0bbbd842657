"""Which articles a package holds (`wenhua bag`, `wenhua wacz`): by site and publication day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from archive.models import Article, ArticleVersion, Site, VersionImage


@dataclass(frozen=True)
class Selection:
    """The articles a package holds (`wenhua bag`, `wenhua wacz`): by site and by publication
    day, both ends inclusive; None leaves that bound open."""

    site: str | None = None
    start: date | None = None
    end: date | None = None

    def query(self) -> Select[Any]:
        query = (
            select(Article)
            .join(ArticleVersion, Article.current_version_id == ArticleVersion.id)
            .order_by(Article.id)
            .options(
                selectinload(Article.site),
                selectinload(Article.current)
                .selectinload(ArticleVersion.images)
                .selectinload(VersionImage.image),
            )
        )
        if self.site:
            query = query.join(Site, Site.id == Article.site_id).where(Site.name == self.site)
        if self.start:
            query = query.where(ArticleVersion.published_at >= self.start.isoformat())
        if self.end:
            next_day = self.end + timedelta(days=1)
            query = query.where(ArticleVersion.published_at < next_day.isoformat())
        return query

    def describe(self) -> str:
        parts = [f"site {self.site}" if self.site else "all sites"]
        if self.start or self.end:
            parts.append(f"published {self.start or '…'} to {self.end or '…'}")
        return ", ".join(parts)

    def unknown_site(self, session: Session) -> bool:
        """A site is named and the archive has none of that name."""
        return bool(self.site) and (
            session.scalar(select(Site.id).where(Site.name == self.site)) is None
        )
