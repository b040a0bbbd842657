"""The researcher's web UI through FastAPI's TestClient: facets, sort, pages, downloads,
marked titles, withdrawn articles, China times, /stats by year and the offline /docs."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import get_args
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import lxml.html
import openpyxl
import pytest
from fastapi.testclient import TestClient

from archive.config import resolve
from archive.db import Archive
from archive.search import ORDERS
from archive.web.app import SORT_LABELS, SortOrder, create_app
from tests.feed_helpers import mark_gone, put

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 45 articles on 非遗 across three districts and the years 2019-2023, a day apart.
SERIES = [
    (
        n,
        ("路南区", "古冶区", "路北区")[n % 3],
        f"{2019 + n % 5}-03-{1 + n % 28:02d}T08:{n:02d}:00+08:00",
    )
    for n in range(45)
]


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    archive = Archive(db_url)
    with archive.session() as s:
        for n, district, when in SERIES:
            put(s, f"http://t.local/s{n}", f"第{n}期非遗传承活动在{district}举行。",
                title=f"非遗传承活动第{n}期", district=district, published_at=when,
                source=("路南发布", "唐山晚报")[n % 2])  # fmt: skip
        put(s, "http://t.local/sec", "路南区文化馆举办评剧专场。", title="评剧专场",
            published_at="2020-11-02T11:20:24+08:00")  # fmt: skip
        put(s, "http://t.local/day", "评剧进社区。", title="评剧进社区",
            published_at="2020-11-02T00:00:00+08:00", published_precision="day")  # fmt: skip
        put(
            s,
            "http://t.local/tag",
            "评剧<b>标签</b>。",
            title="<b>评剧</b>与<i>",
            district="古冶区",
        )
        put(s, "http://t.local/gone", "已撤下的评剧文章。", title="评剧撤稿文章")
        put(s, "http://t.local/body", "票友演唱评剧，评剧，评剧。", title="社区票友活动",
            published_at="2024-06-01T09:00:00+08:00")  # fmt: skip
        mark_gone(s, "http://t.local/gone")
    with TestClient(create_app(resolve(tmp_path, db_url), archive)) as test_client:
        yield test_client
    archive.close()


def page(client: TestClient, url: str, **params: str | int) -> lxml.html.HtmlElement:
    response = client.get(url, params=params) if params else client.get(url)
    assert response.status_code == 200, response.text[:500]
    return lxml.html.fromstring(response.text)


def total(doc: lxml.html.HtmlElement) -> int:
    return int(doc.get_element_by_id("total").text_content())


def result_titles(doc: lxml.html.HtmlElement) -> list[str]:
    return [a.text_content() for a in doc.cssselect("ol.results h2 a")]


def result_dates(doc: lxml.html.HtmlElement) -> list[str]:
    return [t.get("datetime") for t in doc.cssselect("ol.results time")]


def test_facet_links_narrow_to_their_count(client: TestClient) -> None:
    doc = page(client, "/search", q="非遗")
    assert total(doc) == 45
    for facet, expected in [("district", {"路南区": 15, "古冶区": 15, "路北区": 15}),
                            ("source", {"路南发布": 23, "唐山晚报": 22}),
                            ("year", {str(y): 9 for y in range(2019, 2024)})]:  # fmt: skip
        links = doc.cssselect(f'section[data-facet="{facet}"] li')
        shown = {
            li.cssselect("a")[0].get("data-value"): int(li.cssselect(".count")[0].text)
            for li in links
        }
        assert shown == expected, facet
        for li in links:
            href = li.cssselect("a")[0].get("href")
            narrowed = page(client, href)
            assert total(narrowed) == int(li.cssselect(".count")[0].text), href
    # A chosen facet is shown as chosen, and its ✕ takes the condition away again.
    chosen = page(client, "/search", q="非遗", district="古冶区")
    section = chosen.cssselect('section[data-facet="district"]')[0]
    assert section.cssselect("strong")[0].text_content() == "古冶区"
    assert total(page(client, section.cssselect("a.clear")[0].get("href"))) == 45
    year = page(client, "/search", q="非遗", **{"from": "2021-01-01", "to": "2021-12-31"})
    assert {t[:4] for t in result_dates(year)} == {"2021"} and total(year) == 9


def test_sort_by_date_both_ways_and_by_relevance(client: TestClient) -> None:
    newest = result_dates(page(client, "/search", q="非遗", sort="newest"))
    oldest = result_dates(page(client, "/search", q="非遗", sort="oldest"))
    assert newest == sorted(newest, reverse=True) and len(newest) == 20
    assert oldest == sorted(oldest) and oldest[0] < newest[-1]
    # Relevance puts title matches first: the newest 评剧 article has it in its body only.
    assert result_titles(page(client, "/search", q="评剧"))[-1] == "社区票友活动"
    assert result_titles(page(client, "/search", q="评剧", sort="newest"))[0] == "社区票友活动"
    api = client.get("/api/articles", params={"q": "非遗", "sort": "oldest", "limit": 20}).json()
    assert [item["published_at"] for item in api["items"]] == oldest
    doc = page(client, "/search", q="非遗")
    links = {a.get("data-sort"): a.get("href") for a in doc.cssselect(".sort a")}
    assert set(links) == {"newest", "oldest"}  # relevance is the current one
    assert result_dates(page(client, links["oldest"])) == oldest


def test_numbered_pages(client: TestClient) -> None:
    first = page(client, "/search", q="非遗", sort="oldest")
    pager = first.cssselect("nav.pager")[0]
    numbers = [a.text_content() for a in pager.cssselect("a") if a.text_content().isdigit()]
    assert numbers == ["2", "3"] and pager.cssselect("strong")[0].text_content() == "1"
    rels = {a.get("rel"): a.get("href") for a in pager.cssselect("a[rel]")}
    assert set(rels) == {"next", "last"}  # no 首页/上一页 link on page 1
    assert parse_qs(urlsplit(rels["last"]).query)["page"] == ["3"]
    second = page(client, rels["next"])
    assert set(result_titles(second)).isdisjoint(result_titles(first))
    assert result_dates(second) == sorted(result_dates(second))
    assert result_dates(second)[0] >= result_dates(first)[-1]  # the order goes on
    last = page(client, rels["last"])
    assert len(result_titles(last)) == 5
    assert {a.get("rel") for a in last.cssselect("nav.pager a[rel]")} == {"first", "prev"}
    all_titles = [t for n in (1, 2, 3) for t in result_titles(
        page(client, "/search", q="非遗", sort="oldest", page=n))]  # fmt: skip
    assert len(set(all_titles)) == 45


def test_download_is_the_whole_result_set_in_order(client: TestClient) -> None:
    doc = page(client, "/search", q="非遗", district="路南区", sort="newest")
    links = {a.get("data-format"): a.get("href") for a in doc.cssselect(".download a")}
    assert set(links) == {"csv", "xlsx", "jsonl"}
    got = client.get(links["csv"])
    assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
    assert got.content.startswith(b"\xef\xbb\xbf")  # Excel reads the BOM as UTF-8
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert len(rows) == 15 and {r["district"] for r in rows} == {"路南区"}
    dates = [r["published_at"] for r in rows]
    assert dates == sorted(dates, reverse=True)
    lines = client.get(links["jsonl"]).text.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["url"] for r in records] == [r["url"] for r in rows]
    assert all("非遗" in r["title"] for r in records)
    book = openpyxl.load_workbook(io.BytesIO(client.get(links["xlsx"]).content), read_only=True)
    (sheet,) = book.worksheets
    header, *cells = list(sheet.iter_rows(values_only=True))
    assert "标题" in header and "区县" in header  # headings a reader understands
    titles = [row[header.index("标题")] for row in cells]
    assert titles == [r["title"] for r in records]
    assert {row[header.index("区县")] for row in cells} == {"路南区"}
    assert client.get("/search/download", params={"q": "非遗", "format": "exe"}).status_code == 422


def test_titles_marked_after_escaping_and_withdrawn_flagged(client: TestClient) -> None:
    html = client.get("/search", params={"q": "评剧"}).text
    assert "&lt;b&gt;<mark>评剧</mark>&lt;/b&gt;与&lt;i&gt;" in html
    assert "<b>评剧" not in html and "<i>" not in html
    doc = lxml.html.fromstring(html)
    flagged = [li.cssselect("h2 a")[0].text_content() for li in doc.cssselect("ol.results li")
               if "已撤稿" in li.text_content()]  # fmt: skip
    assert flagged == ["评剧撤稿文章"]


def test_times_are_china_time_in_chinese(client: TestClient) -> None:
    found = {i["url"]: i["id"] for i in client.get("/api/articles?limit=100").json()["items"]}
    second = client.get(f"/articles/{found['http://t.local/sec']}").text
    assert "发布时间：" in second and "2020年11月2日 11:20</time>" in second
    assert "2020-11-02T11:20:24" not in second.replace('datetime="2020-11-02T11:20:24+08:00"', "")
    day = lxml.html.fromstring(client.get(f"/articles/{found['http://t.local/day']}").text)
    assert day.cssselect(".meta span")[0].text_content() == "发布时间：2020年11月2日"
    api = client.get(f"/api/articles/{found['http://t.local/sec']}").json()
    fetched = api["provenance"]["fetched_at"]
    assert fetched.endswith("+08:00")  # machines get ISO, at China's offset
    china = datetime.fromisoformat(fetched).astimezone(SHANGHAI)
    assert f"存档于 {china.year}年{china.month}月{china.day}日 {china:%H:%M}" in second
    assert f"{china:%H:%M:%S}（北京时间）" in second
    listing = client.get("/search", params={"q": "评剧进社区"}).text
    assert ">2020年11月2日</time>" in listing


def test_stats_by_year_chart_first_table_folded(client: TestClient) -> None:
    overview = client.get("/stats").text
    years = re.findall(r'data-year="(\d{4})"', overview)
    assert years == ["2019", "2020", "2021", "2022", "2023", "2024"]
    assert overview.index("<svg") < overview.index("<details")
    one = lxml.html.fromstring(client.get("/stats", params={"year": 2021}).text)
    months = {
        tr.cssselect("td")[0].text for tr in one.cssselect("details tr") if tr.cssselect("td")
    }
    assert months and all(m.startswith("2021-") for m in months)
    counted = sum(int(tr.cssselect("td")[2].text) for tr in one.cssselect("details tr")[1:])
    assert counted == 9
    api = client.get("/api/stats", params={"year": "2021"}).json()
    assert api["total"] == 9 and all(i["month"].startswith("2021-") for i in api["items"])


def test_docs_are_served_here_under_a_strict_policy(client: TestClient) -> None:
    docs = client.get("/docs")
    csp = docs.headers["content-security-policy"]
    assert "http" not in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    sources = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert sources and all(s.startswith("/") for s in sources)
    for source in sources:
        assert client.get(source).status_code == 200, source
    (inline,) = re.findall(r"<script>(.*?)</script>", docs.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    ui = lxml.html.fromstring(client.get("/search").text)
    assert "/docs" in [a.get("href") for a in ui.cssselect("header a")]


def test_every_order_is_offered_by_name() -> None:
    assert set(get_args(SortOrder)) == set(SORT_LABELS) == set(ORDERS)
