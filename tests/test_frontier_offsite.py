"""Off-site links never enter a frontier: neither the durable one (ScheduledItem entries)
nor the Redis one (the requests the spider hands the scheduler)."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.items import PageProblems, ScheduledItem
from crawler.sitedefs import StartPage
from crawler.spiders.portal import PortalSpider

SERVING = "http://127.0.0.1:8123"


@pytest.mark.parametrize("shared", [False, True])
def test_off_site_links_become_problems_not_requests(shared: bool) -> None:
    crawler = get_crawler(PortalSpider)
    spider = crawler._create_spider(site="demo-culture-cloud", serve_at=SERVING)
    crawler.spider = spider
    crawler.stats.open_spider()
    if shared:
        spider.frontier = object()  # type: ignore[assignment]  # only its presence matters
    start = StartPage(url="")
    links = [
        spider.article_request(f"{SERVING}/new-1.html", start),
        spider.article_request("http://elsewhere.example/new-2.html", start),
        spider.list_request("http://evil.example/list.html", start),
    ]
    out: list[Any] = spider.record(links, done="http://demo.wenhua.local/list.html")
    requests = [o for o in out if isinstance(o, Request)]
    assert [r.url for r in requests] == [f"{SERVING}/new-1.html"]
    entries = [e.url for o in out if isinstance(o, ScheduledItem) for e in o.entries]
    assert all("elsewhere" not in url and "evil" not in url for url in entries)
    problems = [p for o in out if isinstance(o, PageProblems) for p in o.problems]
    assert {p["raw"] for p in problems} == {
        "http://elsewhere.example/new-2.html",
        "http://evil.example/list.html",
    }
    assert all(p["field"] == "link" and "off-site" in p["reason"] for p in problems)
