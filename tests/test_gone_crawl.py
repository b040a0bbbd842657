"""Real crawls (subprocess `wenhua crawl`) of a tiny portal served by this test on
loopback: withdrawn articles are marked gone and never deleted, changed ones get a new
version with history, redirects are recorded as provenance, and every run states its
counts and failures."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from archive.db import Archive
from archive.models import Article, ArticleVersion, CrawlRun, Failure
from tests.archive_checks import row_counts

TIMEOUT = 600
SITE = "tiny-gone-test"
LAST_MODIFIED = "Fri, 01 Mar 2024 02:00:00 GMT"


def article_page(number: int, body: str) -> bytes:
    return (
        "<html><head><meta charset='utf-8'><title>x</title></head><body>"
        f"<h1 class='title'>第{number}篇文章</h1>"
        "<div class='meta'>发布时间:2024-03-01 10:00 来源:测试文旅局 编辑:张三</div>"
        f"<div class='content'>{body}</div></body></html>"
    ).encode()


class Portal:
    """The served state; the test flips it between crawls."""

    def __init__(self) -> None:
        self.bodies = {
            1: "<p>第一段</p><p>第二段</p>",
            2: "<p>将被撤下的文章</p>",
            3: "<p>搬家了</p>",
        }
        self.withdrawn: set[int] = set()

    def respond(self, path: str) -> tuple[int, dict[str, str], bytes]:
        html = {"Content-Type": "text/html; charset=utf-8"}
        if path == "/list.html":
            links = "".join(f"<li><a href='/a/{n}.html'>{n}</a></li>" for n in (1, 2, 3, 4))
            return 200, html, f"<html><body><ul class='list'>{links}</ul></body></html>".encode()
        if path == "/a/3.html":
            return 301, {"Location": "/a/3-moved.html"}, b""
        number = {"/a/1.html": 1, "/a/2.html": 2, "/a/3-moved.html": 3}.get(path)
        if number is None:
            return 404, html, b"<html><body>not found</body></html>"
        if number in self.withdrawn:
            return 410, html, b"<html><body>gone</body></html>"
        body = article_page(number, self.bodies[number])
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        return 200, {**html, "ETag": etag, "Last-Modified": LAST_MODIFIED}, body


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Portal, str]]:
    portal = Portal()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = portal.respond(self.path)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield portal, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def wenhua(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-c", "from archive.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env=env,
    )
    assert result.returncode == 0, f"wenhua {' '.join(args)}:\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def crawled(served: tuple[Portal, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    portal, base = served
    sites = tmp_path_factory.mktemp("sites")
    (sites / f"{SITE}.toml").write_text(
        f"""name = "{SITE}"
title = "测试门户"
family = "test"
base_url = "{base}"
checked = true

[region]
province = "河北省"
city = "唐山市"
district = "路南区"

[[start]]
url = "/list.html"
category = "信息资讯"

[list]
article_links = ["ul.list a::attr(href)"]
article_url_pattern = '/a/\\d+\\.html$'
next_page = []

[fields]
title = ["h1.title::text"]
meta = ["div.meta"]
body = ["div.content"]
remove = []
""",
        encoding="utf-8",
    )
    data = tmp_path_factory.mktemp("gone-archive")
    env = {**os.environ, "WENHUA_SITES": str(sites), "WENHUA_DATA": str(data)}
    env.pop("WENHUA_DB", None)
    crawl = ("crawl", SITE, "--no-politeness", "--no-progress")
    archive = Archive(f"sqlite:///{data / 'archive.sqlite'}")
    first = wenhua(env, *crawl)
    after_first = row_counts(archive)
    portal.withdrawn.add(2)
    portal.bodies[1] = "<p>第一段</p><p>改写后的第二段</p>"
    # Edits and withdrawals of known articles are found by re-checking them (#7).
    second = wenhua(env, *crawl, "--revisit-all")
    return {
        "base": base,
        "env": env,
        "archive": archive,
        "first": first.stdout,
        "second": second.stdout,
        "after_first": after_first,
    }


def test_withdrawn_article_is_marked_gone_not_deleted(crawled: dict[str, Any]) -> None:
    base, archive = crawled["base"], crawled["archive"]
    assert crawled["after_first"]["articles"] == 3
    after = row_counts(archive)
    assert after["articles"] == 3  # nothing deleted
    assert after["versions"] == crawled["after_first"]["versions"] + 1  # only 1 changed
    with archive.session() as session:
        gone = {a.url: a.gone_at for a in session.scalars(select(Article))}
        runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
        versions_of_2 = session.scalars(
            select(ArticleVersion)
            .join(Article, Article.id == ArticleVersion.article_id)
            .where(Article.url == f"{base}/a/2.html")
        ).all()
    assert gone[f"{base}/a/2.html"] is not None
    assert gone[f"{base}/a/1.html"] is None and gone[f"{base}/a/3.html"] is None
    assert len(versions_of_2) == 1 and versions_of_2[0].body_text == "将被撤下的文章"
    assert runs[-1].stats["wenhua/articles_gone"] == 1


def test_unknown_url_that_404s_stays_a_plain_failure(crawled: dict[str, Any]) -> None:
    base, archive = crawled["base"], crawled["archive"]
    with archive.session() as session:
        urls = set(session.scalars(select(Article.url)))
        failures = session.scalars(select(Failure).where(Failure.url == f"{base}/a/4.html")).all()
    assert f"{base}/a/4.html" not in urls
    assert [(f.kind, f.http_status) for f in failures] == [("fetch", 404), ("fetch", 404)]


def test_export_carries_gone_at(crawled: dict[str, Any]) -> None:
    base = crawled["base"]
    out = wenhua(crawled["env"], "export", "--format", "json")
    records = {r["url"]: r for r in json.loads(out.stdout)}
    assert len(records) == 3
    assert records[f"{base}/a/2.html"]["gone_at"] is not None
    assert records[f"{base}/a/2.html"]["body_text"] == "将被撤下的文章"
    assert records[f"{base}/a/1.html"]["gone_at"] is None


def test_redirect_keeps_link_identity_and_records_final_url(crawled: dict[str, Any]) -> None:
    base, archive = crawled["base"], crawled["archive"]
    served_body = article_page(3, "<p>搬家了</p>")
    with archive.session() as session:
        article = session.scalars(select(Article).where(Article.url == f"{base}/a/3.html")).one()
        version = session.get(ArticleVersion, article.current_version_id)
        assert version is not None
        assert version.final_url == f"{base}/a/3-moved.html"
        assert version.http_status == 200
        assert version.content_type == "text/html; charset=utf-8"
        assert version.last_modified == LAST_MODIFIED
        assert version.etag == '"' + hashlib.sha256(served_body).hexdigest()[:16] + '"'
        assert version.raw_sha256 == hashlib.sha256(served_body).hexdigest()
        assert version.fetched_at.tzinfo is not None


def test_runs_record_counts_and_failures(crawled: dict[str, Any]) -> None:
    env = crawled["env"]
    listing = json.loads(wenhua(env, "runs", "--format", "json").stdout)
    second, first = listing[0], listing[1]
    assert first["counts"] == {
        "pages": 5,  # list + 3 articles + the unknown 404
        "articles_new": 3,
        "articles_changed": 0,
        "articles_unchanged": 0,
        "articles_gone": 0,
        "images": 0,
        "failures": 1,
    }
    assert second["counts"] == {
        "pages": 5,
        "articles_new": 0,
        "articles_changed": 1,
        "articles_unchanged": 1,
        "articles_gone": 1,
        "images": 0,
        "failures": 2,
    }
    assert second["sites"] == [SITE] and second["status"] == "finished"
    assert second["started_at"] <= second["finished_at"]
    text = wenhua(env, "runs").stdout.splitlines()
    assert len(text) == 2 and "gone=1" in text[0] and "new=3" in text[1]

    shown = wenhua(env, "runs", "show", str(second["id"])).stdout
    base = crawled["base"]
    assert f"{base}/a/2.html  HTTP 410" in shown
    assert f"{base}/a/4.html  HTTP 404" in shown
    details = json.loads(wenhua(env, "runs", "show", str(second["id"]), "--format", "json").stdout)
    assert sorted((f["url"], f["http_status"], f["retries"]) for f in details["failures"]) == [
        (f"{base}/a/2.html", 410, 0),
        (f"{base}/a/4.html", 404, 0),
    ]


def test_history_of_a_changed_article(crawled: dict[str, Any]) -> None:
    base = crawled["base"]
    # Another spelling of the same URL: upper-case host, a fragment, a tracking parameter.
    spelled = base.replace("http://", "HTTP://") + "/a/1.html?utm_source=wx#top"
    found = json.loads(wenhua(crawled["env"], "history", spelled, "--format", "json").stdout)
    assert found["url"] == f"{base}/a/1.html"
    assert [v["version"] for v in found["versions"]] == [1, 2]
    assert found["current_version"] == 2
    old, new = found["versions"]
    assert new["changed_fields"] == ["body_text", "body_html"]
    assert "-第二段" in new["body_diff"] and "+改写后的第二段" in new["body_diff"]
    assert old["crawl_run_id"] < new["crawl_run_id"]
    assert old["content_hash"] != new["content_hash"]
    text = wenhua(crawled["env"], "history", spelled).stdout
    assert "version 2  (current)" in text and "+改写后的第二段" in text


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("history", "http://nowhere.example/a.html"), "http://nowhere.example/a.html"),
        (("runs", "show", "9999"), "no crawl run with id 9999"),
    ],
)
def test_unknown_url_or_run_is_a_one_line_error(
    crawled: dict[str, Any], args: tuple[str, ...], needle: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from archive.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env=crawled["env"],
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wenhua: error: ") and needle in lines[0]
