"""Extraction: a pure function of (HTML, URL, site definition) to the raw fields a page shows.

Selectors come from the site definition and are tried in order; the first that yields
something wins. Nothing here interprets values (dates, labels): that is the normalizer's
job (`pipelines.normalize`), so `wenhua extract` and the crawler share one path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsel import Selector, SelectorList

from crawler.sitedefs import SiteDefinition

WHITESPACE = re.compile(r"[\s\u00a0\u3000]+")


class ExtractionError(Exception):
    """The page has no recognisable article (no title or no body)."""


@dataclass(frozen=True)
class RawArticle:
    url: str
    title: str
    body_html: str
    meta_text: str | None = None
    published_text: str | None = None
    source: str | None = None
    editor: str | None = None
    author: str | None = None
    district: str | None = None


def squash(text: str) -> str:
    return WHITESPACE.sub(" ", text).strip()


def select(doc: Selector, selector: str) -> SelectorList[Selector]:
    if selector.startswith("xpath:"):
        return doc.xpath(selector[len("xpath:") :])
    return doc.css(selector)


def first_text(doc: Selector, selectors: tuple[str, ...], joiner: str = "") -> str | None:
    """Text of the first selector that yields any; elements contribute all their text."""
    for selector in selectors:
        parts: list[str] = []
        for node in select(doc, selector):
            if isinstance(node.root, str):
                parts.append(node.root)
            else:
                parts.append(joiner.join(node.xpath(".//text()").getall()))
        text = squash(joiner.join(parts))
        if text:
            return text
    return None


def first_html(doc: Selector, selectors: tuple[str, ...]) -> str | None:
    for selector in selectors:
        nodes = select(doc, selector)
        html = "".join(node.get() for node in nodes)
        if nodes and squash(" ".join(nodes.xpath(".//text()").getall()) + html).strip():
            return html
    return None


def extract_raw(html: str, url: str, site: SiteDefinition | None) -> RawArticle:
    """Raw fields by the site's selectors; the generic extractor (crawler.extract.generic) fills
    every field the definition does not give or whose selectors find nothing."""
    from crawler.extract.generic import extract_generic, parse_page

    doc = parse_page(html)
    rules = site.fields if site else None
    title = rules and first_text(doc, rules.title)
    body = rules and first_html(doc, rules.body)
    meta_text = rules and first_text(doc, rules.meta, joiner=" ")
    generic = extract_generic(doc) if not (title and body and meta_text) else None
    if generic is not None:
        title = title or generic.title
        body = body or generic.body_html
    if not title:
        raise ExtractionError("no title found")
    if not body:
        raise ExtractionError("no article body found")
    if rules is None or (generic is not None and not meta_text):
        assert generic is not None
        return RawArticle(
            url=url,
            title=title,
            body_html=body,
            meta_text=generic.meta_text,
            published_text=(rules and first_text(doc, rules.published_at, joiner=" "))
            or generic.published_text,
            source=(rules and first_text(doc, rules.source)) or generic.source,
            editor=(rules and first_text(doc, rules.editor)) or generic.editor,
            author=(rules and first_text(doc, rules.author)) or generic.author,
            district=(rules and first_text(doc, rules.district)) or None,
        )
    return RawArticle(
        url=url,
        title=title,
        body_html=body,
        meta_text=meta_text or None,
        published_text=first_text(doc, rules.published_at, joiner=" "),
        source=first_text(doc, rules.source),
        editor=first_text(doc, rules.editor),
        author=first_text(doc, rules.author),
        district=first_text(doc, rules.district),
    )
