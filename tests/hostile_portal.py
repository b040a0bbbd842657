"""A hostile portal on loopback: the ordinary damage real Chinese government sites do.

Every page a list links is one case: malformed links and image addresses (Word-pasted
`C:\\Users\\…` paths, `javascript:void(0)`, `mailto:`, `http://[`, ports out of range or
not numbers), redirects to a listed article, meta refreshes, self-redirects and loops,
redirect chains past the limit, redirects off the site, pages robots.txt forbids, a 404,
a page with no article, a gzip bomb, a broken image and a pixel bomb. `EXPECTED` says what
the archive must say about each linked URL; the test crawls the portal and checks it.

Slow pages (`/slow/N.html`) answer only once `release()` is called, for interruption tests.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import io
import threading
from dataclasses import dataclass, field
from types import TracebackType

from PIL import Image

OFF_SITE = "http://elsewhere.example"

ROBOTS = b"User-agent: *\nDisallow: /private/\n"

# (linked path, where the archive must list it, a substring of the stored reason)
EXPECTED: list[tuple[str, str, str]] = [
    ("/a/ok-1.html", "archived", ""),
    ("/a/ok-2.html", "archived", ""),
    ("/a/ok-3.html", "archived", ""),  # on the second list page
    ("/a/bad-refresh.html", "archived", ""),  # its meta refresh is malformed: page kept
    ("/a/refresh-new.html", "archived", ""),  # meta refresh to an article not listed
    ("/a/redirect-listed.html", "skipped", "duplicate of"),
    ("/a/refresh-listed.html", "skipped", "duplicate of"),
    ("/a/self.html", "skipped", "redirect loop"),
    ("/a/loop-a.html", "skipped", "redirect loop"),
    ("/a/off-site.html", "skipped", "off-site"),
    ("/private/secret.html", "skipped", "robots.txt"),
    ("/a/missing.html", "fetch", "HTTP 404"),
    ("/a/chain-0.html", "fetch", "too many redirects"),
    ("/a/bad-location.html", "fetch", "malformed address"),
    ("/a/bomb.html", "fetch", "DOWNLOAD_MAXSIZE"),
    ("/a/empty.html", "extraction", "no title found"),
]
# What the list pages link that is not an address to follow: problems of the list page.
BAD_LINKS = [
    "javascript:void(0)",
    "mailto:office@example.gov.cn",
    "http://[",
    "http://127.0.0.1:99999/a/x.html",
    "http://127.0.0.1:abc/a/x.html",
    "C:\\Users\\admin\\Desktop\\通知.html",
]
# Image addresses in ok-1's body that cannot be fetched: problems of the article.
BAD_IMAGES = [
    "C:\\Users\\ADMINI~1\\AppData\\Local\\Temp\\msohtmlclip1\\01\\clip_image002.jpg",
    "javascript:void(0)",
    "mailto:photo@example.gov.cn",
]
BAD_SRCSET = "http://[ 2x"
BAD_REFRESH = "0; url=http://["
MAX_REDIRECTS = 10  # Scrapy's REDIRECT_MAX_TIMES in crawler/settings.py
BOMB_BYTES = 64 * 1024 * 1024  # decompressed: twice DOWNLOAD_MAXSIZE


def article(title: str, body: str = "") -> bytes:
    return f"""<html><head><meta charset="utf-8"><title>{title}</title></head><body>
<div class="detail"><h1>{title}</h1>
<div class="meta">发布时间：2023-02-09 12:10 来源：路南发布</div>
<div class="content"><p>{title}：路南区文化馆举办非遗展览，群众踊跃参观。</p>{body}</div>
</div></body></html>""".encode()


def refresh_page(target: str, title: str | None = None) -> bytes:
    head = f'<meta http-equiv="refresh" content="{target}">'
    if title is None:
        return f"<html><head>{head}</head><body></body></html>".encode()
    return article(title).replace(b"<head>", f"<head>{head}".encode(), 1)


def png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, "PNG")
    return buffer.getvalue()


def list_page(links: list[str], next_page: str | None = None) -> bytes:
    items = "".join(f'<li><a href="{href}">新闻</a></li>' for href in links)
    more = f'<a class="next" href="{next_page}">下一页</a>' if next_page else ""
    return f'<html><body><ul class="news">{items}</ul>{more}</body></html>'.encode()


DEFINITION = """name = "{name}"
title = "恶意站点"
family = "test"
base_url = "{base}"
checked = false

[region]
province = "河北省"
city = "唐山市"
district = "路南区"

[[start]]
url = "{start}"
category = "信息资讯"

[list]
article_links = ["ul.news a::attr(href)"]
next_page = ["a.next::attr(href)"]

[fields]
title = ["div.detail h1::text"]
meta = ["div.detail div.meta"]
body = ["div.detail div.content"]
"""


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = "text/html; charset=utf-8"


class HostilePortal:
    """Serve the portal on a free loopback port while the `with` block runs."""

    def __init__(self, slow_pages: int = 0) -> None:
        self.slow_pages = slow_pages
        self.requests: list[str] = []
        self._released = threading.Event()
        self._server: http.server.ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def definition(self, name: str = "hostile", start: str = "/list.html") -> str:
        return DEFINITION.format(name=name, base=self.base_url, start=start)

    def release(self) -> None:
        self._released.set()

    def pages(self) -> dict[str, Response]:
        base = self.base_url
        ok_body = "".join(f'<p><img src="{src}" alt="坏图"></p>' for src in BAD_IMAGES)
        ok_body += f'<p><img srcset="{BAD_SRCSET}" alt="坏图"></p>'
        ok_body += '<p><img src="/img/ok.png" alt="好图"></p>'
        ok_body += '<p><img src="/img/broken.png" alt="坏文件"></p>'
        ok_body += '<p><img src="/img/pixels.png" alt="像素炸弹"></p>'
        listed = [path for path, _, _ in EXPECTED if path != "/a/ok-3.html"]
        pages: dict[str, Response] = {
            "/robots.txt": Response(body=ROBOTS, kind="text/plain"),
            "/list.html": Response(
                body=list_page([*listed, *BAD_LINKS, f"{OFF_SITE}/a/ok-9.html"], "/list-2.html")
            ),
            "/list-2.html": Response(body=list_page(["/a/ok-3.html"], "http://[")),
            "/a/ok-1.html": Response(body=article("第一篇", ok_body)),
            "/a/ok-2.html": Response(body=article("第二篇")),
            "/a/ok-3.html": Response(body=article("第三篇")),
            "/a/target-new.html": Response(body=article("刷新后的文章")),
            "/a/bad-refresh.html": Response(body=refresh_page(BAD_REFRESH, "刷新地址坏了")),
            "/a/refresh-new.html": Response(body=refresh_page("0; url=/a/target-new.html")),
            "/a/refresh-listed.html": Response(body=refresh_page("0; url=/a/ok-2.html")),
            "/a/redirect-listed.html": Response(302, headers={"Location": "/a/ok-2.html"}),
            "/a/self.html": Response(302, headers={"Location": "/a/self.html"}),
            "/a/loop-a.html": Response(302, headers={"Location": "/a/loop-b.html"}),
            "/a/loop-b.html": Response(302, headers={"Location": "/a/loop-a.html"}),
            "/a/off-site.html": Response(302, headers={"Location": f"{OFF_SITE}/a/1.html"}),
            "/a/bad-location.html": Response(302, headers={"Location": "http://["}),
            "/private/secret.html": Response(body=article("不许抓")),
            "/a/empty.html": Response(body=b"<html><body></body></html>"),
            "/a/bomb.html": Response(
                body=gzip.compress(b"\0" * BOMB_BYTES, compresslevel=9),
                headers={"Content-Encoding": "gzip"},
            ),
            "/img/ok.png": Response(body=png((32, 24)), kind="image/png"),
            "/img/broken.png": Response(body=b"\x89PNG\r\n\x1a\nnot really", kind="image/png"),
            # 8000 x 6000 = 48 Mpx, over the 40 Mpx limit; a few KB as a bilevel PNG.
            "/img/pixels.png": Response(body=png((8000, 6000), "1"), kind="image/png"),
        }
        for hop in range(MAX_REDIRECTS + 2):
            pages[f"/a/chain-{hop}.html"] = Response(
                302, headers={"Location": f"/a/chain-{hop + 1}.html"}
            )
        if self.slow_pages:
            pages["/slow-list.html"] = Response(
                body=list_page([f"/slow/{n}.html" for n in range(self.slow_pages)])
            )
        del base
        return pages

    def __enter__(self) -> HostilePortal:
        portal = self
        pages: dict[str, Response] = {}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                portal.requests.append(self.path)
                if self.path.startswith("/slow/"):
                    portal._released.wait(60)
                    answer = Response(body=article("慢"))
                else:
                    answer = pages.get(self.path, Response(404, b"not found", kind="text/plain"))
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.kind)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(answer.body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        pages.update(self.pages())
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
