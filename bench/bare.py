"""The physical limit: a bare Scrapy spider that only downloads and follows the same links
the archive crawl follows (list pages, articles, images), with the same concurrency, and
stores nothing. `python -m bench.bare BASE_URL START_PATH…` prints its stats as JSON."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response, TextResponse

from crawler.runner import IMPOLITE

FOLLOW = re.compile(r"^/(list-[^/]+\.html|new-\d+\.html|upload/.+)$")


class BareSpider(Spider):
    name = "bare"

    def __init__(self, base: str = "", starts: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base = base
        self.starts = starts.split(",")

    async def start(self) -> AsyncIterator[Request]:
        for path in self.starts:
            yield Request(self.base + path)

    def parse(self, response: Response) -> Iterator[Request]:
        if not isinstance(response, TextResponse):
            return
        for href in response.css("a::attr(href), img::attr(src)").getall():
            url = response.urljoin(href)
            if url.startswith(self.base) and FOLLOW.match(url[len(self.base) :]):
                yield Request(url)


def main() -> None:
    base, starts = sys.argv[1], sys.argv[2:]
    settings = {
        "ROBOTSTXT_OBEY": True,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "COOKIES_ENABLED": False,
        **IMPOLITE,
    }
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler, base=base, starts=",".join(starts))
    process.start()
    stats = crawler.stats.get_stats()
    elapsed = (stats["finish_time"] - stats["start_time"]).total_seconds()
    print(json.dumps({"responses": stats.get("response_received_count", 0), "seconds": elapsed}))


if __name__ == "__main__":
    main()
