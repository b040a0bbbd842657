"""`wenhua search`: full-text search of the archive from the command line.

Registered in archive/cli.py (`cli.add_command(search)`, after the helpers this module
imports from there), so import it through archive.cli.
"""

from __future__ import annotations

import csv
import json
import sys
import unicodedata

import click

from archive.cli.main import UserError, archive_options, open_archive
from archive.config import ArchiveConfig
from archive.search import DEFAULT_LIMIT, MAX_LIMIT, SearchError, SearchHit, parse_day
from archive.search import search as run_search

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


@archive_options
@click.argument("query", nargs=-1)
@click.option("--site", help="Only this portal (site name, see `wenhua sites list`).")
@click.option("--district", help="Only this district, e.g. 路南区.")
@click.option("--source", help="Only this source (来源), exactly.")
@click.option("--editor", help="Only this editor (编辑), exactly.")
@click.option("--category", help="Only this category, e.g. 信息资讯.")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="Published on or after this day.")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Published on or before this day.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@click.option(
    "--limit",
    type=int,
    default=DEFAULT_LIMIT,
    show_default=True,
    help=f"Results to print (at most {MAX_LIMIT}).",
)
@click.option("--offset", type=int, default=0, show_default=True, help="Results to skip first.")
def _search(
    config: ArchiveConfig,
    query: tuple[str, ...],
    site: str | None,
    district: str | None,
    source: str | None,
    editor: str | None,
    category: str | None,
    date_from: str | None,
    date_to: str | None,
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
    try:
        parse_day(date_from, "--from")
        parse_day(date_to, "--to")
        if not 1 <= limit <= MAX_LIMIT:
            raise SearchError(f"--limit must be between 1 and {MAX_LIMIT}, not {limit}")
        if offset < 0:
            raise SearchError(f"--offset must not be negative, not {offset}")
    except SearchError as exc:
        raise UserError(str(exc)) from exc
    archive = open_archive(config)
    try:
        with archive.session() as session:
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
    finally:
        archive.close()
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


# Declared, not inferred: archive.cli.main imports this back, and mypy cannot infer a type
# through the cycle.
search: click.Command = click.command("search")(_search)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _table_row(hit: SearchHit) -> str:
    day = (hit.published_at or "")[:10] or "----------"
    gone = f"  [withdrawn {hit.gone_at[:10]}]" if hit.gone_at else ""
    head = f"{hit.id:>7}  {day}  {_pad(hit.district or '-', 10)}  {hit.title}{gone}"
    return f"{head}\n         {hit.url}\n         {hit.snippet}\n"
