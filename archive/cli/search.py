"""`wenhua search`: full-text search of the archive from the command line."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date

import click

from archive.cli.common import (
    UserError,
    archive_options,
    check_query,
    date_option,
    format_option,
    pad,
    read_archive,
)
from archive.config import ArchiveConfig
from archive.db import MAX_INTEGER
from archive.search import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    SearchError,
    SearchFilters,
    SearchHit,
    iter_hits,
    matches,
)
from archive.search import search as run_search
from archive.timefmt import human_iso, human_published

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
    help=f"Results to print (at most {MAX_LIMIT}; 0: all of them).",
)
@click.option("--offset", type=int, help="Results to skip first.  [default: 0]")
@click.option("--page", type=int, help="Print page N (1 first) of --limit results.")
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
    offset: int | None,
    page: int | None,
) -> None:
    """Find archived articles whose title or body contains QUERY (every word of it).

    Matching is exact substring matching, so 1- and 2-character Chinese words work; ranked
    title matches first, then by occurrences, then newest. Without QUERY, lists what the
    filters select, newest first. A district may be given without its 区/县/市/旗 (路南).
    The count goes to stderr; `wenhua export` takes the same filters.

    \b
    Examples:
      wenhua search 非遗 --district 路南 --from 2020-01-01 --format json
      wenhua search 非遗 --page 2
      wenhua search 非遗 --limit 0 --format csv > 非遗.csv
    """
    if not 0 <= limit <= MAX_LIMIT:
        raise UserError(f"--limit must be between 0 (all) and {MAX_LIMIT}, not {limit}")
    if offset is not None and page is not None:
        raise UserError("give --offset or --page, not both")
    if page is not None:
        if page < 1:
            raise UserError(f"--page must be 1 or more, not {page}")
        if limit == 0:
            raise UserError("--page needs a --limit above 0 (the page size)")
        offset = (page - 1) * limit
    offset = offset or 0
    if not 0 <= offset <= MAX_INTEGER:
        what = f"--page {page}" if page is not None else f"--offset {offset}"
        raise UserError(f"{what} is past any archive (at most {MAX_INTEGER} results)")
    check_query(" ".join(query))
    filters = SearchFilters(
        site=site,
        district=district,
        source=source,
        editor=editor,
        category=category,
        date_from=date_from,
        date_to=date_to,
    )
    try:
        with read_archive(config) as archive, archive.session() as session:
            if limit:
                found = run_search(session, " ".join(query), **filters, limit=limit, offset=offset)
                total, hits, exact = found.total, found.items, found.total_exact
            else:
                matched = matches(session, " ".join(query), **filters)
                hits = list(iter_hits(session, matched, offset=offset))
                exact = True
                if hits:
                    total = offset + len(hits)
                else:  # past the end, or nothing found: the count alone
                    counted = run_search(session, " ".join(query), **filters, limit=1)
                    total, exact = counted.total, counted.total_exact
    except SearchError as exc:
        raise UserError(str(exc)) from exc
    if fmt == "json":
        click.echo(json.dumps([hit.as_dict() for hit in hits], ensure_ascii=False, indent=2))
    elif fmt == "csv":
        writer = csv.DictWriter(
            sys.stdout, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(hit.as_dict() for hit in hits)
    else:
        for hit in hits:
            click.echo(_table_row(hit))
    shown = f", showing {offset + 1}-{offset + len(hits)}" if hits else ""
    bound = "" if exact else "at least "
    click.echo(f"{bound}{total} matching articles{shown}", err=True)


def _table_row(hit: SearchHit) -> str:
    day = human_published(hit.published_at, hit.published_precision) or "-"
    gone = f"  [已撤稿 {human_iso(hit.gone_at, 'day')}]" if hit.gone_at else ""
    head = f"{hit.id:>7}  {pad(day, 22)}  {pad(hit.district or '-', 10)}  {hit.title}{gone}"
    return f"{head}\n         {hit.url}\n         {hit.snippet}\n"
