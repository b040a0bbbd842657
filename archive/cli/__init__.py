"""The `wenhua` command: thin click glue, one module per command family, each calling the
library. Every subcommand that reads or writes the archive takes --data-dir and --db after
its name.

User mistakes (unknown site, missing file, bad URL, unreadable database) end in one line
on stderr and exit status 2, never a traceback (archive.cli.common.UserError).

Every command is registered here and only here; the command modules import
archive.cli.common and the libraries, never each other.
"""

from __future__ import annotations

import click

from archive.cli.crawl import crawl, demo
from archive.cli.db import db
from archive.cli.export import export
from archive.cli.extract import extract, meta
from archive.cli.history import failures, history, problems, runs
from archive.cli.preservation import bag, verify
from archive.cli.search import search
from archive.cli.serve import serve
from archive.cli.sites import sites_check, sites_list
from archive.cli.sites_new import sites_new
from archive.cli.wacz import wacz


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wenhua")
def cli() -> None:
    """wenhua — crawl and archive regional cultural news portals."""


@cli.group()
def sites() -> None:
    """Configured portals."""


for command in (demo, crawl, extract, meta, export, search, history, runs, failures, problems):
    cli.add_command(command)
for command in (verify, bag, wacz, serve, db):
    cli.add_command(command)
for command in (sites_list, sites_check, sites_new):
    sites.add_command(command)


def main() -> None:
    cli(prog_name="wenhua")


__all__ = ["cli", "main"]
