"""A hostile county culture portal of the TRS WCM family, written without reading the
other hostile portal, for `tests/test_blind_portal.py` (#16).

A real threaded HTTP server on 127.0.0.1 (port 0). Its list pages link articles in the
ways real portals get wrong (scheme-less, `../`, spaces and full-width characters,
malformed addresses), its articles lie about their encoding, paste Word's `C:\\...`
images, redirect in chains and loops, fail with 404/500/503, stall, or are cut short.
`manifest` names every article URL a list page links (path as the server sees it, with
what it does), so a test can ask what became of each one.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import struct
import threading
import time
import urllib.parse
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image

PREFIX = "/whj"
# How long the stalling article waits before it answers at all (the test's download
# timeout is far shorter); the server's stop ends the wait early.
STALL_SECONDS = 30.0

BODY_PARAGRAPHS = [
    "为进一步丰富群众精神文化生活，县文化馆近日在城区文化广场举办了主题文化活动。",
    "活动现场，民间艺人带来了剪纸、皮影、评剧等非物质文化遗产项目的展示和表演，吸引了众多市民驻足观看。",
    "县文化和旅游局有关负责人表示，将继续推动公共文化服务向基层延伸，让更多群众共享文化发展成果。",
    "据了解，今年以来全县已组织各类群众文化活动一百余场，参与群众累计超过两万人次。",
]


def png_bytes(color: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(color: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def huge_png_header() -> bytes:
    """A valid PNG header claiming 100000 x 100000 pixels, with a tiny IDAT: a pixel bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@dataclass
class Article:
    """One article the portal serves: `path` (decoded), what it does (`kind`), its title."""

    path: str
    kind: str
    title: str
    published: str
    images: list[str] = field(default_factory=list)


def article_html(
    article: Article, charset_meta: str = "utf-8", extra_head: str = "", body: str | None = None
) -> str:
    images = "".join(f'<p><img src="{src}" alt="图片"></p>' for src in article.images)
    paragraphs = body if body is not None else "".join(f"<p>{p}</p>" for p in BODY_PARAGRAPHS)
    return (
        "<!DOCTYPE html><html><head>"
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset_meta}">'
        f"{extra_head}<title>{article.title}_某某县文化和旅游局</title></head><body>"
        '<div class="nav">您的位置：首页 &gt; 文化动态</div>'
        '<div class="article">'
        f'<h1 class="article-title">{article.title}</h1>'
        f'<div class="article-info">发布时间：{article.published}　来源：某某县文化馆</div>'
        f'<div class="TRS_Editor">{paragraphs}{images}</div>'
        '<div class="zrbj">责任编辑：<span>王芳</span></div>'
        "</div>"
        '<div class="footer">主办：某某县文化和旅游局 ICP备12345678号</div>'
        "</body></html>"
    )


def list_html(links: list[tuple[str, str]], next_href: str | None, extra: str = "") -> str:
    items = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    nxt = f'<a href="{next_href}">下一页</a>' if next_href else ""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>文化动态</title></head><body>'
        f'<ul class="list">{items}</ul>{extra}'
        f'<div class="page"><span id="pagelinks">{nxt}</span></div>'
        "</body></html>"
    )


class BlindPortal:
    """Start with `with BlindPortal() as portal:`; `portal.base_url` is its origin."""

    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self.articles: dict[str, Article] = {}
        self.manifest: dict[str, str] = {}  # article path linked by a list page -> kind
        self.hits: dict[str, int] = {}
        self.stall_linked = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._build()

    # -- content ------------------------------------------------------------------
    def _add(self, number: int, kind: str, *, folder: str = "202401", **extra: Any) -> Article:
        day = 1 + number % 28
        path = f"{PREFIX}/{folder}/t202401{day:02d}_{1000 + number}.html"
        article = Article(
            path=path,
            kind=kind,
            title=f"某某县第{number}届群众文化活动周{kind}专场举行",
            published=f"2024-01-{day:02d} 09:{number % 60:02d}:00",
            **extra,
        )
        self.articles[path] = article
        return article

    def _build(self) -> None:
        img = f"{PREFIX}/images"
        self.plain = self._add(1, "plain", images=[f"{img}/good.png"])
        self.schemeless = self._add(2, "scheme-less")
        self.dotdot = self._add(3, "dotdot")
        self.spaced = self._add(4, "spaced", folder="202401/专题 活动")
        self.gbk_lie = self._add(5, "gbk-header-utf8")
        self.utf8_meta_gb = self._add(6, "utf8-meta-gb2312")
        self.bad_images = self._add(
            7,
            "bad-images",
            images=[
                "C:\\Users\\admin\\AppData\\Local\\Temp\\msohtmlclip1\\01\\clip_image002.jpg",
                "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
                "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
                f"{img}/missing.jpg",
                f"{img}/truncated.jpg",
                f"{img}/bomb.png",
                f"{img}/good2.png",
                "file:///C:/Users/admin/Desktop/1.jpg",
                "http://[::1/x.jpg",
            ],
        )
        self.chain = self._add(8, "redirect-chain")
        self.loop = self._add(9, "redirect-loop")
        self.self_redirect = self._add(10, "self-redirect")
        self.meta_refresh = self._add(11, "meta-refresh-to-listed")
        self.offsite = self._add(12, "redirect-offsite")
        self.not_found = self._add(13, "http-404")
        self.server_error = self._add(14, "http-500")
        self.unavailable = self._add(15, "http-503")
        self.empty = self._add(16, "empty-body")
        self.dup_a = self._add(17, "duplicate-a")
        self.dup_b = self._add(18, "duplicate-b")
        self.cut_chunked = self._add(19, "chunked-cut")
        self.gz_a = self._add(20, "on-gzip-list")
        self.gz_b = self._add(21, "on-gzip-list")
        self.stall = self._add(22, "stalls")
        self.bad_location = self._add(23, "redirect-to-malformed")
        self.bad_port_location = self._add(24, "redirect-to-bad-port")
        self.bad_refresh = self._add(25, "meta-refresh-malformed")
        self.not_html = self._add(26, "served-as-jpeg")
        self.js_location = self._add(27, "redirect-to-javascript")
        self.srcset = self._add(28, "bad-srcset")
        self.chain_end = f"{PREFIX}/content/final-1008.html"

    def link_stalling_article(self) -> None:
        """From now on the first list page links the article that never answers in time."""
        self.stall_linked = True

    def release_stalls(self) -> None:
        """The stalling article answers at once from now on (and any waiting request)."""
        self.stop_event.set()

    def _page_links(self, page: int) -> tuple[list[tuple[str, str]], str | None, str]:
        def rel(article: Article) -> str:  # relative to /whj/index.html
            return article.path.removeprefix(PREFIX + "/")

        links: list[tuple[str, str]]
        if page == 0:
            links = [
                ("./" + rel(self.plain), self.plain.title),
                (f"//127.0.0.1:{self.port}{self.schemeless.path}", self.schemeless.title),
                ("../whj/" + rel(self.dotdot), self.dotdot.title),
                (f"  {rel(self.spaced)}  ", self.spaced.title),
                (rel(self.gbk_lie), self.gbk_lie.title),
                (rel(self.utf8_meta_gb), self.utf8_meta_gb.title),
                (rel(self.bad_images), self.bad_images.title),
                ("http://[", "坏链接一"),
                (f"http://127.0.0.1:99999{PREFIX}/202401/t20240130_1099.html", "坏端口"),
                (f"http://127.0.0.1:abc{PREFIX}/202401/t20240130_1098.html", "非数字端口"),
                ("javascript:void(0)", "打印"),
                ("javascript:openWin('202401/t20240130_1097.html')", "弹窗"),
                ("mailto:whj@example.gov.cn", "联系我们"),
                ("http://[::1]:80:80/t20240130_1096.html", "坏地址"),
                ("２０２４/ｔ２０２４０１３０＿１０９５．ｈｔｍｌ", "全角链接"),
            ]
            if self.stall_linked:
                links.append((rel(self.stall), self.stall.title))
            return links, "index_1.html", ""
        if page == 1:
            links = [
                (rel(a), a.title)
                for a in (
                    self.chain,
                    self.loop,
                    self.self_redirect,
                    self.meta_refresh,
                    self.offsite,
                    self.not_found,
                    self.server_error,
                    self.unavailable,
                    self.empty,
                    self.dup_a,
                    self.dup_b,
                    self.cut_chunked,
                    self.bad_location,
                    self.bad_port_location,
                    self.bad_refresh,
                    self.not_html,
                    self.js_location,
                    self.srcset,
                )
            ]
            return links, "index_2.html", ""
        links = [(rel(self.gz_a), self.gz_a.title), (rel(self.gz_b), self.gz_b.title)]
        return links, "index.html", ""  # pagination loops back to the first page

    def _linked(self) -> None:
        self.manifest = {}
        for page in (0, 1, 2):
            for href, _ in self._page_links(page)[0]:
                try:
                    target = urllib.parse.urljoin(
                        f"{self.base_url}{PREFIX}/index.html", href.strip()
                    )
                    path = urllib.parse.unquote(urllib.parse.urlsplit(target).path)
                except ValueError:  # a malformed link: no article behind it
                    continue
                if path in self.articles:
                    self.manifest[path] = self.articles[path].kind

    # -- serving ------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def send(
                self,
                status: int,
                body: bytes,
                content_type: str = "text/html; charset=utf-8",
                headers: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                if "Content-Length" not in (headers or {}):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def redirect(self, status: int, location: str) -> None:
                self.send(status, b"", headers={"Location": location})

            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                path = urllib.parse.unquote(parts.path)
                portal.hits[path] = portal.hits.get(path, 0) + 1
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.route(path, self.headers.get("Host", ""))

            def route(self, path: str, host: str) -> None:
                if path == "/robots.txt":
                    self.send(200, b"User-agent: *\nAllow: /\n", "text/plain")
                    return
                pages = {
                    f"{PREFIX}/": 0,
                    f"{PREFIX}/index.html": 0,
                    f"{PREFIX}/index_1.html": 1,
                    f"{PREFIX}/index_2.html": 2,
                }
                if path in pages:
                    page = pages[path]
                    links, nxt, extra = portal._page_links(page)
                    html = list_html(links, nxt, extra).encode("utf-8")
                    if page == 2:
                        # gzip, with the Content-Length of the uncompressed page
                        self.send(
                            200,
                            gzip.compress(html),
                            headers={
                                "Content-Encoding": "gzip",
                                "Content-Length": str(len(html)),
                                "Connection": "close",
                            },
                        )
                        self.close_connection = True
                        return
                    self.send(200, html)
                    return
                if path.startswith(f"{PREFIX}/images/"):
                    self.image(path.rsplit("/", 1)[1])
                    return
                if path == portal.chain_end:
                    self.send(200, article_html(portal.chain).encode("utf-8"))
                    return
                if path == f"{PREFIX}/go/step1":
                    self.redirect(302, f"{PREFIX}/go/step2")
                    return
                if path == f"{PREFIX}/go/step2":
                    self.redirect(307, portal.chain_end)
                    return
                if path == f"{PREFIX}/loop/other.html":
                    self.redirect(302, portal.loop.path)
                    return
                article = portal.articles.get(path)
                if article is None:
                    self.send(404, "<h1>404 页面不存在</h1>".encode())
                    return
                self.article(article, host)

            def article(self, article: Article, host: str) -> None:
                kind = article.kind
                if host.startswith("localhost"):  # the off-site copy
                    self.send(200, article_html(article).encode("utf-8"))
                    return
                if kind == "gbk-header-utf8":
                    body = article_html(article, charset_meta="gbk").encode("gbk")
                    self.send(200, body, "text/html; charset=utf-8")
                elif kind == "utf8-meta-gb2312":
                    body = article_html(article, charset_meta="gb2312").encode("utf-8")
                    self.send(200, body, "text/html")
                elif kind == "redirect-chain":
                    self.redirect(301, f"{PREFIX}/go/step1")
                elif kind == "redirect-loop":
                    self.redirect(302, f"{PREFIX}/loop/other.html")
                elif kind == "self-redirect":
                    self.redirect(302, article.path)
                elif kind == "meta-refresh-to-listed":
                    refresh = f'<meta http-equiv="refresh" content="0; url={portal.plain.path}">'
                    self.send(200, article_html(article, extra_head=refresh, body="").encode())
                elif kind == "redirect-offsite":
                    self.redirect(302, f"http://localhost:{portal.port}{article.path}")
                elif kind == "http-404":
                    self.send(404, "<h1>404 页面不存在</h1>".encode())
                elif kind == "http-500":
                    self.send(500, b"<h1>Internal Server Error</h1><pre>java.lang.NullPointer")
                elif kind == "http-503":
                    self.send(503, b"busy", headers={"Retry-After": "1"})
                elif kind == "empty-body":
                    self.send(200, b"")
                elif kind.startswith("duplicate"):
                    self.send(200, article_html(portal.dup_a).encode("utf-8"))
                elif kind == "chunked-cut":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    whole = article_html(article).encode("utf-8")
                    half = whole[: len(whole) // 2]
                    self.wfile.write(f"{len(half):x}\r\n".encode() + half + b"\r\n")
                    self.wfile.write(f"{len(whole):x}\r\n".encode() + whole[:40])
                    self.wfile.flush()
                    self.close_connection = True
                elif kind == "redirect-to-malformed":
                    self.redirect(302, "http://[")
                elif kind == "redirect-to-bad-port":
                    self.redirect(301, f"http://127.0.0.1:99999{article.path}")
                elif kind == "redirect-to-javascript":
                    self.redirect(302, "javascript:history.back()")
                elif kind == "meta-refresh-malformed":
                    refresh = '<meta http-equiv="refresh" content="5; url=http://[">'
                    self.send(200, article_html(article, extra_head=refresh).encode())
                elif kind == "served-as-jpeg":
                    self.send(200, jpeg_bytes((5, 5, 5)), "image/jpeg")
                elif kind == "bad-srcset":
                    body = "".join(f"<p>{p}</p>" for p in BODY_PARAGRAPHS) + (
                        '<p><img src="images/good.png" srcset="http://[ 2x, '
                        'C:\\x\\a.jpg 3x, //127.0.0.1:99999/b.jpg 1x"></p>'
                    )
                    self.send(200, article_html(article, body=body).encode())
                elif kind == "stalls":
                    portal.stop_event.wait(STALL_SECONDS)
                    self.send(200, article_html(article).encode("utf-8"))
                else:
                    self.send(200, article_html(article).encode("utf-8"))

            def image(self, name: str) -> None:
                if name == "good.png":
                    self.send(200, png_bytes((200, 30, 30)), "image/png")
                elif name == "good2.png":
                    self.send(200, png_bytes((30, 30, 200)), "image/png")
                elif name == "truncated.jpg":
                    whole = jpeg_bytes((10, 150, 10))
                    self.send(200, whole[: len(whole) // 2], "image/jpeg")
                elif name == "bomb.png":
                    self.send(200, huge_png_header(), "image/png")
                else:
                    self.send(404, b"not found", "text/plain")

        return Handler

    # -- lifecycle ----------------------------------------------------------------
    @property
    def start_url(self) -> str:
        return f"{self.base_url}{PREFIX}/index.html"

    def linked_articles(self) -> dict[str, str]:
        """Every article path a list page links now -> what it does."""
        self._linked()
        return dict(self.manifest)

    def url(self, path: str) -> str:
        return self.base_url + urllib.parse.quote(path)

    def __enter__(self) -> BlindPortal:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
        time.sleep(0)
