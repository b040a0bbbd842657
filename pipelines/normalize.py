"""Item pipeline: fills ArticleItem.record and .problems from the extracted fields, with the
same pure function `wenhua extract` uses (crawler.extract.normalize).

During a crawl the archive writer process runs the function (pipelines.writer,
`NormalizeJob`): body cleaning and date parsing cost about a sixth of the crawl process's
interpreter time, and the crawl process is the one bound by its core. Without a writer
(no storage pipeline) it runs here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scrapy.utils.defer import maybe_deferred_to_future

from crawler.extract.normalize import normalize
from crawler.items import ArticleItem
from pipelines.storage import ArchiveStoragePipeline
from pipelines.writer import NormalizeJob, NormalizerJob


class NormalizePipeline:
    """Item pipeline: fills ArticleItem.record and .problems from the extracted fields."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self._sent_site = False  # the writer has the site's definition (NormalizerJob)

    @classmethod
    def from_crawler(cls, crawler: Any) -> NormalizePipeline:
        return cls(crawler)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        spider = self.crawler.spider
        storage = ArchiveStoragePipeline.of(self.crawler)
        writer = storage.writer if storage is not None else None
        if writer is None:
            result = normalize(
                item.raw,
                site=spider.site_def,
                fetched_at=datetime.fromisoformat(item.capture.fetched_at),
                category=item.category,
                district=item.district,
                canonical_url=item.capture.url,
                rewrite_url=spider.origins.to_canonical,
            )
            item.record, item.problems = result.record, result.problem_dicts()
        else:
            if not self._sent_site:
                # Jobs reach the writer in the order sent: this one before the first article.
                sent = writer.submit(NormalizerJob(spider.site_def, spider.origins))
                # A writer that fails it fails the article's job too: reported there.
                sent.addErrback(lambda _: None)
                self._sent_site = True
            outcome = await maybe_deferred_to_future(
                writer.submit(
                    NormalizeJob(
                        site=spider.site_def.name,
                        raw=item.raw,
                        fetched_at=item.capture.fetched_at,
                        category=item.category,
                        district=item.district,
                        canonical_url=item.capture.url,
                    )
                )
            )
            assert outcome.normalized is not None
            item.record, item.problems = outcome.normalized
        if item.problems:
            self.crawler.stats.inc_value("wenhua/problems", len(item.problems))
        return item
