"""BagIt packages (RFC 8493) of a selection of the archive, with the `bagit` library.

    data/articles.jsonl   the selected articles' current records (as `wenhua export`)
    data/images/…         their images, at the paths the records name
    data/warc/…           whole WARC files: those holding the selected versions' response
                          records and every file of the crawl runs that captured them
                          (images, revisits' originals), each with its CDXJ index

The selection is by site and by publication date (`published_at`, Beijing time, both ends
inclusive); with a date bound, articles without a publication date are left out.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from archive import jsonlines
from archive.config import ArchiveConfig
from archive.export import article_record
from archive.models import Article, ArticleVersion, Site, VersionImage, WarcFile


class BagError(Exception):
    """A bag that cannot be written as asked (the message says why)."""


@dataclass
class BagResult:
    path: Path
    articles: int
    images: int
    warc_files: int


def selection(site: str | None, start: date | None, end: date | None) -> Select[Any]:
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
    if site:
        query = query.join(Site, Site.id == Article.site_id).where(Site.name == site)
    if start:
        query = query.where(ArticleVersion.published_at >= start.isoformat())
    if end:
        query = query.where(ArticleVersion.published_at < (end + timedelta(days=1)).isoformat())
    return query


def describe(site: str | None, start: date | None, end: date | None) -> str:
    parts = [f"site {site}" if site else "all sites"]
    if start or end:
        parts.append(f"published {start or '…'} to {end or '…'}")
    return ", ".join(parts)


def make_bag(
    session: Session,
    config: ArchiveConfig,
    out: Path,
    *,
    site: str | None = None,
    start: date | None = None,
    end: date | None = None,
    organization: str = "wenhua archive",
) -> BagResult:
    import bagit

    if out.exists() and any(out.iterdir()):
        raise BagError(f"--out {out}: directory is not empty (give a new one)")
    if site and session.scalar(select(Site.id).where(Site.name == site)) is None:
        raise BagError(f"--site {site}: no such site in the archive")
    out.mkdir(parents=True, exist_ok=True)

    articles = 0
    images: set[str] = set()
    warc_names: set[str] = set()
    runs: set[int] = set()
    with (out / "articles.jsonl").open("w", encoding="utf-8") as jsonl:
        for article in session.scalars(selection(site, start, end)):
            version = article.current
            assert version is not None
            record = article_record(article, version)
            jsonl.write(jsonlines.dumps(record) + "\n")
            articles += 1
            images.update(i["path"] for i in record["images"] if i["path"])
            if version.warc_file:
                warc_names.add(version.warc_file)
            if version.crawl_run_id is not None:
                runs.add(version.crawl_run_id)
    if runs:
        warc_names.update(
            session.scalars(select(WarcFile.name).where(WarcFile.crawl_run_id.in_(runs)))
        )

    def copy(rel: str) -> None:
        source = config.data_dir / rel
        if not source.is_file():
            raise BagError(f"{rel}: file missing from the data directory (run `wenhua verify`)")
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)

    for rel in sorted(images):
        copy(rel)
    for rel in sorted(warc_names):
        copy(rel)
        index = rel.removesuffix(".warc.gz") + ".cdxj"
        if (config.data_dir / index).is_file():
            copy(index)

    info = {
        "Source-Organization": organization,
        "External-Description": (
            "Regional cultural news articles archived by wenhua: records as JSON Lines "
            "(data/articles.jsonl), images by sha256 (data/images/), and the WARC captures "
            f"(data/warc/). Selection: {describe(site, start, end)}."
        ),
        "External-Identifier": f"wenhua-bag-{describe(site, start, end)}",
        "Wenhua-Articles": str(articles),
        "Wenhua-Images": str(len(images)),
        "Wenhua-WARC-Files": str(len(warc_names)),
    }
    bagit.make_bag(str(out), info, checksums=["sha256"])
    return BagResult(out, articles, len(images), len(warc_names))
