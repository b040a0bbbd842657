"""What every `wenhua` subcommand shares: the one-line user error, the archive options and
opening, `--format`, date options and reading a page from a file or URL.

Command modules import this module and the libraries below the CLI, never each other;
archive/cli/__init__.py registers them all.
"""

from __future__ import annotations

import functools
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from archive.config import ArchiveConfig, resolve
from archive.db import Archive, DatabaseError
from archive.locks import CrawlLockedError, DataDirError
from archive.search import SearchError, parse_day
from crawler.sitedefs import SiteDefinitionError, UnknownSiteError

F = TypeVar("F", bound=Callable[..., Any])


class UserError(click.ClickException):
    """A mistake of the user's: one line on stderr, exit status 2, no traceback."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"wenhua: error: {self.message}", err=True)


def user_errors(func: F) -> F:
    """Turn the library's 'you asked for something wrong' exceptions into one-line errors."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (
            SiteDefinitionError,
            UnknownSiteError,
            DatabaseError,
            CrawlLockedError,
            DataDirError,
        ) as exc:
            raise UserError(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def archive_options(func: F) -> F:
    """--data-dir and --db, handed to the command as one ArchiveConfig `config`."""

    @click.option(
        "--data-dir",
        type=click.Path(file_okay=False),
        envvar="WENHUA_DATA",
        help="Data directory (archive.sqlite, images/, raw/, logs/). Default ./wenhua-data.",
    )
    @click.option(
        "--db",
        "db_url",
        envvar="WENHUA_DB",
        help="SQLAlchemy database URL replacing the SQLite file, e.g. postgresql+psycopg://…",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, data_dir: str | None, db_url: str | None, **kwargs: Any) -> Any:
        return func(*args, config=resolve(data_dir, db_url), **kwargs)

    return wrapper  # type: ignore[return-value]


@contextmanager
def open_archive(config: ArchiveConfig) -> Iterator[Archive]:
    """The archive, closed on the way out; an unusable database is a one-line error."""
    try:
        archive = Archive(config.db_url)
    except DatabaseError as exc:
        raise UserError(str(exc)) from exc
    try:
        yield archive
    finally:
        archive.close()


def format_option(*choices: str, default: str) -> Callable[[F], F]:
    """`--format`, passed to the command as `fmt`."""
    return click.option(
        "--format", "fmt", type=click.Choice(choices), default=default, show_default=True
    )


def parse_date(option: str, value: str | None) -> date | None:
    """A YYYY-MM-DD option value (None stays None); anything else is a one-line error."""
    try:
        return parse_day(value, option)
    except SearchError as exc:
        raise UserError(str(exc)) from exc


def date_option(*decls: str, help: str) -> Callable[[F], F]:
    """A YYYY-MM-DD option, handed to the command as a `date` (or None)."""

    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
        return parse_date(param.opts[0], value)

    return click.option(*decls, metavar="YYYY-MM-DD", callback=parse, help=help)


def read_input(source: str) -> tuple[bytes, str | None, str]:
    """(bytes, content type, address) of a file path or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        request = urllib.request.Request(source, headers={"User-Agent": "wenhua-extract/0.1"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.read(), response.headers.get("Content-Type"), response.geturl()
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise UserError(f"cannot fetch {source}: {getattr(exc, 'reason', exc)}") from exc
    path = Path(source)
    if not path.is_file():
        raise UserError(f"no such file: {source} (give a saved page or an http(s) URL)")
    return path.read_bytes(), None, path.resolve().as_uri()


def pad(text: str, width: int) -> str:
    """`text` padded to a display width, for text tables (a Chinese character takes two
    columns)."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - shown)
