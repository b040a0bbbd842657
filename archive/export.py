"""Export: every archived article's current record, for people and for the portal import.

Streams rows (no whole-archive lists in memory). CSV flattens images to a JSON column,
since a spreadsheet has no nested lists.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.models import Article, ArticleVersion, VersionImage

EXPORT_FIELDS = (
    "id",
    "url",
    "title",
    "published_at",
    "published_precision",
    "source",
    "editor",
    "author",
    "body_text",
    "body_html",
    "images",
    "site",
    "city",
    "district",
    "category",
    "fetched_at",
    "first_seen",
    "last_seen",
    "gone_at",
)
FORMATS = ("jsonl", "csv", "json")


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def article_record(article: Article, version: ArticleVersion) -> dict[str, Any]:
    return {
        "id": article.id,
        "url": article.url,
        "title": version.title,
        "published_at": version.published_at,
        "published_precision": version.published_precision,
        "source": version.source,
        "editor": version.editor,
        "author": version.author,
        "body_text": version.body_text,
        "body_html": version.body_html,
        "images": [
            {
                "url": link.url,
                "alt": link.alt,
                "caption": link.caption,
                "sha256": link.image_sha256,
                "path": link.image.path if link.image else None,
                "mime": link.image.mime if link.image else None,
            }
            for link in version.images
        ],
        "site": article.site.name,
        "city": version.city,
        "district": version.district,
        "category": version.category,
        "fetched_at": _iso(version.fetched_at),
        "first_seen": _iso(article.first_seen),
        "last_seen": _iso(article.last_seen),
        "gone_at": _iso(article.gone_at),
    }


def iter_records(session: Session, batch: int = 500) -> Iterator[dict[str, Any]]:
    last_id = 0
    while True:
        rows = session.scalars(
            select(Article)
            .where(Article.id > last_id, Article.current_version_id.is_not(None))
            .order_by(Article.id)
            .limit(batch)
            .options(
                selectinload(Article.site),
                selectinload(Article.current)
                .selectinload(ArticleVersion.images)
                .selectinload(VersionImage.image),
            )
        ).all()
        if not rows:
            return
        for article in rows:
            assert article.current is not None
            yield article_record(article, article.current)
        last_id = rows[-1].id
        session.expunge_all()


def write_records(
    records: Iterator[dict[str, Any]],
    fmt: str,
    out: IO[str],
    fields: tuple[str, ...] = EXPORT_FIELDS,
) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for record in records:
            writer.writerow({**record, "images": json.dumps(record["images"], ensure_ascii=False)})
            count += 1
    elif fmt == "json":
        out.write("[")
        for record in records:
            out.write(("," if count else "") + "\n" + json.dumps(record, ensure_ascii=False))
            count += 1
        out.write("\n]\n")
    else:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
