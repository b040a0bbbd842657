"""Fixity: re-hash everything the archive keeps and compare with what was recorded.

- WARC files: the whole file's sha256 against `warc_files` (recorded when the file was
  closed), and every record's block and payload digests as written in its headers; each
  article version's WARC pointer must reach a response record whose decoded payload
  hashes to the version's raw sha256.
- Images: every `images` row's file against its sha256 and size.
- Raw captures: every file under `raw/` and every sha256 a version or failure names.
- Stored bodies: each version's content hash recomputed from its stored fields.

Each problem is one line naming the file (relative to the data directory) or the row.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.config import ArchiveConfig
from archive.models import ArticleVersion, Failure, Image, WarcFile
from archive.rawstore import RawStore
from archive.store import content_hash
from crawler.extract.record import IMAGE_KEYS, hashed_fields


@dataclass
class FixityReport:
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {
            "WARC files": 0,
            "WARC records": 0,
            "images": 0,
            "raw captures": 0,
            "article versions": 0,
        }
    )

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        checked = ", ".join(f"{n} {what}" for what, n in self.counts.items())
        if self.ok:
            return f"verified {checked}: all intact"
        return f"checked {checked}: {len(self.problems)} problem(s)"


def file_sha256(path: Path) -> str:
    """A file's sha256, read in 1 MiB chunks (WARC files run to a gigabyte)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _check_warc_records(path: Path, name: str, report: FixityReport) -> None:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    number = 0
    try:
        with path.open("rb") as handle:
            records = ArchiveIterator(handle, check_digests=True)
            for record in records:
                number += 1
                stream = record.content_stream()
                while stream.read(1 << 20):
                    pass
                report.counts["WARC records"] += 1
                if record.digest_checker.passed is False:
                    uri = record.rec_headers.get_header("WARC-Target-URI") or "-"
                    what = "; ".join(str(p) for p in record.digest_checker.problems)
                    report.problems.append(
                        f"{name}: record {number} at offset {records.get_record_offset()} "
                        f"({_brief(uri)}): {_brief(what)}"
                    )
    except (ArchiveLoadFailed, OSError, EOFError, zlib.error, ValueError) as exc:
        report.problems.append(
            f"{name}: unreadable after record {number}: {type(exc).__name__}: {_brief(exc)}"
        )


def _brief(text: object, limit: int = 160) -> str:
    """A damaged file's bytes end up in error messages: one printable line, bounded, so a
    report stays one problem per line."""
    flat = str(text).encode("unicode_escape").decode("ascii")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _check_warcs(session: Session, config: ArchiveConfig, report: FixityReport) -> None:
    registered = {row.name: row for row in session.scalars(select(WarcFile))}
    on_disk = {f"warc/{path.name}" for path in config.warc_dir.glob("*.warc.gz") if path.is_file()}
    for name in sorted(registered.keys() | on_disk):
        path = config.data_dir / name
        if not path.is_file():
            report.problems.append(f"{name}: WARC file missing")
            continue
        report.counts["WARC files"] += 1
        row = registered.get(name)
        if row is not None and file_sha256(path) != row.sha256:
            report.problems.append(f"{name}: sha256 differs from the one recorded at capture")
        _check_warc_records(path, name, report)


def _check_version_pointer(
    version: ArticleVersion, config: ArchiveConfig, report: FixityReport
) -> None:
    from warcio.archiveiterator import ArchiveIterator

    if version.warc_file is None or version.warc_offset is None:
        return
    path = config.data_dir / version.warc_file
    where = f"{version.warc_file} at offset {version.warc_offset}"
    if not path.is_file():
        return  # reported once as a missing WARC file
    try:
        with path.open("rb") as handle:
            handle.seek(version.warc_offset)
            record = next(iter(ArchiveIterator(handle)))
            body = record.content_stream().read()
    except Exception as exc:  # any damage makes the pointer unusable
        report.problems.append(
            f"article version {version.id}: {where}: unreadable ({type(exc).__name__})"
        )
        return
    if record.rec_type == "revisit":
        return  # the payload was captured earlier, under WARC-Refers-To-Target-URI
    if record.rec_type != "response":
        report.problems.append(
            f"article version {version.id}: {where} is a {record.rec_type} record, not a response"
        )
    elif hashlib.sha256(body).hexdigest() != version.raw_sha256:
        report.problems.append(
            f"article version {version.id}: {where}: payload differs from raw sha256 "
            f"{version.raw_sha256}"
        )


def _check_images(session: Session, config: ArchiveConfig, report: FixityReport) -> None:
    for image in session.scalars(select(Image).order_by(Image.sha256)):
        report.counts["images"] += 1
        path = config.data_dir / image.path
        if not path.is_file():
            report.problems.append(f"{image.path}: image file missing")
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != image.sha256:
            report.problems.append(f"{image.path}: sha256 mismatch (recorded {image.sha256})")
        elif len(data) != image.size:
            report.problems.append(f"{image.path}: size {len(data)}, recorded {image.size}")


def _check_raw(session: Session, config: ArchiveConfig, report: FixityReport) -> None:
    store = RawStore(config.raw_dir)
    wanted = set(session.scalars(select(ArticleVersion.raw_sha256)))
    wanted |= {sha for sha in session.scalars(select(Failure.raw_sha256)) if sha}
    on_disk = {p.name.removesuffix(".gz") for p in config.raw_dir.glob("*/*.gz")}
    for sha in sorted(wanted | on_disk):
        path = store.path(sha)
        rel = path.relative_to(config.data_dir)
        if not path.is_file():
            report.problems.append(f"{rel}: raw capture missing")
            continue
        report.counts["raw captures"] += 1
        try:
            data = gzip.decompress(path.read_bytes())
        except (OSError, EOFError, zlib.error) as exc:
            report.problems.append(f"{rel}: unreadable ({type(exc).__name__}: {exc})")
            continue
        if hashlib.sha256(data).hexdigest() != sha:
            report.problems.append(f"{rel}: sha256 mismatch")


def _version_record(version: ArticleVersion) -> dict[str, Any]:
    """The stored fields the content hash covers, as a record."""
    record: dict[str, Any] = {}
    for item in hashed_fields():
        if item.stored == "images":
            record[item.name] = [
                {key: getattr(link, key) for key in IMAGE_KEYS} for link in version.images
            ]
        else:
            record[item.name] = getattr(version, item.name)
    return record


def _check_versions(session: Session, config: ArchiveConfig, report: FixityReport) -> None:
    last_id = 0
    while True:
        batch = session.scalars(
            select(ArticleVersion)
            .where(ArticleVersion.id > last_id)
            .order_by(ArticleVersion.id)
            .limit(500)
            .options(selectinload(ArticleVersion.images))
        ).all()
        if not batch:
            return
        for version in batch:
            report.counts["article versions"] += 1
            if content_hash(_version_record(version)) != version.content_hash:
                report.problems.append(
                    f"article version {version.id}: stored record no longer matches its "
                    f"content hash {version.content_hash}"
                )
            _check_version_pointer(version, config, report)
        last_id = batch[-1].id
        session.expunge_all()


def verify(session: Session, config: ArchiveConfig) -> FixityReport:
    report = FixityReport()
    _check_warcs(session, config, report)
    _check_images(session, config, report)
    _check_raw(session, config, report)
    _check_versions(session, config, report)
    return report
