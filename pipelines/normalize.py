"""Item pipeline: fills ArticleItem.record and .problems from the extracted fields, with the
same pure function `wenhua extract` uses (crawler.extract.normalize)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crawler.extract.normalize import normalize
from crawler.items import ArticleItem


class NormalizePipeline:
    """Item pipeline: fills ArticleItem.record and .problems from the extracted fields."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> NormalizePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        spider = self.crawler.spider
        result = normalize(
            item.raw,
            site=spider.site_def,
            fetched_at=datetime.fromisoformat(item.capture.fetched_at),
            category=item.category,
            district=item.district,
            canonical_url=item.capture.url,
            rewrite_url=spider.origins.to_canonical,
        )
        item.record = result.record
        item.problems = result.problem_dicts()
        if item.problems:
            self.crawler.stats.inc_value("wenhua/problems", len(item.problems))
        return item
