"""`wenhua search`: full-text search of the archive from the command line."""

from __future__ import annotations

import csv
import json
import sys
import unicodedata
from datetime import date

import click

from archive.cli.common import UserError, archive_options, date_option, format_option, read_archive
from archive.config import ArchiveConfig
from archive.db import MAX_INTEGER
from archive.search import DEFAULT_LIMIT, MAX_LIMIT, SearchError, SearchHit, split_query
from archive.search import search as run_search

# Each word is one more condition of one SQL statement (SQLite refuses some 500).
MAX_QUERY_TERMS = 100

CSV_FIELDS = (
    "id",
    "url",
    "title",
    "published_at",
    "district",
    "source",
    "site",
    "gone_at",
    "score",
    "snippet",
)


@click.command("search")
@archive_options
@click.argument("query", nargs=-1)
@click.option("--site", help="Only this portal (site name, see `wenhua sites list`).")
@click.option("--district", help="Only this district, e.g. 路南区.")
@click.option("--source", help="Only this source (来源), exactly.")
@click.option("--editor", help="Only this editor (编辑), exactly.")
@click.option("--category", help="Only this category, e.g. 信息资讯.")
@date_option("--from", "date_from", help="Published on or after this day.")
@date_option("--to", "date_to", help="Published on or before this day.")
@format_option("table", "json", "csv", default="table")
@click.option(
    "--limit",
    type=int,
    default=DEFAULT_LIMIT,
    show_default=True,
    help=f"Results to print (at most {MAX_LIMIT}).",
)
@click.option("--offset", type=int, default=0, show_default=True, help="Results to skip first.")
def search(
    config: ArchiveConfig,
    query: tuple[str, ...],
    site: str | None,
    district: str | None,
    source: str | None,
    editor: str | None,
    category: str | None,
    date_from: date | None,
    date_to: date | None,
    fmt: str,
    limit: int,
    offset: int,
) -> None:
    """Find archived articles whose title or body contains QUERY (every word of it).

    Matching is exact substring matching, so 1- and 2-character Chinese words work; ranked
    title matches first, then by occurrences, then newest. Without QUERY, lists what the
    filters select, newest first. The count goes to stderr.

    Example: wenhua search 非遗 --district 路南区 --from 2020-01-01 --format json
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise UserError(f"--limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if not 0 <= offset <= MAX_INTEGER:
        raise UserError(f"--offset must be between 0 and {MAX_INTEGER}, not {offset}")
    if len(split_query(" ".join(query))) > MAX_QUERY_TERMS:
        raise UserError(f"QUERY has more than {MAX_QUERY_TERMS} words: search for fewer at once")
    try:
        with read_archive(config) as archive, archive.session() as session:
            page = run_search(
                session,
                " ".join(query),
                site=site,
                district=district,
                source=source,
                editor=editor,
                category=category,
                date_from=date_from,
                date_to=date_to,
                limit=limit,
                offset=offset,
            )
    except SearchError as exc:
        raise UserError(str(exc)) from exc
    if fmt == "json":
        click.echo(json.dumps([hit.as_dict() for hit in page.items], ensure_ascii=False, indent=2))
    elif fmt == "csv":
        writer = csv.DictWriter(
            sys.stdout, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(hit.as_dict() for hit in page.items)
    else:
        for hit in page.items:
            click.echo(_table_row(hit))
    shown = f", showing {offset + 1}-{offset + len(page.items)}" if page.items else ""
    click.echo(f"{page.total} matching articles{shown}", err=True)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _table_row(hit: SearchHit) -> str:
    day = (hit.published_at or "")[:10] or "----------"
    gone = f"  [withdrawn {hit.gone_at[:10]}]" if hit.gone_at else ""
    head = f"{hit.id:>7}  {day}  {_pad(hit.district or '-', 10)}  {hit.title}{gone}"
    return f"{head}\n         {hit.url}\n         {hit.snippet}\n"
