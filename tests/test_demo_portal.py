"""The bundled demo portal: deterministic corpus, real HTTP on loopback, site definitions that
reach every article, and golden fixtures that match the ground truth."""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from parsel import Selector
from PIL import Image

from crawler.demo_portal import DemoPortal, build_corpus
from crawler.demo_portal.corpus import (
    CANONICAL_BASE,
    CC_CATEGORIES,
    FAMILY_CULTURE_CLOUD,
    FAMILY_HANWEB,
    FAMILY_TRS,
    corpus,
    generate,
)
from crawler.demo_portal.images import image_bytes
from crawler.demo_portal.server import resolve, routes

ROOT = Path(__file__).resolve().parents[1]
SITES_DIR = ROOT / "crawler" / "sites"
DEMO_SITES = ("demo-culture-cloud", "demo-trs-lubei", "demo-hanweb-fengrun")
FIXTURES = ROOT / "tests" / "fixtures" / "extract"
CASES = sorted(p for p in FIXTURES.glob("demo-*") if p.is_dir())
SEED = json.loads(
    (ROOT / "crawler" / "demo_portal" / "data" / "seed_article.json").read_text(encoding="utf-8")
)


# --- helpers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def portal() -> Iterator[DemoPortal]:
    with DemoPortal() as running:
        yield running


def fetch(
    url: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:  # 304 and 404 arrive here
        return error.code, error.headers, error.read()


def decode(body: bytes, content_type: str) -> str:
    charset = content_type.lower().partition("charset=")[2].strip() or "utf-8"
    # GB2312/GBK labels are decoded as GB18030, their superset.
    return body.decode("gb18030" if charset in ("gbk", "gb2312") else charset)


def select(selector: Selector, query: str) -> list[str]:
    if query.startswith("xpath:"):
        return selector.xpath(query.removeprefix("xpath:")).getall()
    return selector.css(query).getall()


def first_match(selector: Selector, queries: list[str]) -> list[str]:
    for query in queries:
        found = [v for v in select(selector, query) if v.strip()]
        if found:
            return found
    return []


def load_site(name: str) -> dict[str, Any]:
    with (SITES_DIR / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


def element_text(selector: Selector, query: str) -> str:
    nodes = (
        selector.xpath(query.removeprefix("xpath:"))
        if query.startswith("xpath:")
        else selector.css(query)
    )
    return "".join(node.xpath("string()").get() or "" for node in nodes)


# --- the corpus ---------------------------------------------------------------------------


def test_corpus_is_deterministic() -> None:
    fresh = generate()
    assert fresh.articles == build_corpus()
    assert build_corpus() is build_corpus()  # cached
    assert dict(fresh.images) == dict(corpus().images)
    assert fresh.layouts == corpus().layouts


def test_page_and_image_bytes_are_stable() -> None:
    table = routes()
    for path in ("/", "/new-13173.html", "/list-xxzx-lunan-2.html", "/lubei/wlzx/index_1.html",
                 build_corpus()[-1].path):  # fmt: skip
        assert table[path]().body == table[path]().body == resolve(path).body
    spec = corpus().images["/upload/2020/11/new-13173/1.jpg"]
    assert image_bytes.__wrapped__(spec) == image_bytes(spec)


def test_corpus_counts_and_variety() -> None:
    articles = build_corpus()
    assert len(articles) >= 360
    assert len({a.path for a in articles}) == len(articles)
    assert len({a.district for a in articles}) >= 6
    assert len({a.category for a in articles}) >= 3
    assert {a.city for a in articles} == {"唐山市"}
    families = Counter(a.family for a in articles)
    assert set(families) == {FAMILY_CULTURE_CLOUD, FAMILY_TRS, FAMILY_HANWEB}
    cc = [a for a in articles if a.family == FAMILY_CULTURE_CLOUD]
    assert len({a.district for a in cc}) >= 5 and len({a.category for a in cc}) >= 3
    assert {a.published_at[:4] for a in articles} == {str(y) for y in range(2019, 2025)}
    layouts = corpus().layouts
    generated = [a for a in articles if a.id != 13173]
    assert all(3 <= sum(b.kind == "p" for b in layouts[a.path].blocks) <= 8 for a in generated)
    assert all(len(a.images) <= 4 for a in generated)
    styles = Counter(layouts[a.path].date_style for a in articles)
    assert styles["java-cst"] >= 5 and styles["java-gmt"] > styles["java-cst"]
    assert styles["day"] >= 3 and styles["minute"] >= 10
    kinds = Counter(b.kind for a in articles for b in layouts[a.path].blocks)
    assert kinds["caption"] >= 20 and kinds["leak"] >= 3 and kinds["credit"] >= 5
    assert any(a.author is None for a in articles if a.family == FAMILY_TRS)
    assert any(a.author for a in articles if a.family == FAMILY_TRS)
    assert all((a.editor or a.author) and a.source for a in articles)


def test_captions_and_leaks_are_not_body_paragraphs() -> None:
    data = corpus()
    for article in build_corpus():
        layout = data.layouts[article.path]
        for index, block in enumerate(layout.blocks):
            if block.kind == "caption":
                before = layout.blocks[index - 1]
                assert before.kind == "img" and article.images[before.image].caption == block.text
            if block.kind in ("caption", "leak"):
                assert block.text not in article.paragraphs


def test_seed_article_is_the_real_page() -> None:
    seed = corpus().by_path["/new-13173.html"]
    assert (seed.title, seed.published_at, seed.published_precision) == (
        "路南区公共文化服务体系示范区创建工作取得阶段性成果",
        "2020-11-02T11:20:24+08:00",
        "second",
    )
    assert (seed.source, seed.editor, seed.author) == ("路南发布", "王瑶", None)
    assert (seed.district, seed.category, seed.city) == ("路南区", "信息资讯", "唐山市")
    texts = [b["text"] for b in SEED["blocks"] if "text" in b]
    assert list(seed.paragraphs) == texts and "组织保障坚强有力" in seed.paragraphs
    assert [i.alt for i in seed.images] == [f"{n}.jpg" for n in range(1, 10)]
    assert len({image_bytes(corpus().images[i.path]) for i in seed.images}) == 9
    page = Selector(resolve("/new-13173.html").body.decode("utf-8"))
    assert element_text(page, "div.news-info") == SEED["meta_line"]
    nav = page.css("div.nav li a::text").getall()
    assert nav == [name for name, _ in CC_CATEGORIES] and len(nav) == 13


def test_trs_text_fits_gbk() -> None:
    for article in build_corpus():
        if article.family == FAMILY_TRS:
            for text in (
                article.title,
                *article.paragraphs,
                article.source or "",
                article.author or "",
            ):
                text.encode("gbk")  # strict: raises if a character is outside GBK


def test_shared_images_are_the_same_bytes_at_two_urls(portal: DemoPortal) -> None:
    by_spec: dict[Any, list[str]] = defaultdict(list)
    for path, spec in corpus().images.items():
        by_spec[spec].append(path)
    shared = [paths for paths in by_spec.values() if len(paths) > 1]
    assert len(shared) >= 3
    first, second = shared[0][:2]
    assert fetch(portal.url(first))[2] == fetch(portal.url(second))[2]


# --- the site definitions reach every article ---------------------------------------------


@pytest.mark.parametrize("site", DEMO_SITES)
def test_every_article_is_reachable_from_the_start_pages(portal: DemoPortal, site: str) -> None:
    definition = load_site(site)
    assert definition["name"] == site and definition["base_url"] == CANONICAL_BASE
    pattern = re.compile(definition["list"]["article_url_pattern"])
    reached: dict[str, tuple[str, str]] = {}
    pages = 0
    for start in definition["start"]:
        url: str | None = portal.url(start["url"])
        seen: set[str] = set()
        while url and url not in seen:
            seen.add(url)
            pages += 1
            assert pages < 200, "pagination does not end"
            status, headers, body = fetch(url)
            assert status == 200, url
            page = Selector(decode(body, headers["Content-Type"]))
            hrefs = {h for q in definition["list"]["article_links"] for h in select(page, q)}
            for href in hrefs:
                absolute = urljoin(url, href)
                if pattern.search(absolute):
                    label = (start["category"], start["district"])
                    assert reached.setdefault(urlsplit(absolute).path, label) == label
            nxt = first_match(page, definition["list"]["next_page"])
            url = urljoin(url, nxt[0]) if nxt else None
    truth = {a.path: (a.category, a.district) for a in build_corpus() if a.site == site}
    assert reached == truth


def test_every_internal_link_resolves() -> None:
    table = routes()
    pages = [t for t in table if not t.endswith((".jpg", ".png", ".txt"))]
    broken = []
    for target in pages:
        resource = resolve(target)
        page = Selector(decode(resource.body, resource.content_type))
        for href in page.css("a::attr(href), img::attr(src)").getall():
            if href.startswith(("javascript:", "https:")):
                continue
            parts = urlsplit(urljoin("http://demo.wenhua.local" + target, href))
            wanted = parts.path + (f"?{parts.query}" if parts.query else "")
            if wanted not in table:
                broken.append((target, href))
    assert len(pages) > 500 and broken == []


def test_list_pages_have_prev_numbered_and_next_links() -> None:
    page = Selector(resolve("/list-xxzx-lunan-2.html").body.decode("utf-8"))
    assert page.css("div.pages a.prev::attr(href)").get() == "/list-xxzx-lunan-1.html"
    assert "/list-xxzx-lunan-3.html" in page.css("div.pages a.num::attr(href)").getall()
    assert page.css("div.pages a.next::text").get() == "下一页"
    assert len(page.css("ul.news-list li")) == 15
    trs = resolve("/lubei/wlzx/index.html").body.decode("gb18030")
    assert (
        'createPageHTML(3, 0, "index", "html")' in trs
        and '<a href="index_1.html">下一页</a>' in trs
    )
    last = Selector(resolve("/fengrun/col/col1661/index.html?pageNum=4").body.decode("utf-8"))
    assert last.xpath("//td[@class='pager']/a[normalize-space(.)='下一页']").get() is None


# --- HTTP ---------------------------------------------------------------------------------


def test_gbk_page_as_served(portal: DemoPortal) -> None:
    article = next(a for a in build_corpus() if a.family == FAMILY_TRS)
    status, headers, body = fetch(portal.url(article.path))
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=GBK"
    assert b'<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />' in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("gb18030")
    assert article.title in text and article.paragraphs[0] in text


def test_images_decode_with_pillow(portal: DemoPortal) -> None:
    data = corpus()
    seed = data.by_path["/new-13173.html"]
    pngs = [p for p, s in data.images.items() if s.format == "PNG"][:3]
    sizes = []
    for path in [i.path for i in seed.images] + pngs:
        status, headers, body = fetch(portal.url(path))
        assert status == 200 and int(headers["Content-Length"]) == len(body)
        picture = Image.open(io.BytesIO(body))
        expected = data.images[path]
        assert picture.format == expected.format
        assert headers["Content-Type"] == f"image/{expected.format.lower()}"
        assert picture.size == (expected.width, expected.height)
        picture.load()
        if expected.format == "JPEG":
            sizes.append(len(body))
    assert 8_000 < sum(sizes) / len(sizes) < 35_000


def test_conditional_requests(portal: DemoPortal) -> None:
    for path in ("/new-13173.html", "/upload/2020/11/new-13173/3.jpg", "/lubei/"):
        status, headers, body = fetch(portal.url(path))
        assert status == 200 and int(headers["Content-Length"]) == len(body)
        etag, modified = headers["ETag"], headers["Last-Modified"]
        assert etag.startswith('"') and not etag.startswith("W/")
        status, again, body = fetch(portal.url(path), {"If-None-Match": etag})
        assert (status, body, again["ETag"]) == (304, b"", etag)
        assert fetch(portal.url(path), {"If-None-Match": '"other"'})[0] == 200
        assert fetch(portal.url(path), {"If-Modified-Since": modified})[0] == 304
        assert (
            fetch(portal.url(path), {"If-Modified-Since": "Mon, 01 Jan 2018 00:00:00 GMT"})[0]
            == 200
        )
        # If-None-Match wins when both are sent
        both = {"If-None-Match": '"other"', "If-Modified-Since": modified}
        assert fetch(portal.url(path), both)[0] == 200
    assert (
        fetch(portal.url("/new-13173.html"))[1]["Last-Modified"] == "Mon, 02 Nov 2020 03:20:24 GMT"
    )


def test_not_found_robots_head_and_hits(portal: DemoPortal) -> None:
    for missing in (
        "/no-such-page.html",
        "/new-1.html",
        "/list-xxzx-lunan-99.html",
        "/lubei/wlzx/index_9.html",
    ):
        status, headers, body = fetch(portal.url(missing))
        assert status == 404 and headers["Content-Type"].startswith("text/html")
        assert "404" in body.decode("utf-8")
    status, headers, body = fetch(portal.url("/robots.txt"))
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert body.decode() == "User-agent: *\nDisallow: /search\n"
    status, headers, body = fetch(portal.url("/new-13173.html"), method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 5000
    target = "/fengrun/col/col1661/index.html?pageNum=2"
    before = portal.hits[target]
    assert fetch(portal.url(target))[0] == 200
    assert portal.hits[target] == before + 1


def test_portal_lifecycle() -> None:
    idle = DemoPortal()
    with pytest.raises(RuntimeError):
        _ = idle.base_url
    with DemoPortal() as one, DemoPortal() as two:
        assert one.base_url != two.base_url
        assert fetch(one.url("/"))[0] == fetch(two.url("/"))[0] == 200


def test_module_entry_point_serves_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler.demo_portal", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        base = re.search(r"(http://127\.0\.0\.1:\d+)/", lines[1])
        assert base, lines
        assert fetch(base.group(1) + "/robots.txt")[0] == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# --- golden fixtures ----------------------------------------------------------------------


def test_fixtures_are_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(FIXTURES / "regenerate.py"), "--check"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_fixtures_cover_every_demo_site() -> None:
    sites = Counter(
        json.loads((c / "meta.json").read_text(encoding="utf-8"))["site"] for c in CASES
    )
    assert all(sites[name] >= 2 for name in DEMO_SITES) and len(CASES) >= 7


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_matches_ground_truth_and_site_definition(case: Path) -> None:
    meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    article = corpus().by_path[meta["url"].removeprefix(CANONICAL_BASE)]
    assert meta["site"] == article.site
    assert expected["body_text"] == "\n".join(article.paragraphs)
    assert expected["images"] == [
        {"url": CANONICAL_BASE + i.path, "alt": i.alt or None, "caption": i.caption}
        for i in article.images
    ]
    for key in ("title", "published_at", "published_precision", "source", "editor", "author"):
        assert expected[key] == getattr(article, key), key
    assert all(s in expected["body_text"] for s in expected["body_must_contain"])
    assert not [s for s in expected["body_must_not_contain"] if s in expected["body_text"]]
    # The site definition's selectors find the title, the meta line and every paragraph.
    fields = load_site(meta["site"])["fields"]
    page = Selector(decode((case / "page.html").read_bytes(), meta["content_type"]))
    assert first_match(page, fields["title"])[0].strip() == expected["title"]
    meta_text = element_text(page, fields["meta"][0])
    assert expected["source"] in meta_text or first_match(page, fields.get("source", []))
    body = element_text(page, fields["body"][0])
    assert all(p in body for p in article.paragraphs)
    srcs = select(page, fields["body"][0] + " img::attr(src)")
    assert [CANONICAL_BASE + urlsplit(urljoin(meta["url"], s)).path for s in srcs] == [
        i["url"] for i in expected["images"]
    ]
    if fields.get("editor"):
        assert first_match(page, fields["editor"]) == [expected["editor"]]
