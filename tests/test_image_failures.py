"""A non-image response for an article's image is a failure, never an image (#5)."""

from __future__ import annotations

import pytest
from scrapy.pipelines.media import FileException
from sqlalchemy import func, select
from twisted.python.failure import Failure as TwistedFailure

from archive.db import Archive
from archive.models import Failure, Image, VersionImage
from archive.store import ensure_site, store_article
from crawler.extract.rules import RawArticle
from crawler.items import ArticleItem, Capture
from pipelines.images import ArchiveImagesPipeline, inspect_image
from tests.test_store import capture, record


def test_non_image_response_is_recorded_as_an_image_failure(db_url: str) -> None:
    html = b"<html><body>404 Not Found</body></html>"
    with pytest.raises(FileException) as caught:  # what file_downloaded raises for these
        inspect_image(html)
    refused = TwistedFailure(caught.value)
    # The pipeline's item_completed turns the refusal into a per-image error, in order.
    item = ArticleItem(
        site="demo-culture-cloud",
        capture=Capture("u", "u", "2024-01-01T00:00:00+00:00", 200, None, None, None, "b", b""),
        raw=RawArticle.__new__(RawArticle),
    )
    pipeline = ArchiveImagesPipeline.__new__(ArchiveImagesPipeline)
    pipeline.item_completed([(False, refused)], item, None)
    assert len(item.image_results) == 1
    assert "not a readable image" in item.image_results[0]["error"]

    archive = Archive(db_url)
    from crawler.sitedefs import load_site

    with archive.session() as session:
        site_id = ensure_site(session, load_site("demo-culture-cloud")).id
        store_article(
            session,
            site_id=site_id,
            record=record(),
            capture=capture("2024-01-01T00:00:00+00:00"),
            image_results=item.image_results,
            problems=[],
            run_id=None,
        )
    with archive.session() as session:
        assert session.scalar(select(func.count()).select_from(Image)) == 0
        link = session.scalars(select(VersionImage)).one()
        assert link.image_sha256 is None and link.url == "http://demo.wenhua.local/1.jpg"
        failure = session.scalars(select(Failure)).one()
        assert (failure.kind, failure.url) == ("image", "http://demo.wenhua.local/1.jpg")
        assert "not a readable image" in failure.reason
    archive.close()
