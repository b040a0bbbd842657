"""Normalization: from what a page shows (RawArticle) to the archive's record.

The same function serves the crawler (through NormalizePipeline) and `wenhua extract`,
so a page gives one record however it reached us. Values the metadata engine cannot
read are recorded as problems, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from crawler.extract.body import clean_body
from crawler.extract.dates import parse_datetime
from crawler.extract.metadata import Meta, Problem, parse_meta
from crawler.extract.record import make_record
from crawler.extract.rules import RawArticle
from crawler.sitedefs import SiteDefinition

# How many closing lines of the body may hold an editor credit such as （责编：张三）.
CREDIT_LINES = 3


@dataclass
class Normalized:
    record: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)

    def problem_dicts(self) -> list[dict[str, str]]:
        return [asdict(p) for p in self.problems]


def _direct(text: str | None, pick: Callable[[Meta], str | None]) -> str | None:
    """A value a dedicated selector found; strip a printed label if there is one."""
    if not text:
        return None
    return pick(parse_meta(text)) or text


def normalize(
    raw: RawArticle,
    *,
    site: SiteDefinition | None,
    fetched_at: datetime,
    category: str | None = None,
    district: str | None = None,
    canonical_url: str | None = None,
    rewrite_url: Callable[[str], str] = lambda url: url,
) -> Normalized:
    body = clean_body(
        raw.body_html,
        raw.url,
        remove=site.fields.remove if site else (),
        rewrite_url=rewrite_url,
        title=raw.title,
    )
    meta = parse_meta(raw.meta_text, fetched_at=fetched_at) if raw.meta_text else Meta()
    problems = list(meta.problems)
    problems += [Problem("images", src, reason) for src, reason in body.bad_images]

    if raw.published_text:
        direct_time = parse_datetime(raw.published_text, fetched_at=fetched_at)
        if direct_time is not None:
            meta.published = direct_time
        elif meta.published is None:
            problems.append(Problem("published_at", raw.published_text, "unrecognised date format"))
    meta.source = _direct(raw.source, lambda m: m.source) or meta.source
    meta.editor = _direct(raw.editor, lambda m: m.editor) or meta.editor
    meta.author = _direct(raw.author, lambda m: m.author) or meta.author

    closing = "\n".join(body.text.split("\n")[-CREDIT_LINES:])
    if closing and (meta.editor is None or meta.author is None or meta.source is None):
        credits = parse_meta(closing, fetched_at=fetched_at)
        meta.editor = meta.editor or credits.editor
        meta.author = meta.author or credits.author
        meta.source = meta.source or credits.source

    if meta.published is None and not any(p.field == "published_at" for p in problems):
        problems.append(Problem("published_at", raw.meta_text or "", "no publish time found"))

    region = site.region if site else None
    record = make_record(
        {
            "url": canonical_url or raw.url,
            "title": raw.title,
            "published_at": meta.published.isoformat() if meta.published else None,
            "published_precision": meta.published.precision if meta.published else None,
            "source": meta.source or None,
            "editor": meta.editor or None,
            "author": meta.author or None,
            "body_text": body.text,
            "body_html": body.html,
            "images": [asdict(image) for image in body.images],
            "site": site.name if site else None,
            "city": region.city if region else None,
            "district": raw.district or district or (region.district if region else None),
            "category": category,
            "fetched_at": fetched_at.isoformat(timespec="seconds"),
        }
    )
    return Normalized(record=record, problems=problems)
