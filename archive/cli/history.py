"""`wenhua history URL` and `wenhua runs [show ID]`: what the archive knows over time."""

from __future__ import annotations

import json

import click

from archive.cli.main import UserError, archive_options, open_archive, user_errors
from archive.config import ArchiveConfig


@click.command()
@archive_options
@click.argument("url")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@user_errors
def history(config: ArchiveConfig, url: str, fmt: str) -> None:
    """Every version of one article, oldest first: provenance, changed fields, body diff.

    Any spelling of the URL works (host case, default port, fragment, tracking
    parameters are normalized away).

    Example: wenhua history http://demo.wenhua.local/new-13173.html --format json
    """
    from archive.history import UnknownArticleError, article_history

    archive = open_archive(config)
    try:
        with archive.session() as session:
            found = article_history(session, url)
    except UnknownArticleError as exc:
        raise UserError(str(exc)) from exc
    finally:
        archive.close()
    if fmt == "json":
        click.echo(json.dumps(found.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(found.render())


@click.group(invoke_without_command=True)
@archive_options
@click.option("--limit", default=20, show_default=True, help="How many runs, newest first.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
@user_errors
def runs(ctx: click.Context, config: ArchiveConfig, limit: int, fmt: str) -> None:
    """List crawl runs, newest first: start, end, sites, status and counts.

    Example: wenhua runs --limit 5; wenhua runs show 3
    """
    if ctx.invoked_subcommand is not None:
        return
    from archive.runs import list_runs, render_counts

    archive = open_archive(config)
    try:
        with archive.session() as session:
            rows = list_runs(session, limit)
    finally:
        archive.close()
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['id']:>5}  {row['started_at']}  {row['finished_at'] or '-':25}  "
            f"{row['status']:10}  {','.join(row['sites'])}  {render_counts(row['counts'])}"
        )


@runs.command("show")
@archive_options
@click.argument("run_id", type=int)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@user_errors
def runs_show(config: ArchiveConfig, run_id: int, fmt: str) -> None:
    """One crawl run with its settings, counts and every failure (URL, status or
    exception, time, retries).

    Example: wenhua runs show 3
    """
    from archive.runs import UnknownRunError, render_counts, run_details

    archive = open_archive(config)
    try:
        with archive.session() as session:
            details = run_details(session, run_id)
    except UnknownRunError as exc:
        raise UserError(str(exc)) from exc
    finally:
        archive.close()
    if fmt == "json":
        click.echo(json.dumps(details, ensure_ascii=False, indent=2))
        return
    click.echo(f"run {details['id']}  {details['status']}  sites {','.join(details['sites'])}")
    click.echo(f"started  {details['started_at']}")
    click.echo(f"finished {details['finished_at'] or '-'}")
    click.echo(f"counts   {render_counts(details['counts'])}")
    click.echo(f"settings {json.dumps(details['settings'], ensure_ascii=False)}")
    click.echo(f"failures {len(details['failures'])}")
    for row in details["failures"]:
        status = row["http_status"] if row["http_status"] is not None else "-"
        click.echo(
            f"  {row['at']}  {row['kind']:10} {status!s:>4}  retries={row['retries']}  "
            f"{row['url']}  {row['reason']}"
        )
