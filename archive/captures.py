"""Captures in the WARC files: one record read from its pointer, the CDXJ indexes, and the
address a capture replays at.

A crawl writes each WARC file's index beside it (`<name>.cdxj`, pipelines/warc.py): pywb's
CDXJ, one line per capture (`response`, `revisit` and `resource` records; requests and
metadata records are reached from their response's `WARC-Record-ID`), sorted:

    <SURT of the target URI> <14-digit WARC-Date> {"url": target URI, "mime", "status",
        "digest": payload digest, "length", "offset": the record's gzip member,
        "filename": the WARC file's name, in the same directory}

Target URIs are the URLs the archive knows the resources by (canonical URLs), so a capture
is found by the URL an article or image has in the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.timeutils import iso_date_to_timestamp, timestamp_to_iso_date

from archive.models import ArticleVersion
from crawler.extract.urls import canonical_url

REPLAY_PREFIX = "/replay"
WARC_SUBDIR = "warc"


@dataclass(frozen=True)
class Member:
    """One WARC record's gzip member: file relative to the data directory, offset, length."""

    file: str
    offset: int
    length: int

    def read(self, data_dir: Path) -> bytes:
        with (data_dir / self.file).open("rb") as handle:
            handle.seek(self.offset)
            return handle.read(self.length)


@dataclass(frozen=True)
class Capture:
    """What a record says about itself."""

    member: Member
    rec_type: str
    uri: str  # WARC-Target-URI
    date: str  # WARC-Date
    payload_digest: str | None
    refers_to: tuple[str, str] | None  # a revisit's original: (target URI, WARC-Date)

    @property
    def timestamp(self) -> str:
        return str(iso_date_to_timestamp(self.date))


def read_capture(data_dir: Path, member: Member) -> Capture | None:
    """The record at this pointer, or None when the file or the record is not readable."""
    try:
        data = member.read(data_dir)
        record = next(iter(ArchiveIterator(BytesIO(data))), None)
    except (OSError, ArchiveLoadFailed, ValueError):
        return None
    if record is None:
        return None
    headers = record.rec_headers
    refers = headers.get_header("WARC-Refers-To-Target-URI")
    refers_date = headers.get_header("WARC-Refers-To-Date")
    return Capture(
        member=member,
        rec_type=record.rec_type,
        uri=headers.get_header("WARC-Target-URI") or "",
        date=headers.get_header("WARC-Date") or "",
        payload_digest=headers.get_header("WARC-Payload-Digest"),
        refers_to=(refers, refers_date) if refers and refers_date else None,
    )


def version_capture(data_dir: Path, version: ArticleVersion) -> Capture | None:
    """The response (or revisit) record an article version points to, if readable."""
    if not version.warc_file or version.warc_offset is None or not version.warc_length:
        return None
    member = Member(version.warc_file, version.warc_offset, version.warc_length)
    capture = read_capture(data_dir, member)
    if capture is None or capture.rec_type not in ("response", "revisit"):
        return None
    return capture


def replay_path(timestamp: str, uri: str) -> str:
    """Where the web service replays the capture of `uri` taken at `timestamp`."""
    return f"{REPLAY_PREFIX}/{timestamp}/{uri}"


@dataclass(frozen=True)
class IndexEntry:
    uri: str
    timestamp: str
    member: Member
    mime: str
    digest: str | None

    @property
    def date(self) -> str:
        return str(timestamp_to_iso_date(self.timestamp))

    @property
    def is_revisit(self) -> bool:
        return self.mime == "warc/revisit"


class CaptureIndex:
    """Every capture the CDXJ indexes of a data directory list, by target URI."""

    def __init__(self, entries: list[IndexEntry]) -> None:
        self.by_uri: dict[str, list[IndexEntry]] = {}
        self.by_digest: dict[str, list[IndexEntry]] = {}
        for entry in sorted(entries, key=lambda e: e.timestamp):
            self.by_uri.setdefault(entry.uri, []).append(entry)
            if entry.digest and not entry.is_revisit:
                self.by_digest.setdefault(entry.digest, []).append(entry)

    @classmethod
    def load(cls, data_dir: Path) -> CaptureIndex:
        return cls(list(_read_indexes(data_dir)))

    def captures(self, uri: str) -> list[IndexEntry]:
        found = self.by_uri.get(uri)
        if found is None:
            found = self.by_uri.get(canonical_url(uri), [])
        return found

    def closest(self, uri: str, timestamp: str) -> IndexEntry | None:
        """The capture of `uri` nearest in time to `timestamp` (as a replay picks it)."""
        captures = self.captures(uri)
        if not captures:
            return None
        return min(captures, key=lambda e: abs(int(e.timestamp) - int(timestamp)))

    def original(self, revisit: IndexEntry | Capture) -> IndexEntry | None:
        """The capture holding a revisit record's payload."""
        if isinstance(revisit, Capture) and revisit.refers_to is not None:
            uri, date = revisit.refers_to
            stamp = iso_date_to_timestamp(date)
            for entry in self.captures(uri):
                if entry.timestamp == stamp and not entry.is_revisit:
                    return entry
        digest = revisit.payload_digest if isinstance(revisit, Capture) else revisit.digest
        earlier = self.by_digest.get(_short_digest(digest)) if digest else None
        return earlier[0] if earlier else None


def _short_digest(digest: str) -> str:
    return digest.split(":", 1)[1] if digest.startswith("sha1:") else digest


def _read_indexes(data_dir: Path) -> Iterator[IndexEntry]:
    for index in sorted((data_dir / WARC_SUBDIR).glob("*.cdxj")):
        with index.open(encoding="utf-8") as lines:
            for line in lines:
                entry = parse_cdxj_line(line)
                if entry is not None:
                    yield entry


def parse_cdxj_line(line: str) -> IndexEntry | None:
    """One CDXJ line as an entry; None for a line that is not a capture."""
    parts = line.rstrip("\n").split(" ", 2)
    if len(parts) != 3:
        return None
    try:
        fields: dict[str, Any] = json.loads(parts[2])
        member = Member(
            f"{WARC_SUBDIR}/{fields['filename']}", int(fields["offset"]), int(fields["length"])
        )
    except (ValueError, KeyError, TypeError):
        return None
    digest = fields.get("digest")
    return IndexEntry(
        uri=str(fields.get("url", "")),
        timestamp=parts[1],
        member=member,
        mime=str(fields.get("mime", "")),
        digest=_short_digest(digest) if isinstance(digest, str) else None,
    )
