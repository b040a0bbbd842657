"""Chinese full-text search: exactly the articles a substring scan finds, on both backends."""

from __future__ import annotations

import functools
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

import archive.search as search_module
from archive.cli.search import search as search_command
from archive.config import resolve
from archive.db import Archive, alembic_config, current_revision, head_revision
from archive.models import Article, ArticleVersion, Base
from archive.search import (
    MAX_LIMIT,
    SearchError,
    SearchPage,
    article_of,
    document_keys,
    include_name,
    index_article,
    make_snippet,
    month_key,
    refresh_index,
    reindex_all,
    search,
    sort_key,
    term_keys,
)
from archive.store import ensure_site, store_article
from archive.web.app import create_app
from crawler.sitedefs import load_site

SITES = ("demo-culture-cloud", "demo-trs-lubei")
DISTRICTS = ("路南区", "路北区", "古冶区", "开平区", "丰南区")
SOURCES = ("路南发布", "唐山文旅", "开平融媒", None)
EDITORS = ("王瑶", "李娜", "张伟")
CATEGORIES = ("信息资讯", "文旅活动", "非遗保护")
WORDS = (
    "文化馆",
    "图书馆",
    "非遗",
    "展演",
    "剪纸",
    "皮影戏",
    "评剧",
    "演出",
    "读书分享会",
    "志愿服务",
    "广场舞",
    "书法",
    "展览",
    "公共文化",
    "乡村振兴",
    "群众",
    "南湖公园",
    "路南",
    "唐山",
    "文化",
    "活动",
    "免费开放",
    "少儿",
    "培训班",
    "戏曲进校园",
    "文艺汇演",
    "美术",
    "摄影",
    "非物质文化遗产",
    "WiFi",
    "wifi",
    "WIFI",
    "5G",
    "APP",
    "2020",
    "2021年",
    "12月",
    "第3届",
    "AI",
    "Q&A",
    '"OR"',
    "NEAR(",
    ")",
    "*",
    "it's",
    "OR",
    "AND",
    "NOT",
    "-",
    "^",
    "{col}",
    "100%",
    "a_b",
    "<b>",
    "&amp;",
    "Ａ",
    "é",
    "ß",
    "𠀀",
    "〇",
)
PUNCT = ("，", "。", "、", "；", "！", "“", "”", "《", "》", "：", " ", "\n", "·", "…")
INJECTIONS = (
    '"',
    "'",
    "*",
    "OR",
    "NEAR(",
    ")",
    '"OR"',
    "路南 OR 文化",
    "NEAR(文化 路南)",
    "文化*",
    "-非遗",
    "^文化",
    "grams:文化",
    '"" "',
    "%",
    "_",
    "\\",
    "'; DROP TABLE x; --",
)


@dataclass
class Doc:
    id: int
    title: str
    body: str
    published_at: str | None
    district: str | None
    source: str | None
    editor: str | None
    category: str | None
    site: str


def capture(when: str, url: str) -> dict[str, Any]:
    return {
        "fetched_at": when,
        "http_status": 200,
        "final_url": url,
        "content_type": "text/html; charset=utf-8",
        "last_modified": None,
        "etag": None,
        "raw_sha256": "b" * 64,
    }


def record(url: str, title: str, body: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "url": url,
        "title": title,
        "published_at": "2020-11-02T11:20:24+08:00",
        "published_precision": "second",
        "source": "路南发布",
        "editor": "王瑶",
        "author": None,
        "body_text": body,
        "body_html": f"<p>{body}</p>",
        "images": [],
        "site": SITES[0],
        "city": "唐山市",
        "district": "路南区",
        "category": "信息资讯",
    }
    base.update(fields)
    return base


site_definition = functools.cache(load_site)


def put(
    session: Session,
    rec: dict[str, Any],
    *,
    site: str = SITES[0],
    when: str = "2024-01-01T00:00:00+00:00",
) -> int:
    """Store one record the way a crawl does (which indexes it; indexing again is a no-op)."""
    site_id = ensure_site(session, site_definition(site)).id
    store_article(
        session,
        site_id=site_id,
        record=rec,
        capture=capture(when, rec["url"]),
        image_results=[],
        problems=[],
        run_id=None,
    )
    article_id = session.scalars(select(Article.id).where(Article.url == rec["url"])).one()
    index_article(session, article_id)
    return article_id


def phrase(rng: random.Random, low: int, high: int) -> str:
    parts = []
    for _ in range(rng.randint(low, high)):
        parts.append(rng.choice(WORDS))
        if rng.random() < 0.4:
            parts.append(rng.choice(PUNCT))
    return "".join(parts)


def build_corpus(archive: Archive, size: int = 200, seed: int = 4) -> dict[int, Doc]:
    """`size` articles from the phrase banks; some rewritten (the old text must no longer
    be found), some withdrawn. Returns the current text of each, by article id."""
    rng = random.Random(seed)
    docs: dict[int, Doc] = {}
    with archive.session() as session:
        for n in range(size):
            day = f"20{rng.randint(18, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            hour = rng.randint(0, 23)
            fields = {
                "published_at": None if n % 37 == 0 else f"{day}T{hour:02d}:00:00+08:00",
                "district": rng.choice(DISTRICTS),
                "source": rng.choice(SOURCES),
                "editor": rng.choice(EDITORS),
                "category": rng.choice(CATEGORIES),
            }
            site = SITES[n % 2]
            url = f"http://demo.wenhua.local/new-{n}.html"
            title, body = phrase(rng, 1, 4), phrase(rng, 10, 60)
            if n % 10 == 3:  # an older version with other words, replaced below
                old = record(url, "旧标题鑫鑫", "旧正文：鑫淼焱垚" + body, **fields)
                put(session, old, site=site)
            article_id = put(
                session,
                record(url, title, body, **fields),
                site=site,
                when="2024-02-01T00:00:00+00:00",
            )
            docs[article_id] = Doc(
                article_id,
                title,
                body,
                fields["published_at"],
                fields["district"],
                fields["source"],
                fields["editor"],
                fields["category"],
                site,
            )
        for article_id in list(docs)[::25]:
            session.execute(
                update(Article)
                .where(Article.id == article_id)
                .values(gone_at=datetime(2024, 3, 1, tzinfo=UTC))
            )
    return docs


def scan(docs: dict[int, Doc], query: str, **filters: Any) -> list[int]:
    """The reference: a Python substring scan, in the documented rank order."""
    terms = list(dict.fromkeys(query.split()))
    chosen = []
    for doc in docs.values():
        if not all(term in doc.title or term in doc.body for term in terms):
            continue
        if any(getattr(doc, key) != value for key, value in filters.items()):
            continue
        in_title = sum(term in doc.title for term in terms)
        hits = sum(doc.title.count(term) + doc.body.count(term) for term in terms)
        chosen.append(((-in_title, -hits), doc.published_at or "", doc.id))
    # Python sorts are stable: by id, then newest first (None last), then by rank.
    chosen.sort(key=lambda item: item[2])
    chosen.sort(key=lambda item: item[1], reverse=True)
    chosen.sort(key=lambda item: item[0])
    return [item[2] for item in chosen]


def found(archive: Archive, query: str, **filters: Any) -> list[int]:
    with archive.session() as session:
        page = search(session, query, limit=MAX_LIMIT, **filters)
    ids = [hit.id for hit in page.items]
    assert page.total == len(ids)
    return ids


@pytest.fixture
def corpus(db_url: str) -> Iterator[tuple[Archive, dict[int, Doc]]]:
    archive = Archive(db_url)
    yield archive, build_corpus(archive)
    archive.close()


# --- exactly the substring scan --------------------------------------------------------


def test_fixed_queries_equal_the_substring_scan(corpus: tuple[Archive, dict[int, Doc]]) -> None:
    archive, docs = corpus
    rng = random.Random(7)
    texts = [text for doc in docs.values() for text in (doc.title, doc.body)]

    def pieces(length: int, count: int) -> list[str]:
        out = []
        while len(out) < count:
            text = rng.choice(texts)
            if len(text) >= length:
                start = rng.randrange(len(text) - length + 1)
                out.append(text[start : start + length])
        return out

    queries = (
        pieces(1, 30)
        + pieces(2, 40)
        + pieces(3, 25)
        + pieces(5, 10)
        + pieces(12, 5)
        + [
            "文",
            "化",
            "路南",
            "非遗",
            "南湖",
            "文化馆",
            "非物质文化遗产",
            "皮影戏演出",
            "WiFi",
            "wifi",
            "Wi",
            "fi",
            "2020",
            "20",
            "5G",
            "AI",
            "第3届",
            "12月",
            "Ａ",
            "é",
            "𠀀",
            "〇",
            "，",
            "。路",
            "”",
            "文化 2020",
            "路南 非遗 群众",
            "文化\u3000活动",
            "旧标题",
            "鑫淼",
            "垚",
            "不存在的词",
            "Zebra",
            "42",
        ]
        + list(INJECTIONS)
    )
    for query in queries:
        assert found(archive, query) == scan(docs, query), query
    assert found(archive, "旧正文") == [] and found(archive, "鑫") == []


def test_random_substrings_and_strings(corpus: tuple[Archive, dict[int, Doc]]) -> None:
    archive, docs = corpus
    texts = [text for doc in docs.values() for text in (doc.title, doc.body)]
    alphabet = sorted({ch for text in texts for ch in text}) + list("鑫Zß😀\u3000\x00")

    def cut(index: int, start: int, length: int) -> str:
        text = texts[index]
        start %= len(text)
        return text[start : start + length]

    substring = st.builds(
        cut, st.integers(0, len(texts) - 1), st.integers(0, 10**6), st.integers(1, 6)
    )
    invented = st.text(st.sampled_from(alphabet), min_size=1, max_size=4)
    anything = st.text(min_size=1, max_size=3)
    queries = st.lists(st.one_of(substring, invented, anything), min_size=1, max_size=3)

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(queries.map(" ".join))
    def check(query: str) -> None:
        assert found(archive, query) == scan(docs, query)

    check()


def test_filters_equal_the_scan(corpus: tuple[Archive, dict[int, Doc]]) -> None:
    archive, docs = corpus
    for query in ("文化", "", "路南 非遗"):
        for filters in (
            {"site": SITES[1]},
            {"district": "古冶区"},
            {"source": "唐山文旅"},
            {"editor": "李娜"},
            {"category": "非遗保护"},
            {"district": "路北区", "editor": "张伟", "site": SITES[0]},
        ):
            expected = scan(docs, query, **filters)
            assert found(archive, query, **filters) == expected, (query, filters)
    # Dates: inclusive on both ends, on the day of publication (+08:00).
    day = next(doc.published_at for doc in docs.values() if doc.published_at)[:10]
    on_day = {i for i, doc in docs.items() if (doc.published_at or "")[:10] == day}
    assert set(found(archive, "", date_from=day, date_to=day)) == on_day
    later = {i for i, doc in docs.items() if (doc.published_at or "") >= "2022-01-01"}
    assert set(found(archive, "", date_from="2022-01-01")) == later
    upto = {i for i, doc in docs.items() if doc.published_at and doc.published_at < "2020-01-01"}
    assert set(found(archive, "", date_to="2019-12-31")) == upto


def test_empty_query_lists_newest_first_and_pages(corpus: tuple[Archive, dict[int, Doc]]) -> None:
    archive, docs = corpus
    everything = found(archive, "")
    assert everything == scan(docs, "")
    dates = [docs[i].published_at for i in everything if docs[i].published_at]
    assert dates == sorted(dates, reverse=True)
    assert docs[everything[-1]].published_at is None  # undated last
    with archive.session() as session:
        first = search(session, "", limit=7)
        second = search(session, "", limit=7, offset=7)
        beyond = search(session, "文化", offset=5000)
    assert [h.id for h in first.items + second.items] == everything[:14]
    assert first.total == second.total == len(docs)
    assert beyond.items == [] and beyond.total == len(scan(docs, "文化"))


def newest_first(docs: dict[int, Doc], ids: list[int]) -> list[int]:
    """The documented order past the exact-count bound: newest first, undated last, then
    lower id."""
    ordered = sorted(ids)
    ordered.sort(key=lambda i: docs[i].published_at or "", reverse=True)
    return ordered


def every_page(archive: Archive, query: str, size: int, **filters: Any) -> list[SearchPage]:
    pages: list[SearchPage] = []
    with archive.session() as session:
        while True:
            page = search(session, query, limit=size, offset=size * len(pages), **filters)
            if not page.items:
                return pages
            pages.append(page)


def test_past_the_bound_pages_bring_every_match_newest_first(
    corpus: tuple[Archive, dict[int, Doc]], monkeypatch: pytest.MonkeyPatch
) -> None:
    archive, docs = corpus
    bound = 12
    monkeypatch.setattr(search_module, "EXACT_MATCHES", bound)
    checked_bounded = checked_exact = 0
    for query, filters in (
        ("文化", {}),
        ("", {}),
        ("文", {"district": "古冶区"}),
        ("文化馆", {}),
        ("路南 非遗", {}),
        ("非物质文化遗产", {}),
        ("", {"site": SITES[1]}),
        ("", {"date_from": "2022-01-01"}),
        ("不存在的词", {}),
        ("文化", {"district": "古冶区", "editor": "李娜", "category": "非遗保护"}),
        ("", {"district": "路北区", "editor": "张伟", "site": SITES[0]}),
    ):
        dated = filters.pop("date_from", None)
        expected = scan(docs, query, **filters)
        if dated is not None:
            expected = [i for i in expected if (docs[i].published_at or "") >= dated]
            filters["date_from"] = dated
        pages = every_page(archive, query, 5, **filters)
        ids = [hit.id for page in pages for hit in page.items]
        assert sorted(ids) == sorted(expected), (query, filters)  # each match once
        if len(expected) > bound:
            checked_bounded += 1
            assert ids == newest_first(docs, expected), (query, filters)
            for number, page in enumerate(pages):
                assert not page.total_exact
                shown = 5 * number + len(page.items)
                assert max(bound, shown) <= page.total <= len(expected)
        else:
            checked_exact += bool(expected)
            assert ids == expected, (query, filters)  # ranked as documented
            assert all(page.total_exact and page.total == len(expected) for page in pages)
    assert checked_bounded >= 4 and checked_exact >= 2


def test_withdrawn_articles_are_found_and_flagged(corpus: tuple[Archive, dict[int, Doc]]) -> None:
    archive, docs = corpus
    with archive.session() as session:
        hits = search(session, "", limit=MAX_LIMIT).items
    gone = {hit.id for hit in hits if hit.gone_at}
    assert gone == set(list(docs)[::25])
    assert all(hit.gone_at == "2024-03-01T08:00:00+08:00" for hit in hits if hit.id in gone)


# --- ranking, snippets, index maintenance ----------------------------------------------


def test_title_matches_rank_first_then_occurrences_then_newest(db_url: str) -> None:
    archive = Archive(db_url)
    with archive.session() as session:
        ids = {
            name: put(
                session,
                record(f"http://demo.wenhua.local/{name}.html", title, body, published_at=when),
            )
            for name, title, body, when in (
                ("body-tie-old", "通知", "剪纸一次。", "2020-01-01T08:00:00+08:00"),
                ("body-many", "通知", "剪纸剪纸，剪纸和剪纸。", "2019-01-01T08:00:00+08:00"),
                ("title", "剪纸展", "无关的正文。", "2018-01-01T08:00:00+08:00"),
                ("body-tie-new", "通知", "剪纸一次。", "2021-01-01T08:00:00+08:00"),
                ("body-tie-old-2", "通知", "剪纸一次。", "2020-01-01T08:00:00+08:00"),
                ("none", "通知", "剪刀和纸。", "2022-01-01T08:00:00+08:00"),
                ("body-huge", "通知", "剪纸" * ((1 << 12) + 7), None),
            )
        }
        page = search(session, "剪纸")
    order = ["title", "body-huge", "body-many", "body-tie-new", "body-tie-old", "body-tie-old-2"]
    assert [hit.id for hit in page.items] == [ids[name] for name in order]
    scores = [hit.score for hit in page.items]
    assert scores == sorted(scores, reverse=True) and scores[0] >= 1 > scores[1]
    assert page.items[0].snippet == "无关的正文。"  # a title-only match shows the body's start
    assert page.items[1].score == ((1 << 12) + 7) / ((1 << 12) + 8)
    archive.close()


def test_long_terms_pass_over_candidates_without_the_term(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 3+-character term is looked up by its pairs; articles with the pairs apart but not
    the term lie between the matches: every match is found once, ranked on its counts
    below the bound, newest first past it."""
    archive = Archive(db_url)
    with archive.session() as session:
        ids = {}
        for n in range(24):
            if n % 3:
                body = "文化宫旁边是美化馆。"  # 文化 and 化馆, never 文化馆
            else:
                body = "文化馆文化馆，又是文化馆。" if n % 2 else "文化馆开放。"
            rec = record(
                f"http://demo.wenhua.local/long-{n}.html",
                "通知",
                body,
                published_at=f"{2000 + n}-01-01T08:00:00+08:00",
            )
            ids[n] = put(session, rec)
    with archive.session() as session:
        ranked = search(session, "文化馆")
    # three occurrences before one, then newest first
    assert [hit.id for hit in ranked.items] == [ids[n] for n in (21, 15, 9, 3, 18, 12, 6, 0)]
    assert ranked.total_exact and ranked.total == 8
    assert [hit.score for hit in ranked.items[3:5]] == [3 / 4, 1 / 2]

    monkeypatch.setattr(search_module, "EXACT_MATCHES", 3)
    pages = every_page(archive, "文化馆", 3)
    assert [hit.id for page in pages for hit in page.items] == [
        ids[n] for n in (21, 18, 15, 12, 9, 6, 3, 0)
    ]
    for number, page in enumerate(pages):
        assert not page.total_exact
        assert max(3, 3 * number + len(page.items)) <= page.total <= 8
    archive.close()


def test_snippet_highlights_around_the_first_match(db_url: str) -> None:
    archive = Archive(db_url)
    body = "开头" + "前文" * 100 + "\n\n<b>剪纸</b> & 皮影\n" + "后文" * 100 + "剪纸"
    with archive.session() as session:
        put(session, record("http://demo.wenhua.local/s.html", "通知", body))
        hit = search(session, "剪纸 皮影").items[0]
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert "<b>【剪纸】</b> & 【皮影】" in hit.snippet and "\n" not in hit.snippet
    assert "&lt;b&gt;<mark>剪纸</mark>&lt;/b&gt; &amp; <mark>皮影</mark>" in hit.snippet_html
    assert 110 <= len(hit.snippet.replace("【", "").replace("】", "")) <= 125
    archive.close()


def test_make_snippet_edges() -> None:
    assert make_snippet("", ["x"]) == ("", "")
    assert make_snippet("短文", ["长"]) == ("短文", "短文")
    assert make_snippet("文化文化馆", ["文化", "化馆"]) == (
        "【文化】【文化馆】",
        "<mark>文化</mark><mark>文化馆</mark>",
    )
    long_match = make_snippet("甲" * 200 + "乙" * 150, ["乙" * 150])[0]
    assert long_match == "…" + "甲" * 30 + "【" + "乙" * 150 + "】"  # never cut


def test_changed_version_is_reindexed(db_url: str) -> None:
    archive = Archive(db_url)
    url = "http://demo.wenhua.local/v.html"
    with archive.session() as session:
        article_id = put(session, record(url, "旧标题", "甲乙丙丁"))
    with archive.session() as session:
        assert [h.id for h in search(session, "乙丙").items] == [article_id]
        put(session, record(url, "新标题", "戊己庚辛"), when="2024-02-01T00:00:00+00:00")
    with archive.session() as session:
        assert search(session, "乙丙").total == 0 and search(session, "旧").total == 0
        assert [h.id for h in search(session, "己庚").items] == [article_id]
        assert [h.id for h in search(session, "新标题").items] == [article_id]
        index_article(session, article_id)  # idempotent
        assert search(session, "己").total == 1
    archive.close()


def test_reindex_all_and_refresh_index(db_url: str) -> None:
    archive = Archive(db_url)
    with archive.session() as session:
        for n in range(3):
            put(session, record(f"http://demo.wenhua.local/{n}.html", f"第{n}条", "文化活动"))
        assert reindex_all(session) == 3
        assert refresh_index(session) == 0
    with archive.session() as session:
        assert search(session, "文化").total == 3
        # A version stored without index_article (an archive written by older code).
        article_id = session.scalars(select(Article.id).order_by(Article.id)).first()
        version = ArticleVersion(
            article_id=article_id,
            content_hash="c" * 64,
            fetched_at=datetime(2024, 5, 1, tzinfo=UTC),
            http_status=200,
            final_url="http://demo.wenhua.local/0.html",
            raw_sha256="d" * 64,
            title="改版",
            body_text="全新内容",
            body_html="",
        )
        session.add(version)
        session.flush()
        session.execute(
            update(Article).where(Article.id == article_id).values(current_version_id=version.id)
        )
        # Search reads the index: until the new version is indexed, the old one is found.
        assert search(session, "全新").total == 0
        assert [h.title for h in search(session, "文化").items].count("第0条") == 1
        assert refresh_index(session) == 1
        assert search(session, "文化").total == 2
        assert [h.id for h in search(session, "全新").items] == [article_id]
        assert reindex_all(session) == 3
        assert search(session, "全新").total == 1 and search(session, "文化").total == 2
        if archive.engine.dialect.name == "postgresql":  # rebuilt as the migration made it
            options = session.scalar(
                text("SELECT reloptions FROM pg_class WHERE relname = 'ix_search_docs_keys'")
            )
            assert options == ["gin_pending_list_limit=256"]
    archive.close()


def test_bad_requests_raise_search_error(db_url: str) -> None:
    archive = Archive(db_url)
    with archive.session() as session:
        for kwargs in (
            {"limit": 0},
            {"limit": MAX_LIMIT + 1},
            {"offset": -1},
            {"date_from": "2020-13-01"},
            {"date_to": "2020/01/01"},
            {"date_from": "２０２０-01-01"},
        ):
            with pytest.raises(SearchError):
                search(session, "文化", **kwargs)
        assert search(session, "文\x00化").total == 0
        assert search(session, "\udcff").total == 0
        for memory in ("lots", "4 GB", "1TB'; DROP TABLE articles; --"):
            with pytest.raises(SearchError, match="is not a PostgreSQL size"):
                reindex_all(session, build_memory=memory)
    archive.close()


def test_keys_cover_every_substring_and_are_exact_up_to_two_characters() -> None:
    text = "路南区“文化馆”WiFi，2020年\n第Ａ届 ßß哈哈哈"
    keys = set(document_keys(text, "", site_id=1))
    for start in range(len(text)):
        for end in range(start + 1, len(text) + 1):
            piece = text[start:end]
            if not any(char.isspace() for char in piece):
                assert set(term_keys(piece)) <= keys, piece
    alphabet = sorted(set(text) | set("Wwi化文x"))
    for first in alphabet:
        for second in ["", *alphabet]:
            term = first + second
            if not term.isspace() and " " not in term and "\n" not in term:
                assert (term_keys(term)[0] in keys) == (term in text), term
    assert len(term_keys("非物质文化遗产保护中心")) == 8  # long terms: a spread of pairs


def spelled(chars: str) -> str:
    """The keys' spelling of characters, written independently: base 36, four digits."""
    out = ""
    for char in chars:
        code, digits = ord(char), ""
        for _ in range(4):
            code, digit = divmod(code, 36)
            digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
        out += digits
    return out


def test_keys_are_the_grams_and_filters_only() -> None:
    keys = set(document_keys("哈哈", "哈哈哈，文化 文化", site_id=3, district="路南区"))
    grams = {"哈", "哈哈", "，", "文", "化", "文化", "哈，", "，文"}
    assert keys == {f"p{spelled(g)}" for g in grams} | {"fs3", "fd" + "路南区".encode().hex()}
    assert spelled("\U0010ffff") == "nvnj" and all(key.isalnum() and key.isascii() for key in keys)


def test_sort_key_orders_newest_first_then_lower_id() -> None:
    articles = [
        (5, "2020-11-02T11:20:24+08:00"),
        (2, "2020-11-02T11:20:24+08:00"),
        (9, "2020-11-02T11:20:25+08:00"),
        (4, "2021-01-01"),
        (7, "1899-12-31T23:00:00+08:00"),
        (3, None),
        (1, None),
        (8, "2020-11-02T11:20:23+08:00"),
    ]
    keys = {sort_key(published, i): i for i, published in articles}
    assert [keys[k] for k in sorted(keys, reverse=True)] == [4, 9, 2, 5, 8, 7, 1, 3]
    assert all(article_of(k) == i for k, i in keys.items())
    assert month_key(sort_key("2020-11-02T11:20:24+08:00", 5)) == "km202011"
    assert month_key(sort_key(None, 5)) == "km0"
    with pytest.raises(SearchError):
        sort_key(None, 1 << 30)


# --- migration -------------------------------------------------------------------------


def test_migration_backfills_existing_articles_and_downgrades(db_url: str) -> None:
    archive = Archive(db_url, migrate=False)
    config = alembic_config()
    with archive.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    # Rows as revision 0001 knew them (plain SQL: the models may have moved on since).
    with archive.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sites (id, name, title, family, base_url)"
                " VALUES (1, :name, '', '', '')"
            ),
            {"name": SITES[0]},
        )
        for n, body in enumerate(("唐山皮影戏", "评剧演出", "皮影"), start=1):
            when = datetime(2024, 1, 1, tzinfo=UTC)
            conn.execute(
                text(
                    "INSERT INTO articles (id, url, site_id, first_seen, last_seen, changed_at)"
                    " VALUES (:id, :url, 1, :when, :when, :when)"
                ),
                {"id": n, "url": f"http://demo.wenhua.local/{n}.html", "when": when},
            )
            conn.execute(
                text(
                    "INSERT INTO article_versions (id, article_id, content_hash, fetched_at,"
                    " http_status, final_url, raw_sha256, title, body_text, body_html)"
                    " VALUES (:id, :id, :hash, :when, 200, :url, :hash, :title, :body, '')"
                ),
                {
                    "id": n,
                    "hash": "c" * 64,
                    "when": when,
                    "url": f"http://x/{n}",
                    "title": f"第{n}条",
                    "body": body,
                },
            )
            conn.execute(
                text("UPDATE articles SET current_version_id = :id WHERE id = :id"), {"id": n}
            )
    archive.close()
    archive = Archive(db_url)  # implicit upgrade to head
    with archive.session() as session:
        assert search(session, "皮影").total == 2 and search(session, "影戏").total == 1
    with archive.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # SQLite's batch mode rebuilds tables that others reference; as Alembic's docs
            # advise, foreign keys are off while it does (a no-op once a transaction is open).
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        with conn.begin():
            config.attributes["connection"] = conn
            command.downgrade(config, "0001")
            command.upgrade(config, "head")
    with archive.session() as session:
        assert search(session, "皮影").total == 2
    assert current_revision(archive.engine) == head_revision()
    archive.close()


def test_search_tables_are_left_out_of_model_comparison(db_url: str) -> None:
    archive = Archive(db_url)
    with archive.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name}
        )
        assert compare_metadata(context, Base.metadata) == []
    archive.close()


# --- the command -----------------------------------------------------------------------


def wenhua(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from archive.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def small_archive(db_url: str) -> dict[str, int]:
    archive = Archive(db_url)
    with archive.session() as session:
        ids = {
            "lunan": put(
                session,
                record(
                    "http://demo.wenhua.local/1.html",
                    "路南区非遗展演",
                    "路南区文化馆举办非遗展演，群众踊跃参加。",
                    published_at="2020-11-02T11:20:24+08:00",
                ),
            ),
            "guye": put(
                session,
                record(
                    "http://demo.wenhua.local/2.html",
                    "古冶读书会",
                    "读书会上也谈到非遗。",
                    district="古冶区",
                    published_at="2021-03-05T09:00:00+08:00",
                ),
            ),
        }
    archive.close()
    return ids


def test_cli_search_formats_and_errors(db_url: str) -> None:
    ids = small_archive(db_url)
    result = wenhua("search", "非遗", "--db", db_url, "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["id"] for row in rows] == [ids["lunan"], ids["guye"]]
    assert {"id", "url", "title", "published_at", "district", "snippet"} <= set(rows[0])
    assert rows[0]["district"] == "路南区" and "【非遗】" in rows[0]["snippet"]
    assert "2 matching articles" in result.stderr

    result = wenhua(
        "search",
        "非遗",
        "--db",
        db_url,
        "--district",
        "古冶区",
        "--from",
        "2021-03-05",
        "--to",
        "2021-03-05",
        "--format",
        "csv",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("id,url,title,published_at,district") and len(lines) == 2
    assert lines[1].startswith(f"{ids['guye']},http://demo.wenhua.local/2.html,古冶读书会")

    result = wenhua("search", "路南", "--db", db_url)
    assert result.returncode == 0, result.stderr
    assert "路南区非遗展演" in result.stdout and "【路南】" in result.stdout

    result = wenhua("search", "非遗", "--db", db_url, "--from", "2020-02-30")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "wenhua: error: --from '2020-02-30' is not a date (YYYY-MM-DD)"
    ]


def test_cli_search_in_process(db_url: str) -> None:
    ids = small_archive(db_url)
    runner = CliRunner()
    result = runner.invoke(search_command, ["非遗", "展演", "--db", db_url, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [row["id"] for row in json.loads(result.stdout)] == [ids["lunan"]]
    result = runner.invoke(
        search_command, ["--db", db_url, "--district", "古冶区", "--format", "json"]
    )
    assert [row["id"] for row in json.loads(result.stdout)] == [ids["guye"]]
    result = runner.invoke(search_command, ["x", "--db", db_url, "--limit", "5000"])
    assert result.exit_code == 2 and "--limit must be between 0 (all) and 1000" in result.stderr
    result = runner.invoke(search_command, ["x", "--db", db_url, "--to", "tomorrow"])
    assert result.exit_code == 2 and "--to 'tomorrow' is not a date" in result.stderr


def test_a_lower_bound_total_is_said_so(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = small_archive(db_url)
    monkeypatch.setattr(search_module, "EXACT_MATCHES", 1)
    result = CliRunner().invoke(search_command, ["非遗", "--db", db_url, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [row["id"] for row in json.loads(result.stdout)] == [ids["guye"], ids["lunan"]]
    assert "at least 2 matching articles" in result.stderr
    archive = Archive(db_url)
    with TestClient(create_app(resolve(tmp_path, db_url), archive)) as client:
        body = client.get("/api/articles", params={"q": "非遗", "limit": 1}).json()
        assert body["total_exact"] is False and body["has_more"] and body["total"] >= 1
        exact = client.get("/api/articles", params={"q": "展演"}).json()
        assert exact["total_exact"] is True and exact["total"] == 1
        page = client.get("/search", params={"q": "非遗"}).text
        assert '至少 <strong id="total">2</strong>' in page
        assert "至少" not in client.get("/search", params={"q": "展演"}).text
    archive.close()
