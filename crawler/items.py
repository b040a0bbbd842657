"""What the spider hands to the pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archive.incremental import FrontierItem
from crawler.extract.rules import RawArticle

# Request meta: no article version will point at this response's record (list pages,
# images), so its location need not be kept.
NO_WARC_LINK = "wenhua_no_warc_link"


@dataclass
class Capture:
    """Provenance of one HTTP response: enough to prove what was served and when."""

    url: str  # canonical URL of the request
    final_url: str  # canonical URL after redirects
    fetched_at: str  # ISO 8601 UTC
    http_status: int
    content_type: str | None
    last_modified: str | None
    etag: str | None
    raw_sha256: str
    body: bytes = field(repr=False)


@dataclass
class ArticleItem:
    site: str
    capture: Capture
    raw: RawArticle
    category: str | None = None
    district: str | None = None
    # Filled by the pipelines, in order: normalize, images, storage.
    record: dict[str, Any] = field(default_factory=dict)
    problems: list[dict[str, str]] = field(default_factory=list)
    image_results: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FailureItem:
    """A page that did not become an article: kept with its raw capture when there is one."""

    site: str
    url: str
    kind: str  # fetch | extraction
    reason: str
    http_status: int | None = None
    capture: Capture | None = None
    retries: int = 0


@dataclass
class NotModifiedItem:
    """A known article answered 304 to a conditional request: unchanged, seen again."""

    site: str
    url: str  # canonical
    fetched_at: str  # ISO 8601 UTC


@dataclass
class ScheduledItem:
    """Requests for the durable frontier, and the page whose work they finish: stored
    together, so a crash leaves either the page or its children pending, never neither.

    The spider yields it before the requests themselves, so the archive writer, which
    stores in the order it is sent, records them before any of their own items."""

    site: str
    entries: list[FrontierItem]
    done: str | None = None  # canonical URL of the list page that listed them


@dataclass
class SkippedItem:
    """A scheduled request deliberately not archived: robots.txt forbids it, it leads off
    the site, it duplicates another URL of the run, its redirects loop."""

    site: str
    url: str  # canonical, as linked
    reason: str  # the kind of skip: robots.txt, off-site, duplicate, redirect loop, …
    detail: str  # what happened, with the URLs involved


@dataclass
class PageProblems:
    """Values of a page that could not be used (a malformed link, an off-site link, a
    meta refresh to `http://[`): kept for the archivist, the page goes on without them."""

    site: str
    url: str  # canonical URL of the page
    problems: list[dict[str, str]]  # field, raw, reason
