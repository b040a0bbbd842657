"""`wenhua verify` and `wenhua bag`: fixity checks and BagIt packages."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from archive.bag import BagError, make_bag
from archive.cli.common import UserError, archive_options, read_archive, selection_options
from archive.config import ArchiveConfig
from archive.db import Archive, DamagedArchiveError, DatabaseError
from archive.fixity import verify as run_verify
from archive.selection import Selection


@click.command()
@archive_options
def verify(config: ArchiveConfig) -> None:
    """Check the whole archive: the database's own integrity, every WARC file and record,
    CDXJ index, image, raw capture and stored record, and the database rows against the
    WARC metadata records the crawl wrote.

    Prints one line per problem and exits 1; prints a summary of what was checked when all
    is intact. Reads only: works on an archive you may not write.

    Example: wenhua verify --data-dir /srv/wenhua
    """
    try:
        archive = Archive.existing(config.db_url)
    except DamagedArchiveError as exc:
        click.echo(str(exc))  # the damage verify is there to find
        click.echo("checked the database: 1 problem(s)", err=True)
        sys.exit(1)
    except DatabaseError as exc:
        raise UserError(str(exc)) from exc
    try:
        report = run_verify(archive, config)
    finally:
        archive.close()
    for problem in report.problems:
        click.echo(problem)
    for note in report.notes:
        click.echo(f"wenhua: note: {note}", err=True)
    click.echo(report.summary(), err=not report.ok)
    if not report.ok:
        sys.exit(1)


@click.command()
@archive_options
@click.option("--out", required=True, type=click.Path(file_okay=False), help="New bag directory.")
@selection_options
@click.option("--organization", default="wenhua archive", show_default=True)
def bag(
    config: ArchiveConfig,
    out: str,
    selection: Selection,
    organization: str,
) -> None:
    """Write a BagIt package (RFC 8493): articles as JSON Lines, images, WARC files.

    Example: wenhua bag --out lunan-2020 --site demo-culture-cloud --from 2020-01-01 --to 2020-12-31
    """
    try:
        with read_archive(config) as archive, archive.session() as session:
            result = make_bag(session, config, Path(out), selection, organization=organization)
    except BagError as exc:
        raise UserError(str(exc)) from exc
    click.echo(
        f"bag {result.path}: {result.articles} articles, {result.images} images, "
        f"{result.warc_files} WARC files"
    )
