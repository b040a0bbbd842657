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
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import jsonlines
from archive.config import ArchiveConfig
from archive.export import article_record
from archive.models import WarcFile
from archive.selection import Selection


class BagError(Exception):
    """A bag that cannot be written as asked (the message says why)."""


@dataclass
class BagResult:
    path: Path
    articles: int
    images: int
    warc_files: int


def make_bag(
    session: Session,
    config: ArchiveConfig,
    out: Path,
    selection: Selection,
    *,
    organization: str = "wenhua archive",
) -> BagResult:
    import bagit

    if out.exists() and any(out.iterdir()):
        raise BagError(f"--out {out}: directory is not empty (give a new one)")
    if selection.unknown_site(session):
        raise BagError(f"--site {selection.site}: no such site in the archive")
    out.mkdir(parents=True, exist_ok=True)

    articles = 0
    images: set[str] = set()
    warc_names: set[str] = set()
    runs: set[int] = set()
    with (out / "articles.jsonl").open("w", encoding="utf-8") as jsonl:
        for article in session.scalars(selection.query()):
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
            f"(data/warc/). Selection: {selection.describe()}."
        ),
        "External-Identifier": f"wenhua-bag-{selection.describe()}",
        "Wenhua-Articles": str(articles),
        "Wenhua-Images": str(len(images)),
        "Wenhua-WARC-Files": str(len(warc_names)),
    }
    bagit.make_bag(str(out), info, checksums=["sha256"])
    return BagResult(out, articles, len(images), len(warc_names))
