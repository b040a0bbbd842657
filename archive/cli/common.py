"""What every `wenhua` subcommand shares: the one-line user error, the archive options and
opening, `--format`, date options and reading a page from a file or URL.

Command modules import this module and the libraries below the CLI, never each other;
archive/cli/__init__.py registers them all.
"""

from __future__ import annotations

import functools
import os
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError as SQLDatabaseError
from sqlalchemy.exc import OperationalError

from archive.config import ArchiveConfig, resolve
from archive.db import (
    MAX_INTEGER,
    Archive,
    DatabaseError,
    NoArchiveError,
    check_existing,
    sqlite_path,
)
from archive.locks import CrawlLockedError, DataDirError
from archive.search import MAX_QUERY_TERMS, SearchError, parse_day, split_query
from archive.selection import Selection
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
def _opened(config: ArchiveConfig, archive: Archive) -> Iterator[Archive]:
    try:
        yield archive
    except SQLDatabaseError as exc:
        if not unreadable(exc):
            raise  # a query SQLite or PostgreSQL refused is a bug, not the user's doing
        raise UserError(
            f"cannot read the archive database {_shown(config)}: {_brief(exc.orig)}"
            + ("; `wenhua verify` reports the damage" if _sqlite_code(exc) else "")
        ) from exc
    finally:
        archive.close()


# SQLite result codes of a file that cannot be read as it should (damaged, not a
# database, a failing disk, gone, full): the user's to act on, not a traceback.
_UNREADABLE = ("SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_FULL")


def _sqlite_code(exc: SQLDatabaseError) -> str | None:
    name = getattr(exc.orig, "sqlite_errorname", None)
    return name if isinstance(name, str) else None


def unreadable(exc: SQLDatabaseError) -> bool:
    """Whether a database error met while reading says the database cannot be read (a
    damaged SQLite file, a PostgreSQL server gone away) rather than that a query is wrong."""
    code = _sqlite_code(exc)
    if code is not None:
        return code.startswith(_UNREADABLE)
    return isinstance(exc, OperationalError) and exc.connection_invalidated


def _shown(config: ArchiveConfig) -> str:
    path = sqlite_path(config.db_url)
    return str(path) if path else make_url(config.db_url).render_as_string(hide_password=True)


def _brief(error: object) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


@contextmanager
def open_archive(config: ArchiveConfig) -> Iterator[Archive]:
    """The archive, created or brought to the newest schema (commands that write: crawl,
    demo, db upgrade), closed on the way out; an unusable database is a one-line error."""
    try:
        archive = Archive(config.db_url)
    except DatabaseError as exc:
        raise UserError(str(exc)) from exc
    with _opened(config, archive) as opened:
        yield opened


@contextmanager
def read_archive(config: ArchiveConfig) -> Iterator[Archive]:
    """The archive for a command that only reads it: one that is not there, or is at an
    older schema revision, is a one-line error (nothing is created or migrated, not even
    the data directory), and an archive the user may only read works."""
    try:
        archive = Archive.existing(config.db_url)
    except DatabaseError as exc:
        raise UserError(str(exc)) from exc
    with _opened(config, archive) as opened:
        yield opened


def archive_exists(config: ArchiveConfig) -> bool:
    """Whether there is an archive to read (an outdated one is a one-line error)."""
    try:
        check_existing(config.db_url)
    except NoArchiveError:
        return False
    except DatabaseError as exc:
        raise UserError(str(exc)) from exc
    return True


def bounded_int(value: str | int, what: str, low: int, high: int) -> int:
    """`value` as a whole number in [low, high], or a one-line error naming `what`."""
    try:
        number = int(value)
    except ValueError:
        raise UserError(f"{what} {value!r} is not a number") from None
    if not low <= number <= high:
        raise UserError(f"{what} must be between {low} and {high}, not {value}")
    return number


def id_argument(name: str, metavar: str) -> Callable[[F], F]:
    """A positive integer argument (a row id): anything a database cannot hold as an id is
    a one-line error, not an overflow inside the driver."""

    def parse(ctx: click.Context, param: click.Parameter, value: str) -> int:
        return bounded_int(value, metavar, 1, MAX_INTEGER)

    return click.argument(name, metavar=metavar, callback=parse)


def count_option(
    *decls: str, default: int, help: str, upper: int = MAX_INTEGER
) -> Callable[[F], F]:
    """A non-negative count option (--limit, --offset) bounded by what a database holds."""

    def parse(ctx: click.Context, param: click.Parameter, value: str | int) -> int:
        return bounded_int(value, param.opts[0], 0, upper)

    return click.option(
        *decls, default=default, show_default=True, callback=parse, help=help, type=str
    )


def check_query(query: str, option: str = "QUERY") -> None:
    """A search query of at most MAX_QUERY_TERMS words (a longer one is a one-line error)."""
    if len(split_query(query)) > MAX_QUERY_TERMS:
        raise UserError(f"{option} has more than {MAX_QUERY_TERMS} words: search for fewer at once")


def output_file(option: str, value: str) -> Path:
    """A file the command is to write: its folder must exist (nothing is made up)."""
    path = Path(value)
    folder = path.parent
    if not folder.is_dir():
        raise UserError(f"{option} {value}: there is no folder {folder} (create it first)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"{option} {value}: the folder {folder} is not writable")
    return path


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


def selection_options(func: F) -> F:
    """--site, --from and --to of a package (`bag`, `wacz`), handed to the command as one
    `Selection` `selection`; --from after --to is a one-line error."""

    @click.option("--site", help="Only this site's articles.")
    @date_option("--from", "start", help="Published on or after this day.")
    @date_option("--to", "end", help="Published on or before this day.")
    @functools.wraps(func)
    def wrapper(
        *args: Any, site: str | None, start: date | None, end: date | None, **kwargs: Any
    ) -> Any:
        if start and end and start > end:
            raise UserError(f"--from {start} is after --to {end}")
        return func(*args, selection=Selection(site, start, end), **kwargs)

    return wrapper  # type: ignore[return-value]


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
