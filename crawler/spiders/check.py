"""`wenhua sites check SITE`: try a site definition on the live site without archiving.

The check spider fetches the definition's first start page and one article linked from it
through the same Scrapy stack as a crawl (robots.txt, User-Agent, timeouts, retries) and
the same decode, extract and normalize code, then stops. It yields no items and runs
with no pipelines or extensions, so nothing reaches the archive.

Each field is reported as found by the definition's own selectors or missing; when only
the generic extractor finds a value, the crawl would still store it, but the definition
is what is being checked, so it counts as missing. A definition that gives no field
selectors at all (as `wenhua crawl --start-url` infers them) leaves every field to the
generic extractor, which is then what is checked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, astuple, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector
from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.settings import Settings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.extract.discovery import discover_links
from crawler.extract.encoding import decode_html
from crawler.extract.normalize import normalize
from crawler.extract.rules import (
    ExtractionError,
    RawArticle,
    extract_raw,
    first_html,
    first_text,
    select,
)
from crawler.extract.urls import BadUrl, OriginMap, canonical_url, checked_url
from crawler.sitedefs import SiteDefinition, StartPage, load_site

# Fields a definition must find for the site to be worth crawling.
REQUIRED = ("title", "published_at", "body")
TEXT_FIELDS = ("title", "published_at", "source", "editor", "author")
# Articles skipped because robots.txt forbids them cost no request; stop trying after these.
MAX_ARTICLE_TRIES = 10


@dataclass
class FieldReport:
    name: str
    found: bool
    value: Any
    generic: Any = None  # what the generic extractor gives when the definition finds nothing

    def render(self) -> str:
        unit = {"body": " characters", "images": " images"}.get(self.name, "")
        if self.found:
            state, shown = "found  ", f"{_show(self.value)}{unit}"
        elif self.name == "images":  # a page without images is not a defect
            state, shown = "none   ", ""
        else:
            state, shown = "missing", ""
        line = f"  {self.name:13} {state} {shown}"
        if not self.found and self.generic not in (None, "", 0):
            line += f"  (the generic extractor gives: {_show(self.generic)}{unit})"
        return line.rstrip()


@dataclass
class CheckReport:
    site: str
    list_url: str
    error: str | None = None  # the list page could not be fetched: nothing else to say
    article_links: int = 0
    links_found: int = 0  # hrefs the selectors gave, before article_url_pattern
    next_page: str | None = None
    robots_skipped: list[str] = field(default_factory=list)
    article_url: str | None = None
    article_error: str | None = None
    extraction_error: str | None = None
    fields: list[FieldReport] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)

    def missing(self) -> list[str]:
        found = {f.name for f in self.fields if f.found}
        return [name for name in REQUIRED if name not in found]

    def verdict(self) -> str | None:
        """Why the check failed, in one line; None when it passed."""
        if self.error:
            return self.error
        if not self.article_links:
            return f"no article links found on {self.list_url}"
        if self.article_url is None:
            return f"every article linked from {self.list_url} tried is disallowed by robots.txt"
        if self.article_error:
            return self.article_error
        if self.missing():
            return f"{', '.join(self.missing())} not found by the definition on {self.article_url}"
        return None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.verdict() is None
        out["reason"] = self.verdict()
        return out

    def render(self) -> str:
        lines = [f"site {self.site}", f"list page {self.list_url}"]
        if self.error:
            return "\n".join([*lines, f"  error: {self.error}"])
        lines.append(
            f"  article links: {self.article_links}"
            + (
                f" ({self.links_found - self.article_links} more hrefs do not match "
                "list.article_url_pattern)"
                if self.links_found > self.article_links
                else ""
            )
        )
        lines.append(f"  next page:     {self.next_page or 'not found'}")
        for url in self.robots_skipped:
            lines.append(f"article {url}: disallowed by robots.txt, not fetched")
        if self.article_url is None:
            return "\n".join(lines)
        lines.append(f"article {self.article_url}")
        if self.article_error:
            return "\n".join([*lines, f"  error: {self.article_error}"])
        if self.extraction_error:
            lines.append(f"  extraction (as the crawl does it) fails: {self.extraction_error}")
        for report in self.fields:
            lines.append(report.render())
        if self.problems:
            lines.append("normalization problems:")
            for problem in self.problems:
                lines.append(f"  {problem['field']}: {problem['reason']} (raw {problem['raw']!r})")
        else:
            lines.append("normalization problems: none")
        return "\n".join(lines)


def _show(value: Any) -> str:
    if value is None:
        return "-"
    text = str(value)
    return text if len(text) <= 60 else text[:59] + "…"


class CheckSpider(Spider):
    name = "check"
    # Nothing may reach the archive or the data directory: no pipelines, no WARC or
    # progress extensions, and the in-memory scheduler whatever the project configures.
    custom_settings = {  # noqa: RUF012 (Scrapy's own attribute, read from the class)
        "ITEM_PIPELINES": {},
        "EXTENSIONS": {},
        "SCHEDULER": "scrapy.core.scheduler.Scheduler",
        "JOBDIR": None,
        # A diagnostic: one retry, not the crawl's patient backoff.
        "RETRY_TIMES": 1,
    }

    def __init__(
        self,
        site: str = "",
        serve_at: str | None = None,
        data_dir: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not site:
            raise ValueError("give the site to check: scrapy crawl check -a site=NAME")
        self.site_def: SiteDefinition = load_site(site, data_dir)
        self.origins = OriginMap(self.site_def.base_url, serve_at)
        host = urlsplit(self.origins.serving).hostname
        self.allowed_domains = [host] if host else []
        self.start_page: StartPage = self.site_def.start[0]
        self.report = CheckReport(
            site=self.site_def.name,
            list_url=self.canonical(self.site_def.absolute(self.start_page.url)),
        )
        self.candidates: list[str] = []

    def canonical(self, url: str) -> str:
        return canonical_url(self.origins.to_canonical(url))

    async def start(self) -> AsyncIterator[Request]:
        url = self.origins.to_serving(self.site_def.absolute(self.start_page.url))
        yield Request(url, callback=self.parse_list, errback=self.list_failed)

    def list_failed(self, failure: Failure) -> None:
        url = failure.request.url  # type: ignore[attr-defined]
        self.report.error = f"cannot fetch list page {url}: {_reason(failure)}"

    def parse_list(self, response: Response) -> Iterator[Request]:
        if not isinstance(response, TextResponse):
            self.report.error = f"list page {response.url} is not HTML"
            return
        rules = self.site_def.list
        if rules.discovers:
            self.discover(response)
        for selector in rules.article_links:
            for href in select(response.selector, selector).getall():
                try:
                    url = checked_url(href, response.url)
                except BadUrl:
                    continue  # a malformed link is no candidate (the crawl records it)
                self.report.links_found += 1
                parts = urlsplit(url)
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                if rules.article_url_pattern and not rules.article_url_pattern.search(target):
                    continue
                if url not in self.candidates:
                    self.candidates.append(url)
        self.report.article_links = len(self.candidates)
        for selector in rules.next_page:
            next_href = select(response.selector, selector).get()
            try:
                next_url = checked_url(next_href, response.url) if next_href else None
            except BadUrl:
                next_url = None
            if next_url:
                self.report.next_page = self.canonical(next_url)
                break
        yield from self.next_article()

    def discover(self, response: TextResponse) -> None:
        """Article links and the next page by the definition's link discovery rules."""
        host = (urlsplit(self.origins.serving).hostname or "").lower()
        for link in discover_links(response.selector, response.url, self.site_def.list, host):
            if link.kind == "article":
                self.report.links_found += 1
                if link.url not in self.candidates:
                    self.candidates.append(link.url)
            elif link.kind == "page" and self.report.next_page is None:
                self.report.next_page = self.canonical(link.url)

    def next_article(self) -> Iterator[Request]:
        tried = len(self.report.robots_skipped)
        if tried < min(len(self.candidates), MAX_ARTICLE_TRIES):
            yield Request(
                self.candidates[tried], callback=self.parse_article, errback=self.article_failed
            )

    def article_failed(self, failure: Failure) -> Iterator[Request]:
        url = failure.request.url  # type: ignore[attr-defined]
        if isinstance(failure.value, IgnoreRequest) and "robots.txt" in str(failure.value):
            self.report.robots_skipped.append(self.canonical(url))
            yield from self.next_article()
            return
        self.report.article_url = self.canonical(url)
        self.report.article_error = f"cannot fetch article {url}: {_reason(failure)}"

    def parse_article(self, response: Response) -> None:
        report = self.report
        request_url = response.request.url if response.request is not None else response.url
        report.article_url = self.canonical(request_url)
        content_type = response.headers.get("Content-Type")
        text, _ = decode_html(
            response.body,
            content_type.decode("latin-1") if content_type else None,
            self.site_def.encoding,
        )
        fetched_at = datetime.now(UTC)
        own = self.normalized(definition_only(text, response.url, self.site_def), fetched_at)
        crawl: dict[str, Any] | None = None
        problems = own[1]
        try:
            raw = extract_raw(text, response.url, self.site_def)
        except ExtractionError as exc:
            report.extraction_error = str(exc)
        else:
            crawl, problems = self.normalized(raw, fetched_at)
        if crawl is not None and not any(astuple(self.site_def.fields)):
            own = crawl, problems  # the definition's fields are the generic extractor's
        report.fields = field_reports(own[0], crawl)
        report.problems = problems

    def normalized(
        self, raw: RawArticle, fetched_at: datetime
    ) -> tuple[dict[str, Any], list[dict[str, str]]]:
        """The record as NormalizePipeline makes it during a crawl."""
        result = normalize(
            raw,
            site=self.site_def,
            fetched_at=fetched_at,
            category=self.start_page.category,
            district=self.start_page.district,
            canonical_url=self.canonical(raw.url),
            rewrite_url=self.origins.to_canonical,
        )
        return result.record, result.problem_dicts()


def definition_only(html: str, url: str, site: SiteDefinition) -> RawArticle:
    """What the definition's selectors alone find (extract_raw without the generic fallback)."""
    doc = Selector(text=html)
    rules = site.fields
    return RawArticle(
        url=url,
        title=first_text(doc, rules.title) or "",
        body_html=first_html(doc, rules.body) or "",
        meta_text=first_text(doc, rules.meta, joiner=" "),
        published_text=first_text(doc, rules.published_at, joiner=" "),
        source=first_text(doc, rules.source),
        editor=first_text(doc, rules.editor),
        author=first_text(doc, rules.author),
        district=first_text(doc, rules.district),
    )


def field_reports(own: dict[str, Any], crawl: dict[str, Any] | None) -> list[FieldReport]:
    """Each field as the definition finds it; `crawl` is the record the crawl would store."""

    def report(name: str, mine: Any, theirs: Any) -> FieldReport:
        found = mine not in (None, "", 0)
        return FieldReport(name, found, mine if found else None, None if found else theirs)

    other = crawl or {}
    reports = [report(name, own.get(name), other.get(name)) for name in TEXT_FIELDS]
    body = own.get("body_text") or ""
    reports.append(report("body", len(body), len(other.get("body_text") or "")))
    images = own.get("images") or []
    reports.append(report("images", len(images), len(other.get("images") or [])))
    reports.append(report("category", own.get("category"), other.get("category")))
    reports.append(report("district", own.get("district"), other.get("district")))
    return reports


def _reason(failure: Failure) -> str:
    if isinstance(failure.value, HttpError):
        return f"HTTP {failure.value.response.status}"
    return f"{type(failure.value).__name__}: {failure.getErrorMessage()}"


def check_settings(user_agent: str | None = None) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    # The report is the output; Scrapy's log would only bury it.
    overrides: dict[str, Any] = {"LOG_ENABLED": False, "WENHUA_PROGRESS": False}
    if user_agent:
        overrides["USER_AGENT"] = user_agent
    settings.setdict(overrides, priority="cmdline")
    return settings


def run_check(
    site: str,
    serve_at: str | None = None,
    user_agent: str | None = None,
    data_dir: str | None = None,
) -> CheckReport:
    """Check one site in a CrawlerProcess (once per process: the reactor cannot restart)."""
    process = CrawlerProcess(check_settings(user_agent))
    crawler = process.create_crawler(CheckSpider)
    process.crawl(crawler, site=site, serve_at=serve_at, data_dir=data_dir)
    process.start()
    spider = crawler.spider
    assert isinstance(spider, CheckSpider)
    return spider.report
