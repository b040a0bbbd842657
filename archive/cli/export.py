"""`wenhua export`: the archive's articles as JSON Lines, CSV or JSON, incrementally."""

from __future__ import annotations

import sys

import click

from archive.cli.common import (
    UserError,
    archive_options,
    format_option,
    output_file,
    read_archive,
    user_errors,
)
from archive.config import ArchiveConfig
from archive.export import EXPORT_FIELDS, write_records
from archive.feed import (
    FEED_FIELDS,
    CursorError,
    iter_feed,
    make_cursor,
    parse_cursor,
    window_upper,
)


@click.command()
@archive_options
@format_option("jsonl", "csv", "json", default="jsonl")
@click.option("--out", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
@click.option("--since", help="Only articles created, changed or withdrawn after this cursor.")
@click.option("--site", "site_name", help="Only this site's articles.")
@click.option("--district", help="Only articles of this district (e.g. 路南区).")
@click.option("--all-versions", is_flag=True, help="One row per version, not per article.")
@user_errors
def export(
    config: ArchiveConfig,
    fmt: str,
    out: str | None,
    since: str | None,
    site_name: str | None,
    district: str | None,
    all_versions: bool,
) -> None:
    """Export archived articles (current version) with their images; incremental with --since.

    The last line on stderr is `next cursor: CURSOR`; pass it to --since next time to get
    exactly what was created, changed or withdrawn in between.

    Example: wenhua export --format csv --out articles.csv
    """
    try:
        after = parse_cursor(since)
    except CursorError as exc:
        raise UserError(f"--since {exc}") from exc
    if out:
        output_file("--out", out)
    with read_archive(config) as archive, archive.session() as session:
        upper = window_upper(session, after)
        records = iter_feed(
            session, after, upper, site=site_name, district=district, all_versions=all_versions
        )
        fields = EXPORT_FIELDS + FEED_FIELDS
        if out:
            with open(out, "w", encoding="utf-8", newline="") as handle:
                count = write_records(records, fmt, handle, fields)
        else:
            count = write_records(records, fmt, sys.stdout, fields)
    what = "versions" if all_versions else "articles"
    click.echo(f"exported {count} {what}", err=True)
    click.echo(f"next cursor: {make_cursor(upper)}", err=True)
