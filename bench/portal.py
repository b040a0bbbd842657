"""A culture-cloud portal of any size for benchmarks, served from its own process.

Articles are the demo portal's culture-cloud articles cloned under new ids, printed by the
demo's own templates (so the bundled `demo-culture-cloud` definition extracts them), spread
over one list per (category, district). Images reuse the demo's drawings (their bytes repeat
across clones, as a portal's logos and stock photos do; content addressing stores them once).
The server runs in a child process so it never shares the crawler's interpreter lock.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from crawler.demo_portal.corpus import (
    FAMILY_CULTURE_CLOUD,
    DemoArticle,
    DemoImage,
    DemoList,
    ImageSpec,
    corpus,
)
from crawler.demo_portal.family_culture_cloud import render_article, render_list
from crawler.demo_portal.images import image_bytes

FIRST_ID = 500_000
PAGE_SIZE = 15
# Page numbers a list page's pager prints (a window around the page, as TRS and Hanweb
# portals print 1–10): a pager of every page would make a list page's size grow with the
# portal (5 kB at 10,000 articles, 70 kB at 300,000), and the crawl's memory with it,
# which is not the growth with the size of the crawl that the memory benchmark measures.
PAGER_WINDOW = 10


@dataclasses.dataclass
class BenchPortal:
    articles: dict[str, tuple[DemoArticle, Any]]  # path -> (article, layout)
    lists: dict[str, tuple[DemoList, int]]  # page path -> (list, page)
    images: dict[str, ImageSpec]
    start_paths: list[str]


def build(count: int) -> BenchPortal:
    demo = corpus()
    templates = [a for a in demo.articles if a.family == FAMILY_CULTURE_CLOUD]
    articles: dict[str, tuple[DemoArticle, Any]] = {}
    images: dict[str, ImageSpec] = {}
    by_list: dict[tuple[str, str], list[DemoArticle]] = {}
    for n in range(count):
        template = templates[n % len(templates)]
        new_id = FIRST_ID + n
        new_images = []
        for k, image in enumerate(template.images):
            path = f"/upload/bench/{new_id}/{k + 1}.{image.path.rsplit('.', 1)[1]}"
            images[path] = demo.images[image.path]
            new_images.append(DemoImage(path=path, alt=image.alt, caption=image.caption))
        article = dataclasses.replace(
            template,
            id=new_id,
            path=f"/new-{new_id}.html",
            images=tuple(new_images),
            title=f"{template.title}（{n}）",
        )
        articles[article.path] = (article, demo.layouts[template.path])
        by_list.setdefault((template.category, template.district), []).append(article)
    lists: dict[str, tuple[DemoList, int]] = {}
    starts = []
    for i, ((category, district), members) in enumerate(sorted(by_list.items())):
        lst = DemoList(
            site="bench",
            family=FAMILY_CULTURE_CLOUD,
            key=f"c{i}-d{i}",
            name=category,
            category=category,
            district=district,
            articles=tuple(members),
            page_size=PAGE_SIZE,
            pager_window=PAGER_WINDOW,
        )
        for page in range(1, lst.page_count + 1):
            lists[lst.page_path(page)] = (lst, page)
        starts.append(lst.page_path(1))
    return BenchPortal(articles, lists, images, starts)


def _handler(portal: BenchPortal) -> type[BaseHTTPRequestHandler]:
    cache: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path
            body, ctype = self._resolve(path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _resolve(self, path: str) -> tuple[bytes | None, str]:
            if path == "/robots.txt":
                return b"User-agent: *\nDisallow: /search\n", "text/plain"
            if path in portal.images:
                spec = portal.images[path]
                ctype = "image/png" if spec.format == "PNG" else "image/jpeg"
                return image_bytes(spec), ctype
            html_type = "text/html; charset=utf-8"
            if path in cache:
                return cache[path], html_type
            if path in portal.articles:
                article, layout = portal.articles[path]
                body = render_article(article, layout).encode("utf-8")
            elif path in portal.lists:
                lst, page = portal.lists[path]
                body = render_list(lst, page).encode("utf-8")
            else:
                return None, ""
            if path in portal.lists:
                cache[path] = body
            return body, html_type

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


class _PortalServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: with the crawl's 32 connections opening at
    # once the kernel drops the rest of the handshakes, and the crawler waits out its download
    # timeout on them. A real portal's server accepts far more; so does this one.
    request_queue_size = 1024


def _serve(count: int, ready: Any) -> None:
    portal = build(count)
    server = _PortalServer(("127.0.0.1", 0), _handler(portal))
    ready.send((server.server_address[1], portal.start_paths))
    server.serve_forever()


@contextmanager
def serving(count: int) -> Iterator[tuple[str, list[str]]]:
    """Serve a portal of `count` articles in a child process; yields (base URL, start paths)."""
    parent, child = mp.Pipe()
    process = mp.get_context("spawn").Process(target=_serve, args=(count, child), daemon=True)
    process.start()
    port, starts = parent.recv()
    try:
        yield f"http://127.0.0.1:{port}", starts
    finally:
        process.terminate()
        process.join(10)


if __name__ == "__main__":
    with serving(300) as (base, starts):
        print(base, len(starts))
        threading.Event().wait(1)
