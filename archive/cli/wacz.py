"""`wenhua wacz`: a WACZ package of the selected articles' captures."""

from __future__ import annotations

from pathlib import Path

import click

from archive.cli.common import UserError, archive_options, read_archive, selection_options
from archive.config import ArchiveConfig
from archive.selection import Selection
from archive.wacz import WaczError, make_wacz


@click.command()
@archive_options
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="New .wacz file.")
@selection_options
def wacz(config: ArchiveConfig, out: str, selection: Selection) -> None:
    """Write a WACZ package: every version of the selected articles as captured, with
    their images and a pages list, for ReplayWeb.page or pywb; validated before it is kept.

    Example: wenhua wacz --out lunan.wacz --site demo-culture-cloud --from 2020-01-01
    """
    try:
        with read_archive(config) as archive, archive.session() as session:
            result = make_wacz(session, config, Path(out), selection)
    except WaczError as exc:
        raise UserError(str(exc)) from exc
    for problem in result.missing:
        click.echo(f"wenhua wacz: not packaged: {problem}", err=True)
    click.echo(
        f"wacz {result.path}: {result.articles} articles, {result.pages} pages, "
        f"{result.records} WARC records"
    )
