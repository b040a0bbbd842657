"""PLACEHOLDER for the search engine (#6 branch only).

The real `archive/search.py` is built on another branch and replaces this file at merge.
This stand-in has exactly its interface — `search(...) -> SearchPage` of `SearchHit`s —
with plain substring semantics (LIKE over the current versions' title and body text), so
the HTTP API and web UI can be built and tested against it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from archive.models import Article, ArticleVersion, Site


@dataclass(frozen=True)
class SearchHit:
    id: int
    url: str
    title: str
    published_at: str | None
    district: str | None
    source: str | None
    site: str
    snippet: str
    snippet_html: str
    score: float


@dataclass(frozen=True)
class SearchPage:
    total: int
    items: list[SearchHit] = field(default_factory=list)


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _snippet(text: str, query: str, width: int = 60) -> tuple[str, str]:
    at = text.find(query) if query else -1
    start = max(0, at - width // 2) if at >= 0 else 0
    piece = text[start : start + width + len(query)]
    plain = ("…" if start else "") + piece + ("…" if start + len(piece) < len(text) else "")
    if not query:
        return plain, html.escape(plain)
    marked = f"<mark>{html.escape(query)}</mark>".join(
        html.escape(part) for part in plain.split(query)
    )
    return plain, marked


def search(
    session: Session,
    query: str,
    *,
    site: str | None = None,
    district: str | None = None,
    source: str | None = None,
    editor: str | None = None,
    category: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchPage:
    query = query.strip()
    conditions = []
    if query:
        pattern = _like(query)
        conditions.append(
            or_(
                ArticleVersion.title.like(pattern, escape="\\"),
                ArticleVersion.body_text.like(pattern, escape="\\"),
            )
        )
    if site:
        conditions.append(Site.name == site)
    if district:
        conditions.append(ArticleVersion.district == district)
    if source:
        conditions.append(ArticleVersion.source == source)
    if editor:
        conditions.append(ArticleVersion.editor == editor)
    if category:
        conditions.append(ArticleVersion.category == category)
    if date_from:
        conditions.append(ArticleVersion.published_at >= date_from[:10])
    if date_to:
        conditions.append(ArticleVersion.published_at < date_to[:10] + "T99")
    base = (
        select(Article, ArticleVersion, Site.name)
        .join(ArticleVersion, ArticleVersion.id == Article.current_version_id)
        .join(Site, Site.id == Article.site_id)
        .where(*conditions)
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(ArticleVersion.published_at.desc(), Article.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    items = []
    for article, version, site_name in rows:
        plain, marked = _snippet(version.body_text, query)
        items.append(
            SearchHit(
                id=article.id,
                url=article.url,
                title=version.title,
                published_at=version.published_at,
                district=version.district,
                source=version.source,
                site=site_name,
                snippet=plain,
                snippet_html=marked,
                score=1.0,
            )
        )
    return SearchPage(total=int(total), items=items)
