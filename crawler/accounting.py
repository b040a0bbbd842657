"""Accounting: every request a run schedules ends as exactly one outcome.

An outcome is archived (new, changed, unchanged, not modified), a list page read, a
failure with its reason (HTTP status, exception and message, redirect chain), or skipped
with a reason (robots.txt, off-site, duplicate of another URL, redirect loop, published
before `--since`). The `Ledger` keeps, per canonical URL the portal linked to (the first
URL of a redirect chain, the identity the durable frontier and the archive use), whether
it was scheduled and how it was settled; the storage pipeline settles a URL once the
archive writer has committed its outcome, and checks the balance when the spider closes.

Scrapy drops some requests without calling any callback or errback: the duplicate filter
after a redirect or a meta refresh (`request_dropped`), a redirect off the site
(OffsiteMiddleware raises IgnoreRequest from a `request_scheduled` handler, which the engine
swallows). Pages whose callback raised (`spider_error`) and articles a pipeline failed on
(`item_error`) also never reach the storage pipeline. The `Accounting` extension turns each
of these into a FailureItem or SkippedItem and sends it with the `store_outcome` signal
(crawler.signals) for the storage pipeline to store, raw capture included.

The middlewares here keep a malformed address from costing a page: a meta refresh to
`http://[` is ignored (the page is processed as it is, the address recorded as a problem of
the page), a Location header that cannot be parsed fails the request with a reason that
names it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

from scrapy import Request, signals
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.extract.urls import BadUrl, checked_url
from crawler.frontier.seen import DiskStore
from crawler.items import ArticleItem, FailureItem, PageProblems, SkippedItem
from crawler.signals import component_of, page_problems, store_outcome

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.spiders import Spider

logger = logging.getLogger(__name__)

ROBOTS_MESSAGE = "Forbidden by robots.txt"  # RobotsTxtMiddleware's IgnoreRequest
MAX_REDIRECTS_MESSAGE = "max redirections reached"  # BaseRedirectMiddleware's IgnoreRequest
OFFSITE_PREFIX = "Filtered offsite request"  # OffsiteMiddleware's IgnoreRequest
LISTED_URLS = 20  # how many unsettled URLs the run record lists by name


def chain(request: Request) -> list[str]:
    """The URLs a request went through, the one linked first."""
    return [*request.meta.get("redirect_urls", []), request.url]


def first_url(request: Request) -> str:
    return chain(request)[0]


def _canonical_of(spider: Any) -> Callable[[str], str] | None:
    canonical = getattr(spider, "canonical", None)
    return canonical if callable(canonical) else None


def _site_of(spider: Any) -> str:
    site = getattr(spider, "site_def", None)
    return str(site.name) if site is not None else str(getattr(spider, "name", ""))


def _arrows(urls: list[str]) -> str:
    return " → ".join(urls)


def describe(exc: BaseException | None) -> str:
    """`Class: message`, the reason a failure row keeps."""
    if exc is None:
        return "unknown error"
    message = str(exc).strip()
    kind = type(exc)
    # `error` alone says nothing: name re.error, socket.timeout and their kind by module.
    name = kind.__name__ if kind.__name__[:1].isupper() else f"{kind.__module__}.{kind.__name__}"
    return f"{name}: {message}" if message else name


def errback_item(spider: Any, failure: Failure) -> FailureItem | SkippedItem:
    """What a request's errback stores: robots.txt and off-site refusals are skips, every
    other error a failure with its reason and the redirect chain it went through."""
    request: Request = failure.request  # type: ignore[attr-defined]
    canonical = _canonical_of(spider) or (lambda url: url)
    site = _site_of(spider)
    url = canonical(first_url(request))
    hops = [canonical(u) for u in chain(request)]
    value = failure.value
    if isinstance(value, IgnoreRequest) and str(value) == ROBOTS_MESSAGE:
        return SkippedItem(site, url, "robots.txt", f"{hops[-1]} is forbidden by robots.txt")
    if isinstance(value, IgnoreRequest) and str(value).startswith(OFFSITE_PREFIX):
        return SkippedItem(site, url, "off-site", f"{_arrows(hops)} leaves the site")
    status = None
    capture = None
    if isinstance(value, HttpError):
        response = value.response
        status = response.status
        capture = spider.capture(response) if hasattr(spider, "capture") else None
        reason = f"HTTP {status}"
    elif isinstance(value, IgnoreRequest) and str(value) == MAX_REDIRECTS_MESSAGE:
        reason = f"too many redirects ({len(hops) - 1} followed)"
    else:
        reason = describe(value)
    if len(hops) > 1:
        reason += f"; redirects: {_arrows(hops)}"
    return FailureItem(
        site=site,
        url=url,
        kind="fetch",
        reason=reason,
        http_status=status,
        capture=capture,
        retries=int(request.meta.get("retry_times", 0)),
    )


@dataclass
class Ledger:
    """Scheduled and settled URLs of one crawler (canonical first URLs).

    Both on disk (crawler.frontier.seen): a crawl meets one URL per page it schedules, so in
    memory stay only the counts by outcome and the URLs scheduled but not settled yet."""

    scheduled: DiskStore = field(default_factory=DiskStore)
    settled: DiskStore = field(default_factory=DiskStore)
    outcomes: Counter[str] = field(default_factory=Counter)
    open: set[str] = field(default_factory=set)
    scheduled_count: int = 0
    twice: list[str] = field(default_factory=list)
    not_stored: list[dict[str, str]] = field(default_factory=list)
    processing_errors: int = 0

    # Shared frontier: open URLs this worker gave back (a redirect or retry another worker
    # may take); few at a time, so in memory.
    handed: set[str] = field(default_factory=set)

    def schedule(self, url: str) -> None:
        if self.scheduled.add(url) or url in self.handed:
            self.handed.discard(url)
            self.scheduled_count += 1
            if url not in self.settled:
                self.open.add(url)

    def hand_off(self, url: str) -> None:
        """Another worker may settle it: not this worker's to account for, unless it
        comes back (`schedule`)."""
        if url in self.open:
            self.open.discard(url)
            self.scheduled_count -= 1
            self.handed.add(url)

    def settle(self, url: str, outcome: str) -> None:
        """`outcome` is `archived:new`, `list`, `failed:fetch`, `skipped:robots.txt`, …"""
        earlier = self.settled.get(url)
        if earlier is not None:
            self.twice.append(url)
            logger.warning("%s settled twice: %s, then %s", url, earlier, outcome)
            return
        self.settled[url] = outcome
        self.outcomes[outcome] += 1
        self.open.discard(url)

    def not_stored_error(self, url: str, error: str) -> None:
        self.not_stored.append({"url": url, "error": error.strip().splitlines()[-1]})

    def balance(self) -> dict[str, Any]:
        """The run's accounting, as stored in its record: counts by outcome, what did not
        settle, and whether every scheduled URL ended exactly once."""
        groups: dict[str, Counter[str]] = {
            "archived": Counter(),
            "failed": Counter(),
            "skipped": Counter(),
        }
        lists = 0
        for outcome, count in self.outcomes.items():
            group, _, detail = outcome.partition(":")
            if group == "list":
                lists += count
            else:
                groups.setdefault(group, Counter())[detail] += count
        unsettled = sorted(self.open)
        problems = []
        if unsettled:
            problems.append(f"{len(unsettled)} scheduled URLs never reached an outcome")
        if self.twice:
            problems.append(f"{len(self.twice)} URLs reached two outcomes")
        if self.not_stored:
            problems.append(f"{len(self.not_stored)} outcomes could not be stored")
        if self.processing_errors:
            problems.append(f"{self.processing_errors} pages raised an error while processed")
        return {
            "scheduled": self.scheduled_count,
            "settled": sum(self.outcomes.values()),
            "lists": lists,
            **{name: dict(sorted(counts.items())) for name, counts in groups.items()},
            "unsettled": len(unsettled),
            "unsettled_urls": unsettled[:LISTED_URLS],
            "settled_twice": self.twice[:LISTED_URLS],
            "not_stored": self.not_stored[:LISTED_URLS],
            "processing_errors": self.processing_errors,
            "balanced": not problems,
            "problems": problems,
        }


class Accounting:
    """The crawler's ledger, fed by Scrapy's signals (an extension)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.ledger = Ledger()
        # With a shared Redis frontier another worker may fetch what this one enqueues:
        # a worker accounts for the requests it takes (RequestLedgerMiddleware) instead.
        self.shared = bool(crawler.settings.get("WENHUA_FRONTIER_URL"))
        for handler, signal in (
            (self.request_scheduled, signals.request_scheduled),
            (self.request_dropped, signals.request_dropped),
            (self.spider_error, signals.spider_error),
            (self.item_error, signals.item_error),
            (self.item_dropped, signals.item_dropped),
        ):
            crawler.signals.connect(handler, signal=signal)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @classmethod
    def of(cls, crawler: Any) -> Accounting | None:
        """The crawler's accounting extension (None when not enabled)."""
        return component_of(getattr(crawler, "extensions", None), cls)

    def key(self, request: Request) -> str | None:
        """The ledger's key of a spider request; None for media and robots.txt requests."""
        if request.callback is NO_CALLBACK or request.callback is None:
            return None
        canonical = _canonical_of(self.crawler.spider)
        return canonical(first_url(request)) if canonical is not None else None

    def taken(self, request: Request) -> None:
        key = self.key(request)
        if key is not None:
            self.ledger.schedule(key)

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        if not self.shared:
            self.taken(request)
            return
        # A redirect or retry goes back to the shared frontier and any worker may take it:
        # the URL is handed over, accounted by whoever takes it (or dropped just below).
        again = request.meta.get("redirect_urls") or request.meta.get("retry_times")
        key = self.key(request) if again else None
        if key is not None:
            self.ledger.hand_off(key)

    def _send(self, item: FailureItem | SkippedItem) -> None:
        self.crawler.signals.send_catch_log(store_outcome, item=item)

    def request_dropped(self, request: Request, spider: Spider) -> None:
        if not request.meta.get("redirect_urls"):
            # A second link to a URL already requested: the first request settles it.
            self.crawler.stats.inc_value("wenhua/duplicate_links")
            return
        key = self.key(request)
        if key is not None and key in self.ledger.handed:  # ours after all: dropped here
            self.ledger.schedule(key)
        if key is None or key not in self.ledger.scheduled:
            return  # with a shared frontier: another worker's request, not ours to settle
        canonical = _canonical_of(spider) or (lambda url: url)
        hops = [canonical(u) for u in chain(request)]
        site = _site_of(spider)
        if hops[-1] in hops[:-1]:
            item = SkippedItem(site, key, "redirect loop", _arrows(hops))
        else:
            detail = f"duplicate of {hops[-1]} (redirects: {_arrows(hops)})"
            item = SkippedItem(site, key, "duplicate", detail)
        self._send(item)

    def redirected_off_site(self, request: Request) -> None:
        """OffsiteMiddleware refused a redirect at scheduling time (no errback runs)."""
        key = self.key(request)
        if key is None:
            return
        canonical = _canonical_of(self.crawler.spider) or (lambda url: url)
        hops = [canonical(u) for u in chain(request)]
        site = _site_of(self.crawler.spider)
        self._send(SkippedItem(site, key, "off-site", f"{_arrows(hops)} leaves the site"))

    def spider_error(self, failure: Failure, response: Any, spider: Spider) -> None:
        """A callback raised: the page is recorded as a failure with its raw capture."""
        request = getattr(response, "request", None)
        if request is None:
            return
        key = self.key(request)
        if key is None:
            return
        self.ledger.processing_errors += 1
        capture = None
        if isinstance(response, Response) and hasattr(spider, "capture"):
            capture = spider.capture(response)
        status = response.status if isinstance(response, Response) else None
        self._send(
            FailureItem(
                site=_site_of(spider),
                url=key,
                kind="processing",
                reason=describe(failure.value),
                http_status=status,
                capture=capture,
            )
        )

    def item_error(self, item: Any, response: Any, spider: Spider, failure: Failure) -> None:
        """A pipeline raised on an article: kept as a failure with its raw capture."""
        if not isinstance(item, ArticleItem):
            return
        self.ledger.processing_errors += 1
        self._send(
            FailureItem(
                site=item.site,
                url=item.capture.url,
                kind="processing",
                reason=describe(failure.value),
                http_status=item.capture.http_status,
                capture=item.capture,
            )
        )

    def item_dropped(self, item: Any, response: Any, exception: Exception, spider: Spider) -> None:
        if isinstance(item, ArticleItem):
            reason = str(exception) or type(exception).__name__
            self._send(SkippedItem(item.site, item.capture.url, "dropped", reason))


class RequestLedgerMiddleware:
    """Downloader middleware, first in the chain: with a shared frontier, the requests
    this worker takes are the ones it accounts for."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        accounting = Accounting.of(self.crawler)
        if accounting is not None and accounting.shared:
            accounting.taken(request)


class AccountedOffsiteMiddleware(OffsiteMiddleware):
    """OffsiteMiddleware that tells the ledger about the redirects it refuses when they
    are scheduled: the engine swallows that IgnoreRequest without any errback."""

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        try:
            super().request_scheduled(request, spider)
        except IgnoreRequest:
            accounting = Accounting.of(self.crawler)
            if accounting is not None:
                accounting.redirected_off_site(request)
            raise


def _problem(crawler: Any, request: Request, field: str, raw: str, reason: str) -> None:
    spider = crawler.spider
    canonical = _canonical_of(spider) or (lambda url: url)
    problem = {"field": field, "raw": raw, "reason": reason}
    crawler.signals.send_catch_log(
        page_problems,
        item=PageProblems(_site_of(spider), canonical(first_url(request)), [problem]),
    )


class CheckedRedirectMiddleware(RedirectMiddleware):
    """A Location that cannot be parsed fails the request naming it (Scrapy's own error
    would be a bare `ValueError: Invalid IPv6 URL`)."""

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        location = response.headers.get("Location")
        if location is not None and 300 <= response.status < 400:
            text = location.decode("latin-1")
            try:
                checked_url(text, request.url)
            except BadUrl as exc:
                raise IgnoreRequest(f"redirect to {text!r}: {exc}") from None
        return super().process_response(request, response)


class CheckedMetaRefreshMiddleware(MetaRefreshMiddleware):
    """A meta refresh to a malformed address is ignored: the page is processed as it is
    and the address is recorded as a problem of the page."""

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        try:
            return super().process_response(request, response)
        except ValueError as exc:
            raw = _refresh_target(response)
            _problem(self.crawler, request, "meta refresh", raw, f"malformed address: {exc}")
            return response


def _refresh_target(response: Response) -> str:
    """The refresh's content attribute as written (Scrapy's parser cannot read it)."""
    content = response.xpath(
        "//meta[translate(@http-equiv, 'REFSH', 'refsh') = 'refresh']/@content"
    ).get()
    return str(content or "")
