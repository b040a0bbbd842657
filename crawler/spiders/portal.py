"""The one spider: crawls any portal described by a site definition.

`scrapy crawl portal -a site=NAME [-a serve_at=http://127.0.0.1:PORT]`. List pages are
followed through the definition's pagination rules; article pages are extracted and
handed to the pipelines with their raw capture. A page that cannot be fetched or
extracted becomes a FailureItem, so the problem and the bytes are kept, not dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from parsel import Selector
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from archive.config import resolve
from archive.db import Archive
from archive.incremental import FrontierItem, KnownArticle, known_articles, pending
from crawler.accounting import errback_item, first_url
from crawler.extract.discovery import discover_links, looks_like_article
from crawler.extract.encoding import decode_html
from crawler.extract.rules import ExtractionError, extract_raw, select
from crawler.extract.urls import BadUrl, OriginMap, canonical_url, checked_url, on_site
from crawler.frontier.seen import DiskStore
from crawler.items import (
    NO_WARC_LINK,
    ArticleItem,
    Capture,
    FailureItem,
    NotModifiedItem,
    PageProblems,
    ScheduledItem,
    SkippedItem,
)
from crawler.sitedefs import SiteDefinition, StartPage, load_site

if TYPE_CHECKING:
    from crawler.frontier.scheduler import RedisFrontier

ARTICLE_PRIORITY = 10  # finish articles before reading further list pages: bounded frontier


class PortalSpider(Spider):
    name = "portal"

    def __init__(
        self,
        site: str = "",
        serve_at: str | None = None,
        revisit_all: bool | str = False,
        full_lists: bool | str = False,
        data_dir: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not site:
            raise ValueError("give the site to crawl: scrapy crawl portal -a site=NAME")
        # The data directory holds the definitions `wenhua crawl --start-url` inferred.
        self.site_def: SiteDefinition = load_site(site, resolve(data_dir, None).data_dir)
        self.origins = OriginMap(self.site_def.base_url, serve_at)
        host = urlsplit(self.origins.serving).hostname
        self.allowed_domains = ([host] if host else []) + list(self.site_def.list.allow_domains)
        # `-a name=value` gives strings; process.crawl(..., name=True) gives booleans.
        self.revisit_all = _flag(revisit_all)
        self.full_lists = _flag(full_lists)
        self.known: dict[str, KnownArticle] = {}
        # Canonical URLs requested by this run: on disk, one entry per URL of the crawl.
        self.scheduled = DiskStore()
        self.archive: Archive | None = None
        # Set by crawler.frontier.scheduler when workers share a Redis frontier.
        self.frontier: RedisFrontier | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        kwargs.setdefault("data_dir", crawler.settings.get("WENHUA_DATA_DIR"))
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, PortalSpider)
        return spider

    def state(self) -> Archive:
        """The archive, for reading (known articles, pending frontier, known images); the
        archive writer process makes every write of the crawl."""
        if self.archive is None:
            config = resolve(
                self.settings.get("WENHUA_DATA_DIR"), self.settings.get("WENHUA_DB_URL")
            )
            self.archive = Archive(config.db_url)
        return self.archive

    def closed(self, reason: str) -> None:
        self.scheduled.close()
        if self.archive is not None:
            self.archive.close()

    async def start(self) -> AsyncIterator[Request | ScheduledItem | PageProblems]:
        if self.frontier is not None:
            # Redis is the frontier: one worker seeds it, every worker takes from it.
            with self.state().session() as session:
                self.known = known_articles(session, self.site_def.name)
            if self.frontier.claim_seed():
                self.frontier.seed(self.start_requests_due())
            return
        # Resume first: what a killed run had scheduled but not finished.
        name = self.site_def.name
        with self.state().session() as session:
            leftovers = pending(session, name)
            self.known = known_articles(session, name)
        if leftovers:
            self.logger.info("resuming %d pending requests of %s", len(leftovers), name)
            self.crawler.stats.set_value("wenhua/frontier_resumed", len(leftovers))
        self.scheduled.update(entry.url for entry in leftovers)
        for entry in leftovers:
            start = StartPage(url="", **_context(entry.context))
            url = self.origins.to_serving(entry.url)
            if entry.kind == "list":
                yield self.list_request(url, start)
            elif entry.kind == "page":
                yield self.page_request(url, start)
            else:
                yield self.article_request(url, start)
        for output in self.record(self.start_requests_due()):
            yield output

    def start_requests_due(self) -> list[Request]:
        """The start pages and the known articles due for a revisit."""
        # Known articles due for a revisit: conditional requests, so unchanged ones cost a 304.
        now = datetime.now(UTC)
        due = [
            known
            for known in self.known.values()
            if self.revisit_all or known.due(now, self.site_def.revisit_days)
        ]
        revisits = [
            self.article_request(
                self.origins.to_serving(known.url),
                StartPage(url="", category=known.category, district=known.district),
                known,
            )
            for known in due
        ]
        starts = [
            self.list_request(self.origins.to_serving(self.site_def.absolute(start.url)), start)
            for start in self.site_def.start
        ]
        return starts + revisits

    def record(
        self,
        requests: list[Request],
        done: str | None = None,
        problems: list[dict[str, str]] | None = None,
    ) -> list[Request | ScheduledItem | PageProblems]:
        """The requests not already requested by this run (a repeat would be dropped by the
        duplicate filter and stay pending for ever), after the item that writes them to the
        durable frontier and marks `done` finished, in one transaction. Off-site links
        never enter a frontier: they become `problems` of the page `done`, with the
        malformed links it had."""
        problems = list(problems or [])
        kept = []
        for request in requests:
            if on_site(request.url, self.allowed_domains):
                kept.append(request)
            else:
                reason = "off-site link: not followed"
                problems.append({"field": "link", "raw": request.url, "reason": reason})
        requests = kept
        notes: list[PageProblems] = []
        if problems and done is not None:
            notes.append(PageProblems(self.site_def.name, done, problems))
            self.crawler.stats.inc_value("wenhua/links_skipped", len(problems))
        if self.frontier is not None:
            # Redis keeps them; its duplicate filter replaces `scheduled`. The ScheduledItem
            # only settles the list page.
            return [*notes, ScheduledItem(self.site_def.name, [], done), *requests]
        fresh: list[Request | ScheduledItem] = []
        entries = []
        for request in requests:
            url = self.canonical(request.url)
            if not self.scheduled.add(url):
                continue
            fresh.append(request)
            kind = _KINDS.get(getattr(request.callback, "__name__", ""), "article")
            entries.append(FrontierItem(url, kind, _context_of(request.cb_kwargs["start"])))
        if not entries and done is None:
            return [*notes, *fresh]
        return [*notes, ScheduledItem(self.site_def.name, entries, done), *fresh]

    def list_request(self, url: str, start: StartPage) -> Request:
        return self._unlinked_request(url, start, self.parse_list)

    def _unlinked_request(
        self, url: str, start: StartPage, callback: Callable[..., Any]
    ) -> Request:
        """A request whose response record no article version will point at (NO_WARC_LINK)."""
        return Request(
            url,
            callback=callback,
            errback=self.failed,
            cb_kwargs={"start": start},
            meta={NO_WARC_LINK: True},
        )

    def count_page(self) -> None:
        crawler = getattr(self, "crawler", None)  # absent when built without a crawler
        if crawler is not None and crawler.stats is not None:
            crawler.stats.inc_value("wenhua/pages")

    def article_request(
        self, url: str, start: StartPage, known: KnownArticle | None = None
    ) -> Request:
        headers: dict[str, str] = {}
        meta: dict[str, Any] = {}
        if known is not None:
            headers = known.conditional_headers()
            meta["handle_httpstatus_list"] = [304]
        return Request(
            url,
            callback=self.parse_article,
            errback=self.failed,
            cb_kwargs={"start": start},
            priority=ARTICLE_PRIORITY,
            headers=headers,
            meta=meta,
        )

    def canonical(self, url: str) -> str:
        return canonical_url(self.origins.to_canonical(url))

    def parse_list(
        self, response: Response, start: StartPage
    ) -> Iterator[Request | ScheduledItem | PageProblems]:
        self.count_page()
        list_url = self.canonical(first_url(response.request) if response.request else response.url)
        if not isinstance(response, TextResponse):
            self.logger.warning("list page %s is not HTML; skipped", response.url)
            yield from self.record([], done=list_url)
            self.release(response)
            return
        if self.site_def.list.discovers:
            refused: list[dict[str, str]] = []
            found = self.follow_links(response, start, refused)
            yield from self.record(found, done=list_url, problems=refused)
            self.release(response)
            return
        rules = self.site_def.list
        requests: list[Request] = []
        problems: list[dict[str, str]] = []
        linked = 0
        for selector in rules.article_links:
            for href in select(response.selector, selector).getall():
                url = self.link(response, href, problems)
                if url is None:
                    continue
                if rules.article_url_pattern and not rules.article_url_pattern.search(
                    urlsplit(url).path + ("?" + urlsplit(url).query if urlsplit(url).query else "")
                ):
                    continue
                linked += 1
                # Known articles are refetched on their revisit schedule (see start), not here.
                if self.canonical(url) in self.known:
                    continue
                requests.append(self.article_request(url, start))
        # Incremental: a page listing only known articles means the rest is older news.
        follow = self.full_lists or bool(requests) or not linked
        for selector in rules.next_page if follow else ():
            next_href = select(response.selector, selector).get()
            next_url = self.link(response, next_href, problems) if next_href else None
            if next_url:
                requests.append(self.list_request(next_url, start))
                break
        if not follow:
            self.crawler.stats.inc_value("wenhua/lists_stopped_known")
        yield from self.record(requests, done=list_url, problems=problems)
        self.release(response)  # runs once every child request has been enqueued

    def link(self, response: Response, href: str, problems: list[dict[str, str]]) -> str | None:
        """The absolute URL of a link, or None (and a problem) when it is malformed: one
        bad link must never cost the page its other links."""
        try:
            return checked_url(href, response.url)
        except BadUrl as exc:
            problems.append({"field": "link", "raw": href.strip(), "reason": str(exc)})
            return None

    # -- Link discovery (definitions with list.article_url_patterns) -------------------------

    def page_request(self, url: str, start: StartPage) -> Request:
        """A page of no known URL shape: parse_page tells an article from a list."""
        return self._unlinked_request(url, start, self.parse_page)

    def follow_links(
        self,
        response: TextResponse,
        start: StartPage,
        problems: list[dict[str, str]] | None = None,
    ) -> list[Request]:
        """The requests for a page's in-scope links: unknown articles, list pages and pages
        of no known shape; further pages of a list only while the page lists an unknown
        article (the incremental rule of next_page)."""
        text, _ = decode_html(
            response.body, _header(response, "Content-Type"), self.site_def.encoding
        )
        host = (urlsplit(self.origins.serving).hostname or "").lower()
        links = discover_links(
            Selector(text=text), response.url, self.site_def.list, host, problems
        )
        requests: list[Request] = []
        paging: list[Request] = []
        linked = 0
        for link in links:
            # Known articles are refetched on their revisit schedule (see start), not here.
            known = self.canonical(link.url) in self.known
            if link.kind == "article":
                linked += 1
                if not known:
                    requests.append(self.article_request(link.url, start))
            elif link.kind == "page":
                paging.append(self.list_request(link.url, start))
            elif link.kind == "list":
                requests.append(self.list_request(link.url, start))
            elif not known:
                requests.append(self.page_request(link.url, start))
        fresh = any(r.callback == self.parse_article for r in requests)
        if self.full_lists or fresh or not linked:
            requests += paging
        elif paging:
            self.crawler.stats.inc_value("wenhua/lists_stopped_known")
        return requests

    def parse_page(
        self, response: Response, start: StartPage
    ) -> Iterator[
        Request | ScheduledItem | PageProblems | ArticleItem | FailureItem | NotModifiedItem
    ]:
        if isinstance(response, TextResponse):
            text, _ = decode_html(
                response.body, _header(response, "Content-Type"), self.site_def.encoding
            )
            if looks_like_article(text, response.url):
                yield from self.parse_article(response, start)
                return
        yield from self.parse_list(response, start)

    # ------------------------------------------------------------------------------------

    def release(self, response: Response) -> None:
        """A list page is done when its child requests are enqueued (Redis lease)."""
        if self.frontier is not None:
            self.frontier.ack(response.request)

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
    ) -> Iterator[
        Request | ScheduledItem | PageProblems | ArticleItem | FailureItem | NotModifiedItem
    ]:
        self.count_page()
        if (
            self.site_def.list.discovers
            and response.status == 200
            and isinstance(response, TextResponse)
        ):
            # Articles link to further articles (previous/next, related): keep discovering.
            problems: list[dict[str, str]] = []
            yield from self.record(self.follow_links(response, start, problems))
            if problems:
                page = self.canonical(
                    first_url(response.request) if response.request else response.url
                )
                yield PageProblems(self.site_def.name, page, problems)
        if response.status == 304:
            request = response.request
            yield NotModifiedItem(
                site=self.site_def.name,
                url=self.canonical(first_url(request) if request is not None else response.url),
                fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
            return
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

    def failed(self, failure: Failure) -> Iterator[FailureItem | SkippedItem]:
        """Errback: a refusal (robots.txt, off-site) is a skip, anything else a failure
        with its reason and redirect chain (crawler.accounting)."""
        item = errback_item(self, failure)
        if isinstance(item, FailureItem) and item.capture is not None:
            self.count_page()
        yield item


# The durable frontier's kind of a request, by its callback (resume rebuilds it from this).
_KINDS = {"parse_list": "list", "parse_page": "page", "parse_article": "article"}


def _flag(value: bool | str | None) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _context_of(start: StartPage) -> dict[str, Any]:
    return {"category": start.category, "district": start.district}


def _context(context: dict[str, Any]) -> dict[str, str | None]:
    return {"category": context.get("category"), "district": context.get("district")}


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
