"""What the archive keeps about WARC files and records: plain data, no Scrapy.

The archive writer process (pipelines.writer) receives these in its jobs and stores them;
kept apart from the WARC extension (pipelines.warc) so that process does not import
Scrapy, warcio and the rest of the crawl side (about 35 MB of its memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WarcLocation:
    """Where a response record lives: file relative to the data directory, gzip member."""

    file: str
    offset: int
    length: int
    record_id: str


@dataclass
class WrittenFile:
    name: str  # relative to the data directory, e.g. warc/site-….warc.gz
    records: int = 0
    sha256: str = ""
    size: int = 0


def set_location(version: Any, location: WarcLocation) -> None:
    version.warc_file = location.file
    version.warc_offset = location.offset
    version.warc_length = location.length
