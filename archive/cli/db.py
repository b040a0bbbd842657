"""`wenhua db upgrade`: database maintenance."""

from __future__ import annotations

import click

from archive.cli.common import archive_options, open_archive
from archive.config import ArchiveConfig
from archive.db import current_revision


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@archive_options
def db_upgrade(config: ArchiveConfig) -> None:
    """Apply schema migrations (also done implicitly on first use).

    Example: wenhua db upgrade --db postgresql+psycopg://localhost/wenhua
    """
    with open_archive(config) as archive:
        click.echo(f"database at revision {current_revision(archive.engine)}")
