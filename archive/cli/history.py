"""`wenhua history URL`, `wenhua runs [show ID]`, `wenhua failures` and `wenhua problems`:
what the archive knows over time and what went wrong."""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from archive.cli.common import (
    UserError,
    archive_options,
    count_option,
    format_option,
    id_argument,
    read_archive,
    user_errors,
)
from archive.config import ArchiveConfig
from archive.history import UnknownArticleError, article_history
from archive.models import Failure, Problem
from archive.runs import UnknownRunError, list_runs, render_counts, run_details


@click.command()
@archive_options
@click.argument("url")
@format_option("text", "json", default="text")
@user_errors
def history(config: ArchiveConfig, url: str, fmt: str) -> None:
    """Every version of one article, oldest first: provenance, changed fields, body diff.

    Any spelling of the URL works (host case, default port, fragment, tracking
    parameters are normalized away).

    Example: wenhua history http://demo.wenhua.local/new-13173.html --format json
    """
    try:
        with read_archive(config) as archive, archive.session() as session:
            found = article_history(session, url)
    except UnknownArticleError as exc:
        raise UserError(str(exc)) from exc
    if fmt == "json":
        click.echo(json.dumps(found.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(found.render())


@click.group(invoke_without_command=True)
@archive_options
@count_option("--limit", default=20, help="How many runs, newest first.")
@format_option("text", "json", default="text")
@click.pass_context
@user_errors
def runs(ctx: click.Context, config: ArchiveConfig, limit: int, fmt: str) -> None:
    """List crawl runs, newest first: start, end, sites, status and counts.

    Example: wenhua runs --limit 5; wenhua runs show 3
    """
    if ctx.invoked_subcommand is not None:
        return
    with read_archive(config) as archive, archive.session() as session:
        rows = list_runs(session, limit)
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
@id_argument("run_id", "ID")
@format_option("text", "json", default="text")
@user_errors
def runs_show(config: ArchiveConfig, run_id: int, fmt: str) -> None:
    """One crawl run with its settings, counts and every failure (URL, status or
    exception, time, retries).

    Example: wenhua runs show 3
    """
    try:
        with read_archive(config) as archive, archive.session() as session:
            details = run_details(session, run_id)
    except UnknownRunError as exc:
        raise UserError(str(exc)) from exc
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


@click.command()
@archive_options
@count_option("--limit", default=50, help="How many, newest first.")
def failures(config: ArchiveConfig, limit: int) -> None:
    """List recorded failures (fetch, extraction, image), newest first.

    Example: wenhua failures --limit 20
    """
    with read_archive(config) as archive, archive.session() as session:
        for row in session.scalars(select(Failure).order_by(Failure.id.desc()).limit(limit)):
            status = row.http_status or "-"
            click.echo(
                f"{row.created_at:%Y-%m-%d %H:%M} run {row.crawl_run_id} {row.kind:10} "
                f"{status} {row.url}  {row.reason}"
            )


@click.command()
@archive_options
@count_option("--limit", default=50, help="How many, newest first.")
def problems(config: ArchiveConfig, limit: int) -> None:
    """List normalization problems (field, raw text, reason), newest first.

    Example: wenhua problems
    """
    with read_archive(config) as archive, archive.session() as session:
        for row in session.scalars(select(Problem).order_by(Problem.id.desc()).limit(limit)):
            click.echo(f"{row.url}\t{row.field}\t{row.reason}\t{row.raw!r}")
