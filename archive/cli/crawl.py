"""`wenhua demo` and `wenhua crawl`: crawling portals into the archive."""

from __future__ import annotations

from datetime import date

import click

from archive.cli.common import UserError, archive_options, date_option, open_archive, user_errors
from archive.config import ArchiveConfig
from archive.db import Archive
from archive.runs import run_statuses
from crawler.demo_portal import DemoPortal
from crawler.frontier.scheduler import FrontierError, connect
from crawler.runner import run_crawl, run_discovery, summarize
from crawler.sitedefs import available_sites, load_site


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

    Example: wenhua crawl tsggwl --data-dir ./archive
    Example: wenhua crawl --start-url http://www.example.gov.cn/col/col12/index.html
    Example: wenhua crawl --all --frontier redis://10.0.0.5:6379/0 --db postgresql+psycopg://…
    """
    if idle_exit < 0:
        raise UserError(f"--idle-exit {idle_exit:g}: give 0 or more seconds")
    if frontier:
        if start_url:
            raise UserError("--frontier works with site names, not --start-url")
        try:
            connect(frontier).close()
        except FrontierError as exc:
            raise UserError(str(exc)) from exc
    if start_url:
        if sites or all_sites:
            raise UserError("give either site names or --start-url, not both")
        if not start_url.startswith(("http://", "https://")):
            raise UserError(f"--start-url {start_url!r} is not an http(s) URL")
        with open_archive(config) as archive:
            name, run_ids = run_discovery(
                config, start_url, allow_domains, polite=not no_politeness, progress=progress
            )
            click.echo(summarize(archive, [name], run_ids).render())
            exit_for_runs(archive, run_ids)
        return

    names = list(available_sites()) if all_sites else list(sites)
    if not names:
        raise UserError("name at least one site (see `wenhua sites list`) or give --all")
    for name in names:
        load_site(name)  # fail fast, with the file and key, before any crawl starts
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
