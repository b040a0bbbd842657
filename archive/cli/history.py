"""`wenhua history URL`, `wenhua runs [show ID]`, `wenhua failures` and `wenhua problems`:
what the archive knows over time and what went wrong."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.cli.common import (
    UserError,
    archive_options,
    count_option,
    format_option,
    id_argument,
    pad,
    read_archive,
    user_errors,
)
from archive.config import ArchiveConfig
from archive.history import UnknownArticleError, article_history
from archive.models import Failure, Problem
from archive.runs import (
    UnknownRunError,
    drift_text,
    list_runs,
    render_balance,
    render_counts,
    render_coverage,
    run_details,
)
from archive.timefmt import human, human_iso

# The log tables `failures` and `problems` list, newest first.
Logged = TypeVar("Logged", Failure, Problem)
Key = TypeVar("Key")
Found = TypeVar("Found")


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
    found = _look_up(config, article_history, url)
    if fmt == "json":
        _echo_json(found.as_dict())
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
        _echo_json(rows)
        return
    if not rows:
        click.echo("no crawl runs yet (start one with `wenhua crawl SITE` or `wenhua demo`)")
    for row in rows:
        started = human_iso(row["started_at"], "second")
        finished = human_iso(row["finished_at"], "second") or "-"
        click.echo(
            f"{row['id']:>5}  {pad(started, 22)}  {pad(finished, 22)}  "
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
    details = _look_up(config, run_details, run_id)
    if fmt == "json":
        _echo_json(details)
        return
    click.echo(f"run {details['id']}  {details['status']}  sites {','.join(details['sites'])}")
    click.echo(f"started  {human_iso(details['started_at'], 'second')}")
    click.echo(f"finished {human_iso(details['finished_at'], 'second') or '-'}")
    if details["abandoned"]:
        click.echo(f"abandoned {details['abandoned']}")
    click.echo(f"counts   {render_counts(details['counts'])}")
    click.echo(f"balance  {render_balance(details['accounting'])}")
    click.echo(f"settings {json.dumps(details['settings'], ensure_ascii=False)}")
    if details["coverage"]:
        click.echo(f"coverage {render_coverage(details['coverage'])}")
    if details["drift"]:
        click.echo(f"warning  {drift_text(','.join(details['sites']), details['drift'])}")
    click.echo(f"failures {len(details['failures'])}")
    for row in details["failures"]:
        status = row["http_status"] if row["http_status"] is not None else "-"
        click.echo(
            f"  {human_iso(row['at'], 'second')}  {row['kind']:10} {status!s:>4}  "
            f"retries={row['retries']}  "
            f"{row['url']}  {row['reason']}"
        )


@click.command()
@archive_options
@count_option("--limit", default=50, help="How many, newest first.")
def failures(config: ArchiveConfig, limit: int) -> None:
    """List recorded failures (fetch, extraction, image), newest first.

    Example: wenhua failures --limit 20
    """

    def line(row: Failure) -> str:
        return (
            f"{human(row.created_at)} run {row.crawl_run_id} {row.kind:10} "
            f"{row.http_status or '-'} {row.url}  {row.reason}"
        )

    none = "no failures recorded: every fetch, extraction and image succeeded"
    _echo_newest(config, Failure, limit, none, line)


@click.command()
@archive_options
@count_option("--limit", default=50, help="How many, newest first.")
def problems(config: ArchiveConfig, limit: int) -> None:
    """List normalization problems (field, raw text, reason), newest first.

    Example: wenhua problems
    """

    def line(row: Problem) -> str:
        return f"{row.url}\t{row.field}\t{row.reason}\t{row.raw!r}"

    none = "no problems recorded: the normalizer read every value it met"
    _echo_newest(config, Problem, limit, none, line)


def _echo_newest(
    config: ArchiveConfig, model: type[Logged], limit: int, none: str, line: Callable[[Logged], str]
) -> None:
    """Print the newest `limit` rows of a log table one `line` each, or `none` if it is empty."""
    with read_archive(config) as archive, archive.session() as session:
        rows = session.scalars(select(model).order_by(model.id.desc()).limit(limit)).all()
        if not rows:
            click.echo(none)
        for row in rows:
            click.echo(line(row))


def _look_up(config: ArchiveConfig, find: Callable[[Session, Key], Found], key: Key) -> Found:
    """`find(session, key)` in the archive; an unknown article or run is a one-line error."""
    try:
        with read_archive(config) as archive, archive.session() as session:
            return find(session, key)
    except (UnknownArticleError, UnknownRunError) as exc:
        raise UserError(str(exc)) from exc


def _echo_json(data: object) -> None:
    """`--format json`: indented, Chinese as it is."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))
