"""WACZ packages of a selection of the archive, built and validated with py-wacz (`wacz`).

A WACZ is what a colleague opens without wenhua (ReplayWeb.page, pywb): one WARC file of
the selected articles' captures, its index, and the pages list, with sha256 of every file
in `datapackage.json`. The captures are copied record by record, byte for byte, from the
archive's WARC files (so each record's digests still hold):

- every version of each selected article: its response record (from the version's WARC
  pointer), the redirect that led to it, and
- each image the version shows: its capture nearest in time (from the CDXJ indexes);
- for a revisit record, the record holding its payload too.

`pages/pages.jsonl` lists one page per version (URL, capture time, title). The selection
is the one of `wenhua bag`: by site and publication date, both ends inclusive.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, selectinload
from warcio.timeutils import datetime_to_timestamp
from warcio.warcwriter import WARCWriter

from archive.captures import CaptureIndex, IndexEntry, Member, version_capture
from archive.config import ArchiveConfig
from archive.models import Article, ArticleVersion
from archive.selection import Selection


class WaczError(Exception):
    """A package that cannot be written as asked (the message says why)."""


@dataclass
class WaczResult:
    path: Path
    articles: int
    pages: int
    records: int
    missing: list[str]  # captures the archive does not hold (versions without WARC)


def make_wacz(
    session: Session,
    config: ArchiveConfig,
    out: Path,
    selection: Selection,
) -> WaczResult:
    # Imported here, not at the top: py-wacz pulls in frictionless (about a second), and
    # every `wenhua` command loads this module through the CLI.
    from wacz.main import main as wacz_main

    if out.suffix != ".wacz":
        raise WaczError(f"--out {out}: a WACZ file name ends in .wacz")
    if out.exists():
        raise WaczError(f"--out {out}: file exists (give a new file name)")
    if not out.parent.is_dir():
        raise WaczError(f"--out {out}: no such directory {out.parent}")
    if selection.unknown_site(session):
        raise WaczError(f"--site {selection.site}: no such site in the archive")

    index = CaptureIndex.load(config.data_dir)
    members: dict[Member, None] = {}  # insertion-ordered set
    pages: list[dict[str, Any]] = []
    missing: list[str] = []
    articles = 0

    def add(entry: IndexEntry | None) -> None:
        if entry is None:
            return
        members.setdefault(entry.member)
        if entry.is_revisit:
            original = index.original(entry)
            if original is not None:
                members.setdefault(original.member)

    query = selection.query().options(
        selectinload(Article.versions).selectinload(ArticleVersion.images)
    )
    for article in session.scalars(query):
        articles += 1
        for number, version in enumerate(article.versions, 1):
            capture = version_capture(config.data_dir, version)
            if capture is None:
                missing.append(f"{article.url} (version {number}): no WARC record")
                continue
            if article.url != capture.uri:  # reached through a redirect: keep the hop
                add(index.closest(article.url, capture.timestamp))
            members.setdefault(capture.member)
            if capture.rec_type == "revisit":
                add(index.original(capture))
            for image in version.images:
                if image.image_sha256 is not None:
                    add(index.closest(image.url, capture.timestamp))
            pages.append(
                {
                    "id": f"{article.id}-{number}",
                    "url": capture.uri,
                    "ts": capture.date,
                    "title": version.title or article.url,
                }
            )
    if not pages:
        raise WaczError(f"nothing to package: no archived capture for {selection.describe()}")

    title = f"wenhua: {selection.describe()}"
    with tempfile.TemporaryDirectory(prefix="wenhua-wacz-") as tmp:
        work = Path(tmp)
        stamp = datetime_to_timestamp(datetime.now(UTC).replace(tzinfo=None))
        warc = work / f"wenhua-{stamp}.warc.gz"
        _write_warc(config.data_dir, warc, list(members), title)
        pages_file = work / "pages.jsonl"
        header = {"format": "json-pages-1.0", "id": "pages", "title": title}
        pages_file.write_text(
            "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in [header, *pages]),
            encoding="utf-8",
        )
        args = ["create", "-o", str(out), "--pages", str(pages_file), "--copy-pages",
                "--hash-type", "sha256", "--title", title, "--desc", _description(selection),
                str(warc)]  # fmt: skip
        code, log = _quietly(wacz_main, args)
        if code != 0:
            out.unlink(missing_ok=True)
            raise WaczError(f"wacz create failed: {log.strip().splitlines()[-1:]}")
        code, log = _quietly(wacz_main, ["validate", "-f", str(out)])
        if code != 0:
            out.unlink(missing_ok=True)
            raise WaczError(f"the package does not validate: {log.strip().splitlines()[-1:]}")
    return WaczResult(out, articles, len(pages), len(members), missing)


def _write_warc(data_dir: Path, path: Path, members: list[Member], title: str) -> None:
    """A warcinfo record, then each member's bytes as they are in the archive."""
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True, warc_version="1.1")
        info = {
            "software": _software(),
            "format": "WARC File Format 1.1",
            "description": title,
            "wenhua-copied-records": str(len(members)),
        }
        writer.write_record(writer.create_warcinfo_record(path.name, info))
        for member in members:
            handle.write(member.read(data_dir))


def _description(selection: Selection) -> str:
    return (
        "Regional cultural news articles archived by wenhua, as their portals served them: "
        f"every version of each selected article with its images ({selection.describe()})."
    )


def _quietly(func: Any, args: list[str]) -> tuple[int, str]:
    """Run a py-wacz command, keeping its progress chatter for the error message."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        try:
            code = func(args)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 1
    return int(code or 0), buffer.getvalue()


def _software() -> str:
    try:
        return f"wenhua/{package_version('wenhua')}"
    except PackageNotFoundError:  # a bare checkout
        return "wenhua/unknown"
