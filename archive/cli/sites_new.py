"""`wenhua sites new URL [--article URL] [--out FILE]`: propose a site definition.

From a list page (live URL or saved file) and an article page, finds the article-link
selector, the next-page link and the title/meta/body containers with the generic
extractor, and prints a TOML definition with the values each selector extracts as
comments, for a person to review and save. Nothing is written unless --out is given.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import click
from parsel import Selector

from archive.cli.common import UserError, read_input
from crawler.extract.discovery import path_and_query
from crawler.extract.encoding import decode_html
from crawler.extract.generic import (
    GenericArticle,
    css_path,
    extract_generic,
    is_meta_line,
    squash,
    title_head,
)
from crawler.sitedefs import article_patterns, render_definition

NEXT_PAGE = "xpath://a[contains(normalize-space(.), '下一页')]/@href"


def _link_selector(doc: Selector, page_url: str) -> tuple[str | None, str | None, list[str]]:
    """(article link selector, URL pattern, example URLs) from a list page."""
    groups: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    patterns: dict[str, str] = {}
    shapes = article_patterns()
    for link in doc.root.iter("a"):
        href = (link.get("href") or "").strip()
        if not href:
            continue
        url = urljoin(page_url, href)
        for pattern in shapes:
            if pattern.search(path_and_query(url)):
                parent = link.getparent()
                key = css_path(parent.getparent() if parent is not None else link) + " a"
                groups[key] += 1
                examples.setdefault(key, []).append(url)
                patterns[key] = pattern.pattern
                break
    if not groups:
        return None, None, []
    key, _ = groups.most_common(1)[0]
    return f"{key}::attr(href)", patterns[key], examples[key]


def propose(
    list_html: str, list_url: str, article_html: str | None, article_url: str | None
) -> str:
    doc = Selector(text=list_html)
    host = (urlsplit(list_url).hostname or "site").lower()
    name = re.sub(r"[^a-z0-9-]+", "-", host).strip("-")
    links, pattern, examples = _link_selector(doc, list_url)
    next_href = doc.xpath("//a[contains(normalize-space(.), '下一页')]/@href").get()
    title = squash_title(doc)
    base = f"{urlsplit(list_url).scheme}://{urlsplit(list_url).netloc}"
    notes: dict[str, list[str]] = {}
    listing: dict[str, Any] = {}
    if links:
        listing["article_links"] = [links]
        listing["article_url_pattern"] = pattern
        notes["list.article_links"] = [f"found {len(examples)} links, e.g. {examples[0]}"]
    else:
        listing["article_links"] = []
        notes["list.article_links"] = ["no article-shaped links found: fill in by hand"]
    listing["next_page"] = [NEXT_PAGE] if next_href else []
    notes["list.next_page"] = [
        f"next page: {urljoin(list_url, next_href)}" if next_href else "no 下一页 link found"
    ]
    fields: dict[str, Any] = {}
    if article_html is not None:
        article = extract_generic(Selector(text=article_html))
        if article.title_node is not None:
            fields["title"] = [css_path(article.title_node) + "::text"]
        else:
            fields["title"] = ["title::text"]
        notes["fields.title"] = [f"title: {article.title}"]
        meta_line = (article.meta_text or "").splitlines()[0] if article.meta_text else "-"
        meta_node = _meta_node(article)
        if meta_node is not None:
            fields["meta"] = [css_path(meta_node)]
            notes["fields.meta"] = [f"meta: {meta_line}"]
        else:
            notes["fields.title"].append(f"meta: {meta_line}")
        if article.body_node is not None:
            body_text = " ".join("".join(article.body_node.itertext()).split())
            fields["body"] = [css_path(article.body_node)]
            notes["fields.body"] = [f"body: {body_text[:60]}…"]
        fields["remove"] = []
        if article_url:
            notes["fields.remove"] = [f"article checked: {article_url}"]
    definition = {
        "name": name,
        "title": title or host,
        "family": "unknown",
        "base_url": base,
        "checked": False,
        "start": [{"url": urlsplit(list_url).path or "/"}],
        "region": {"province": "", "city": ""},
        "list": listing,
        "fields": fields,
    }
    header = [
        "Proposed by `wenhua sites new`: review every selector, then save as",
        f"crawler/sites/{name}.toml",
    ]
    return render_definition(header, definition, notes)


def squash_title(doc: Selector) -> str | None:
    text = " ".join(doc.xpath("//title//text()").getall()).strip()
    return title_head(text) if text else None


def _meta_node(article: GenericArticle) -> Any:
    """The first element after the title whose own text is the meta line."""
    node = article.title_node
    if node is None:
        return None
    for following in node.itersiblings():
        if isinstance(following.tag, str) and is_meta_line(squash("".join(following.itertext()))):
            return following
    parent = node.getparent()
    if parent is not None:
        for following in parent.itersiblings():
            text = squash("".join(following.itertext()))
            if isinstance(following.tag, str) and is_meta_line(text):
                return following
    return None


@click.command("new")
@click.argument("list_page")
@click.option("--article", "article_page", help="An article page (URL or saved file).")
@click.option("--url", "page_url", help="The list page's address when LIST_PAGE is a file.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the proposal to FILE.")
@click.option("--force", is_flag=True, help="With --out: replace FILE if it exists.")
def sites_new(
    list_page: str, article_page: str | None, page_url: str | None, out: str | None, force: bool
) -> None:
    """Propose a site definition from a list page and an article page.

    \b
    Examples:
      wenhua sites new http://www.example.gov.cn/col/col12/index.html
      wenhua sites new list.html --url http://www.example.gov.cn/col/col12/index.html --out x.toml
    """
    if out and not force and Path(out).exists():
        raise UserError(f"{out} exists; give --force to replace it, or another --out")
    body, content_type, address = read_input(list_page)
    list_url = page_url or address
    list_html, _ = decode_html(body, content_type, None)
    article_html = article_url = None
    if article_page is None and list_url.startswith("http"):
        links, _, examples = _link_selector(Selector(text=list_html), list_url)
        if links and examples and list_page.startswith("http"):
            article_page = examples[0]
    if article_page:
        raw, ctype, article_url = read_input(article_page)
        article_html, _ = decode_html(raw, ctype, None)
    proposal = propose(list_html, list_url, article_html, article_url)
    if out:
        try:  # "x": a file that appeared meanwhile is not overwritten either
            with open(out, "w" if force else "x", encoding="utf-8") as handle:
                handle.write(proposal)
        except FileExistsError as exc:
            raise UserError(f"{out} exists; give --force to replace it") from exc
        click.echo(f"proposal written to {out}", err=True)
    else:
        click.echo(proposal, nl=False)
