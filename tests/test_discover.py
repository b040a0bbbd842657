"""Zero-configuration discovery: `wenhua crawl --start-url` on a demo family's list page,
with no definition, archives exactly that family's articles with the right fields, through
the definition it infers (link discovery by the families' URL shapes)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from crawler.demo_portal import DemoPortal
from crawler.demo_portal.corpus import build_corpus
from crawler.extract.discovery import auto_definition, classify, site_root
from crawler.sitedefs import ListRules, load_site_file

ROOT = Path(__file__).resolve().parent.parent


def inferred_rules(tmp_path: Path) -> ListRules:
    path = tmp_path / "auto-x.cn.toml"
    path.write_text(auto_definition("http://x.cn/fengrun/col/col1661/index.html"), "utf-8")
    return load_site_file(path).list


def test_url_shapes_of_the_families(tmp_path: Path) -> None:
    rules = inferred_rules(tmp_path)

    def is_article_url(url: str) -> bool:
        return classify(url, "", rules) == "article"

    def is_list_url(url: str) -> bool:
        return classify(url, "", rules) == "list"

    for url in (
        "http://x.cn/lubei/whhd/201904/t20190423_512074.html",
        "http://x.cn/fengrun/art/2019/5/8/art_1661_1538205.html",
        "http://x.cn/new-13173.html",
        "http://x.cn/info/1021/5678.htm",
        "http://x.cn/a/whxw/2024/0315/1234.html",
        "http://x.cn/index.php?m=content&c=index&a=show&catid=12&id=345",
        "http://x.cn/xwzx/2019/12/03/content_5512.htm",
    ):
        assert is_article_url(url), url
    for url in (
        "http://x.cn/lubei/whhd/index_1.html",
        "http://x.cn/plus/list_2_3.html",
        "http://x.cn/fengrun/col/col1661/index.html?pageNum=2",
        "http://x.cn/news/?page=3",
    ):
        assert is_list_url(url) and not is_article_url(url), url
    assert site_root("/fengrun/col/col1661/index.html") == "/fengrun/"
    assert rules.scope == "/fengrun/"


def test_zero_configuration_crawl_archives_exactly_the_family(tmp_path: Path) -> None:
    data = tmp_path / "data"
    expected = {a.path: a for a in build_corpus() if a.site == "demo-hanweb-fengrun"}
    with DemoPortal() as portal:
        start = portal.url("/fengrun/col/col1661/index.html")
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "from archive.cli import main; main()",
                "crawl",
                "--start-url",
                start,
                "--data-dir",
                str(data),
                "--no-politeness",
                "--no-progress",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=ROOT,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    db = sqlite3.connect(data / "archive.sqlite")
    rows = db.execute(
        "SELECT a.url, v.title, v.published_at, v.source, v.editor FROM articles a "
        "JOIN article_versions v ON v.id = a.current_version_id"
    ).fetchall()
    got = {urlsplit(url).path: row for url, *row in rows}
    assert set(got) == set(expected)
    for path, (title, published_at, source, editor) in got.items():
        article = expected[path]
        assert title == article.title, path
        assert published_at[:16] == article.published_at[:16].replace("T", " ")[:16] or (
            published_at[:16].replace(" ", "T") == article.published_at[:16]
        ), path
        assert (source, editor) == (article.source, article.editor), path
    sites = [name for (name,) in db.execute("SELECT name FROM sites")]
    assert sites == ["auto-127.0.0.1"]


def test_malformed_links_cost_only_themselves_and_are_problems(tmp_path: Path) -> None:
    from parsel import Selector

    from crawler.extract.discovery import discover_links

    rules = inferred_rules(tmp_path)
    page = "http://x.cn/fengrun/index.html"
    bad = [
        "http://[",
        "http://x.cn:99999/fengrun/202401/t20240101_1.html",
        "http://x.cn:abc/fengrun/202401/t20240101_2.html",
        "javascript:void(0)",
    ]
    good = ["202401/t20240101_3.html", "//x.cn/fengrun/202401/t20240101_4.html"]
    html = "".join(f'<a href="{href}">x</a>' for href in [*bad, *good, bad[0]])
    problems: list[dict[str, str]] = []
    links = discover_links(Selector(text=html), page, rules, "x.cn", problems)
    assert [urlsplit(link.url).path for link in links] == [
        "/fengrun/202401/t20240101_3.html",
        "/fengrun/202401/t20240101_4.html",
    ]
    assert [p["raw"] for p in problems] == bad  # each once, in page order
    assert all(p["field"] == "link" and p["reason"] for p in problems)
