"""`wenhua export`: the archive's articles as JSON Lines, CSV, XLSX or JSON, incrementally,
optionally only those a search finds."""

from __future__ import annotations

import sys
from datetime import date

import click

from archive.cli.common import (
    UserError,
    archive_options,
    check_query,
    date_option,
    format_option,
    output_file,
    read_archive,
    user_errors,
)
from archive.config import ArchiveConfig
from archive.export import EXPORT_FIELDS, FORMATS, write_articles
from archive.facets import result_ids
from archive.feed import (
    FEED_FIELDS,
    FEED_LABELS,
    CursorError,
    iter_feed,
    make_cursor,
    parse_cursor,
    window_upper,
)
from archive.search import SearchError, matches


@click.command()
@archive_options
@format_option(*FORMATS, default="jsonl")
@click.option("--out", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
@click.option(
    "--bom/--no-bom",
    default=True,
    show_default=True,
    help="CSV: start with a UTF-8 byte order mark, so Excel reads the Chinese right.",
)
@click.option("--since", help="Only articles created, changed or withdrawn after this cursor.")
@click.option("--site", "site_name", help="Only this site's articles.")
@click.option("-q", "--query", default="", help="Only articles containing every word (as search).")
@click.option("--district", help="Only this district (路南 or 路南区).")
@click.option("--source", help="Only this source (来源), exactly.")
@click.option("--category", help="Only this category, exactly.")
@date_option("--from", "date_from", help="Published on or after this day.")
@date_option("--to", "date_to", help="Published on or before this day.")
@click.option("--all-versions", is_flag=True, help="One row per version, not per article.")
@user_errors
def export(
    config: ArchiveConfig,
    fmt: str,
    out: str | None,
    bom: bool,
    since: str | None,
    site_name: str | None,
    query: str,
    district: str | None,
    source: str | None,
    category: str | None,
    date_from: date | None,
    date_to: date | None,
    all_versions: bool,
) -> None:
    """Export archived articles (current version) with their images; incremental with --since.

    --query, --district, --source, --category, --from and --to select articles exactly as
    `wenhua search` does (on their current version). CSV and XLSX have one value per cell:
    no body HTML, images as a count and their URLs and archive paths one per line; CSV is
    UTF-8 with a byte order mark (--no-bom leaves it out), XLSX has Chinese headings.

    The last line on stderr is `next cursor: CURSOR`; pass it to --since next time to get
    exactly what was created, changed or withdrawn in between.

    \b
    Examples:
      wenhua export --format csv --out articles.csv
      wenhua export --format xlsx -q 非遗 --district 路南 --from 2019-01-01 --out 非遗.xlsx
      wenhua export --since c120 > changes.jsonl
    """
    try:
        after = parse_cursor(since)
    except CursorError as exc:
        raise UserError(f"--since {exc}") from exc
    if out:
        output_file("--out", out)
    check_query(query, "--query")
    if fmt == "xlsx" and out is None and sys.stdout.isatty():
        raise UserError("--format xlsx writes a binary file: give --out FILE.xlsx")
    searched = bool(query.strip()) or any(
        value is not None for value in (district, source, category, date_from, date_to)
    )
    with read_archive(config) as archive, archive.session() as session:
        upper = window_upper(session, after)
        articles: set[int] | None = None
        if searched:
            try:
                found = matches(
                    session,
                    query,
                    site=site_name,
                    district=district,
                    source=source,
                    category=category,
                    date_from=date_from,
                    date_to=date_to,
                )
            except SearchError as exc:
                raise UserError(str(exc)) from exc
            articles = {i for batch in result_ids(session, found) for i in batch}
        records = iter_feed(
            session, after, upper, site=site_name, all_versions=all_versions, articles=articles
        )
        fields = EXPORT_FIELDS + FEED_FIELDS
        if out:
            with open(out, "wb") as handle:
                written = write_articles(
                    fmt, records, handle, fields=fields, labels=FEED_LABELS, bom=bom
                )
        else:
            stdout = click.get_binary_stream("stdout")
            written = write_articles(
                fmt, records, stdout, fields=fields, labels=FEED_LABELS, bom=bom
            )
            stdout.flush()
    for note in written.notes():
        click.echo(f"wenhua: note: {note}", err=True)
    what = "versions" if all_versions else "articles"
    click.echo(f"exported {written.rows} {what}", err=True)
    click.echo(f"next cursor: {make_cursor(upper)}", err=True)
