"""Helpers shared by the crawl tests: row counts and the archived record of a URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from archive.db import Archive
from archive.export import iter_records
from archive.models import Article, ArticleVersion, Failure, Image, ImageUrl, VersionImage

COUNTED = {
    "articles": Article,
    "versions": ArticleVersion,
    "images": Image,
    "image_urls": ImageUrl,
    "version_images": VersionImage,
    "failures": Failure,
}


def row_counts(archive: Archive) -> dict[str, int]:
    with archive.session() as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in COUNTED.items()
        }


def records_by_url(archive: Archive) -> dict[str, dict[str, Any]]:
    with archive.session() as session:
        return {record["url"]: record for record in iter_records(session)}
