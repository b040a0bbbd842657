"""The `wenhua` command: thin click glue, one function per subcommand, each calling the
library. Every subcommand takes --data-dir and --db after its name.

User mistakes (unknown site, missing file, bad URL, unreadable database) end in one line
on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from archive.config import ArchiveConfig, resolve
from archive.db import Archive, DatabaseError

F = TypeVar("F", bound=Callable[..., Any])

USER_ERRORS: tuple[type[Exception], ...] = ()


class UserError(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"wenhua: error: {self.message}", err=True)


def archive_options(func: F) -> F:
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


def open_archive(config: ArchiveConfig) -> Archive:
    try:
        return Archive(config.db_url)
    except DatabaseError as exc:
        raise UserError(str(exc)) from exc


def user_errors(func: F) -> F:
    """Turn the library's 'you asked for something wrong' exceptions into one-line errors."""
    from crawler.sitedefs import SiteDefinitionError, UnknownSiteError

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (SiteDefinitionError, UnknownSiteError, DatabaseError) as exc:
            raise UserError(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wenhua")
def cli() -> None:
    """wenhua — crawl and archive regional cultural news portals."""


@cli.command()
@archive_options
@click.option("--progress/--no-progress", default=True, help="Live progress on stderr.")
@user_errors
def demo(config: ArchiveConfig, progress: bool) -> None:
    """Serve the bundled demo portal on loopback, crawl all of it and print a summary.

    Example: wenhua demo --data-dir /tmp/demo
    """
    from crawler.demo_portal import DemoPortal
    from crawler.runner import run_crawl, summarize
    from crawler.sitedefs import available_sites

    names = [name for name in available_sites() if name.startswith("demo-")]
    archive = open_archive(config)
    with DemoPortal() as portal:
        click.echo(
            f"demo portal serving at {portal.base_url}; archiving into {config.data_dir}", err=True
        )
        run_ids = run_crawl(
            config, {name: portal.base_url for name in names}, polite=False, progress=progress
        )
    click.echo(summarize(archive, names, run_ids).render())
    archive.close()


@cli.command()
@archive_options
@click.argument("sites", nargs=-1)
@click.option("--all", "all_sites", is_flag=True, help="Crawl every configured site.")
@click.option(
    "--no-politeness",
    is_flag=True,
    help="Lift delays, throttling and per-domain limits (local benchmarks only).",
)
@click.option("--progress/--no-progress", default=True, help="Live progress on stderr.")
@click.option("--start-url", help="Crawl a portal with no definition, starting from this URL.")
@click.option(
    "--allow-domain", "allow_domains", multiple=True, help="Extra domain --start-url may visit."
)
@click.option(
    "--user-agent",
    envvar="WENHUA_USER_AGENT",
    help="User-Agent naming you and a contact URL (env WENHUA_USER_AGENT).",
)
@click.option(
    "--revisit-all",
    is_flag=True,
    help="Re-check every known article now (conditional GET), not on its revisit schedule.",
)
@click.option(
    "--full-lists",
    is_flag=True,
    help="Read every list page, not only until one lists known articles only.",
)
@click.option("--since", metavar="DATE", help="Ignore articles published before DATE (YYYY-MM-DD).")
@click.option(
    "--serve-at",
    metavar="URL",
    help="Fetch from this origin (a mirror, a local copy) while recording canonical URLs.",
)
@click.option(
    "--frontier",
    metavar="URL",
    envvar="WENHUA_FRONTIER",
    help="Share the crawl with other workers through this Redis (redis://HOST:PORT/DB).",
)
@click.option(
    "--idle-exit",
    type=float,
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="With --frontier: exit once the shared frontier stayed empty this long.",
)
@user_errors
def crawl(
    config: ArchiveConfig,
    sites: tuple[str, ...],
    all_sites: bool,
    no_politeness: bool,
    progress: bool,
    start_url: str | None = None,
    allow_domains: tuple[str, ...] = (),
    user_agent: str | None = None,
    revisit_all: bool = False,
    full_lists: bool = False,
    since: str | None = None,
    serve_at: str | None = None,
    frontier: str | None = None,
    idle_exit: float = 30.0,
) -> None:
    """Crawl configured portals into the archive.

    Example: wenhua crawl tsggwl --data-dir ./archive
    Example: wenhua crawl --start-url http://www.example.gov.cn/col/col12/index.html
    Example: wenhua crawl --all --frontier redis://10.0.0.5:6379/0 --db postgresql+psycopg://…
    """
    from crawler.runner import run_crawl, summarize
    from crawler.sitedefs import available_sites, load_site

    if idle_exit < 0:
        raise UserError(f"--idle-exit {idle_exit:g}: give 0 or more seconds")
    if frontier:
        from crawler.frontier.scheduler import FrontierError, connect

        if start_url:
            raise UserError("--frontier works with site names, not --start-url")
        try:
            connect(frontier).close()
        except FrontierError as exc:
            raise UserError(str(exc)) from exc
    if start_url:
        from crawler.runner import run_discovery

        if sites or all_sites:
            raise UserError("give either site names or --start-url, not both")
        if not start_url.startswith(("http://", "https://")):
            raise UserError(f"--start-url {start_url!r} is not an http(s) URL")
        archive = open_archive(config)
        name, run_ids = run_discovery(
            config, start_url, allow_domains, polite=not no_politeness, progress=progress
        )
        click.echo(summarize(archive, [name], run_ids).render())
        archive.close()
        return

    names = list(available_sites()) if all_sites else list(sites)
    if not names:
        raise UserError("name at least one site (see `wenhua sites list`) or give --all")
    for name in names:
        load_site(name)  # fail fast, with the file and key, before any crawl starts
    if since is not None:
        try:
            since = datetime.strptime(since, "%Y-%m-%d").date().isoformat()
        except ValueError as exc:
            raise UserError(f"--since {since!r} is not a date (YYYY-MM-DD)") from exc
    archive = open_archive(config)
    run_ids = run_crawl(
        config,
        dict.fromkeys(names, serve_at),
        polite=not no_politeness,
        progress=progress,
        user_agent=user_agent,
        since=since,
        revisit_all=revisit_all,
        full_lists=full_lists,
        frontier=frontier,
        idle_exit=idle_exit,
    )
    click.echo(summarize(archive, names, run_ids).render())
    archive.close()


def _read_input(source: str) -> tuple[bytes, str | None, str]:
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


@cli.command()
@archive_options
@click.option("--url", "page_url", help="The page's address, for relative links (file inputs).")
@click.option("--site", "site_name", help="Site definition to use (default: matched by URL).")
@click.argument("inputs", nargs=-1, required=True)
@user_errors
def extract(
    config: ArchiveConfig, page_url: str | None, site_name: str | None, inputs: tuple[str, ...]
) -> None:
    """Print the normalized record of each page (file or URL) as one JSON line, in order.

    Example: wenhua extract --url http://demo.wenhua.local/new-13173.html page.html
    """
    from crawler.extract.encoding import decode_html
    from crawler.extract.normalize import normalize
    from crawler.extract.rules import ExtractionError, extract_raw
    from crawler.extract.urls import canonical_url
    from crawler.sitedefs import load_site, site_for_url

    failed = 0
    for source in inputs:
        body, content_type, address = _read_input(source)
        url = page_url or address
        site = load_site(site_name) if site_name else site_for_url(url)
        text, _ = decode_html(body, content_type, site.encoding if site else None)
        try:
            raw = extract_raw(text, url, site)
        except ExtractionError as exc:
            click.echo(f"wenhua: error: {source}: {exc}", err=True)
            failed += 1
            continue
        result = normalize(
            raw, site=site, fetched_at=datetime.now(UTC), canonical_url=canonical_url(url)
        )
        record = {**result.record, "problems": result.problem_dicts()}
        click.echo(json.dumps(record, ensure_ascii=False))
    if failed:
        sys.exit(1)


@cli.command()
@archive_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "json"]),
    default="jsonl",
    show_default=True,
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
@click.option("--since", help="Only articles created, changed or withdrawn after this cursor.")
@click.option("--site", "site_name", help="Only this site's articles.")
@click.option("--district", help="Only articles of this district (e.g. 路南区).")
@click.option("--all-versions", is_flag=True, help="One row per version, not per article.")
@user_errors
def export(
    config: ArchiveConfig,
    fmt: str,
    out: str | None,
    since: str | None,
    site_name: str | None,
    district: str | None,
    all_versions: bool,
) -> None:
    """Export archived articles (current version) with their images; incremental with --since.

    The last line on stderr is `next cursor: CURSOR`; pass it to --since next time to get
    exactly what was created, changed or withdrawn in between.

    Example: wenhua export --format csv --out articles.csv
    """
    from archive.export import EXPORT_FIELDS, write_records
    from archive.feed import (
        FEED_FIELDS,
        CursorError,
        iter_feed,
        make_cursor,
        parse_cursor,
        window_upper,
    )

    try:
        after = parse_cursor(since)
    except CursorError as exc:
        raise UserError(f"--since {exc}") from exc
    archive = open_archive(config)
    with archive.session() as session:
        upper = window_upper(session, after)
        records = iter_feed(
            session, after, upper, site=site_name, district=district, all_versions=all_versions
        )
        fields = EXPORT_FIELDS + FEED_FIELDS
        if out:
            with open(out, "w", encoding="utf-8", newline="") as handle:
                count = write_records(records, fmt, handle, fields)
        else:
            count = write_records(records, fmt, sys.stdout, fields)
    what = "versions" if all_versions else "articles"
    click.echo(f"exported {count} {what}", err=True)
    click.echo(f"next cursor: {make_cursor(upper)}", err=True)
    archive.close()


@cli.command()
@click.option("--fetched-at", help="ISO time the text was fetched (resolves 昨天, 3小时前 …).")
@click.argument("texts", nargs=-1, required=True)
def meta(fetched_at: str | None, texts: tuple[str, ...]) -> None:
    """Parse meta lines (publish time, source, editor, author); one JSON object per TEXT.

    Example: wenhua meta '发布时间:Mon Nov 02 11:20:24 GMT+08:00 2020来源:路南发布编辑:王瑶'
    """
    from crawler.extract.metadata import parse_meta

    when = None
    if fetched_at:
        try:
            when = datetime.fromisoformat(fetched_at)
        except ValueError as exc:
            raise UserError(f"--fetched-at {fetched_at!r} is not an ISO 8601 time") from exc
        if when.tzinfo is None:
            raise UserError(f"--fetched-at {fetched_at!r} needs an offset, e.g. +08:00")
    for text in texts:
        click.echo(json.dumps(parse_meta(text, fetched_at=when).as_dict(), ensure_ascii=False))


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@archive_options
def db_upgrade(config: ArchiveConfig) -> None:
    """Apply schema migrations (also done implicitly on first use).

    Example: wenhua db upgrade --db postgresql+psycopg://localhost/wenhua
    """
    from archive.db import current_revision

    archive = open_archive(config)
    click.echo(f"database at revision {current_revision(archive.engine)}")
    archive.close()


@cli.group()
def sites() -> None:
    """Configured portals."""


@cli.command()
@archive_options
@click.option("--limit", default=50, show_default=True)
def failures(config: ArchiveConfig, limit: int) -> None:
    """List recorded failures (fetch, extraction, image), newest first.

    Example: wenhua failures --limit 20
    """
    from sqlalchemy import select

    from archive.models import Failure

    archive = open_archive(config)
    with archive.session() as session:
        for row in session.scalars(select(Failure).order_by(Failure.id.desc()).limit(limit)):
            status = row.http_status or "-"
            click.echo(
                f"{row.created_at:%Y-%m-%d %H:%M} run {row.crawl_run_id} {row.kind:10} "
                f"{status} {row.url}  {row.reason}"
            )
    archive.close()


@cli.command()
@archive_options
@click.option("--limit", default=50, show_default=True)
def problems(config: ArchiveConfig, limit: int) -> None:
    """List normalization problems (field, raw text, reason), newest first.

    Example: wenhua problems
    """
    from sqlalchemy import select

    from archive.models import Problem

    archive = open_archive(config)
    with archive.session() as session:
        for row in session.scalars(select(Problem).order_by(Problem.id.desc()).limit(limit)):
            click.echo(f"{row.url}\t{row.field}\t{row.reason}\t{row.raw!r}")
    archive.close()


from archive.cli.history import history, runs  # noqa: E402

cli.add_command(history)
cli.add_command(runs)
from archive.cli.serve import serve  # noqa: E402

cli.add_command(serve)
from archive.cli.preservation import bag, verify  # noqa: E402

cli.add_command(verify)
cli.add_command(bag)
from archive.cli.sites_new import sites_new  # noqa: E402

sites.add_command(sites_new)
from archive.cli.sites import sites_check, sites_list  # noqa: E402

sites.add_command(sites_list)
sites.add_command(sites_check)
from archive.cli.search import search  # noqa: E402

cli.add_command(search)


def main() -> None:
    cli(prog_name="wenhua")
