"""`wenhua verify` and `wenhua bag`: fixity checks and BagIt packages (#5)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from archive.cli.main import UserError, archive_options, open_archive
from archive.config import ArchiveConfig


@click.command()
@archive_options
def verify(config: ArchiveConfig) -> None:
    """Re-hash every WARC file and record, image, raw capture and stored record.

    Prints one line per mismatch or missing file and exits 1; prints a summary of what
    was checked when all is intact.

    Example: wenhua verify --data-dir /srv/wenhua
    """
    from archive.fixity import verify as run_verify

    archive = open_archive(config)
    with archive.session() as session:
        report = run_verify(session, config)
    archive.close()
    for problem in report.problems:
        click.echo(problem)
    click.echo(report.summary(), err=not report.ok)
    if not report.ok:
        sys.exit(1)


def _date(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise UserError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from exc


@click.command()
@archive_options
@click.option("--out", required=True, type=click.Path(file_okay=False), help="New bag directory.")
@click.option("--site", help="Only this site's articles.")
@click.option("--from", "start", help="Published on or after this date (YYYY-MM-DD).")
@click.option("--to", "end", help="Published on or before this date (YYYY-MM-DD).")
@click.option("--organization", default="wenhua archive", show_default=True)
def bag(
    config: ArchiveConfig,
    out: str,
    site: str | None,
    start: str | None,
    end: str | None,
    organization: str,
) -> None:
    """Write a BagIt package (RFC 8493): articles as JSON Lines, images, WARC files.

    Example: wenhua bag --out lunan-2020 --site demo-culture-cloud --from 2020-01-01 --to 2020-12-31
    """
    from archive.bag import BagError, make_bag

    first, last = _date("--from", start), _date("--to", end)
    if first and last and first > last:
        raise UserError(f"--from {start} is after --to {end}")
    archive = open_archive(config)
    try:
        with archive.session() as session:
            result = make_bag(
                session,
                config,
                Path(out),
                site=site,
                start=first,
                end=last,
                organization=organization,
            )
    except BagError as exc:
        raise UserError(str(exc)) from exc
    finally:
        archive.close()
    click.echo(
        f"bag {result.path}: {result.articles} articles, {result.images} images, "
        f"{result.warc_files} WARC files"
    )
