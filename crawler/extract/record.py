"""The archived record's fields, in one table.

Normalization builds a record with exactly these keys in this order; storage, the
content hash, export, history, fixity and the web API all read their field lists from
here. Adding a field is one `Field` below plus an Alembic migration for its column
(tests/test_record_schema.py walks the table, so the new field is checked everywhere).

Pure: no database or crawler imports, so page reading can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

# Where a field's value lives in the archive:
#   version  an article_versions column of the same name, copied from the record
#   article  an articles column of the same name (the URL identifies the article)
#   site     the name of the article's site (sites.name)
#   images   the version's ordered version_images rows
#   capture  an article_versions column of the same name filled from the capture's
#            provenance rather than from the record
Stored = Literal["version", "article", "site", "images", "capture"]

# What an image in a record says about itself: the page's own facts, which the content
# hash and history compare (export adds what the archive learned: sha256, path, mime).
IMAGE_KEYS = ("url", "alt", "caption")


@dataclass(frozen=True)
class Field:
    name: str
    stored: Stored
    # The record always has a value (the column is NOT NULL).
    required: bool = False
    # Part of the content hash: a change here makes a new version. `wenhua verify`
    # recomputes the hash from the stored fields.
    hashed: bool = False
    # A key of `wenhua export`, the feed and the API record.
    exported: bool = True
    # Compared between versions by `wenhua history`.
    compared: bool = False
    # Shown where the API lists an article's versions.
    summary: bool = False
    # Counted in each run's field coverage (the share of stored articles that have it),
    # which tells a portal whose templates changed under its definition.
    covered: bool = False
    # The column heading people read in a spreadsheet export.
    label: str = ""
    # A column of the spreadsheet exports (CSV, XLSX): markup in a cell helps nobody there.
    sheet: bool = True
    # Compared by `wenhua verify` with the record the crawl wrote to its WARC metadata
    # record when it stored the version (every field is, so an edit of any stored value,
    # body_html included, is found; the content hash covers only the hashed ones).
    checked: bool = True


# In record order, which is also the export's column order.
FIELDS: tuple[Field, ...] = (
    Field("url", "article", required=True, label="网址"),
    Field(
        "title",
        "version",
        required=True,
        hashed=True,
        compared=True,
        summary=True,
        covered=True,
        label="标题",
    ),
    Field(
        "published_at",
        "version",
        hashed=True,
        compared=True,
        summary=True,
        covered=True,
        label="发布时间",
    ),
    Field("published_precision", "version", hashed=True, compared=True, label="发布时间精度"),
    Field("source", "version", hashed=True, compared=True, covered=True, label="来源"),
    Field("editor", "version", hashed=True, compared=True, covered=True, label="编辑"),
    Field("author", "version", hashed=True, compared=True, label="作者"),
    Field(
        "body_text",
        "version",
        required=True,
        hashed=True,
        compared=True,
        covered=True,
        label="正文",
    ),
    Field("body_html", "version", required=True, compared=True, label="正文 HTML", sheet=False),
    Field(
        "images", "images", required=True, hashed=True, compared=True, covered=True, label="图片"
    ),
    Field("site", "site", label="站点"),
    Field("city", "version", compared=True, label="城市"),
    Field("district", "version", compared=True, label="区县"),
    Field("category", "version", compared=True, label="栏目"),
    Field("fetched_at", "capture", required=True, label="抓取时间"),
)

BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}


def field_names() -> tuple[str, ...]:
    return tuple(f.name for f in FIELDS)


def hashed_fields() -> tuple[Field, ...]:
    return tuple(f for f in FIELDS if f.hashed)


def checked_fields() -> tuple[Field, ...]:
    return tuple(f for f in FIELDS if f.checked)


def exported_fields() -> tuple[str, ...]:
    return tuple(f.name for f in FIELDS if f.exported)


def compared_fields() -> tuple[str, ...]:
    return tuple(f.name for f in FIELDS if f.compared)


def summary_fields() -> tuple[str, ...]:
    return tuple(f.name for f in FIELDS if f.summary)


def covered_fields() -> tuple[str, ...]:
    return tuple(f.name for f in FIELDS if f.covered)


def fields_found(record: Mapping[str, Any]) -> tuple[str, ...]:
    """The covered fields this record has a value for (not null, not empty)."""
    return tuple(name for name in covered_fields() if record.get(name) not in (None, "", [], ()))


def version_columns() -> tuple[Field, ...]:
    """Fields stored as article_versions columns copied from the record."""
    return tuple(f for f in FIELDS if f.stored == "version")


def make_record(values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` as a record in table order; refuses missing or unknown keys, so the
    normalizer and the table cannot drift apart."""
    names = field_names()
    missing = [name for name in names if name not in values]
    unknown = [name for name in values if name not in BY_NAME]
    if missing or unknown:
        raise ValueError(
            f"record fields do not match the table: missing {missing}, unknown {unknown}"
        )
    return {name: values[name] for name in names}
