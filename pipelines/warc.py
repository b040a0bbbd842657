"""WARC capture: a Scrapy extension writing every HTTP exchange to WARC 1.1 files (warcio).

Connected to `response_downloaded`, where the body is still as sent (content-encoded);
Twisted has de-chunked it, so `Transfer-Encoding` is dropped, and Scrapy keeps no status
line, so it is rebuilt from `response.protocol` and the status. The request is recorded
as the downloader middlewares left it. Records carry the URL the archive knows the
resource by (the spider's canonical form: for the demo portal and `--serve-at` mirrors,
the canonical origin, not the address served from), so replay tools find an article by its
citation URL; where the bytes actually came from is kept in the `warcinfo` record (the
origin map) and, on each record fetched elsewhere, in a `Wenhua-Fetched-From` field.

The reactor only snapshots the exchange and puts it on a queue; one writer thread per
spider builds the records, hashes, writes (gzip per record), rolls files over at
`WENHUA_WARC_MAX_BYTES`, and indexes each closed file to `<name>.cdxj`. Files are named
per spider (`<site>-<time>-<host>-<pid>-<token>-<seq>.warc.gz`), so several spiders, and
several workers sharing one data directory, never share a file. Payload digests seen by
any writer in the process (and those in existing CDXJ indexes) turn a repeated payload
into a `revisit` record.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import queue
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from importlib.metadata import PackageNotFoundError, version
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cdxj_indexer.main import write_cdx_index
from scrapy import signals
from scrapy.exceptions import NotConfigured
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date, timestamp_to_iso_date
from warcio.warcwriter import WARCWriter

from archive.config import resolve
from archive.fixity import INDEXED_RECORDS, file_sha256
from crawler.frontier.seen import DiskStore
from crawler.items import NO_WARC_LINK
from crawler.signals import component_of
from pipelines.warcfiles import WarcLocation, WrittenFile, set_location

__all__ = ["WarcExtension", "WarcLocation", "WrittenFile", "payload_digest", "set_location"]

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)

WARC_SUBDIR = "warc"
DEFAULT_MAX_BYTES = 1024**3
SOFTWARE = "wenhua"


def software_version() -> str:
    try:
        return f"{SOFTWARE}/{version('wenhua')}"
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return f"{SOFTWARE}/unknown"


def payload_digest(body: bytes) -> str:
    """The WARC payload digest as warcio writes it (sha1, base32)."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


# Per-record field: the URL a record's bytes were fetched from, when it is not its
# WARC-Target-URI (a mirror, the demo portal's loopback port).
FETCHED_FROM = "Wenhua-Fetched-From"


@dataclass
class Exchange:
    url: str  # the URL actually requested
    key: str  # canonical final URL: the records' target URI, and how the storage pipeline
    # finds the record again
    date: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    protocol: str
    status: int
    response_headers: list[tuple[str, str]]
    body: bytes
    # Remember where the response record went, for the storage pipeline to link its
    # article version to (list pages and images opt out, so the map stays small).
    locate: bool = True


@dataclass
class Metadata:
    canonical_url: str
    key: str
    record: dict[str, Any]
    # The response record's id when the storage pipeline has already taken its location.
    record_id: str | None = None


class DigestRegistry:
    """Payload digest -> (target URI, WARC-Date) of its first capture; shared per process."""

    _by_dir: dict[Path, DigestRegistry] = {}  # noqa: RUF012 - process-wide on purpose
    _guard = threading.Lock()

    def __init__(self, warc_dir: Path) -> None:
        self.lock = threading.Lock()
        # digest -> (uri, date), on disk: one entry per distinct payload of the crawl.
        self.seen = DiskStore()
        self._seed(warc_dir)

    @classmethod
    def for_dir(cls, warc_dir: Path) -> DigestRegistry:
        with cls._guard:
            if warc_dir not in cls._by_dir:
                cls._by_dir[warc_dir] = cls(warc_dir)
            return cls._by_dir[warc_dir]

    def _seed(self, warc_dir: Path) -> None:
        """Recrawls: payloads captured by earlier runs, read from their CDXJ indexes."""
        for index in sorted(warc_dir.glob("*.cdxj")):
            with index.open(encoding="utf-8") as lines:
                for line in lines:
                    parts = line.split(" ", 2)
                    if len(parts) != 3:
                        continue
                    try:
                        fields = json.loads(parts[2])
                    except ValueError:
                        continue
                    digest, mime = fields.get("digest"), fields.get("mime")
                    if not digest or mime == "warc/revisit" or "status" not in fields:
                        continue
                    full = digest if ":" in digest else f"sha1:{digest}"
                    self.seen.setdefault(full, (fields["url"], timestamp_to_iso_date(parts[1])))

    def first(self, digest: str, uri: str, date: str) -> tuple[str, str] | None:
        """The earlier capture of this payload, or None (and this one becomes the first)."""
        with self.lock:
            earlier: tuple[str, str] | None = self.seen.get(digest)
            if earlier is None:
                self.seen[digest] = (uri, date)
            return earlier


class WarcWriterThread(threading.Thread):
    """Owns the files of one spider: builds and writes records in queue order."""

    def __init__(
        self,
        data_dir: Path,
        prefix: str,
        max_bytes: int,
        registry: DigestRegistry,
        origins: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(name=f"warc-writer-{prefix}", daemon=True)
        self.data_dir = data_dir
        self.warc_dir = data_dir / WARC_SUBDIR
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.registry = registry
        self.origins = origins  # (serving, canonical) when they differ
        self.jobs: queue.Queue[Exchange | Metadata | None] = queue.Queue()
        self._sealing: list[threading.Thread] = []
        self.run_id: int | None = None
        self.locations: dict[str, WarcLocation] = {}
        self.locations_lock = threading.Lock()
        self.files: list[WrittenFile] = []
        self.errors: list[str] = []
        self._seq = 0
        self._token = uuid.uuid4().hex[:6]
        self._handle: Any = None
        self._writer: WARCWriter | None = None
        self._current: WrittenFile | None = None

    # -- the reactor's side -------------------------------------------------------------

    def submit(self, job: Exchange | Metadata) -> None:
        self.jobs.put(job)

    def location(self, key: str) -> WarcLocation | None:
        with self.locations_lock:
            return self.locations.get(key)

    def take_location(self, key: str) -> WarcLocation | None:
        """The location, forgotten once taken: the map holds only responses not yet stored."""
        with self.locations_lock:
            return self.locations.pop(key, None)

    def finish(self) -> None:
        self.jobs.put(None)
        self.join()

    # -- the thread's side --------------------------------------------------------------

    def run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                break
            try:
                if isinstance(job, Exchange):
                    self._write_exchange(job)
                else:
                    self._write_metadata(job)
            except Exception as exc:  # a bad record must not kill the writer
                logger.exception("WARC writer: cannot write a record")
                self.errors.append(f"{type(exc).__name__}: {exc}")
        self._close_file()
        for sealing in self._sealing:
            sealing.join()

    def _open_file(self) -> WARCWriter:
        if self._writer is not None:
            return self._writer
        self.warc_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        self._seq += 1
        # Host, pid and a per-writer token: workers sharing DATA/warc never collide.
        worker = f"{_host()}-{os.getpid()}-{self._token}"
        filename = f"{self.prefix}-{stamp}-{worker}-{self._seq:05d}.warc.gz"
        self._handle = (self.warc_dir / filename).open("xb")
        self._writer = WARCWriter(self._handle, gzip=True, warc_version="1.1")
        self._current = WrittenFile(name=f"{WARC_SUBDIR}/{filename}")
        self.files.append(self._current)
        info = {
            "software": software_version(),
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "wenhua-crawl-run-id": str(self.run_id) if self.run_id is not None else "",
            "wenhua-site": self.prefix,
            "hostname": os.uname().nodename,
        }
        if self.origins is not None:
            # Target URIs name the canonical origin; the bytes came from the serving one.
            info["wenhua-fetched-from"] = self.origins[0]
            info["wenhua-canonical-origin"] = self.origins[1]
        self._write(self._writer.create_warcinfo_record(filename, info))
        return self._writer

    def _write(self, record: Any) -> tuple[int, int]:
        assert self._writer is not None and self._current is not None
        offset = self._handle.tell()
        self._writer.write_record(record)
        self._current.records += 1
        return offset, self._handle.tell() - offset

    def _after_write(self) -> None:
        if self._handle is not None and self._handle.tell() >= self.max_bytes:
            self._close_file()

    def _close_file(self) -> None:
        if self._writer is None or self._current is None:
            return
        self._handle.close()
        self._writer = None
        # Hashing and indexing a full file (1 GiB by default) takes tens of seconds; done
        # here, the crawl's responses would pile up in `jobs`, bodies and all, until it ends.
        # So a file is sealed by a thread of its own while this one goes on writing the next;
        # `run` waits for every seal before it returns.
        sealing = threading.Thread(
            target=self._seal,
            args=(self._current,),
            name=f"warc-seal-{self._current.name.rsplit('/', 1)[-1]}",
            daemon=True,
        )
        sealing.start()
        self._sealing.append(sealing)

    def _seal(self, written: WrittenFile) -> None:
        path = self.data_dir / written.name
        written.sha256, written.size = file_sha256(path), path.stat().st_size
        try:
            write_cdxj(path)
        except Exception as exc:
            logger.exception("cannot index %s", path)
            self.errors.append(f"index {path.name}: {exc}")

    def _write_exchange(self, job: Exchange) -> None:
        writer = self._open_file()
        reason = _reason(job.status)
        status_line = f"{job.status} {reason}".strip()
        http_headers = StatusAndHeaders(
            status_line, job.response_headers, protocol=job.protocol or "HTTP/1.1"
        )
        warc_headers = {"WARC-Date": job.date}
        if job.url != job.key:
            warc_headers[FETCHED_FROM] = job.url
        digest = payload_digest(job.body)
        earlier = self.registry.first(digest, job.key, job.date) if job.body else None
        if earlier is not None:
            response = writer.create_revisit_record(
                job.key,
                digest,
                earlier[0],
                earlier[1],
                http_headers=http_headers,
                warc_headers_dict=warc_headers,
            )
        else:
            response_warc = {**warc_headers, "WARC-Payload-Digest": digest}
            response = _record(writer, job.key, "response", job.body, response_warc, http_headers)
        offset, length = self._write(response)
        record_id = response.rec_headers.get_header("WARC-Record-ID")
        assert self._current is not None
        location = WarcLocation(self._current.name, offset, length, record_id)
        if job.locate:
            with self.locations_lock:
                self.locations[job.key] = location

        split = urlsplit(job.url)
        target = split.path or "/"
        if split.query:
            target += "?" + split.query
        request_headers = StatusAndHeaders(
            f"{job.method} {target} {job.protocol or 'HTTP/1.1'}",
            job.request_headers,
            is_http_request=True,
        )
        request_warc = {**warc_headers, "WARC-Concurrent-To": record_id}
        request = _record(
            writer, job.key, "request", job.request_body, request_warc, request_headers
        )
        self._write(request)
        self._after_write()

    def _write_metadata(self, job: Metadata) -> None:
        writer = self._open_file()
        body = json.dumps(job.record, ensure_ascii=False, sort_keys=True).encode("utf-8")
        headers: dict[str, str] = {}
        location = self.location(job.key)
        record_id = job.record_id or (location.record_id if location is not None else None)
        if record_id is not None:
            headers["WARC-Concurrent-To"] = record_id
            headers["WARC-Refers-To"] = record_id
        record = _record(
            writer,
            job.canonical_url,
            "metadata",
            body,
            headers,
            content_type="application/json; charset=utf-8",
        )
        self._write(record)
        self._after_write()


def _record(
    writer: WARCWriter,
    uri: str,
    kind: str,
    body: bytes,
    warc_headers: dict[str, str],
    http_headers: StatusAndHeaders | None = None,
    *,
    content_type: str = "",
) -> Any:
    """A WARC record of `kind` holding `body` (warcio reads it from a stream of known length)."""
    return writer.create_warc_record(
        uri,
        kind,
        payload=BytesIO(body),
        length=len(body),
        warc_content_type=content_type,
        warc_headers_dict=warc_headers,
        http_headers=http_headers,
    )


def _host() -> str:
    """The host name as a file-name part (letters, digits, dots, dashes only)."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", os.uname().nodename) or "host"


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


# Index lines sorted in memory at a time; more are sorted in runs on disk and merged
# (cdxj_indexer's own external sort). Its default buffers 32 MB of line text, which the crawl
# process holds (as str objects in a list, then joined) while a full 1 GiB WARC file, about
# 110 MB of index lines, is sealed: on a 100 MB file 92 MB peak against 84 MB at 4 MB.
CDXJ_SORT_BUFFER = 4 * 1024 * 1024


def write_cdxj(warc_path: Path) -> Path:
    """Index one WARC file to `<name>.cdxj` beside it: pywb's CDXJ (`<surt> <timestamp>
    <json>`, sorted), one line per capture (INDEXED_RECORDS) under its target URI, with
    `filename` the WARC file's name."""
    out = warc_path.with_name(warc_path.name.removesuffix(".warc.gz") + ".cdxj")
    tmp = out.with_suffix(".cdxj.tmp")
    options = {
        "sort": True,
        "records": ",".join(INDEXED_RECORDS),
        "max_sort_buff_size": CDXJ_SORT_BUFFER,
    }
    write_cdx_index(str(tmp), [str(warc_path)], options)
    tmp.replace(out)
    return out


def _headers(headers: Any) -> list[tuple[str, str]]:
    pairs = []
    for name, values in headers.items():
        text = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        if text.lower() == "transfer-encoding":
            continue
        for value in values:
            pairs.append(
                (text, value.decode("latin-1") if isinstance(value, bytes) else str(value))
            )
    return pairs


def warc_date() -> str:
    """WARC-Date now, in microseconds (WARC/1.1), by warcio's own formatter."""
    return str(datetime_to_iso_date(datetime.now(UTC).replace(tzinfo=None), use_micros=True))


class WarcExtension:
    """Built in from_crawler; `WENHUA_WARC_ENABLED = False` turns capture off."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("WENHUA_WARC_ENABLED", True):
            raise NotConfigured("WENHUA_WARC_ENABLED is off")
        self.crawler = crawler
        self.config = resolve(settings.get("WENHUA_DATA_DIR"), settings.get("WENHUA_DB_URL"))
        self.max_bytes = settings.getint("WENHUA_WARC_MAX_BYTES", DEFAULT_MAX_BYTES)
        self.writer: WarcWriterThread | None = None
        # Versions stored before their response record was written: (version id, key).
        self.pending: list[tuple[int, str]] = []
        self._closed: ClosedWarc | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcExtension:
        return cls(crawler)

    @classmethod
    def of(cls, crawler: Any) -> WarcExtension | None:
        """The crawler's WARC extension, for the storage pipeline (None when disabled)."""
        return component_of(getattr(crawler, "extensions", None), cls)

    def _start(self) -> WarcWriterThread:
        if self.writer is None:
            spider = self.crawler.spider
            site_def = getattr(spider, "site_def", None)
            prefix = site_def.name if site_def is not None else getattr(spider, "name", "crawl")
            registry = DigestRegistry.for_dir(self.config.warc_dir)
            origins = getattr(spider, "origins", None)
            served = None
            if origins is not None and origins.serving != origins.canonical:
                served = (origins.serving, origins.canonical)
            self.writer = WarcWriterThread(
                self.config.data_dir, prefix, self.max_bytes, registry, served
            )
            self.writer.start()
        if self.writer.run_id is None:
            self.writer.run_id = self.crawler.stats.get_value("wenhua/run_id")
        return self.writer

    def spider_opened(self, spider: Any) -> None:
        self._start()

    def key(self, url: str) -> str:
        canonical = getattr(self.crawler.spider, "canonical", None)
        return str(canonical(url)) if callable(canonical) else url

    def response_downloaded(self, response: Response, request: Request, spider: Any) -> None:
        writer = self._start()
        request_headers = _headers(request.headers)
        if not any(name.lower() == "host" for name, _ in request_headers):
            host = urlsplit(request.url).netloc
            request_headers.insert(0, ("Host", host))
        writer.submit(
            Exchange(
                url=response.url,
                key=self.key(response.url),
                date=warc_date(),
                method=request.method,
                request_headers=request_headers,
                request_body=request.body or b"",
                protocol=getattr(response, "protocol", None) or "HTTP/1.1",
                status=response.status,
                response_headers=_headers(response.headers),
                body=response.body,
                locate=not request.meta.get(NO_WARC_LINK, False),
            )
        )

    def add_metadata(
        self,
        canonical_url: str,
        final_url: str,
        record: dict[str, Any],
        record_id: str | None = None,
    ) -> None:
        """A metadata record for a stored article version (final_url: its capture's URL;
        record_id: its response record's, when known)."""
        self._start().submit(Metadata(canonical_url, final_url, record, record_id))

    def take_location(self, final_url: str) -> WarcLocation | None:
        return self.writer.take_location(final_url) if self.writer is not None else None

    def close(self) -> ClosedWarc:
        """Write what is queued, close the files, and hand over what the archive is to
        record of them (blocking: call from a thread). The storage pipeline calls it before
        it stops the archive writer, which records them: only the writer writes to the
        archive. Idempotent."""
        if self._closed is None:
            closed = ClosedWarc()
            if self.writer is not None:
                self.writer.finish()
                closed.files = list(self.writer.files)
                for version_id, key in self.pending:
                    location = self.writer.take_location(key)
                    if location is not None:
                        closed.links.append((version_id, location))
            self._closed = closed
        return self._closed

    def spider_closed(self, spider: Any) -> None:
        if self.writer is None:
            return
        self.close()  # already done when the storage pipeline ran
        stats = self.crawler.stats
        stats.set_value("wenhua/warc_files", len(self.writer.files))
        stats.set_value("wenhua/warc_records", sum(f.records for f in self.writer.files))
        for error in self.writer.errors:
            stats.inc_value("wenhua/warc_errors")
            logger.error("WARC writer: %s", error)


@dataclass
class ClosedWarc:
    """A crawl's closed WARC files, and the response records of the versions stored before
    their record was written: (version id, where the record went)."""

    files: list[WrittenFile] = field(default_factory=list)
    links: list[tuple[int, WarcLocation]] = field(default_factory=list)
