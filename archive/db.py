"""Engines, sessions and schema migrations for the archive database.

SQLite is the default: WAL journal so readers never block the crawl's writer, a busy
timeout so a second writer waits its turn instead of failing, and foreign keys on.
PostgreSQL is reached with psycopg 3 (`postgresql+psycopg://…`). Migrations run
implicitly when an archive is opened, so a new data directory just works.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x77656E687561  # "wenhua": the advisory lock key held while migrating
# The largest id or count both databases store (SQLite's INTEGER, PostgreSQL's bigint):
# a larger one given by a user is refused, not sent to overflow in the driver.
MAX_INTEGER = 2**63 - 1


class DatabaseError(Exception):
    """A database URL that cannot be used, with what to do about it."""


class NoArchiveError(DatabaseError):
    """A read-only command was pointed at a place that holds no archive."""


class DamagedArchiveError(DatabaseError):
    """The database file is there but cannot be read as a database (damaged pages, not a
    database at all)."""


class OutdatedArchiveError(DatabaseError):
    """The archive's schema is older than this wenhua's: `wenhua db upgrade` brings it on."""


# Per connection: WAL so readers never wait for the writer, foreign keys on, a minute's
# patience with a busy writer. A reader sets no journal_mode or synchronous: setting them
# writes to the file, which may be read-only.
SQLITE_WRITER_PRAGMAS = (
    "journal_mode=WAL",
    "foreign_keys=ON",
    "busy_timeout=60000",
    "synchronous=NORMAL",
)
SQLITE_READER_PRAGMAS = ("foreign_keys=ON", "busy_timeout=60000", "query_only=ON")


def _pragmas(pragmas: tuple[str, ...]) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    return on_connect


_sqlite_pragmas = _pragmas(SQLITE_WRITER_PRAGMAS)
_sqlite_reader_pragmas = _pragmas(SQLITE_READER_PRAGMAS)


def _pg_read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cursor.close()
    dbapi_connection.commit()


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)


def _read_only_sqlite(parsed: URL, path: Path) -> URL:
    """The URL that opens the SQLite file `path` without ever writing to it.

    A file and folder we may write are opened as usual (so SQLite removes its -wal and
    -shm files on close) with `query_only` on. Otherwise the file is opened `mode=ro`,
    and `immutable=1` when no -wal/-shm file exists: a WAL database cannot be opened
    read-only without its -shm file, which cannot be created here, and their absence
    means no process has the archive open for writing."""
    if _writable(path):
        return parsed
    query = {"mode": "ro", "uri": "true"}
    companions = (path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))
    if not any(companion.exists() for companion in companions):
        query["immutable"] = "1"
    return parsed.set(database="file:" + quote(str(path.resolve())), query=query)


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine on `url`. `read_only`: this engine never writes, creates or migrates
    anything (a SQLite file is opened read-only, PostgreSQL sessions are READ ONLY), and
    works on an archive the user may only read."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(
            f"--db {url!r} is not a database URL (e.g. sqlite:///archive.sqlite)"
        ) from exc
    kwargs: dict[str, Any] = {}
    target: str | URL = url
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite:
        path = sqlite_path(url)
        if read_only and path is not None:
            target = _read_only_sqlite(parsed, path)
        elif path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 60}
    try:
        engine = create_engine(target, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise DatabaseError(
            f"--db {parsed.render_as_string(hide_password=True)}: driver not installed "
            "(for PostgreSQL: pip install 'wenhua[postgres]')"
        ) from exc
    if sqlite:
        event.listen(engine, "connect", _sqlite_reader_pragmas if read_only else _sqlite_pragmas)
    elif read_only and parsed.get_backend_name() == "postgresql":
        event.listen(engine, "connect", _pg_read_only)
    return engine


# Alembic is imported where a migration or a revision check needs it: a process that only
# opens an archive already at head (the archive writer, `migrate=False`) saves its 12 MB.
if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _transactional_ddl(engine: Engine) -> Engine:
    """An engine on the same SQLite database whose transactions include DDL.

    Python's sqlite3 driver opens no transaction before CREATE/ALTER/DROP, so a migration
    killed half-way would leave the schema between two revisions. With the driver's own
    transaction handling off and BEGIN emitted here, a migration and its alembic_version
    row commit together or not at all (the recipe of SQLAlchemy's pysqlite notes).
    BEGIN IMMEDIATE takes the write lock up front: a second migrator waits, then finds
    the schema at head."""
    ddl = create_engine(engine.url, connect_args={"timeout": 60})
    event.listen(ddl, "connect", _sqlite_pragmas)

    @event.listens_for(ddl, "connect")
    def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(ddl, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return ddl


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (no-op when already there), atomically:
    the archive is left at the old revision or the new one, never between."""
    from alembic import command

    try:
        if current_revision(engine) == head_revision():
            return
        cfg = alembic_config()
        migrating = _transactional_ddl(engine) if engine.dialect.name == "sqlite" else engine
        try:
            with migrating.begin() as conn:
                if engine.dialect.name == "postgresql":
                    # Several workers opening a new shared archive at once: one migrates,
                    # the others wait here and then find the schema at head.
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        finally:
            if migrating is not engine:
                migrating.dispose()
    except OperationalError as exc:
        url = engine.url.render_as_string(hide_password=True)
        raise DatabaseError(f"cannot open the archive database {url}: {exc.orig}") from exc
    except DBAPIError as exc:  # e.g. SQLite's "file is not a database"
        url = engine.url.render_as_string(hide_password=True)
        raise DamagedArchiveError(f"{url} is not an archive database: {exc.orig}") from exc


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory ones)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def check_existing(url: str) -> None:
    """Refuse, in one line, a database that holds no archive or an older one, creating
    nothing: read-only commands must not make an archive where there was none."""
    path = sqlite_path(url)
    shown = str(path) if path is not None else make_url(url).render_as_string(hide_password=True)
    if path is not None and not path.is_file():
        raise NoArchiveError(
            f"no archive at {path}: give the right --data-dir/--db, or make one with "
            "`wenhua demo` or `wenhua crawl`"
        )
    engine = make_engine(url, read_only=True)
    try:
        try:
            revision = current_revision(engine)
        except OperationalError as exc:
            raise DatabaseError(f"cannot open the archive database {shown}: {exc.orig}") from exc
        except DBAPIError as exc:
            raise DamagedArchiveError(f"{shown} is not an archive database: {exc.orig}") from exc
        if revision is None:
            raise NoArchiveError(
                f"{shown} holds no archive: give the right --data-dir/--db, or make one with "
                "`wenhua demo` or `wenhua crawl`"
            )
        if revision != head_revision():
            raise OutdatedArchiveError(
                f"the archive {shown} is at schema revision {revision}, this wenhua needs "
                f"{head_revision()}: run `wenhua db upgrade`"
            )
    finally:
        engine.dispose()


class Archive:
    """An opened archive database: the engine and a session factory."""

    def __init__(self, url: str, *, migrate: bool = True, read_only: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, read_only=read_only)
        if migrate and not read_only:
            upgrade(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            yield session

    @classmethod
    def existing(cls, url: str) -> Archive:
        """Open an archive that must already exist at the newest revision, for reading
        only (read-only commands): nothing is created, migrated or written, and an archive
        the user may only read opens."""
        check_existing(url)
        return cls(url, migrate=False, read_only=True)

    def close(self) -> None:
        self.engine.dispose()
