"""The one spider: crawls any portal described by a site definition.

`scrapy crawl portal -a site=NAME [-a serve_at=http://127.0.0.1:PORT]`. List pages are
followed through the definition's pagination rules; article pages are extracted and
handed to the pipelines with their raw capture. A page that cannot be fetched or
extracted becomes a FailureItem, so the problem and the bytes are kept, not dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.encoding import decode_html
from crawler.extract import ExtractionError, extract_raw, select
from crawler.items import ArticleItem, Capture, FailureItem
from crawler.sitedefs import SiteDefinition, StartPage, load_site
from crawler.urls import OriginMap, canonical_url

ARTICLE_PRIORITY = 10  # finish articles before reading further list pages: bounded frontier


class PortalSpider(Spider):
    name = "portal"

    def __init__(self, site: str = "", serve_at: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not site:
            raise ValueError("give the site to crawl: scrapy crawl portal -a site=NAME")
        self.site_def: SiteDefinition = load_site(site)
        self.origins = OriginMap(self.site_def.base_url, serve_at)
        host = urlsplit(self.origins.serving).hostname
        self.allowed_domains = [host] if host else []

    async def start(self) -> AsyncIterator[Request]:
        for start in self.site_def.start:
            url = self.origins.to_serving(self.site_def.absolute(start.url))
            yield self.list_request(url, start)

    def list_request(self, url: str, start: StartPage) -> Request:
        return Request(
            url, callback=self.parse_list, errback=self.failed, cb_kwargs={"start": start}
        )

    def count_page(self) -> None:
        crawler = getattr(self, "crawler", None)  # absent when built without a crawler
        if crawler is not None and crawler.stats is not None:
            crawler.stats.inc_value("wenhua/pages")

    def canonical(self, url: str) -> str:
        return canonical_url(self.origins.to_canonical(url))

    def parse_list(self, response: Response, start: StartPage) -> Iterator[Request]:
        self.count_page()
        if not isinstance(response, TextResponse):
            self.logger.warning("list page %s is not HTML; skipped", response.url)
            return
        rules = self.site_def.list
        for selector in rules.article_links:
            for href in select(response.selector, selector).getall():
                url = response.urljoin(href.strip())
                if rules.article_url_pattern and not rules.article_url_pattern.search(
                    urlsplit(url).path + ("?" + urlsplit(url).query if urlsplit(url).query else "")
                ):
                    continue
                yield Request(
                    url,
                    callback=self.parse_article,
                    errback=self.failed,
                    cb_kwargs={"start": start},
                    priority=ARTICLE_PRIORITY,
                )
        for selector in rules.next_page:
            next_href = select(response.selector, selector).get()
            if next_href:
                yield self.list_request(response.urljoin(next_href.strip()), start)
                break

    def capture(self, response: Response) -> Capture:
        body = response.body
        request = response.request
        # After redirects the identity stays the URL the portal links to; the redirect
        # target is provenance (final_url).
        redirected = request.meta.get("redirect_urls") if request is not None else None
        requested = redirected[0] if redirected else (request.url if request else response.url)
        return Capture(
            url=self.canonical(requested),
            final_url=self.canonical(response.url),
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            http_status=response.status,
            content_type=_header(response, "Content-Type"),
            last_modified=_header(response, "Last-Modified"),
            etag=_header(response, "ETag"),
            raw_sha256=hashlib.sha256(body).hexdigest(),
            body=body,
        )

    def parse_article(
        self, response: Response, start: StartPage
    ) -> Iterator[ArticleItem | FailureItem]:
        self.count_page()
        capture = self.capture(response)
        text, _ = decode_html(
            response.body, _header(response, "Content-Type"), self.site_def.encoding
        )
        try:
            raw = extract_raw(text, response.url, self.site_def)
        except ExtractionError as exc:
            yield FailureItem(
                site=self.site_def.name,
                url=capture.url,
                kind="extraction",
                reason=str(exc),
                http_status=response.status,
                capture=capture,
            )
            return
        yield ArticleItem(
            site=self.site_def.name,
            capture=capture,
            raw=raw,
            category=start.category,
            district=start.district,
        )

    def failed(self, failure: Failure) -> Iterator[FailureItem]:
        request = failure.request  # type: ignore[attr-defined]
        status = None
        capture = None
        if isinstance(failure.value, HttpError):
            self.count_page()
            response = failure.value.response
            status = response.status
            capture = self.capture(response)
            reason = f"HTTP {status}"
        else:
            reason = f"{type(failure.value).__name__}: {failure.getErrorMessage()}"
        yield FailureItem(
            site=self.site_def.name,
            url=self.canonical(request.url),
            kind="fetch",
            reason=reason,
            http_status=status,
            capture=capture,
            retries=int(request.meta.get("retry_times", 0)),
        )


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
