"""The `wenhua` command: thin click glue, one module per command family, each calling the
library. Every subcommand that reads or writes the archive takes --data-dir and --db after
its name.

User mistakes (unknown site, missing file, bad URL, unreadable database) end in one line
on stderr and exit status 2, never a traceback (archive.cli.common.UserError).

Every command is registered here and only here (COMMANDS), imported only when it runs;
the command modules import archive.cli.common and the libraries, never each other.
"""

from __future__ import annotations

import click

from archive.cli.lazy import LazyGroup

# Every command, by "module:attribute", with the one-line help `wenhua --help` shows (a test
# holds each line to the command's own docstring). The module is imported only when run.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "archive.cli.crawl:demo",
        "Serve the bundled demo portal on loopback, crawl all of it and print a summary.",
    ),
    "crawl": ("archive.cli.crawl:crawl", "Crawl configured portals into the archive."),
    "extract": (
        "archive.cli.extract:extract",
        "Print the normalized record of each page (file or URL) as one JSON line, in order.",
    ),
    "meta": (
        "archive.cli.extract:meta",
        "Parse meta lines (publish time, source, editor, author); one JSON object per TEXT.",
    ),
    "export": (
        "archive.cli.export:export",
        "Export archived articles (current version) with their images; incremental with --since.",
    ),
    "search": (
        "archive.cli.search:search",
        "Find archived articles whose title or body contains QUERY (every word of it).",
    ),
    "history": (
        "archive.cli.history:history",
        "Every version of one article, oldest first: provenance, changed fields, body diff.",
    ),
    "runs": (
        "archive.cli.history:runs",
        "List crawl runs, newest first: start, end, sites, status and counts.",
    ),
    "failures": (
        "archive.cli.history:failures",
        "List recorded failures (fetch, extraction, image), newest first.",
    ),
    "problems": (
        "archive.cli.history:problems",
        "List normalization problems (field, raw text, reason), newest first.",
    ),
    "verify": (
        "archive.cli.preservation:verify",
        "Check the whole archive: the database's own integrity, every WARC file and record, "
        "CDXJ index, image, raw capture and stored record, and the database rows against the "
        "WARC metadata records the crawl wrote.",
    ),
    "bag": (
        "archive.cli.preservation:bag",
        "Write a BagIt package (RFC 8493): articles as JSON Lines, images, WARC files.",
    ),
    "wacz": (
        "archive.cli.wacz:wacz",
        "Write a WACZ package: every version of the selected articles as captured, with their "
        "images and a pages list, for ReplayWeb.page or pywb; validated before it is kept.",
    ),
    "serve": (
        "archive.cli.serve:serve",
        "Serve the archive read-only: JSON API under /api, web UI at /search, docs at /docs, "
        "and every capture as served at /replay/<time>/<URL> (pywb, from the WARC files only).",
    ),
    "db": ("archive.cli.db:db", "Database maintenance."),
}
SITES_COMMANDS: dict[str, tuple[str, str]] = {
    "list": (
        "archive.cli.sites:sites_list",
        "Every configured site with its last crawl, archived articles and failures.",
    ),
    "check": (
        "archive.cli.sites:sites_check",
        "Fetch the first list page and one article of SITE and report what its definition finds.",
    ),
    "new": (
        "archive.cli.sites_new:sites_new",
        "Propose a site definition from a list page and an article page.",
    ),
}


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wenhua")
def cli() -> None:
    """wenhua — crawl and archive regional cultural news portals."""


@cli.group(cls=LazyGroup, lazy=SITES_COMMANDS)
def sites() -> None:
    """Configured portals."""


def main() -> None:
    cli(prog_name="wenhua")


__all__ = ["COMMANDS", "SITES_COMMANDS", "cli", "main"]
