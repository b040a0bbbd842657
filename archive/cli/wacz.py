"""`wenhua wacz`: a WACZ package of the selected articles' captures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from archive.cli.common import UserError, archive_options, date_option, read_archive
from archive.config import ArchiveConfig
from archive.wacz import WaczError, make_wacz


@click.command()
@archive_options
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="New .wacz file.")
@click.option("--site", help="Only this site's articles.")
@date_option("--from", "start", help="Published on or after this day.")
@date_option("--to", "end", help="Published on or before this day.")
def wacz(
    config: ArchiveConfig, out: str, site: str | None, start: date | None, end: date | None
) -> None:
    """Write a WACZ package: every version of the selected articles as captured, with
    their images and a pages list, for ReplayWeb.page or pywb; validated before it is kept.

    Example: wenhua wacz --out lunan.wacz --site demo-culture-cloud --from 2020-01-01
    """
    if start and end and start > end:
        raise UserError(f"--from {start} is after --to {end}")
    try:
        with read_archive(config) as archive, archive.session() as session:
            result = make_wacz(session, config, Path(out), site=site, start=start, end=end)
    except WaczError as exc:
        raise UserError(str(exc)) from exc
    for problem in result.missing:
        click.echo(f"wenhua wacz: not packaged: {problem}", err=True)
    click.echo(
        f"wacz {result.path}: {result.articles} articles, {result.pages} pages, "
        f"{result.records} WARC records"
    )
