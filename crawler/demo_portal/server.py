"""The demo portal's HTTP server: every family on one loopback port, told apart by path.

Responses are pure functions of the request path (see ``resolve``), rendered once and cached,
with a strong ``ETag`` derived from the bytes and a ``Last-Modified`` derived from the
articles shown, so conditional requests (304) behave like a well-configured static server.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast
from urllib.parse import urlsplit

from crawler.demo_portal import family_culture_cloud as cc
from crawler.demo_portal import family_hanweb as hanweb
from crawler.demo_portal import family_trs as trs
from crawler.demo_portal.corpus import (
    DISTRICTS,
    HANWEB_PREFIX,
    SITE_CULTURE_CLOUD,
    SITE_HANWEB,
    SITE_TRS,
    TRS_PREFIX,
    ImageSpec,
    corpus,
)
from crawler.demo_portal.images import content_type, image_bytes
from crawler.demo_portal.render import PORTAL_EPOCH, Resource, list_modified, newest

ROBOTS_TXT = "User-agent: *\nDisallow: /search\n"
SEARCH_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>站内搜索</title></head>'
    '<body><form action="/search"><input name="q"><button>搜索</button></form>'
    "<p>演示站不提供搜索。</p></body></html>"
)

_Render = Callable[[], Resource]

# Content-Type header and body encoding per site.
_CHARSETS = {
    SITE_CULTURE_CLOUD: (cc.CONTENT_TYPE, "utf-8"),
    SITE_TRS: (trs.CONTENT_TYPE, trs.ENCODING),
    SITE_HANWEB: (hanweb.CONTENT_TYPE, "utf-8"),
}
_LIST_TEMPLATES = {
    SITE_CULTURE_CLOUD: cc.render_list,
    SITE_TRS: trs.render_list,
    SITE_HANWEB: hanweb.render_list,
}


def _html(site: str, render: Callable[[], str], modified: datetime) -> _Render:
    content_type, encoding = _CHARSETS[site]
    return lambda: Resource(render().encode(encoding), content_type, modified)


def _image(spec: ImageSpec, modified: datetime) -> _Render:
    return lambda: Resource(image_bytes(spec), content_type(spec), modified)


@functools.cache
def routes() -> dict[str, _Render]:
    """Every URL the portal answers (path plus query where the query selects a page).

    Values render lazily: building the table is cheap, a page costs only when requested.
    """
    data = corpus()
    articles = data.articles
    table: dict[str, _Render] = {}
    cc_articles = [a for a in articles if a.site == SITE_CULTURE_CLOUD]
    home = _html(SITE_CULTURE_CLOUD, partial(cc.render_home, articles), newest(cc_articles))
    table["/"] = table["/index.html"] = home
    for name, slug, _ in DISTRICTS:
        mine = [a for a in cc_articles if a.district == name]
        render = partial(cc.render_home, articles, name)
        table[f"/area-{slug}.html"] = _html(SITE_CULTURE_CLOUD, render, newest(mine))
    for prefix, site, render_home in (
        (TRS_PREFIX, SITE_TRS, trs.render_home),
        (HANWEB_PREFIX, SITE_HANWEB, hanweb.render_home),
    ):
        columns = tuple(lst for lst in data.lists if lst.site == site)
        modified = newest([a for a in articles if a.site == site])
        table[f"{prefix}/"] = table[f"{prefix}/index.html"] = _html(
            site, partial(render_home, columns), modified
        )
    for lst in data.lists:
        for page in range(1, lst.page_count + 1):
            render = partial(_LIST_TEMPLATES[lst.site], lst, page)
            table[lst.page_path(page)] = _html(lst.site, render, list_modified(lst, page))
    for article in articles:
        layout = data.layouts[article.path]
        if article.site == SITE_CULTURE_CLOUD:
            render = partial(cc.render_article, article, layout)
        else:
            template = trs.render_article if article.site == SITE_TRS else hanweb.render_article
            render = partial(template, article, layout, data.column_of(article))
        table[article.path] = _html(article.site, render, article.published)
        for image in article.images:  # each image URL belongs to exactly one article
            table[image.path] = _image(data.images[image.path], article.published)
    table["/robots.txt"] = lambda: Resource(
        ROBOTS_TXT.encode(), "text/plain; charset=utf-8", PORTAL_EPOCH
    )
    table["/search"] = lambda: Resource(
        SEARCH_PAGE.encode(), "text/html; charset=utf-8", PORTAL_EPOCH
    )
    return table


NOT_FOUND = Resource(
    (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>404 页面不存在</title></head>'
        "<body><h1>404</h1><p>您访问的页面不存在或已被删除。</p>"
        '<p><a href="/">返回首页</a></p></body></html>'
    ).encode(),
    "text/html; charset=utf-8",
    PORTAL_EPOCH,
    status=404,
)


@functools.lru_cache(maxsize=4096)
def _render(key: str) -> Resource:
    return routes()[key]()


def resolve(target: str) -> Resource:
    """The response for a request target such as ``/list-xxzx-lunan-2.html`` or
    ``/fengrun/col/col1661/index.html?pageNum=2``. Unknown query strings are ignored, as a
    static server would; unknown paths give the 404 page."""
    parts = urlsplit(target)
    table = routes()
    for key in (f"{parts.path}?{parts.query}", parts.path):
        if key in table:
            return _render(key)
    return NOT_FOUND


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: crawlers reuse connections
    server_version = "wenhua-demo/1.0"
    sys_version = ""

    def do_GET(self) -> None:
        with cast(_Server, self.server).portal._in_flight():
            self._respond(send_body=True)

    def do_HEAD(self) -> None:
        with cast(_Server, self.server).portal._in_flight():
            self._respond(send_body=False)

    def _respond(self, send_body: bool) -> None:
        portal = cast(_Server, self.server).portal
        hit = portal._count(self.path)
        portal.user_agents.add(self.headers.get("User-Agent", ""))
        path = urlsplit(self.path).path
        faults = portal.faults
        if path in faults.redirect_loop:
            self.send_response(302)  # to itself with a new query: every hop looks new
            self.send_header("Location", f"{path}?hop={hit}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if hit <= faults.unavailable.get(path, 0):
            self.send_response(503)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if hit <= faults.drop.get(path, 0):
            self.close_connection = True  # no status line, no headers: the peer sees EOF
            return
        resource = portal.resource(self.path)
        if resource.status == 200 and hit <= faults.truncate.get(path, 0):
            self.send_response(200)
            self.send_header("Content-Type", resource.content_type)
            self.send_header("Content-Length", str(len(resource.body)))
            self.end_headers()
            self.wfile.write(resource.body[: len(resource.body) // 2])
            self.close_connection = True
            return
        if resource.status == 200 and self._not_modified(resource):
            self.send_response(304)
            self.send_header("ETag", resource.etag)
            self.send_header("Last-Modified", resource.last_modified_header)
            self.end_headers()
            return
        self.send_response(resource.status)
        self.send_header("Content-Type", resource.content_type)
        self.send_header("Content-Length", str(len(resource.body)))
        if resource.status == 200:
            self.send_header("ETag", resource.etag)
            self.send_header("Last-Modified", resource.last_modified_header)
        self.end_headers()
        if send_body:
            self.wfile.write(resource.body)

    def _not_modified(self, resource: Resource) -> bool:
        # RFC 9110: If-None-Match wins over If-Modified-Since when both are sent.
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = [tag.strip() for tag in if_none_match.split(",")]
            return "*" in tags or any(t.removeprefix("W/") == resource.etag for t in tags)
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since is None:
            return False
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return resource.last_modified.replace(microsecond=0) <= since

    def log_message(self, format: str, *args: object) -> None:
        # Quiet by design: tests and `wenhua demo` would otherwise print every request.
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # idle keep-alive connections must not block shutdown
    # socketserver listens with a backlog of 5; the demo crawl opens up to 32 connections at
    # once, and handshakes past the backlog are dropped by the kernel, so the crawler would
    # wait out its download timeout on them (and retry) instead of crawling.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], portal: DemoPortal) -> None:
        super().__init__(address, _Handler)
        self.portal = portal

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up mid-body (a crawler refusing a huge page) is not an error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


@dataclass
class Faults:
    """Opt-in misbehaviour, keyed by URL path; all off by default (`wenhua demo` is clean).

    ``unavailable`` / ``drop`` / ``truncate``: the first N hits of a path answer 503, close
    the connection without a response, or send half the body under the full Content-Length.
    ``gbk_no_charset``: paths served as bare ``text/html`` with a ``<meta>`` claiming UTF-8
    over GBK bytes. ``disallow``: extra robots.txt ``Disallow`` lines. ``redirect_loop``:
    paths that redirect to themselves, endlessly. ``huge``: paths answered with that many bytes.
    """

    unavailable: dict[str, int] = field(default_factory=dict)
    drop: dict[str, int] = field(default_factory=dict)
    truncate: dict[str, int] = field(default_factory=dict)
    gbk_no_charset: set[str] = field(default_factory=set)
    disallow: list[str] = field(default_factory=list)
    redirect_loop: set[str] = field(default_factory=set)
    huge: dict[str, int] = field(default_factory=dict)


GONE = Resource(
    (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>410 信息已撤回</title></head>'
        "<body><h1>410</h1><p>该信息已撤回。</p></body></html>"
    ).encode(),
    "text/html; charset=utf-8",
    PORTAL_EPOCH,
    status=410,
)


def _gbk_without_charset(resource: Resource) -> Resource:
    text = resource.body.decode("gb18030")
    text = re.sub(r"<meta[^>]*charset[^>]*>", "", text, flags=re.IGNORECASE)
    text = text.replace("<head>", '<head><meta charset="utf-8">', 1)
    return replace(resource, body=text.encode("gb18030"), content_type="text/html")


def _edited(resource: Resource) -> Resource:
    """The page as re-published by an editor: a correction note after the title."""
    charset = resource.content_type.partition("charset=")[2].lower() or "utf-8"
    if charset in ("gbk", "gb2312"):
        charset = "gb18030"
    note = "（更正）"
    text = resource.body.decode(charset)
    text = re.sub(r"(<h1[^>]*>)([^<]*)", lambda m: m.group(1) + m.group(2) + note, text, count=1)
    return replace(resource, body=text.encode(charset))


class DemoPortal:
    """The demo portal on a loopback port, served from a daemon thread.

    >>> with DemoPortal() as portal:            # doctest: +SKIP
    ...     urllib.request.urlopen(portal.base_url + "/new-13173.html")

    Between two crawls, `edit(path)` changes an article (new bytes, new ETag) and
    `withdraw(path)` makes it answer 410 (or 404), as a portal's editors would.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.faults = faults or Faults()
        self.edited: set[str] = set()
        self.withdrawn: dict[str, int] = {}
        self.user_agents: set[str] = set()
        self.hits: collections.Counter[str] = collections.Counter()
        # Requests being answered now, the most ever at once, and when each one arrived
        # (time.monotonic): what politeness across crawl workers is judged by.
        self.in_flight = 0
        self.max_in_flight = 0
        self.arrivals: list[float] = []
        self._hits_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("DemoPortal is not started: call start() or use it as a context")
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> DemoPortal:
        if self._server is not None:
            return self
        routes()  # build the corpus and URL table now, not inside the first request
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="demo-portal", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> DemoPortal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _count(self, target: str) -> int:
        """Count a hit of ``target``; returns how many hits its path has had, this one included."""
        path = urlsplit(target).path
        with self._hits_lock:
            self.hits[target] += 1
            if path != target:
                self.hits[path] += 1
            return self.hits[path]

    @contextlib.contextmanager
    def _in_flight(self) -> Iterator[None]:
        with self._hits_lock:
            self.arrivals.append(time.monotonic())
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            yield
        finally:
            with self._hits_lock:
                self.in_flight -= 1

    def edit(self, path: str) -> None:
        self.edited.add(path)

    def withdraw(self, path: str, status: int = 410) -> None:
        self.withdrawn[path] = status

    def resource(self, target: str) -> Resource:
        """`resolve` plus this instance's edits, withdrawals and faults."""
        path = urlsplit(target).path
        if path in self.withdrawn:
            return GONE if self.withdrawn[path] == 410 else NOT_FOUND
        if path == "/robots.txt" and self.faults.disallow:
            extra = "".join(f"Disallow: {p}\n" for p in self.faults.disallow)
            return Resource(
                (ROBOTS_TXT + extra).encode(), "text/plain; charset=utf-8", PORTAL_EPOCH
            )
        if path in self.faults.huge:
            size = self.faults.huge[path]
            body = b"<html><body>" + b"x" * size + b"</body></html>"
            return Resource(body, "text/html; charset=utf-8", PORTAL_EPOCH)
        resource = resolve(target)
        if path in self.edited and resource.status == 200:
            resource = _edited(resource)
        if path in self.faults.gbk_no_charset and resource.status == 200:
            resource = _gbk_without_charset(resource)
        return resource
