"""Fixity: re-hash everything the archive keeps and check each part against the others.

- The database itself: SQLite's `PRAGMA integrity_check` and `foreign_key_check`; on
  PostgreSQL amcheck's `bt_index_check` of every B-tree index when the extension is
  installed (otherwise a note says what was not checked).
- WARC files: the whole file's sha256 against `warc_files` (recorded when the file was
  closed), and every record's block and payload digests as written in its headers.
- CDXJ indexes: one beside every WARC file; each line names a record of that file (its
  offset, length and payload digest), and every record the indexer indexes has a line.
- Images: every `images` row's file against its sha256 and size.
- Raw captures: every file under `raw/` and every sha256 a version or failure names.
- Article versions: the content hash recomputed from the stored fields; the WARC pointer
  reaches a response whose decoded payload has the version's raw sha256; and every field
  the record schema marks `checked` (body_html included) equals the record the crawl
  wrote to the WARC metadata record of that capture.
- WARC metadata records, the crawl's own account of what it stored: each one's article
  row exists, and the version that was current when it was fetched has its content hash,
  so a deleted or edited version or article row is found.
- Articles: each has versions, and its current version is the newest.

Each problem is one line naming the file (relative to the data directory) or the row.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DatabaseError as SQLDatabaseError
from sqlalchemy.orm import Session, selectinload
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord

from archive.config import ArchiveConfig
from archive.db import Archive, sqlite_path
from archive.models import (
    Article,
    ArticleVersion,
    CrawlRun,
    Failure,
    Image,
    WarcFile,
    stored_value,
)
from archive.rawstore import RawStore
from archive.store import content_hash
from crawler.extract.record import IMAGE_KEYS, Field, checked_fields, hashed_fields

BATCH = 500
# What a WARC file's CDXJ index lists, as the crawl writes it and verify expects it: the
# captures a replay looks up (requests and metadata records are reached through the
# WARC-Concurrent-To of their response).
INDEXED_RECORDS = ("response", "revisit", "resource")
# The WARC metadata records the crawl writes for a stored version carry its record as JSON.
METADATA_TYPE = "application/json"


@dataclass
class FixityReport:
    problems: list[str] = field(default_factory=list)
    # What could not be checked, and why (not a problem of the archive).
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {
            "WARC files": 0,
            "WARC records": 0,
            "CDXJ indexes": 0,
            "WARC metadata records": 0,
            "images": 0,
            "raw captures": 0,
            "article versions": 0,
            "articles": 0,
        }
    )

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        checked = ", ".join(f"{n} {what}" for what, n in self.counts.items())
        if self.ok:
            return f"verified the database, {checked}: all intact"
        return f"checked the database, {checked}: {len(self.problems)} problem(s)"


def file_sha256(path: Path) -> str:
    """A file's sha256, read in 1 MiB chunks (WARC files run to a gigabyte)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def cdxj_path(warc: Path) -> Path:
    """The CDXJ index the crawl writes beside a WARC file."""
    return warc.with_name(warc.name.removesuffix(".warc.gz") + ".cdxj")


def _brief(text: object, limit: int = 160) -> str:
    """A damaged file's bytes end up in error messages: one printable line, bounded, so a
    report stays one problem per line."""
    flat = str(text).encode("unicode_escape").decode("ascii")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# -- the record as the crawl wrote it and as the archive keeps it ---------------------------


def _instant(value: object) -> str | None:
    """A capture time as one comparable spelling (UTC, ISO)."""
    if value is None:
        return None
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    return str(value)


def _images(images: Iterable[Any], get: Callable[[Any, str], Any]) -> list[list[Any]]:
    return [[get(image, key) for key in IMAGE_KEYS] for image in images]


def _from_record(item: Field, record: Mapping[str, Any]) -> Any:
    value = record.get(item.name)
    if item.stored == "images":
        return _images(value or [], lambda image, key: image.get(key))
    if item.stored == "capture":
        return _instant(value)
    return value


def _from_rows(item: Field, article: Article, version: ArticleVersion) -> Any:
    return stored_value(
        item, article, version, instant=_instant, images=lambda links: _images(links, getattr)
    )


def _digest(values: Mapping[str, Any]) -> str:
    blob = json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _recorded(record: Mapping[str, Any]) -> dict[str, Any]:
    return {item.name: _from_record(item, record) for item in checked_fields()}


def _stored(article: Article, version: ArticleVersion) -> dict[str, Any]:
    return {item.name: _from_rows(item, article, version) for item in checked_fields()}


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


# -- the database's own integrity -----------------------------------------------------------


def _database_name(config: ArchiveConfig) -> str:
    path = sqlite_path(config.db_url)
    if path is None:
        return "database"
    try:
        return str(path.resolve().relative_to(config.data_dir))
    except ValueError:
        return str(path)


def _check_database(archive: Archive, name: str, report: FixityReport) -> None:
    with archive.engine.connect() as conn:
        if archive.engine.dialect.name == "sqlite":
            for (message,) in conn.exec_driver_sql("PRAGMA integrity_check"):
                for line in str(message).splitlines():
                    if line not in ("ok", "*** in database main ***"):
                        report.problems.append(f"{name}: {_brief(line)}")
            for table, rowid, parent, _key in conn.exec_driver_sql("PRAGMA foreign_key_check"):
                report.problems.append(
                    f"{name}: {table} row {rowid} refers to a missing {parent} row"
                )
        elif archive.engine.dialect.name == "postgresql":
            _check_postgres_indexes(conn, name, report)


def _check_postgres_indexes(conn: Any, name: str, report: FixityReport) -> None:
    installed = conn.exec_driver_sql(
        "SELECT 1 FROM pg_extension WHERE extname = 'amcheck'"
    ).scalar()
    if not installed:
        # Installing it is a write, which verify never does.
        report.notes.append(
            "PostgreSQL's own pages were not checked: the amcheck extension is not installed "
            "(CREATE EXTENSION amcheck; then verify checks every B-tree index)"
        )
        return
    indexes = conn.exec_driver_sql(
        "SELECT c.oid::regclass::text FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE am.amname = 'btree' AND n.nspname = current_schema() ORDER BY 1"
    ).scalars()
    for index in list(indexes):
        try:
            with conn.begin_nested():
                conn.exec_driver_sql("SELECT bt_index_check(%(i)s::regclass)", {"i": index})
        except SQLDatabaseError as exc:
            report.problems.append(f"{name}: index {index}: {_brief(exc.orig)}")


# -- WARC files and their CDXJ indexes ------------------------------------------------------


@dataclass(frozen=True)
class _Record:
    type: str
    length: int
    digest: str | None
    uri: str
    indexed: bool  # a record the CDXJ indexer writes a line for


@dataclass(frozen=True)
class Capture:
    """A WARC metadata record: the record the crawl stored for one capture, kept small
    (the fields are re-read from the file only to name what differs)."""

    file: str
    offset: int
    url: str
    fetched_at: str | None
    refers_to: str | None
    content_hash: str
    checked: str

    @property
    def where(self) -> str:
        return f"{self.file} at offset {self.offset}"


@dataclass
class WarcScan:
    captures: list[Capture] = field(default_factory=list)
    by_response: dict[str, Capture] = field(default_factory=dict)
    # Files with any problem: rows pointing into them are not compared with what they hold.
    damaged: set[str] = field(default_factory=set)


def _indexed(record: Any) -> bool:
    return record.rec_type in INDEXED_RECORDS


def _read_capture(name: str, offset: int, record: Any, body: bytes) -> Capture | str | None:
    """The capture a metadata record states, a problem, or None for another metadata."""
    content_type = record.rec_headers.get_header("Content-Type") or ""
    if not content_type.startswith(METADATA_TYPE):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return f"{name}: the metadata record at offset {offset} is not JSON"
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        return f"{name}: the metadata record at offset {offset} holds no article record"
    refers = record.rec_headers.get_header("WARC-Refers-To")
    return Capture(
        file=name,
        offset=offset,
        url=data["url"],
        fetched_at=_instant(data.get("fetched_at")),
        refers_to=refers,
        content_hash=content_hash(data),
        checked=_digest(_recorded(data)),
    )


def _read_warc(
    path: Path, name: str, report: FixityReport, scan: WarcScan
) -> tuple[dict[int, _Record], bool]:
    """Every record of one WARC file by offset, its digests checked, its captures kept;
    and whether the whole file could be read."""
    records: dict[int, _Record] = {}
    number = 0
    # warcio writes its own complaints about a damaged file to stderr, once per bad block;
    # they are kept and reported as this file's problem instead of flooding the terminal.
    chatter = io.StringIO()
    try:
        with path.open("rb") as handle, contextlib.redirect_stderr(chatter):
            iterator = ArchiveIterator(handle, check_digests=True)
            for record in _each_record(iterator):
                number += 1
                stream = record.content_stream()
                if record.rec_type == "metadata":
                    body = stream.read()
                else:
                    body = b""
                    while stream.read(1 << 20):
                        pass
                # Only once the record is read: asking earlier reads it to its end unseen.
                offset = iterator.get_record_offset()
                report.counts["WARC records"] += 1
                uri = record.rec_headers.get_header("WARC-Target-URI") or "-"
                records[offset] = _Record(
                    type=record.rec_type,
                    length=iterator.get_record_length(),
                    digest=record.rec_headers.get_header("WARC-Payload-Digest"),
                    uri=uri,
                    indexed=_indexed(record),
                )
                absent = [h for h in REQUIRED_WARC_HEADERS if not record.rec_headers.get_header(h)]
                if absent:  # a header block cut short still parses, without these
                    report.problems.append(
                        f"{name}: record {number} at offset {offset} lacks the mandatory "
                        f"{', '.join(absent)} header(s): the file is cut off or damaged there"
                    )
                    scan.damaged.add(name)
                    return records, False
                missing = getattr(record.raw_stream, "limit", 0)
                if missing:  # warcio ends a cut-off file quietly, with a short last record
                    report.problems.append(
                        f"{name}: record {number} at offset {offset} ({_brief(uri)}) is cut "
                        f"off: {missing} of its {record.length} bytes are missing"
                    )
                    scan.damaged.add(name)
                    return records, False
                if record.digest_checker.passed is False:
                    what = "; ".join(str(p) for p in record.digest_checker.problems)
                    report.problems.append(
                        f"{name}: record {number} at offset {offset} ({_brief(uri)}): "
                        f"{_brief(what)}"
                    )
                    scan.damaged.add(name)
                    continue
                if record.rec_type == "metadata":
                    found = _read_capture(name, offset, record, body)
                    if isinstance(found, str):
                        report.problems.append(found)
                    elif found is not None:
                        report.counts["WARC metadata records"] += 1
                        scan.captures.append(found)
                        if found.refers_to:
                            scan.by_response.setdefault(found.refers_to, found)
    except (_Unreadable, ArchiveLoadFailed, OSError, EOFError, zlib.error, ValueError) as exc:
        cause = exc.__cause__ if isinstance(exc, _Unreadable) and exc.__cause__ else exc
        report.problems.append(
            f"{name}: unreadable after record {number} ({type(cause).__name__}: "
            f"{_brief(cause)}): the file is cut off or damaged there"
        )
        scan.damaged.add(name)
        return records, False
    finally:
        complaints = chatter.getvalue().splitlines()
        if complaints:
            report.problems.append(
                f"{name}: warcio met damaged data {len(complaints)} time(s), first: "
                f"{_brief(complaints[0])}"
            )
            scan.damaged.add(name)
    # A cut inside a record's header block ends warcio's iteration without a word; the
    # bytes after the last whole record show it.
    end = max((offset + record.length for offset, record in records.items()), default=0)
    size = path.stat().st_size
    if end == size and path.suffix == ".gz" and not _gzip_member_ends(path, end, records):
        report.problems.append(
            f"{name}: the last record's gzip member lacks its end (CRC and size): "
            f"the file is cut off after offset {max(records)}"
        )
        scan.damaged.add(name)
        return records, False
    if end < size:
        report.problems.append(
            f"{name}: the {size - end} bytes after offset {end} are no whole WARC record "
            f"(the file is cut off or damaged after record {number})"
        )
        scan.damaged.add(name)
        return records, False
    return records, True


def warc_file_problems(path: Path) -> list[str]:
    """What is wrong with one WARC file read on its own: damage, cuts, digest mismatches."""
    report = FixityReport()
    _read_warc(path, path.name, report, WarcScan())
    return report.problems


def _gzip_member_ends(path: Path, end: int, records: Mapping[int, _Record]) -> bool:
    """Whether the last record's gzip member is whole: warcio stops reading a member once
    it has the record, so a file cut inside the last member's 8-byte trailer reads as whole."""
    if not records:
        return True
    last = max(records)
    with path.open("rb") as handle:
        handle.seek(last)
        member = handle.read(end - last)
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        inflate.decompress(member)
    except zlib.error:
        return False
    return inflate.eof


# The headers ISO 28500 makes mandatory in every record.
REQUIRED_WARC_HEADERS = ("WARC-Type", "WARC-Record-ID", "WARC-Date", "Content-Length")


class _Unreadable(Exception):
    """warcio could not parse the next record of a damaged file."""


def _each_record(iterator: ArchiveIterator) -> Iterator[ArcWarcRecord]:
    """The iterator's records. On damage warcio fails in more ways than ArchiveLoadFailed
    (a header block cut mid-line leaves WARC-Target-URI None and it raises AttributeError),
    so whatever parsing the next record raises means the file cannot be read on."""
    records = iter(iterator)
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except Exception as exc:
            raise _Unreadable(str(exc)) from exc
        yield record


def _bare(digest: str | None) -> str | None:
    return digest.split(":", 1)[-1].upper() if digest else None


def _check_cdxj(
    warc: Path, name: str, records: dict[int, _Record], whole: bool, report: FixityReport
) -> None:
    index = cdxj_path(warc)
    rel = str(Path(name).with_name(index.name))
    if not index.is_file():
        report.problems.append(f"{rel}: CDXJ index missing (for {name})")
        return
    report.counts["CDXJ indexes"] += 1
    readable_end = max(records, default=-1)
    listed: dict[int, int] = {}  # record offset -> the line naming it
    past_end: list[int] = []  # line numbers
    unsorted: list[int] = []  # line numbers that sort before the line above them
    previous = ""
    with index.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, 1):
            # pywb finds a URL's captures by binary search over the sorted lines: a line out
            # of order hides its captures (and possibly others) from replay.
            if line < previous:
                unsorted.append(number)
            previous = line
            parts = line.rstrip("\n").split(" ", 2)
            try:
                fields = json.loads(parts[2])
                offset, length = int(fields["offset"]), int(fields["length"])
                filename = str(fields["filename"])
            except (IndexError, ValueError, KeyError, TypeError):
                report.problems.append(f"{rel}: line {number} is not a CDXJ line")
                continue
            where = f"{rel}: line {number}"
            if filename != warc.name:
                report.problems.append(f"{where} points into {_brief(filename)}, not {name}")
                continue
            found = records.get(offset)
            if found is None:
                if not whole and offset > readable_end:
                    past_end.append(number)
                else:
                    report.problems.append(f"{where}: {name} has no record at offset {offset}")
                continue
            if offset in listed:
                report.problems.append(
                    f"{where} repeats line {listed[offset]} (the record at offset {offset})"
                )
                continue
            listed[offset] = number
            if found.length != length:
                report.problems.append(
                    f"{where}: the record at offset {offset} is {found.length} bytes, "
                    f"the index says {length}"
                )
            digest = fields.get("digest")
            if digest and _bare(str(digest)) != _bare(found.digest):
                report.problems.append(
                    f"{where}: digest {_brief(digest)} is not the record's {found.digest}"
                )
    if unsorted:
        shown = ", ".join(map(str, unsorted[:3])) + (", …" if len(unsorted) > 3 else "")
        report.problems.append(
            f"{rel}: not sorted: {len(unsorted)} line(s) ({shown}) sort before the line "
            "above them, so replay's binary search misses captures"
        )
    if past_end:
        shown = ", ".join(map(str, past_end[:3])) + (", …" if len(past_end) > 3 else "")
        report.problems.append(
            f"{rel}: {len(past_end)} line(s) ({shown}) point past the readable end of {name}"
        )
    for offset, found in sorted(records.items()):
        if found.indexed and offset not in listed:
            report.problems.append(
                f"{rel}: no line for the {found.type} record at offset {offset} "
                f"({_brief(found.uri)})"
            )


def _check_warcs(archive: Archive, config: ArchiveConfig, report: FixityReport) -> WarcScan:
    scan = WarcScan()
    with archive.session() as session:
        registered = {row.name: row.sha256 for row in session.scalars(select(WarcFile))}
    on_disk = {f"warc/{path.name}" for path in config.warc_dir.glob("*.warc.gz") if path.is_file()}
    for name in sorted(registered.keys() | on_disk):
        path = config.data_dir / name
        if not path.is_file():
            report.problems.append(f"{name}: WARC file missing")
            scan.damaged.add(name)
            continue
        report.counts["WARC files"] += 1
        recorded = registered.get(name)
        if recorded is not None and file_sha256(path) != recorded:
            report.problems.append(f"{name}: sha256 differs from the one recorded at capture")
            scan.damaged.add(name)
        records, whole = _read_warc(path, name, report, scan)
        _check_cdxj(path, name, records, whole, report)
    indexed = {cdxj_path(config.data_dir / name).name for name in registered.keys() | on_disk}
    for index in sorted(config.warc_dir.glob("*.cdxj")):
        if index.name not in indexed:
            report.problems.append(f"warc/{index.name}: CDXJ index of a WARC file not there")
    return scan


def _reread_capture(config: ArchiveConfig, capture: Capture) -> dict[str, Any]:
    with (config.data_dir / capture.file).open("rb") as handle:
        handle.seek(capture.offset)
        record = next(iter(ArchiveIterator(handle)))
        data = json.loads(record.content_stream().read())
    return _recorded(data)


# -- images and raw captures ----------------------------------------------------------------


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
    recorded = list(session.scalars(select(ArticleVersion.raw_sha256)))
    # A damaged page of the versions table can read back as NULLs or other types.
    wanted = {sha for sha in recorded if isinstance(sha, str)}
    unreadable = sum(1 for sha in recorded if not isinstance(sha, str))
    if unreadable:
        report.problems.append(
            f"article versions: {unreadable} raw sha256 values are missing or not text"
        )
    wanted |= {sha for sha in session.scalars(select(Failure.raw_sha256)) if isinstance(sha, str)}
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


# -- article versions against their hash, their WARC records and the crawl's account -------


def _check_version_pointer(
    version: ArticleVersion, config: ArchiveConfig, report: FixityReport
) -> str | None:
    """Check the version's WARC pointer; the WARC-Record-ID it reaches."""
    if version.warc_file is None or version.warc_offset is None:
        return None
    path = config.data_dir / version.warc_file
    where = f"{version.warc_file} at offset {version.warc_offset}"
    if not path.is_file():
        return None  # reported once as a missing WARC file
    try:
        with path.open("rb") as handle:
            handle.seek(version.warc_offset)
            record = next(iter(ArchiveIterator(handle)))
            body = record.content_stream().read()
    except Exception as exc:  # any damage makes the pointer unusable
        report.problems.append(
            f"article version {version.id}: {where}: unreadable ({type(exc).__name__})"
        )
        return None
    record_id: str | None = record.rec_headers.get_header("WARC-Record-ID")
    if record.rec_type == "revisit":
        return record_id  # the payload was captured earlier, under WARC-Refers-To-Target-URI
    if record.rec_type != "response":
        report.problems.append(
            f"article version {version.id}: {where} is a {record.rec_type} record, not a response"
        )
    elif hashlib.sha256(body).hexdigest() != version.raw_sha256:
        report.problems.append(
            f"article version {version.id}: {where}: payload differs from raw sha256 "
            f"{version.raw_sha256}"
        )
    return record_id


def _compare_with_capture(
    version: ArticleVersion, capture: Capture, config: ArchiveConfig, report: FixityReport
) -> None:
    stored = _stored(version.article, version)
    if _digest(stored) == capture.checked:
        return
    recorded = _reread_capture(config, capture)
    differing = [name for name, value in stored.items() if recorded.get(name) != value]
    report.problems.append(
        f"article version {version.id}: {', '.join(differing) or 'a field'} "
        f"{'differ' if len(differing) > 1 else 'differs'} from the WARC metadata record "
        f"of its capture ({capture.where})"
    )


def _check_versions(
    archive: Archive, config: ArchiveConfig, report: FixityReport, scan: WarcScan
) -> set[Capture]:
    """Every version; the captures whose version was found by its WARC pointer."""
    claimed: set[Capture] = set()
    last_id = 0
    with archive.session() as session:
        run_status = dict(session.execute(select(CrawlRun.id, CrawlRun.status)).tuples().all())
        while True:
            batch = session.scalars(
                select(ArticleVersion)
                .where(ArticleVersion.id > last_id)
                .order_by(ArticleVersion.id)
                .limit(BATCH)
                .options(
                    selectinload(ArticleVersion.images),
                    selectinload(ArticleVersion.article).selectinload(Article.site),
                )
            ).all()
            if not batch:
                return claimed
            for version in batch:
                report.counts["article versions"] += 1
                if content_hash(_version_record(version)) != version.content_hash:
                    report.problems.append(
                        f"article version {version.id}: stored record no longer matches its "
                        f"content hash {version.content_hash}"
                    )
                record_id = _check_version_pointer(version, config, report)
                if record_id is None or version.warc_file in scan.damaged:
                    continue
                capture = scan.by_response.get(record_id)
                status = run_status.get(version.crawl_run_id or 0, "finished")
                if capture is None and status != "finished":
                    # The metadata record is written after the version is committed: a run
                    # killed in between leaves this, a state of the crash, not damage.
                    report.notes.append(
                        f"article version {version.id}: its run {version.crawl_run_id} "
                        f"ended {status!r} before the WARC metadata record of this version "
                        f"was written; its response record ({version.warc_file} at offset "
                        f"{version.warc_offset}) is there"
                    )
                    continue
                if capture is None:
                    report.problems.append(
                        f"article version {version.id}: no WARC metadata record refers to its "
                        f"response record ({version.warc_file} at offset {version.warc_offset})"
                    )
                    continue
                claimed.add(capture)
                _compare_with_capture(version, capture, config, report)
            last_id = batch[-1].id
            session.expunge_all()


def _check_captures(
    archive: Archive,
    config: ArchiveConfig,
    report: FixityReport,
    scan: WarcScan,
    claimed: set[Capture],
) -> None:
    """The captures no version pointer reached (unchanged recaptures, versions linked to
    no WARC record, and the captures of rows deleted since): the article row must exist
    and the version current at the fetch must have the captured content."""
    by_url: dict[str, list[Capture]] = defaultdict(list)
    for capture in scan.captures:
        if capture not in claimed:
            by_url[capture.url].append(capture)
    urls = sorted(by_url)
    with archive.session() as session:
        for start in range(0, len(urls), BATCH):
            chunk = urls[start : start + BATCH]
            known = set(session.scalars(select(Article.url).where(Article.url.in_(chunk))))
            versions: dict[str, list[ArticleVersion]] = defaultdict(list)
            rows = session.scalars(
                select(ArticleVersion)
                .join(Article, ArticleVersion.article_id == Article.id)
                .where(Article.url.in_(chunk))
                .options(
                    selectinload(ArticleVersion.images),
                    selectinload(ArticleVersion.article).selectinload(Article.site),
                )
            )
            for version in rows:
                versions[version.article.url].append(version)
            for url in chunk:
                history = sorted(versions[url], key=lambda v: (_instant(v.fetched_at) or "", v.id))
                for capture in by_url[url]:
                    _check_capture(capture, url in known, history, config, report)
            session.expunge_all()


def _check_capture(
    capture: Capture,
    known: bool,
    history: list[ArticleVersion],
    config: ArchiveConfig,
    report: FixityReport,
) -> None:
    what = f"{capture.where}: the capture of {_brief(capture.url)} at {capture.fetched_at}"
    if not known:
        report.problems.append(f"{what} has no article row (deleted, or its URL edited)")
        return
    before = [v for v in history if (_instant(v.fetched_at) or "") <= (capture.fetched_at or "")]
    if not before:
        report.problems.append(
            f"{what} predates every version of the article (a version row was deleted)"
        )
        return
    # The version current then; captures in the same second may have made any of them.
    latest = _instant(before[-1].fetched_at)
    current = [v for v in before if _instant(v.fetched_at) == latest]
    same = [v for v in current if v.content_hash == capture.content_hash]
    if not same:
        report.problems.append(
            f"{what}: no article version has its content (a version row deleted or edited)"
        )
        return
    for version in same:
        # A version linked to no WARC record was made by a capture at its fetch time.
        if version.warc_file is None and _instant(version.fetched_at) == capture.fetched_at:
            _compare_with_capture(version, capture, config, report)


def _check_articles(archive: Archive, report: FixityReport) -> None:
    newest = (
        select(
            ArticleVersion.article_id,
            func.max(ArticleVersion.id).label("newest"),
        )
        .group_by(ArticleVersion.article_id)
        .subquery()
    )
    query = (
        select(Article.id, Article.url, Article.current_version_id, newest.c.newest)
        .outerjoin(newest, newest.c.article_id == Article.id)
        .order_by(Article.id)
    )
    with archive.session() as session:
        for article_id, url, current, latest in session.execute(query):
            report.counts["articles"] += 1
            name = f"article {article_id} ({_brief(url)})"
            if latest is None:
                report.problems.append(f"{name} has no versions")
            elif current != latest:
                report.problems.append(
                    f"{name}: its current version is {current}, its newest version {latest}"
                )


def verify(archive: Archive, config: ArchiveConfig) -> FixityReport:
    report = FixityReport()
    name = _database_name(config)
    damaged = False  # set once SQLite's own check has found damaged pages

    def step(what: str, check: Callable[[], Any]) -> Any:
        # A damaged database fails some reads: each is one problem, the other checks go on.
        try:
            return check()
        except SQLDatabaseError as exc:
            report.problems.append(f"{name}: cannot read {what}: {_brief(exc.orig)}")
            return None
        except (TypeError, ValueError, AttributeError) as exc:
            if not damaged:
                raise
            # Rows of a damaged page can read back as values of any type.
            report.problems.append(
                f"{name}: cannot check {what}: a damaged row ({type(exc).__name__}: {_brief(exc)})"
            )
            return None

    def with_session(check: Callable[[Session, ArchiveConfig, FixityReport], None]) -> None:
        with archive.session() as session:
            check(session, config, report)

    step("its pages", lambda: _check_database(archive, name, report))
    damaged = bool(report.problems)
    scan = step("the WARC file rows", lambda: _check_warcs(archive, config, report)) or WarcScan()
    step("the image rows", lambda: with_session(_check_images))
    step("the raw capture names", lambda: with_session(_check_raw))
    claimed = step("the article versions", lambda: _check_versions(archive, config, report, scan))
    if claimed is not None:
        step(
            "the articles of the WARC metadata records",
            lambda: _check_captures(archive, config, report, scan, claimed),
        )
    step("the articles", lambda: _check_articles(archive, report))
    return report
