"""`wenhua sites list` and `wenhua sites check SITE`: operating many portals."""

from __future__ import annotations

import json
import sys
from urllib.parse import urlsplit

import click

from archive.cli.common import (
    UserError,
    archive_exists,
    archive_options,
    format_option,
    read_archive,
    user_errors,
)
from archive.config import ArchiveConfig
from archive.runs import drift_text
from archive.site_status import SiteStatus, site_statuses
from archive.timefmt import human
from crawler.demo_portal import DemoPortal
from crawler.demo_portal.corpus import CANONICAL_BASE
from crawler.sitedefs import UnknownSiteError, load_all_sites, load_site
from crawler.spiders.check import run_check


def _render(status: SiteStatus, where: str, base_url: str) -> str:
    head = f"{status.name:24} {where:12} {base_url}"
    last = status.last_run
    if last is None:
        return f"{head}\n    never crawled"
    when = human(last.finished_at or last.started_at)
    text = (
        f"{head}\n"
        f"    last crawl {when} (run {last.id}, {last.status}); {status.runs} runs\n"
        f"    articles {status.articles} (gone {status.gone}); "
        f"failures {status.last_run_failures} in the last run, {status.total_failures} in all"
    )
    if status.drift:
        text += f"\n    warning: {drift_text(status.name, status.drift)}"
    return text


@click.command("list")
@archive_options
@format_option("text", "json", default="text")
@user_errors
def sites_list(config: ArchiveConfig, fmt: str) -> None:
    """Every configured site with its last crawl, archived articles and failures.

    Example: wenhua sites list --data-dir ./archive
    """
    defs = load_all_sites(config.data_dir)
    names = [site.name for site in defs]
    # With no archive yet the sites are listed as never crawled (and nothing is created).
    if archive_exists(config):
        with read_archive(config) as archive, archive.session() as session:
            statuses = site_statuses(session, names)
    else:
        statuses = [SiteStatus(name, None, 0, 0, 0, 0, 0) for name in names]
    if fmt == "json":
        rows = []
        for site, status in zip(defs, statuses, strict=True):
            rows.append({**status.as_dict(), "base_url": site.base_url, "checked": site.checked})
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for site, status in zip(defs, statuses, strict=True):
        where = "".join(p for p in (site.region.city, site.region.district) if p)
        text = _render(status, where, site.base_url)
        if not site.checked:
            text += "\n    (definition not yet checked against the live site)"
        click.echo(text)


@click.command("check")
@archive_options
@click.argument("site_name", metavar="SITE")
@click.option(
    "--serve-at",
    metavar="URL",
    help="Fetch from this origin (a mirror, a local copy) instead of the site's base_url.",
)
@click.option(
    "--user-agent",
    envvar="WENHUA_USER_AGENT",
    help="User-Agent naming you and a contact URL (env WENHUA_USER_AGENT).",
)
@format_option("text", "json", default="text")
@user_errors
def sites_check(
    config: ArchiveConfig, site_name: str, serve_at: str | None, user_agent: str | None, fmt: str
) -> None:
    """Fetch the first list page and one article of SITE and report what its definition finds.

    Nothing is archived. Exit status 0 when title, publish time and body are found, else 1.
    The bundled demo-* sites are checked against a demo portal started on loopback.

    Example: wenhua sites check demo-trs-lubei
    """
    try:
        site = load_site(site_name, config.data_dir)
    except UnknownSiteError as exc:
        raise UserError(f"unknown site {site_name!r} (see `wenhua sites list`)") from exc
    if serve_at is not None and urlsplit(serve_at).scheme not in ("http", "https"):
        raise UserError(f"--serve-at {serve_at!r} is not an http(s) URL")
    if serve_at is None and site.domain == urlsplit(CANONICAL_BASE).hostname:
        with DemoPortal() as portal:
            click.echo(f"demo portal serving at {portal.base_url}", err=True)
            report = run_check(site.name, portal.base_url, user_agent, str(config.data_dir))
    else:
        report = run_check(site.name, serve_at, user_agent, str(config.data_dir))
    if report.error:
        raise UserError(report.error)
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(report.render())
    reason = report.verdict()
    if reason:
        click.echo(f"wenhua: check failed: {reason}", err=True)
        sys.exit(1)
