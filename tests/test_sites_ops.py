"""`wenhua sites list` and `wenhua sites check` (#7), run as a user runs them: the CLI in a
subprocess, real crawls of the demo portal served on loopback by the test, real SQLite and
PostgreSQL archives."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from parsel import Selector
from sqlalchemy import select

from archive.db import Archive
from archive.models import CrawlRun
from crawler.demo_portal import DemoPortal, build_corpus
from crawler.demo_portal.corpus import (
    CANONICAL_BASE,
    SITE_CULTURE_CLOUD,
    SITE_HANWEB,
    SITE_TRS,
    DemoArticle,
)
from crawler.demo_portal.server import Faults
from crawler.sitedefs import BUNDLED_DIR, load_site

TIMEOUT = 600
REPO = Path(__file__).resolve().parent.parent


def wenhua(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("WENHUA_DATA", "WENHUA_DB")}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", "from archive.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        cwd=cwd,
        env={**base, **(env or {})},
    )


def crawl(portal: DemoPortal, data: Path, db_url: str, *extra: str) -> None:
    result = wenhua(
        "crawl", SITE_TRS, "--serve-at", portal.base_url, "--no-politeness", "--no-progress",
        "--data-dir", str(data), "--db", db_url, *extra, cwd=data,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]


def trs_articles() -> list[DemoArticle]:
    return [a for a in build_corpus() if a.site == SITE_TRS]


def test_sites_list_shows_last_crawl_articles_and_failures(db_url: str, tmp_path: Path) -> None:
    arts = trs_articles()
    # One permanent failure in every run (a redirect loop); one article withdrawn before
    # the second run, which re-checks every known article.
    faults = Faults(redirect_loop={arts[0].path})
    with DemoPortal(faults=faults) as portal:
        crawl(portal, tmp_path, db_url)
        portal.withdraw(arts[1].path, 410)
        crawl(portal, tmp_path, db_url, "--revisit-all")

    result = wenhua("sites", "list", "--format", "json", "--db", db_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {row["site"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {p.stem for p in BUNDLED_DIR.glob("*.toml")}
    archive = Archive(db_url)
    with archive.session() as session:
        runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
        counts = [run.stats["counts"] for run in runs]
        last = runs[-1]
    archive.close()
    trs = rows[SITE_TRS]
    assert trs["last_run"]["id"] == last.id and trs["last_run"]["status"] == "finished"
    assert trs["runs"] == 2
    assert trs["articles"] == len(arts) - 2  # the redirect loop never archived, one withdrawn
    assert trs["gone"] == 1
    # The failure rows agree with what each run counted while it crawled.
    assert trs["failures_last_run"] == counts[-1]["failures"] == 2  # the loop and the 410
    assert trs["failures_total"] == sum(c["failures"] for c in counts) == 3
    for name in (SITE_CULTURE_CLOUD, SITE_HANWEB):
        assert rows[name]["last_run"] is None and rows[name]["articles"] == 0

    text = wenhua("sites", "list", "--db", db_url, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    block = text.stdout.split(SITE_TRS, 1)[1].split("\n    ")
    assert f"(run {last.id}, finished); 2 runs" in block[1]
    assert block[2].startswith(
        f"articles {len(arts) - 2} (gone 1); failures 2 in the last run, 3 in all"
    )
    assert text.stdout.split(SITE_HANWEB, 1)[1].splitlines()[1].strip() == "never crawled"
    assert text.stderr == ""  # no Scrapy or SQLAlchemy chatter


def test_sites_list_on_a_new_data_dir_creates_nothing(tmp_path: Path) -> None:
    result = wenhua("sites", "list", "--data-dir", str(tmp_path / "new"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("never crawled") == len(list(BUNDLED_DIR.glob("*.toml")))
    assert not (tmp_path / "new").exists()


def first_links(portal: DemoPortal, site: str) -> list[str]:
    """Paths of the article links on the definition's first start page, read independently
    of the spider."""
    definition = load_site(site)
    list_url = portal.url(definition.start[0].url)
    with urllib.request.urlopen(list_url, timeout=30) as response:
        page = Selector(text=response.read().decode(definition.encoding or "utf-8"))
    hrefs = page.css(definition.list.article_links[0]).getall()
    return [urlsplit(urljoin(list_url, href)).path for href in hrefs]


def corpus_article(url: str) -> DemoArticle:
    return next(a for a in build_corpus() if a.url == url)


@pytest.mark.parametrize("site", [SITE_CULTURE_CLOUD, SITE_TRS, SITE_HANWEB])
def test_check_reports_what_each_demo_definition_finds(site: str, tmp_path: Path) -> None:
    with DemoPortal() as portal:
        result = wenhua(
            "sites", "check", site, "--serve-at", portal.base_url, "--format", "json", cwd=tmp_path
        )
        hits = dict(portal.hits)
        links = [link.removeprefix(portal.base_url) for link in first_links(portal, site)]
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["reason"] is None
    assert report["article_links"] == len(set(links)) > 0
    assert report["next_page"] and report["next_page"].startswith(CANONICAL_BASE)
    article = corpus_article(report["article_url"])
    assert article.path == links[0]
    fields = {f["name"]: f for f in report["fields"]}
    expected = {
        "title": article.title,
        "published_at": article.published_at,
        "source": article.source,
        "editor": article.editor,
        "author": article.author,
        "body": len(article.body_text),
        "images": len(article.images) or None,
        "category": article.category,
        "district": article.district,
    }
    assert {name: f["value"] for name, f in fields.items()} == expected
    assert all(fields[name]["found"] for name in ("title", "published_at", "body"))
    assert report["problems"] == []
    # One list page and one article, nothing else (no images, no second page), no archive.
    fetched = {path for path in hits if path != "/robots.txt"}
    assert fetched == {load_site(site).start[0].url, article.path}
    assert list(tmp_path.iterdir()) == []


def test_check_serves_the_bundled_demo_itself_and_stays_quiet(tmp_path: Path) -> None:
    result = wenhua("sites", "check", SITE_TRS, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"site {SITE_TRS}"
    assert any(line.split()[:2] == ["title", "found"] for line in lines)
    assert "normalization problems: none" in lines
    # stderr holds only the demo portal's address: no Scrapy log lines.
    assert [line for line in result.stderr.splitlines() if line] == [
        line for line in result.stderr.splitlines() if line.startswith("demo portal serving at")
    ]
    assert list(tmp_path.iterdir()) == []


def test_check_of_a_broken_definition_reports_the_missing_title(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    text = (BUNDLED_DIR / f"{SITE_TRS}.toml").read_text(encoding="utf-8")
    text = text.replace(f'name = "{SITE_TRS}"', 'name = "broken-trs"')
    text = text.replace("div.article h1.article-title::text", "div.article h2.no-such-title::text")
    (sites / "broken-trs.toml").write_text(text, encoding="utf-8")
    with DemoPortal() as portal:
        result = wenhua(
            "sites", "check", "broken-trs", "--serve-at", portal.base_url,
            cwd=tmp_path, env={"WENHUA_SITES": str(sites)},
        )  # fmt: skip
    assert result.returncode == 1
    title = next(line for line in result.stdout.splitlines() if line.split()[:1] == ["title"])
    assert title.split()[1] == "missing"
    # The crawl itself would still get a title from the generic extractor; the check says so.
    assert "generic extractor gives:" in title
    assert [
        line.split()[1]
        for line in result.stdout.splitlines()
        if line.split()[:1] == ["published_at"]
    ] == ["found"]
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("wenhua: check failed: title not found")


def test_check_does_not_fetch_an_article_robots_txt_disallows(tmp_path: Path) -> None:
    with DemoPortal() as clean:
        links = first_links(clean, SITE_TRS)
    with DemoPortal(faults=Faults(disallow=[links[0]])) as portal:
        result = wenhua("sites", "check", SITE_TRS, "--serve-at", portal.base_url, cwd=tmp_path)
        hits = dict(portal.hits)
    assert result.returncode == 0, result.stderr
    assert (
        f"article {CANONICAL_BASE}{links[0]}: disallowed by robots.txt, not fetched"
        in result.stdout
    )
    assert hits.get(links[0], 0) == 0
    assert f"article {CANONICAL_BASE}{links[1]}" in result.stdout.splitlines()
    assert hits[links[1]] == 1


def test_check_of_an_unknown_site_is_one_line(tmp_path: Path) -> None:
    result = wenhua("sites", "check", "no-such-site", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "wenhua: error: unknown site 'no-such-site' (see `wenhua sites list`)"
    ]


def test_check_of_an_unreachable_site_names_the_url(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    result = wenhua("sites", "check", SITE_TRS, "--serve-at", url, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("wenhua: error: cannot fetch list page")
    assert f"{url}{load_site(SITE_TRS).start[0].url}" in lines[0]
    assert result.stdout == ""
