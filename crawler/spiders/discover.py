"""Zero-configuration discovery: crawl a portal from one start URL, without a definition.

`scrapy crawl discover -a start_url=URL [-a allow_domains=a.cn,b.cn] [-a serve_at=ORIGIN]`,
or `wenhua crawl --start-url URL [--allow-domain D]…`.

Pages are told apart by their URL shapes (the CMS families' article and list patterns, rules
as data below) and, for URLs of no known shape, by the page itself (a dated meta block and a
text-dense body make an article). List pages, home, search and login pages are followed,
never stored. Articles are extracted by the generic extractor and handed to the same
pipelines as the definition-driven spider, under a synthetic site `auto-<host>`, so the
archive record, images and versions are the same as with a definition.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Response, TextResponse

from crawler.extract.encoding import decode_html
from crawler.extract.metadata import parse_meta
from crawler.extract.rules import ExtractionError, extract_raw
from crawler.extract.urls import OriginMap
from crawler.items import ArticleItem, FailureItem, NotModifiedItem
from crawler.sitedefs import (
    FieldRules,
    ListRules,
    Region,
    SiteDefinition,
    StartPage,
    article_patterns,
)
from crawler.spiders.portal import ARTICLE_PRIORITY, PortalSpider

# Article URLs of the CMS families (path plus query), from crawler/families/*.toml.
ARTICLE_PATTERNS = article_patterns()
# List pages and pagination: followed, never stored.
LIST_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"/(?:index|list|default)(?:_\d+)*\.s?html?$",
        r"/list[-_][\w-]+\.s?html?$",
        r"/col/col\d+/",
        r"/column-index-\d+\.shtml$",
        r"[?&](?:page|pageNum|pageNo|currPage|pageIndex|p)=\d+",
        r"/\d+\.htm$",  # 博达 VSB list pages <col>/N.htm
        r"/index_\d+\.j(?:html|spx)$",
        r"/$",
    )
)
# Never fetched: search, login, registration, feeds, files.
SKIP_PATTERNS = re.compile(
    r"(?i)search|login|logout|register|member\.php|/plus/|javascript:|mailto:|"
    r"\.(?:jpe?g|png|gif|bmp|webp|pdf|docx?|xlsx?|pptx?|zip|rar|7z|mp3|mp4|exe|apk)$"
)
NEXT_TEXT = re.compile(r"^\s*(下一页|下页|后页|下一頁|>|›|»|\d+)\s*$")


def site_root(path: str) -> str:
    """The path prefix a portal lives under: '/fengrun/' for '/fengrun/col/col1661/…',
    '/lubei/' for '/lubei/whhd/index.html', '/' for '/list-xxzx-1.html'."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2:
        return f"/{parts[0]}/"
    return "/"


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def is_article_url(url: str) -> bool:
    return any(p.search(path_and_query(url)) for p in ARTICLE_PATTERNS)


def is_list_url(url: str) -> bool:
    return any(p.search(path_and_query(url)) for p in LIST_PATTERNS)


def synthetic_site(start_url: str) -> SiteDefinition:
    parts = urlsplit(start_url)
    host = (parts.hostname or "site").lower()
    return SiteDefinition(
        name=f"auto-{host}",
        path=Path(f"<discovered from {start_url}>"),
        title=host,
        family="auto",
        base_url=f"{parts.scheme}://{parts.netloc}",
        checked=False,
        region=Region(),
        start=(StartPage(url=start_url),),
        list=ListRules(article_links=()),
        fields=FieldRules(),
    )


class DiscoverSpider(PortalSpider):
    name = "discover"

    def __init__(
        self,
        start_url: str = "",
        allow_domains: str = "",
        serve_at: str | None = None,
        canonical: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not start_url:
            raise ValueError("give the start URL: scrapy crawl discover -a start_url=URL")
        # PortalSpider.__init__ loads a definition by name; this spider makes its own.
        super(PortalSpider, self).__init__(**kwargs)
        self.start_url = start_url
        self.site_def = synthetic_site(canonical or start_url)
        self.origins = OriginMap(self.site_def.base_url, serve_at)
        host = urlsplit(self.origins.serving).hostname
        extra = [d.strip().lower() for d in allow_domains.split(",") if d.strip()]
        self.allowed_domains = ([host] if host else []) + extra
        self.root = site_root(urlsplit(start_url).path)
        self.start_page = StartPage(url=start_url)

    async def start(self) -> AsyncIterator[Request]:
        yield self.list_request(self.origins.to_serving(self.start_url), self.start_page)

    def in_scope(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or SKIP_PATTERNS.search(path_and_query(url)):
            return False
        host = (parts.hostname or "").lower()
        if not any(host == d or host.endswith("." + d) for d in self.allowed_domains):
            return False
        serving_host = urlsplit(self.origins.serving).hostname
        return host != serving_host or parts.path.startswith(self.root)

    def follow(self, response: TextResponse) -> Iterator[Request]:
        for link in response.xpath("//a[@href]"):
            href = (link.attrib.get("href") or "").strip()
            if not href or href.startswith("#"):
                continue
            url = response.urljoin(href)
            if not self.in_scope(url):
                continue
            if is_article_url(url):
                yield Request(
                    url,
                    callback=self.parse_article,
                    errback=self.failed,
                    cb_kwargs={"start": self.start_page},
                    priority=ARTICLE_PRIORITY,
                )
            elif is_list_url(url) or NEXT_TEXT.match(" ".join(link.xpath(".//text()").getall())):
                yield self.list_request(url, self.start_page)
            else:
                yield Request(
                    url,
                    callback=self.parse_unknown,
                    errback=self.failed,
                    cb_kwargs={"start": self.start_page},
                )

    def parse_list(self, response: Response, start: StartPage) -> Iterator[Request]:
        if isinstance(response, TextResponse):
            yield from self.follow(response)

    def parse_unknown(
        self, response: Response, start: StartPage
    ) -> Iterator[Request | ArticleItem | FailureItem | NotModifiedItem]:
        """A page of no known URL shape: an article if it reads like one, else a list."""
        if not isinstance(response, TextResponse):
            return
        if looks_like_article(response):
            yield from self.parse_article(response, start)
        yield from self.follow(response)

    def parse_article(
        self, response: Response, start: StartPage
    ) -> Iterator[ArticleItem | FailureItem | NotModifiedItem]:
        if isinstance(response, TextResponse):
            # Articles link to further articles (prev/next, related): keep discovering.
            yield from self.follow(response)  # type: ignore[misc]
        yield from super().parse_article(response, start)


def looks_like_article(response: TextResponse) -> bool:
    text, _ = decode_html(response.body, None, None)
    try:
        raw = extract_raw(text, response.url, None)
    except ExtractionError:
        return False
    body_chars = len(re.findall(r"[\u3400-\u9fff]", re.sub(r"<[^>]+>", "", raw.body_html)))
    dated = bool(raw.published_text) or (
        raw.meta_text is not None and parse_meta(raw.meta_text).published is not None
    )
    return dated and body_chars >= 150
