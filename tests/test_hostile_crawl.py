"""A hostile article crawled from a local server: nothing executable reaches API or UI."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from archive.config import resolve
from archive.db import Archive
from archive.web.app import create_app
from tests.test_web import EXECUTABLE

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]

LIST = """<html><body><ul class="news">
<li><a href="/art-1.html">恶意文章</a></li></ul></body></html>"""
ARTICLE = """<html><head><meta charset="utf-8"><title>恶意文章</title>
<script>alert('head')</script></head><body>
<div class="detail"><h1>文化活动通知</h1>
<div class="meta">发布时间：2023-02-09 12:10 来源：路南发布</div>
<div class="content">
<p onclick="alert(1)">路南区文化馆举办非遗展览。<script>alert(2)</script></p>
<p><img src="/upload/ok.png" alt="好图" onerror="alert(3)"></p>
<p><img src=x onerror="alert(4)"></p>
<p><a href="javascript:alert(5)">点我</a> <a href="JaVaScRiPt:alert(6)">再点</a></p>
<iframe src="http://evil.example/frame"></iframe>
<embed src="http://evil.example/x.swf"><object data="http://evil.example/o"></object>
<svg onload="alert(7)"><circle r="3"/></svg>
<p style="background:url(javascript:alert(8))">群众踊跃参观。</p>
</div></div></body></html>"""


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def hostile_portal() -> Iterator[str]:
    pages = {
        "/list.html": (LIST.encode(), "text/html; charset=utf-8"),
        "/art-1.html": (ARTICLE.encode(), "text/html; charset=utf-8"),
        "/upload/ok.png": (_png(), "image/png"),
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, kind = pages.get(self.path, (b"not found", "text/plain"))
            self.send_response(200 if self.path in pages else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_crawled_hostile_article_is_harmless(hostile_portal: str, tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "hostile.toml").write_text(
        f"""name = "hostile"
title = "恶意站点"
family = "test"
base_url = "{hostile_portal}"
checked = false

[region]
province = "河北省"
city = "唐山市"
district = "路南区"

[[start]]
url = "/list.html"
category = "信息资讯"

[list]
article_links = ["ul.news a::attr(href)"]

[fields]
title = ["div.detail h1::text"]
meta = ["div.detail div.meta"]
body = ["div.detail div.content"]
""",
        encoding="utf-8",
    )
    data = tmp_path / "data"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from archive.cli import main; main()",
            "crawl",
            "hostile",
            "--data-dir",
            str(data),
            "--no-politeness",
            "--no-progress",
        ],
        cwd=REPO,
        env={**os.environ, "WENHUA_SITES": str(sites)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    config = resolve(data)
    archive = Archive(config.db_url)
    with TestClient(create_app(config, archive)) as client:
        items = client.get("/api/articles", params={"q": "文化"}).json()["items"]
        assert len(items) == 1
        article_id = items[0]["id"]
        api = client.get(f"/api/articles/{article_id}").json()
        page = client.get(f"/articles/{article_id}").text.lower()
        feed = client.get("/api/changes").json()["items"]
    body = page.split('<article class="body">', 1)[1].split("</article>", 1)[0]
    for html in (api["body_html"].lower(), body, feed[0]["body_html"].lower()):
        for needle in (*EXECUTABLE, "style="):
            assert needle not in html, needle
    assert "<script" not in page and "javascript:" not in page
    assert "路南区文化馆举办非遗展览" in api["body_html"]
    archived = [i for i in api["images"] if i["sha256"]]
    assert archived and f'src="/images/{archived[0]["sha256"]}"' in api["body_html"]
    assert 'src="http' not in body
    archive.close()
