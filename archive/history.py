"""An article's history: every version oldest → newest, with its provenance, the record
fields that changed against the version before, and a unified diff of the body text.

The URL is canonicalized first, so any spelling of an article's address finds it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.models import Article, ArticleVersion, VersionImage
from archive.timefmt import human_iso, iso
from crawler.extract.record import FIELDS, IMAGE_KEYS, compared_fields
from crawler.extract.urls import canonical_url

# The record fields compared between versions (images as their ordered url/alt/caption),
# listed in the order the version stores them: its columns first, then its images.
_POSITION = {column.key: n for n, column in enumerate(ArticleVersion.__table__.columns)}
COMPARED = tuple(sorted(compared_fields(), key=lambda name: _POSITION.get(name, len(_POSITION))))
_IMAGES = tuple(f.name for f in FIELDS if f.stored == "images")


class UnknownArticleError(LookupError):
    """No archived article has this URL."""


def _fields(version: ArticleVersion) -> dict[str, Any]:
    images = [[getattr(link, key) for key in IMAGE_KEYS] for link in version.images]
    return {name: images if name in _IMAGES else getattr(version, name) for name in COMPARED}


def body_diff(old: str, new: str, *, old_label: str, new_label: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), old_label, new_label, lineterm=""
    )
    return "\n".join(lines)


@dataclass
class ArticleHistory:
    url: str
    article_id: int
    first_seen: str | None
    last_seen: str | None
    gone_at: str | None
    current_version: int | None  # 1-based number of the current version
    versions: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "id": self.article_id,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "gone_at": self.gone_at,
            "current_version": self.current_version,
            "versions": self.versions,
        }

    def render(self) -> str:
        lines = [
            f"article {self.article_id}  {self.url}",
            f"first seen {human_iso(self.first_seen, 'second')}"
            f"  last seen {human_iso(self.last_seen, 'second')}"
            + (f"  GONE since {human_iso(self.gone_at, 'second')}" if self.gone_at else ""),
        ]
        for v in self.versions:
            current = "  (current)" if v["version"] == self.current_version else ""
            lines += [
                "",
                f"version {v['version']}{current}",
                f"  fetched_at    {human_iso(v['fetched_at'], 'second')}",
                f"  content_hash  {v['content_hash']}",
                f"  crawl_run     {v['crawl_run_id'] if v['crawl_run_id'] is not None else '-'}",
                f"  http_status   {v['http_status']}",
                f"  final_url     {v['final_url']}",
                f"  content_type  {v['content_type'] or '-'}",
                f"  last_modified {v['last_modified'] or '-'}",
                f"  etag          {v['etag'] or '-'}",
                f"  raw_sha256    {v['raw_sha256']}",
                f"  title         {v['title']}",
            ]
            if v["version"] == 1:
                lines.append("  changed       (first version)")
            else:
                lines.append(f"  changed       {', '.join(v['changed_fields']) or '(none)'}")
            if v["body_diff"]:
                lines.append("  body_text diff:")
                lines += ["    " + line for line in v["body_diff"].splitlines()]
        return "\n".join(lines)


def article_history(session: Session, url: str) -> ArticleHistory:
    canonical = canonical_url(url.strip())
    article = session.scalars(select(Article).where(Article.url == canonical)).one_or_none()
    if article is None:
        raise UnknownArticleError(f"no archived article has the URL {url} ({canonical})")
    versions = session.scalars(
        select(ArticleVersion)
        .where(ArticleVersion.article_id == article.id)
        .order_by(ArticleVersion.id)
        .options(selectinload(ArticleVersion.images).selectinload(VersionImage.image))
    ).all()
    entries: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    current_number = None
    for number, version in enumerate(versions, start=1):
        fields = _fields(version)
        if previous is None:
            changed: list[str] = []
            diff = ""
        else:
            changed = [name for name in COMPARED if fields[name] != previous[name]]
            diff = body_diff(
                previous["body_text"],
                fields["body_text"],
                old_label=f"version {number - 1}",
                new_label=f"version {number}",
            )
        if version.id == article.current_version_id:
            current_number = number
        entries.append(
            {
                "version": number,
                "version_id": version.id,
                "fetched_at": iso(version.fetched_at),
                "content_hash": version.content_hash,
                "crawl_run_id": version.crawl_run_id,
                "http_status": version.http_status,
                "final_url": version.final_url,
                "content_type": version.content_type,
                "last_modified": version.last_modified,
                "etag": version.etag,
                "raw_sha256": version.raw_sha256,
                "title": version.title,
                "changed_fields": changed,
                "body_diff": diff,
            }
        )
        previous = fields
    return ArticleHistory(
        url=article.url,
        article_id=article.id,
        first_seen=iso(article.first_seen),
        last_seen=iso(article.last_seen),
        gone_at=iso(article.gone_at),
        current_version=current_number,
        versions=entries,
    )
