"""`wenhua extract` and `wenhua meta`: reading pages and meta lines without a crawl."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import click
from parsel import Selector

from archive import jsonlines
from archive.cli.common import UserError, archive_options, read_input, user_errors
from archive.config import ArchiveConfig
from archive.timefmt import to_china
from crawler.extract.encoding import decode_html
from crawler.extract.generic import list_page_reason
from crawler.extract.metadata import parse_meta
from crawler.extract.normalize import normalize
from crawler.extract.rules import ExtractionError, extract_raw
from crawler.extract.urls import canonical_url
from crawler.sitedefs import load_site, site_for_url


@click.command()
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
    failed = missing = 0
    for source in inputs:
        try:
            record, text = _extract_one(source, page_url, site_name, config)
            reason = list_page_reason(text, record["body_html"])
            if reason:  # kept, and marked: a list page is not an article
                click.echo(f"wenhua: warning: {source}: {reason}", err=True)
                record["problems"].append({"field": "page", "raw": source, "reason": reason})
                failed += 1
        except (ExtractionError, UserError) as exc:
            # One line per input, in order, so a batch's output lines up with its inputs:
            # a page that cannot be read still gets its record, carrying the problem.
            click.echo(f"wenhua: error: {source}: {exc}", err=True)
            record = {
                "input": source,
                "url": page_url,
                "problems": [{"field": "page", "raw": source, "reason": str(exc)}],
            }
            if isinstance(exc, UserError):
                missing += 1  # an input that is not there is the user's mistake: exit 2
            else:
                failed += 1
        click.echo(jsonlines.dumps(record))
    if missing:
        sys.exit(2)
    if failed:
        sys.exit(1)


def _extract_one(
    source: str, page_url: str | None, site_name: str | None, config: ArchiveConfig
) -> tuple[dict[str, Any], str]:
    """The record of one input (with its problems), and the page's decoded text."""
    body, content_type, address = read_input(source)
    url = page_url or address
    # The data directory's definitions too: `wenhua crawl --start-url` writes auto-<host> there.
    data_dir = config.data_dir
    site = load_site(site_name, data_dir) if site_name else site_for_url(url, data_dir)
    text, _ = decode_html(body, content_type, site.encoding if site else None)
    raw = extract_raw(text, url, site)
    result = normalize(
        raw, site=site, fetched_at=to_china(datetime.now(UTC)), canonical_url=canonical_url(url)
    )
    if page_url is None and address.startswith("file:"):
        # A saved page's relative links would resolve against the file's own path.
        links = Selector(text=raw.body_html or "<p></p>").xpath("//@src | //@href").getall()
        links = [link.strip() for link in links if link.strip()[:1] not in ("", "#")]
        relative = [link for link in links if not urlsplit(link).scheme]
        if relative:
            raise UserError(
                f"the page has relative links (e.g. {relative[0]}): give --url, the"
                " address it was saved from, so they resolve"
            )
    return {"input": source, **result.record, "problems": result.problem_dicts()}, text


@click.command()
@click.option("--fetched-at", help="ISO time the text was fetched (resolves 昨天, 3小时前 …).")
@click.argument("texts", nargs=-1, required=True)
def meta(fetched_at: str | None, texts: tuple[str, ...]) -> None:
    """Parse meta lines (publish time, source, editor, author); one JSON object per TEXT.

    Example: wenhua meta '发布时间:Mon Nov 02 11:20:24 GMT+08:00 2020来源:路南发布编辑:王瑶'
    """
    when = None
    if fetched_at:
        try:
            when = datetime.fromisoformat(fetched_at)
        except ValueError as exc:
            raise UserError(f"--fetched-at {fetched_at!r} is not an ISO 8601 time") from exc
        if when.tzinfo is None:
            raise UserError(f"--fetched-at {fetched_at!r} needs an offset, e.g. +08:00")
    for text in texts:
        click.echo(jsonlines.dumps(parse_meta(text, fetched_at=when).as_dict()))
