"""Facet counts, orders and the whole result set of a search, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from archive.db import Archive
from archive.facets import FacetCount, facet_counts, result_ids
from archive.search import SearchError, matches, search
from tests.feed_helpers import put

# url, title, district, source, category, published_at
ARTICLES = [
    (
        "1",
        "路南区文化馆举办非遗展览",
        "路南区",
        "路南发布",
        "信息资讯",
        "2023-02-09T12:10:31+08:00",
    ),
    ("2", "路南区评剧演出文化下乡", "路南区", "唐山晚报", "基层动态", "2021-05-01T09:00:00+08:00"),
    ("3", "古冶区文化节开幕", "古冶区", "唐山晚报", "信息资讯", "2021-07-15T10:00:00+08:00"),
    ("4", "路北区图书馆文化讲座", "路北区", "路北融媒", "信息资讯", "2019-03-02T00:00:00+08:00"),
    ("5", "开平区体育比赛", "开平区", "开平发布", "信息资讯", "2021-08-01T08:00:00+08:00"),
    ("6", "丰南区文化活动", "丰南区", "路南发布", "信息资讯", None),
]


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    archive = Archive(db_url)
    with archive.session() as s:
        for name, title, district, source, category, published_at in ARTICLES:
            put(s, f"http://t.local/{name}", f"{title}。正文。", title=title, district=district,
                source=source, category=category, published_at=published_at)  # fmt: skip
    with archive.session() as s:
        yield s
    archive.close()


def urls(session: Session, ids: list[int]) -> list[str]:
    page = search(session, "", limit=100)
    by_id = {hit.id: hit.url.rsplit("/", 1)[1] for hit in page.items}
    return [by_id[i] for i in ids]


def as_dict(counts: list[FacetCount]) -> dict[str | None, int]:
    return {item.value: item.count for item in counts}


def test_facets_count_the_whole_result_set(session: Session) -> None:
    facets = facet_counts(session, matches(session, "文化"))
    assert as_dict(facets["district"]) == {"路南区": 2, "古冶区": 1, "路北区": 1, "丰南区": 1}
    assert facets["district"][0] == FacetCount("路南区", 2)  # most first
    assert as_dict(facets["source"]) == {"路南发布": 2, "唐山晚报": 2, "路北融媒": 1}
    assert as_dict(facets["category"]) == {"信息资讯": 4, "基层动态": 1}
    # Years newest first; the article without a date counted last, under None.
    assert [(i.value, i.count) for i in facets["year"]] == [
        ("2023", 1), ("2021", 2), ("2019", 1), (None, 1)]  # fmt: skip


def test_a_facet_count_is_the_total_once_chosen(session: Session) -> None:
    facets = facet_counts(session, matches(session, "文化"))
    for item in facets["district"]:
        assert search(session, "文化", district=item.value).total == item.count
    for item in facets["source"]:
        assert search(session, "文化", source=item.value).total == item.count
    for item in facets["category"]:
        assert search(session, "文化", category=item.value).total == item.count
    for item in facets["year"]:
        if item.value is not None:
            year = search(session, "文化", date_from=f"{item.value}-01-01",
                          date_to=f"{item.value}-12-31")  # fmt: skip
            assert year.total == item.count


def test_facets_follow_filters_and_long_terms(session: Session) -> None:
    narrowed = facet_counts(session, matches(session, "文化", district="路南区"))
    assert as_dict(narrowed["district"]) == {"路南区": 2}
    assert as_dict(narrowed["year"]) == {"2023": 1, "2021": 1}
    long_term = facet_counts(session, matches(session, "文化馆"))  # read from the text
    assert as_dict(long_term["district"]) == {"路南区": 1}
    none = facet_counts(session, matches(session, "不存在的词"))
    assert all(values == [] for values in none.values())
    assert all(values == [] for values in facet_counts(session, None).values())


def test_orders_by_date_either_way_undated_last(session: Session) -> None:
    newest = search(session, "文化", order="newest")
    assert [h.url[-1] for h in newest.items] == ["1", "3", "2", "4", "6"]
    oldest = search(session, "文化", order="oldest")
    assert [h.url[-1] for h in oldest.items] == ["4", "2", "3", "1", "6"]
    paged = [search(session, "文化", order="oldest", limit=2, offset=n).items for n in (0, 2, 4)]
    assert [h.url[-1] for page in paged for h in page] == ["4", "2", "3", "1", "6"]
    with pytest.raises(SearchError, match="order"):
        search(session, "文化", order="random")


def test_result_ids_are_every_match_in_the_page_order(session: Session) -> None:
    for order in ("relevance", "newest", "oldest"):
        found = matches(session, "文化")
        ids = [i for batch in result_ids(session, found, order) for i in batch]
        assert ids == [hit.id for hit in search(session, "文化", order=order).items]
    assert urls(session, [i for b in result_ids(session, matches(session, "体育")) for i in b]) == [
        "5"
    ]
    assert list(result_ids(session, None)) == []


def test_hits_carry_the_stated_precision(db_url: str) -> None:
    archive = Archive(db_url)
    with archive.session() as s:
        put(s, "http://t.local/day", "非遗日。", published_at="2020-11-02T00:00:00+08:00",
            published_precision="day")  # fmt: skip
    with archive.session() as s:
        (hit,) = search(s, "非遗").items
        assert hit.published_precision == "day"
    archive.close()
