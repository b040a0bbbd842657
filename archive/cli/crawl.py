"""`wenhua demo` and `wenhua crawl`: crawling portals into the archive."""

from __future__ import annotations

import os
import socket
import tempfile
import urllib.request
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import click

from archive.cli.common import UserError, archive_options, date_option, open_archive, user_errors
from archive.config import ArchiveConfig
from archive.db import Archive
from archive.runs import run_statuses
from crawler.demo_portal import DemoPortal
from crawler.demo_portal.corpus import CANONICAL_BASE
from crawler.extract.discovery import auto_definition, auto_site_name
from crawler.extract.urls import canonical_url, origin
from crawler.frontier.scheduler import FrontierError, connect
from crawler.runner import run_crawl, summarize
from crawler.sitedefs import (
    DATA_SITES,
    SiteDefinition,
    available_sites,
    load_site,
    load_site_file,
)


@click.command()
@archive_options
@click.option("--progress/--no-progress", default=True, help="Live progress on stderr.")
@user_errors
def demo(config: ArchiveConfig, progress: bool) -> None:
    """Serve the bundled demo portal on loopback, crawl all of it and print a summary.

    Example: wenhua demo --data-dir /tmp/demo
    """
    names = [name for name in available_sites() if name.startswith("demo-")]
    with open_archive(config) as archive:
        with DemoPortal() as portal:
            click.echo(
                f"demo portal serving at {portal.base_url}; archiving into {config.data_dir}",
                err=True,
            )
            run_ids = run_crawl(
                config, {name: portal.base_url for name in names}, polite=False, progress=progress
            )
        click.echo(summarize(archive, names, run_ids).render())
        exit_for_runs(archive, run_ids)


# Exit status of a crawl whose runs did not all finish: Ctrl-C as the shell counts it.
EXIT_INTERRUPTED = 130
EXIT_INCOMPLETE = 1


def exit_for_runs(archive: Archive, run_ids: list[int]) -> None:
    """Exit 130 when a run was interrupted, 1 when one failed (it did not account for
    every request, or stored nothing), with one line per such run; return when all
    finished."""
    if not run_ids:
        click.echo("wenhua: error: no crawl run was recorded (see DATA/logs/)", err=True)
        raise SystemExit(EXIT_INCOMPLETE)
    with archive.session() as session:
        statuses = run_statuses(session, run_ids)
    unfinished = [(rid, sites, status) for rid, sites, status in statuses if status != "finished"]
    for rid, sites, status in unfinished:
        click.echo(
            f"wenhua: run {rid} ({sites}) {status}: see `wenhua runs show {rid}`"
            + ("; the same command resumes it" if status == "interrupted" else ""),
            err=True,
        )
    if any(status == "interrupted" for _, _, status in unfinished):
        raise SystemExit(EXIT_INTERRUPTED)
    if unfinished:
        raise SystemExit(EXIT_INCOMPLETE)


@click.command()
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
@date_option("--since", help="Ignore articles published before this day.")
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
    since: date | None = None,
    serve_at: str | None = None,
    frontier: str | None = None,
    idle_exit: float = 30.0,
) -> None:
    """Crawl configured portals into the archive.

    \b
    Examples:
      wenhua crawl tsggwl --data-dir ./archive
      wenhua crawl demo-trs-lubei --serve-at http://127.0.0.1:8001
      wenhua crawl --start-url http://www.example.gov.cn/col/col12/index.html
      wenhua crawl --all --frontier redis://10.0.0.5:6379/0 --db postgresql+psycopg://…
    """
    if idle_exit < 0:
        raise UserError(f"--idle-exit {idle_exit:g}: give 0 or more seconds")
    if frontier:
        try:
            connect(frontier).close()
        except FrontierError as exc:
            raise UserError(str(exc)) from exc
    if start_url:
        if sites or all_sites:
            raise UserError("give either site names or --start-url, not both")
        if not start_url.startswith(("http://", "https://")):
            raise UserError(f"--start-url {start_url!r} is not an http(s) URL")
        sites = (auto_site(config, start_url, allow_domains),)
    elif allow_domains:
        raise UserError("--allow-domain goes with --start-url; for a site, edit list.allow_domains")

    names = list(available_sites(config.data_dir)) if all_sites else list(sites)
    if not names:
        raise UserError("name at least one site (see `wenhua sites list`) or give --all")
    for name in list(names):
        site = load_site(name, config.data_dir)  # fail fast, naming the file and key
        problem = _unresolvable(site) if serve_at is None else None
        if problem and not all_sites:
            raise UserError(problem)
        if problem:  # --all goes on with the sites it can reach
            click.echo(f"wenhua: note: skipping {problem}", err=True)
            names.remove(name)
    if not names:
        raise UserError("no configured site can be reached (see the notes above)")
    with open_archive(config) as archive:
        run_ids = run_crawl(
            config,
            dict.fromkeys(names, serve_at),
            polite=not no_politeness,
            progress=progress,
            user_agent=user_agent,
            since=since.isoformat() if since else None,
            revisit_all=revisit_all,
            full_lists=full_lists,
            frontier=frontier,
            idle_exit=idle_exit,
        )
        click.echo(summarize(archive, names, run_ids).render())
        exit_for_runs(archive, run_ids)


def _unresolvable(site: SiteDefinition) -> str | None:
    """Why a crawl of `site` would only collect DNS failures (none of its start hosts
    resolves), or None. Not checked when a proxy resolves names for us."""
    if urllib.request.getproxies():
        return None
    hosts = sorted({urlsplit(site.absolute(start.url)).hostname or "" for start in site.start})
    for host in hosts:
        try:
            socket.getaddrinfo(host, None)
            return None
        except (OSError, UnicodeError):
            continue
    if site.domain == urlsplit(CANONICAL_BASE).hostname:
        hint = (
            "a host of the bundled demo portal: run `wenhua demo`, or give --serve-at URL"
            " of a running demo portal"
        )
    else:
        hint = "check the network or DNS, or crawl a copy with --serve-at URL"
    return f"{site.name}: cannot resolve {', '.join(hosts)}, {hint}"


def auto_site(config: ArchiveConfig, start_url: str, allow_domains: tuple[str, ...]) -> str:
    """The site a --start-url crawl is: the definition inferred for its host, written to
    DATA/sites/auto-<host>.toml the first time and crawled as it stands (reviewed, edited)
    every time after."""
    name = auto_site_name(start_url)
    known = available_sites(config.data_dir)
    if name not in known:
        path = config.data_dir / DATA_SITES / f"{name}.toml"
        _write_atomically(path, auto_definition(start_url, allow_domains))
        click.echo(
            f"site definition inferred: {path} (review it; `wenhua crawl {name}` recrawls)",
            err=True,
        )
        return name
    site = load_site_file(known[name])
    if site.base_url != origin(start_url):
        raise UserError(
            f"{name} ({known[name]}) is the portal at {site.base_url}, not {origin(start_url)}: "
            f"crawl it with `wenhua crawl {name} --serve-at {origin(start_url)}`, "
            "or move the file away to infer a new definition"
        )
    starts = {canonical_url(site.absolute(start.url)) for start in site.start}
    if canonical_url(start_url) not in starts:
        click.echo(
            f"wenhua: note: crawling {name} as {known[name]} defines it; "
            f"add {start_url} to its [[start]] pages to begin there too",
            err=True,
        )
    return name


def _write_atomically(path: Path, text: str) -> None:
    """Whole or not at all: workers started together may write the same definition."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
