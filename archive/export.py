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

from archive import jsonlines
from archive.models import Article, ArticleVersion, VersionImage
from crawler.extract.record import FIELDS, IMAGE_KEYS, Field, exported_fields

# What the archive knows of an article beyond its record: its id before the record's
# fields, and when it was first and last seen (and withdrawn) after them.
ARTICLE_FACTS = ("first_seen", "last_seen", "gone_at")
EXPORT_FIELDS = ("id", *exported_fields(), *ARTICLE_FACTS)
FORMATS = ("jsonl", "csv", "json")


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _images(version: ArticleVersion) -> list[dict[str, Any]]:
    return [
        {
            **{key: getattr(link, key) for key in IMAGE_KEYS},
            "sha256": link.image_sha256,
            "path": link.image.path if link.image else None,
            "mime": link.image.mime if link.image else None,
        }
        for link in version.images
    ]


def _value(field: Field, article: Article, version: ArticleVersion) -> Any:
    if field.stored == "version":
        return getattr(version, field.name)
    if field.stored == "capture":
        return _iso(getattr(version, field.name))
    if field.stored == "article":
        return getattr(article, field.name)
    if field.stored == "site":
        return article.site.name
    return _images(version)


def article_record(article: Article, version: ArticleVersion) -> dict[str, Any]:
    record: dict[str, Any] = {"id": article.id}
    record.update(
        (field.name, _value(field, article, version)) for field in FIELDS if field.exported
    )
    record.update((name, _iso(getattr(article, name))) for name in ARTICLE_FACTS)
    return record


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
            out.write(jsonlines.dumps(record) + "\n")
            count += 1
    return count
