"""A portal no site definition describes, for the zero-configuration tests.

A TRS-like culture bureau site (某某市文化广电和旅游局) under ``/wlj/``: a home page, three
columns (新闻动态 and 文化活动 in UTF-8, 通知公告 in GBK with no charset in the header),
each paginated by 下一页, TRS article URLs (``…/YYYYMM/tYYYYMMDD_N.html``), one special
page of no known URL shape that reads like an article, and a robots.txt that forbids
``/wlj/internal/`` (the home page links an article there).

Articles answer conditional requests (``ETag`` / ``Last-Modified``, 304) unless built
with ``conditional=False``. Between crawls a test edits, withdraws (404) and adds
articles. The server counts what it answers: requests per path, conditional requests per
path, body bytes sent.

Distinct from the bundled demo portal (crawler/demo_portal): other paths, other
templates, mutable.
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

from PIL import Image

ROOT = "/wlj/"
PER_PAGE = 4
FORBIDDEN = "/wlj/internal/202401/t20240105_9001.html"
SPECIAL = "/wlj/zt/wenhua-zhounian.html"
COLUMNS = (
    # (path segment, name, encoding, article count)
    ("xwdt", "新闻动态", "utf-8", 6),
    ("tzgg", "通知公告", "gbk", 5),
    ("whhd", "文化活动", "utf-8", 5),
)
PHRASES = (
    "市文化广电和旅游局组织开展群众文化活动，丰富基层群众精神文化生活。",
    "活动现场观众络绎不绝，非物质文化遗产传承人现场展示传统技艺。",
    "各县区文化馆、图书馆同步举办展览、讲座和公益培训，吸引市民广泛参与。",
    "下一步，将持续推进公共文化服务体系建设，提升文化惠民工程覆盖面。",
)
SOURCES = ("市文化馆", "市图书馆", "市群艺馆")
EDITORS = ("王芳", "李明", "赵静")


@dataclass
class PortalArticle:
    path: str
    column: str
    title: str
    published: datetime
    source: str
    editor: str
    body: str
    image: str | None
    modified: datetime
    gone: bool = False

    @property
    def published_text(self) -> str:
        return self.published.strftime("%Y-%m-%d %H:%M")


@dataclass
class Stats:
    hits: Counter[str] = field(default_factory=Counter)
    conditional: Counter[str] = field(default_factory=Counter)
    not_modified: Counter[str] = field(default_factory=Counter)
    bytes_sent: int = 0

    def reset(self) -> None:
        self.hits.clear()
        self.conditional.clear()
        self.not_modified.clear()
        self.bytes_sent = 0


def _png(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (seed * 40 % 256, 120, 200)).save(out, "PNG")
    return out.getvalue()


def _body(n: int) -> str:
    return "".join(PHRASES[(n + i) % len(PHRASES)] for i in range(6))


class ZeroConfigPortal:
    def __init__(
        self, conditional: bool = True, delay: float = 0.0, per_column: int | None = None
    ) -> None:
        self.conditional = conditional
        self.delay = delay  # seconds before each article page is answered
        self.stats = Stats()
        self.lock = threading.Lock()
        self.articles: dict[str, PortalArticle] = {}
        self.images: dict[str, bytes] = {}
        self.clock = datetime(2024, 3, 20, 8, 0, tzinfo=UTC)
        self.serial = 1000
        for segment, _, _, count in COLUMNS:
            for _ in range(per_column or count):  # per_column: a bigger portal (bench)
                self._new(segment)
        special = PortalArticle(
            path=SPECIAL,
            column="zt",
            title="我市举办文化周年纪念活动",
            published=datetime(2024, 3, 1, 10, 0, tzinfo=UTC),
            source="市文化馆",
            editor="孙丽",
            body=_body(7),
            image=None,
            modified=self.clock,
        )
        self.articles[SPECIAL] = special
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- content ----------------------------------------------------------------------------

    def _new(self, segment: str) -> PortalArticle:
        self.serial += 1
        n = self.serial
        published = datetime(2024, 1, 1, 9, 30, tzinfo=UTC) + timedelta(days=n - 1000)
        path = f"{ROOT}{segment}/{published:%Y%m}/t{published:%Y%m%d}_{n}.html"
        image = None
        if segment == "xwdt":
            image = f"{ROOT}{segment}/{published:%Y%m}/W0{n}.png"
            self.images[image] = _png(n)
        column = next(name for seg, name, _, _ in COLUMNS if seg == segment)
        article = PortalArticle(
            path=path,
            column=segment,
            title=f"{column}：第{n}期文化惠民活动顺利举办",
            published=published,
            source=SOURCES[n % len(SOURCES)],
            editor=EDITORS[n % len(EDITORS)],
            body=_body(n),
            image=image,
            modified=self.clock,
        )
        self.articles[path] = article
        return article

    def live(self, segment: str | None = None) -> list[PortalArticle]:
        """Articles still on the portal, newest first (of one column, or all)."""
        found = [
            a
            for a in self.articles.values()
            if not a.gone and (segment is None or a.column == segment)
        ]
        return sorted(found, key=lambda a: (a.published, a.path), reverse=True)

    def allowed(self) -> list[PortalArticle]:
        """What a polite crawler can archive: every live article (robots.txt forbids only
        FORBIDDEN, which is not an article of the table)."""
        return self.live()

    def _tick(self) -> datetime:
        self.clock += timedelta(hours=1)
        return self.clock

    def edit(self, path: str) -> None:
        with self.lock:
            article = self.articles[path]
            article.body += "（本文已于当日更新：活动时间调整为周六上午九时。）"
            article.modified = self._tick()

    def withdraw(self, path: str) -> None:
        with self.lock:
            self.articles[path].gone = True

    def add(self, segment: str) -> PortalArticle:
        with self.lock:
            self._tick()
            article = self._new(segment)
            article.modified = self.clock
            return article

    # -- pages ------------------------------------------------------------------------------

    def _nav(self) -> str:
        links = "".join(
            f'<li><a href="{ROOT}{seg}/index.html">{name}</a></li>' for seg, name, _, _ in COLUMNS
        )
        return (
            f'<div class="nav"><ul><li><a href="{ROOT}index.html">首页</a></li>{links}'
            f'<li><a href="{ROOT}search/search.jsp?q=">站内搜索</a></li></ul></div>'
        )

    def _page(self, title: str, inner: str, charset: str) -> str:
        return (
            f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>{title}</title>'
            f"</head><body>{self._nav()}{inner}"
            '<div class="footer">版权所有：某某市文化广电和旅游局 备案号：冀ICP备00000000号</div>'
            "</body></html>"
        )

    def home(self) -> str:
        items = "".join(
            f'<li><a href="{a.path}">{a.title}</a><span>{a.published:%Y-%m-%d}</span></li>'
            for a in self.live()[:8]
        )
        inner = (
            f'<div class="main"><h2>最新动态</h2><ul class="list">{items}</ul>'
            f'<div class="zt"><a href="{SPECIAL}">专题：文化周年</a></div>'
            f'<div class="inner"><a href="{FORBIDDEN}">内部通知</a></div></div>'
        )
        return self._page("某某市文化广电和旅游局", inner, "utf-8")

    def column_page(self, segment: str, page: int) -> str | None:
        name, encoding = next((n, e) for s, n, e, _ in COLUMNS if s == segment)
        articles = [a for a in self.live(segment)]
        pages = max(1, -(-len(articles) // PER_PAGE))
        if page >= pages:
            return None
        shown = articles[page * PER_PAGE : (page + 1) * PER_PAGE]
        items = "".join(
            f'<li><a href="{a.path}" title="{a.title}">{a.title}</a>'
            f"<span>{a.published:%Y-%m-%d}</span></li>"
            for a in shown
        )
        pager = ""
        if page + 1 < pages:
            pager = f'<a href="index_{page + 1}.html">下一页</a>'
        inner = f'<div class="main"><h2>{name}</h2><ul class="list">{items}</ul>{pager}</div>'
        charset = "gb2312" if encoding == "gbk" else "utf-8"
        return self._page(f"{name}_某某市文化广电和旅游局", inner, charset)

    def article_page(self, article: PortalArticle) -> str:
        encoding = next((e for s, _, e, _ in COLUMNS if s == article.column), "utf-8")
        image = f'<p><img src="{article.image}" alt="活动现场"></p>' if article.image else ""
        others = [a for a in self.live(article.column) if a.path != article.path][:2]
        related = "".join(f'<li><a href="{a.path}">{a.title}</a></li>' for a in others)
        inner = (
            f'<div class="article"><h1 class="title">{article.title}</h1>'
            f'<div class="info">发布时间：{article.published_text}　来源：{article.source}'
            f"　编辑：{article.editor}</div>"
            '<div class="share"></div>'
            f'<div class="TRS_Editor"><p>{article.body}</p>{image}</div>'
            f'<div class="related"><h3>相关阅读</h3><ul>{related}</ul></div></div>'
        )
        charset = "gb2312" if encoding == "gbk" else "utf-8"
        return self._page(f"{article.title}_某某市文化广电和旅游局", inner, charset)

    # -- server -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    @property
    def start_url(self) -> str:
        return self.base_url + ROOT + "index.html"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def respond(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for a GET of `path`, counted."""
        with self.lock:
            self.stats.hits[path] += 1
            if path == "/robots.txt":
                return (
                    200,
                    {"Content-Type": "text/plain"},
                    b"User-agent: *\nDisallow: /wlj/internal/\n",
                )
            if path in self.images:
                return 200, {"Content-Type": "image/png"}, self.images[path]
            if path in ("/", ROOT, ROOT + "index.html"):
                return 200, _html("utf-8"), self.home().encode("utf-8")
            for segment, _, encoding, _ in COLUMNS:
                prefix = f"{ROOT}{segment}/"
                if path == prefix + "index.html" or (
                    path.startswith(prefix + "index_") and path.endswith(".html")
                ):
                    number = path[len(prefix + "index") :].removesuffix(".html").lstrip("_")
                    page = int(number) if number.isdigit() else 0
                    text = self.column_page(segment, page)
                    if text is None:
                        break
                    return 200, _html(None), text.encode(encoding)
            article = self.articles.get(path)
            asked = headers.get("If-None-Match"), headers.get("If-Modified-Since")
            if any(asked):
                self.stats.conditional[path] += 1
            if article is None or article.gone:
                return 404, _html("utf-8"), b"<html><body>404 Not Found</body></html>"
            encoding = next((e for s, _, e, _ in COLUMNS if s == article.column), "utf-8")
            body = self.article_page(article).encode(encoding)
            # Validators of the article itself (as a CMS keeps them), not of the page's bytes,
            # whose related-articles box changes with its neighbours.
            own = f"{article.path}|{article.modified.isoformat()}|{article.body}"
            etag = '"' + hashlib.sha256(own.encode("utf-8")).hexdigest()[:16] + '"'
            validators = {"ETag": etag, "Last-Modified": format_datetime(article.modified, True)}
            if self.conditional and _fresh(asked, etag, article.modified):
                self.stats.not_modified[path] += 1
                return 304, validators, b""
            return 200, {**_html(None if encoding == "gbk" else "utf-8"), **validators}, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if portal.delay and path in portal.articles:
                    time.sleep(portal.delay)
                status, headers, body = portal.respond(path, dict(self.headers.items()))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with portal.lock:
                    portal.stats.bytes_sent += len(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def _html(charset: str | None) -> dict[str, str]:
    return {"Content-Type": "text/html" + (f"; charset={charset}" if charset else "")}


def _fresh(asked: tuple[str | None, str | None], etag: str, modified: datetime) -> bool:
    if_none_match, if_modified_since = asked
    if if_none_match is not None:  # RFC 9110: it wins over If-Modified-Since
        return etag in [tag.strip() for tag in if_none_match.split(",")]
    if if_modified_since is not None:
        try:
            return modified <= parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
    return False
