"""Link discovery: a portal nobody wrote selectors for, crawled by the shapes of its URLs.

A definition whose `[list]` gives `article_url_patterns` is crawled this way (the ones
`wenhua crawl --start-url` infers, `auto_definition` below): every in-scope link of every
page is an article, a list page, a page of the same list (pagination) or, with
`follow_unknown`, a page of no known shape that is stored if it reads like an article
(`looks_like_article`). The rules are the definition's data; the default ones come from
the CMS families' article shapes (crawler/families/*.toml) and the list shapes below.

Pure: (HTML or a parsed page, URL, definition) in, links out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from parsel import Selector

from crawler.extract.metadata import parse_meta
from crawler.extract.rules import ExtractionError, extract_raw, squash
from crawler.extract.urls import BadUrl, checked_url
from crawler.sitedefs import ListRules, article_patterns, render_definition

# List pages of the families and of hand-made portals: followed, never stored.
LIST_URL_PATTERNS = (
    r"/(?:index|list|default)(?:_\d+)*\.s?html?$",
    r"/list[-_][\w-]+\.s?html?$",
    r"/col/col\d+/",
    r"/column-index-\d+\.shtml$",
    r"[?&](?:page|pageNum|pageNo|currPage|pageIndex|p)=\d+",
    r"/\d+\.htm$",  # 博达 VSB list pages <col>/N.htm
    r"/index_\d+\.j(?:html|spx)$",
    r"/$",
)
# Never fetched: search, login, registration, feeds, files.
SKIP_URL_PATTERNS = (
    r"(?i)search|login|logout|register|member\.php|/plus/",
    r"(?i)\.(?:jpe?g|png|gif|bmp|webp|pdf|docx?|xlsx?|pptx?|zip|rar|7z|mp3|mp4|exe|apk)$",
)
# Links to another page of the same list.
PAGE_LINK_TEXT = r"^\s*(?:下一页|下页|后页|下一頁|上一页|上页|前页|尾页|末页|>|›|»|<|‹|«|\d+)\s*$"
# What reads like an article: a date, and this much Chinese text in the body.
ARTICLE_MIN_HAN = 150

LinkKind = Literal["article", "list", "page", "unknown"]
HAN = re.compile(r"[\u3400-\u9fff]")
TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Link:
    url: str
    kind: LinkKind  # page: another page of the same list (pagination)


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def site_root(path: str) -> str:
    """The path prefix a portal lives under: '/fengrun/' for '/fengrun/col/col1661/…',
    '/lubei/' for '/lubei/whhd/index.html', '/' for '/list-xxzx-1.html'."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2:
        return f"/{parts[0]}/"
    return "/"


def in_scope(url: str, rules: ListRules, host: str) -> bool:
    """On `host` (where the site is served) under the scope path, or on an allowed domain."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    if any(p.search(path_and_query(url)) for p in rules.skip_url_patterns):
        return False
    found = (parts.hostname or "").lower()
    if found == host:
        return parts.path.startswith(rules.scope)
    return any(found == d or found.endswith("." + d) for d in rules.allow_domains)


def classify(url: str, text: str, rules: ListRules) -> LinkKind:
    target = path_and_query(url)
    if any(p.search(target) for p in rules.article_url_patterns):
        return "article"
    paging = rules.page_link_text is not None and bool(rules.page_link_text.match(text))
    if paging:
        return "page"
    if any(p.search(target) for p in rules.list_url_patterns):
        return "list"
    return "unknown"


def discover_links(
    doc: Selector,
    page_url: str,
    rules: ListRules,
    host: str,
    problems: list[dict[str, str]] | None = None,
) -> list[Link]:
    """The in-scope links of a page, each once, in page order, with what they lead to;
    `host` is the host the site is served from. A malformed href (`http://[`, a port
    over 65535 or not a number, `javascript:`) costs only itself: it is appended to
    `problems` (field, raw, reason), once per distinct href, and the page goes on."""
    found: dict[str, Link] = {}
    refused: set[str] = set()
    for anchor in doc.xpath("//a[@href]"):
        href = (anchor.attrib.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        try:
            # checked_url reads the port too: urljoin and in_scope alone let a port out
            # of range through, and it raised later, in canonical_url, taking the page.
            url = checked_url(href, page_url).split("#", 1)[0]
        except BadUrl as exc:
            if problems is not None and href not in refused:
                problems.append({"field": "link", "raw": href, "reason": str(exc)})
            refused.add(href)
            continue
        ok = in_scope(url, rules, host)
        if not ok or url in found:
            continue
        kind = classify(url, squash(" ".join(anchor.xpath(".//text()").getall())), rules)
        if kind == "unknown" and not rules.follow_unknown:
            continue
        found[url] = Link(url, kind)
    return list(found.values())


def looks_like_article(html: str, url: str) -> bool:
    """A page of no known URL shape is an article if it is dated and has a body of text."""
    try:
        raw = extract_raw(html, url, None)
    except ExtractionError:
        return False
    body_chars = len(HAN.findall(TAGS.sub("", raw.body_html)))
    dated = bool(raw.published_text) or (
        raw.meta_text is not None and parse_meta(raw.meta_text).published is not None
    )
    return dated and body_chars >= ARTICLE_MIN_HAN


def auto_site_name(start_url: str) -> str:
    host = (urlsplit(start_url).hostname or "site").lower()
    return "auto-" + re.sub(r"[^a-z0-9.-]+", "-", host).strip("-")


def auto_definition(
    start_url: str, allow_domains: tuple[str, ...] = (), now: datetime | None = None
) -> str:
    """The definition `wenhua crawl --start-url` crawls a portal by, as TOML with comments
    for the person who reviews it: the families' article shapes, the usual list shapes, the
    host and path prefix of the start URL."""
    parts = urlsplit(start_url)
    name = auto_site_name(start_url)
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    start = path_and_query(start_url) or "/"
    listing: dict[str, Any] = {
        "article_links": [],
        "article_url_patterns": [p.pattern for p in article_patterns()],
        "list_url_patterns": list(LIST_URL_PATTERNS),
        "page_link_text": PAGE_LINK_TEXT,
        "skip_url_patterns": list(SKIP_URL_PATTERNS),
        "scope": site_root(parts.path),
        "allow_domains": [d.strip().lower() for d in allow_domains if d.strip()],
        "follow_unknown": True,
    }
    definition: dict[str, Any] = {
        "name": name,
        "title": (parts.hostname or name).lower(),
        "family": "auto",
        "base_url": f"{parts.scheme}://{parts.netloc}",
        "checked": False,
        "revisit_days": 7,
        "start": [{"url": start}],
        "region": {},
        "list": listing,
        "fields": {},
    }
    notes = {
        "list.article_url_patterns": [
            "links of these shapes (path plus query) are articles: the CMS families' shapes"
        ],
        "list.list_url_patterns": ["links of these shapes are list pages, read on every crawl"],
        "list.page_link_text": [
            "links with this text are further pages of a list, read while it lists new articles"
        ],
        "list.scope": ["the crawl stays under this path of the start URL's host"],
        "list.follow_unknown": [
            "links of no known shape are fetched; stored when they read like an article"
        ],
        "fields": [
            "no selectors: the generic extractor reads every field; add selectors to override"
        ],
    }
    header = [
        f"Inferred by `wenhua crawl --start-url {start_url}` on {when}.",
        "A site definition like any other (docs/site-definitions.md): review and edit it;",
        f"`wenhua crawl {name}` recrawls it incrementally. Commit it to crawler/sites/ to share.",
    ]
    return render_definition(header, definition, notes)
