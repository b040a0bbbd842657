"""Export: archived articles' records, for people and for the portal import.

Streams rows (no whole-archive lists in memory). Machine formats (JSON Lines, JSON) carry
the records as they are, times in ISO 8601 at +08:00. The spreadsheet formats (CSV, XLSX)
hold one value per cell: the fields the record schema marks `sheet` (no body HTML), and
the image list flattened into a count and the URLs and archive paths one per line.

`write_articles` writes any format to a binary stream; `search_records` gives the records
of a search's whole result set, so a search page can offer its results for download.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive import jsonlines
from archive.facets import result_ids
from archive.models import Article, ArticleVersion, VersionImage, stored_value
from archive.search import Matches
from archive.timefmt import iso
from crawler.extract.record import BY_NAME, FIELDS, IMAGE_KEYS, exported_fields

# What the archive knows of an article beyond its record: its id before the record's
# fields, and when it was first and last seen (and withdrawn) after them.
ARTICLE_FACTS = ("first_seen", "last_seen", "gone_at")
EXPORT_FIELDS = ("id", *exported_fields(), *ARTICLE_FACTS)
FORMATS = ("jsonl", "csv", "xlsx", "json")
# Spreadsheet formats: one value per cell.
SHEETS = ("csv", "xlsx")
MEDIA_TYPES = {
    "jsonl": "application/x-ndjson",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

LABELS: dict[str, str] = {
    "id": "编号",
    **{f.name: f.label or f.name for f in FIELDS},
    "first_seen": "首次存档",
    "last_seen": "最近存档",
    "gone_at": "撤稿时间",
}
# The image list in a spreadsheet: how many, then one line per image, in page order.
IMAGE_COLUMNS = {"images": "图片数", "image_urls": "图片地址", "image_paths": "图片存档路径"}
# Excel's limit for one cell; longer text is cut there (and counted).
XLSX_CELL_MAX = 32767
SHEET_TITLE = "文章"


def _images(links: Iterable[VersionImage]) -> list[dict[str, Any]]:
    return [
        {
            **{key: getattr(link, key) for key in IMAGE_KEYS},
            "sha256": link.image_sha256,
            "path": link.image.path if link.image else None,
            "mime": link.image.mime if link.image else None,
        }
        for link in links
    ]


def article_record(article: Article, version: ArticleVersion) -> dict[str, Any]:
    record: dict[str, Any] = {"id": article.id}
    record.update(
        (field.name, stored_value(field, article, version, instant=iso, images=_images))
        for field in FIELDS
        if field.exported
    )
    record.update((name, iso(getattr(article, name))) for name in ARTICLE_FACTS)
    return record


def _current_articles() -> Any:
    return (
        select(Article)
        .where(Article.current_version_id.is_not(None))
        .options(
            selectinload(Article.site),
            selectinload(Article.current)
            .selectinload(ArticleVersion.images)
            .selectinload(VersionImage.image),
        )
    )


def iter_records(session: Session, batch: int = 500) -> Iterator[dict[str, Any]]:
    last_id = 0
    while True:
        rows = session.scalars(
            _current_articles().where(Article.id > last_id).order_by(Article.id).limit(batch)
        ).all()
        if not rows:
            return
        for article in rows:
            assert article.current is not None
            yield article_record(article, article.current)
        last_id = rows[-1].id
        session.expunge_all()


def search_records(
    session: Session, found: Matches | None, order: str = "relevance"
) -> Iterator[dict[str, Any]]:
    """The current record of every article of a search's result set (`archive.search.
    matches`), in `order` (a key of archive.search.ORDERS)."""
    for ids in result_ids(session, found, order):
        loaded = {a.id: a for a in session.scalars(_current_articles().where(Article.id.in_(ids)))}
        for article_id in ids:
            article = loaded.get(article_id)
            if article is not None and article.current is not None:
                yield article_record(article, article.current)
        session.expunge_all()


# --- spreadsheet rows ----------------------------------------------------------------


def sheet_columns(fields: Iterable[str]) -> list[str]:
    """The spreadsheet columns of export fields: fields not meant for a cell left out,
    the image list as its count, URLs and archive paths."""
    columns: list[str] = []
    for name in fields:
        field = BY_NAME.get(name)
        if field is not None and not field.sheet:
            continue
        if field is not None and field.stored == "images":
            columns += IMAGE_COLUMNS
        else:
            columns.append(name)
    return columns


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):  # one item per line, never a JSON list
        return "\n".join("" if item is None else str(item) for item in value)
    return value


def sheet_row(record: Mapping[str, Any], columns: Iterable[str]) -> list[Any]:
    """A record as the cells of `columns` (see `sheet_columns`)."""
    images = [item for field in FIELDS if field.stored == "images" for item in record[field.name]]
    flat = {
        "images": len(images),
        "image_urls": "\n".join(item.get("url") or "" for item in images),
        "image_paths": "\n".join(item.get("path") or "-" for item in images),
    }
    return [flat[name] if name in flat else _cell(record.get(name)) for name in columns]


def column_label(name: str, labels: Mapping[str, str] | None = None) -> str:
    return (labels or {}).get(name) or IMAGE_COLUMNS.get(name) or LABELS.get(name) or name


# --- writers -------------------------------------------------------------------------


@dataclass
class Written:
    rows: int = 0
    # XLSX only: cells cut at Excel's limit, and characters XML cannot hold (control
    # characters) replaced by U+FFFD; the JSON Lines export has both whole.
    cut_cells: int = 0
    replaced_chars: int = 0

    def notes(self) -> list[str]:
        notes = []
        if self.cut_cells:
            notes.append(
                f"{self.cut_cells} cells were longer than Excel's {XLSX_CELL_MAX} characters"
                " and were cut (the jsonl export has them whole)"
            )
        if self.replaced_chars:
            notes.append(
                f"{self.replaced_chars} control characters a spreadsheet cannot hold were"
                " replaced by U+FFFD (the jsonl export has them)"
            )
        return notes


def write_records(
    records: Iterable[Mapping[str, Any]],
    fmt: str,
    out: IO[str],
    fields: tuple[str, ...] = EXPORT_FIELDS,
) -> int:
    """JSON Lines, JSON or CSV (no BOM) to a text stream; returns the rows written."""
    count = 0
    if fmt == "csv":
        columns = sheet_columns(fields)
        writer = csv.writer(out)
        writer.writerow(columns)
        for record in records:
            writer.writerow(sheet_row(record, columns))
            count += 1
    elif fmt == "json":
        out.write("[")
        for record in records:
            out.write(("," if count else "") + "\n" + json.dumps(record, ensure_ascii=False))
            count += 1
        out.write("\n]\n")
    elif fmt == "jsonl":
        for record in records:
            out.write(jsonlines.dumps(record) + "\n")
            count += 1
    else:
        raise ValueError(f"write_records writes jsonl, json or csv, not {fmt!r}")
    return count


def write_articles(
    fmt: str,
    records: Iterable[Mapping[str, Any]],
    out: IO[bytes],
    *,
    fields: tuple[str, ...] = EXPORT_FIELDS,
    labels: Mapping[str, str] | None = None,
    bom: bool = True,
) -> Written:
    """Export records (`iter_records`, `search_records`, the feed) as `fmt` (one of
    FORMATS) to a binary stream: UTF-8 text, CSV with a byte order mark unless `bom` is
    False (Excel reads BOM-less CSV in the locale's code page, GBK on Chinese Windows),
    XLSX one sheet with headings from `labels` (default: the record schema's labels)."""
    if fmt == "xlsx":
        return _write_xlsx(records, out, fields, labels)
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    if fmt == "csv" and bom:
        out.write(codecs.BOM_UTF8)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        rows = write_records(records, fmt, text, fields)
        text.flush()
    finally:
        text.detach()  # the caller's stream stays open
    return Written(rows=rows)


def _text_cell(value: str, written: Written) -> str:
    cleaned: str
    cleaned, replaced = ILLEGAL_CHARACTERS_RE.subn("\ufffd", value)
    written.replaced_chars += replaced
    if len(cleaned) > XLSX_CELL_MAX:
        cleaned = cleaned[: XLSX_CELL_MAX - 1] + "…"
        written.cut_cells += 1
    return cleaned


def _write_xlsx(
    records: Iterable[Mapping[str, Any]],
    out: IO[bytes],
    fields: tuple[str, ...],
    labels: Mapping[str, str] | None,
) -> Written:
    written = Written()
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_TITLE)
    columns = sheet_columns(fields)
    for number, name in enumerate(columns, start=1):
        wide = name in ("title", "body_text", "url", "image_urls", "image_paths")
        sheet.column_dimensions[get_column_letter(number)].width = 40 if wide else 16
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in columns:
        cell = WriteOnlyCell(sheet, value=column_label(name, labels))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for record in records:
        row = []
        for value in sheet_row(record, columns):
            if isinstance(value, str):
                # Always text: openpyxl would make a formula of a title starting with "=".
                cell = WriteOnlyCell(sheet, value=_text_cell(value, written))
                cell.data_type = "s"
                row.append(cell)
            else:
                row.append(value)
        sheet.append(row)
        written.rows += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{written.rows + 1}"
    book.save(out)
    return written
