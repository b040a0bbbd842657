"""Images, content-addressed: Scrapy's FilesPipeline through its hooks.

Scrapy names media by SHA1 of the URL and dedupes by URL; an archive needs the bytes'
identity instead. So the hooks are overridden, not the machinery: `file_path` names a
downloaded file by the sha256 of its bytes (the same bytes from two URLs land in one
file), `file_downloaded` refuses anything Pillow cannot read as an image (recorded as a
failure, never stored) and keeps the image's facts, and `item_completed` puts one
result per body image on the item, in body order.

Scrapy's media pipelines re-encode images (ImagesPipeline); archives must keep the
bytes as served, hence FilesPipeline.
"""

from __future__ import annotations

import hashlib
import warnings
from collections import OrderedDict
from io import BytesIO
from pathlib import Path
from typing import Any, NoReturn

from PIL import Image, UnidentifiedImageError
from scrapy import Request
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.pipelines.files import FilesPipeline, FSFilesStore
from scrapy.pipelines.media import FileException, FileInfo
from sqlalchemy import select
from twisted.internet import threads
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from archive.models import Article, ArticleVersion, ImageUrl, Site, VersionImage
from archive.models import Image as Image_
from archive.rawstore import atomic_write
from crawler.accounting import describe
from crawler.extract.urls import BadUrl, OriginMap, checked_url
from crawler.frontier.seen import DiskStore
from crawler.items import NO_WARC_LINK, ArticleItem

IMAGES_DIR = "images"
MIME_BY_FORMAT = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}
EXT_BY_MIME = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/bmp": ".bmp",
    "image/tiff": ".tif",
}


def image_path(sha256: str, mime: str) -> str:
    """Where an image's bytes live, relative to the data directory."""
    return f"{IMAGES_DIR}/{sha256[:2]}/{sha256[2:4]}/{sha256}{EXT_BY_MIME.get(mime, '')}"


# Pixels an image may have (WENHUA_IMAGE_MAX_PIXELS overrides it): a news photo has far
# fewer; a decompression bomb has far more.
MAX_PIXELS = 40_000_000


# Facts of the bodies inspected last, by sha256 of their bytes and the pixel limit. Scrapy
# asks `file_path` and then `file_downloaded` about the same response, and portals serve the
# same picture under many URLs (reposts, logos, banners): decoding every pixel each time was a
# fifth of the crawl process's time. Bounded, so memory stays flat however long the crawl; a
# body that is not an image is not kept (it raises, every time).
INSPECTED_CACHE_SIZE = 4096
_inspected: OrderedDict[tuple[str, int], dict[str, Any]] = OrderedDict()


def inspect_image(data: bytes, max_pixels: int = MAX_PIXELS) -> dict[str, Any]:
    """The facts the archive keeps about an image; FileException, with Pillow's message,
    when it is not one, and for more than `max_pixels` pixels, before any is decoded."""
    key = (hashlib.sha256(data).hexdigest(), max_pixels)
    facts = _inspected.get(key)
    if facts is None:
        facts = _inspect(data, max_pixels, key[0])
        _inspected[key] = facts
        if len(_inspected) > INSPECTED_CACHE_SIZE:
            _inspected.popitem(last=False)
    else:
        _inspected.move_to_end(key)
    return dict(facts)


def _inspect(data: bytes, max_pixels: int, sha256: str) -> dict[str, Any]:
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it: refused as well.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as img:
                if img.width * img.height > max_pixels:
                    raise FileException(
                        f"image too large: {img.width}×{img.height} pixels, over the limit "
                        f"of {max_pixels} (WENHUA_IMAGE_MAX_PIXELS)"
                    )
                img.verify()
            with Image.open(BytesIO(data)) as img:
                img.load()  # decodes every pixel: a truncated download fails here
                fmt, width, height = img.format, img.width, img.height
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise FileException(f"not a readable image ({exc.__class__.__name__}: {exc})") from exc
    mime = MIME_BY_FORMAT.get(fmt or "", f"image/{(fmt or 'unknown').lower()}")
    return {
        "sha256": sha256,
        "mime": mime,
        "width": width,
        "height": height,
        "size": len(data),
        "path": image_path(sha256, mime),
    }


def image_url_problem(url: str) -> str | None:
    """Why an image address cannot be requested (None when it can)."""
    try:
        checked_url(url)
    except BadUrl as exc:
        return str(exc)
    return None


class ArchiveImagesPipeline(FilesPipeline):
    def open_spider(self, spider: Any = None) -> None:
        super().open_spider()
        # Scrapy caches one result per image URL for the whole crawl (so a URL is
        # downloaded once); on disk, the cache costs no memory per image.
        self.spiderinfo.downloaded = DiskStore()  # type: ignore[assignment]

    def close_spider(self, spider: Any = None) -> None:
        stores = (
            self.spiderinfo.downloaded,
            getattr(self, "_facts_by_sha", None),
            self._known_urls,
        )
        for store in stores:
            if isinstance(store, DiskStore):
                store.close()

    @property
    def max_pixels(self) -> int:
        crawler = getattr(self, "crawler", None)
        if crawler is None:
            return MAX_PIXELS
        return int(crawler.settings.getint("WENHUA_IMAGE_MAX_PIXELS", MAX_PIXELS))

    def get_media_requests(self, item: Any, info: Any) -> list[Request]:
        """One request per body image whose address can be fetched (the normalizer leaves
        the others out; a record from elsewhere may still have one)."""
        if not isinstance(item, ArticleItem):
            return []
        origins: OriginMap = self.crawler.spider.origins  # type: ignore[union-attr]
        to_serving = origins.to_serving
        return [
            Request(to_serving(image["url"]), callback=NO_CALLBACK, meta={NO_WARC_LINK: True})
            for image in item.record.get("images", [])
            if image_url_problem(image["url"]) is None
        ]

    def media_failed(self, failure: Failure, request: Request, info: Any) -> NoReturn:
        """The download's own error as the reason (Scrapy's is an empty FileException)."""
        try:
            super().media_failed(failure, request, info)
        except FileException as exc:
            if isinstance(failure.value, FileException) and str(failure.value):
                raise failure.value from None  # ours, with its reason (inspect_image)
            if str(exc):
                raise
            raise FileException(describe(failure.value)) from failure.value

    async def media_downloaded(
        self, response: Response, request: Request, info: Any, *, item: Any = None
    ) -> FileInfo:
        if response.status != 200:  # Scrapy's reason would be "download-error"
            raise FileException(f"HTTP {response.status}")
        return await super().media_downloaded(response, request, info, item=item)

    def media_to_download(
        self, request: Request, info: Any, *, item: Any = None
    ) -> Deferred[Any] | None:
        """An image URL already in the archive is not downloaded again, unless the crawl
        re-checks everything (`--revisit-all`): its stored bytes and facts are the result.
        The look-up runs in a thread, off the reactor. Only reads: the archive
        writer process stores the images' rows with their article."""
        spider: Any = self.crawler.spider
        if spider is None or getattr(spider, "revisit_all", True) or not hasattr(spider, "state"):
            return None
        url = spider.origins.to_canonical(request.url)
        known = self._site_image_urls(spider)
        if known is not None and url not in known:
            return None  # a new image: no need to ask the database
        looked_up: Deferred[Any] = threads.deferToThread(_archived_image, spider.state(), url)
        return looked_up.addCallback(self._archived, request)

    _known_urls: DiskStore | None = None

    def _site_image_urls(self, spider: Any) -> DiskStore | None:
        """The image URLs the site's archived articles use, read once per crawl: most image
        requests of a crawl are new images, and the store (on disk) answers them without a
        query."""
        site = getattr(spider, "site_def", None)
        if site is None:
            return None
        if self._known_urls is None:
            self._known_urls = DiskStore()
            with spider.state().session() as session:
                self._known_urls.update(
                    session.scalars(
                        select(VersionImage.url)
                        .join(ArticleVersion, ArticleVersion.id == VersionImage.version_id)
                        .join(Article, Article.id == ArticleVersion.article_id)
                        .join(Site, Site.id == Article.site_id)
                        .where(Site.name == site.name, VersionImage.image_sha256.is_not(None))
                        .distinct()
                    )
                )
        return self._known_urls

    def _archived(self, facts: dict[str, Any] | None, request: Request) -> Any:
        if facts is None:
            return None
        self._facts[facts["sha256"]] = facts
        self.crawler.stats.inc_value("wenhua/images_known")
        return {
            "url": request.url,
            "path": facts["path"],
            "checksum": facts["sha256"],
            "status": "archived",
        }

    def file_path(
        self,
        request: Request,
        response: Response | None = None,
        info: Any = None,
        *,
        item: Any = None,
    ) -> str:
        if response is None:
            # Asked before downloading, to skip fresh files: a URL says nothing about
            # the bytes, so there is never a file to skip by.
            return f"{IMAGES_DIR}/pending/{hashlib.sha1(request.url.encode()).hexdigest()}"
        return str(inspect_image(response.body, self.max_pixels)["path"])

    def file_downloaded(
        self, response: Response, request: Request, info: Any, *, item: Any = None
    ) -> str:
        facts = inspect_image(response.body, self.max_pixels)
        # Content-addressed: bytes already stored are never rewritten.
        if isinstance(self.store, FSFilesStore):
            # A file named by its sha256 is there or not: no need for stat_file's md5
            # of the stored bytes.
            target = Path(self.store.basedir) / facts["path"]
            if not target.exists():
                # Written whole or not at all: workers may share the data directory.
                atomic_write(target, response.body)
        elif not self.store.stat_file(facts["path"], info):
            self.store.persist_file(facts["path"], BytesIO(response.body), info)
        self._facts[facts["sha256"]] = facts
        return str(facts["sha256"])

    @property
    def _facts(self) -> DiskStore:
        """sha256 -> an image's facts, on disk: one entry per distinct image."""
        if not hasattr(self, "_facts_by_sha"):
            self._facts_by_sha = DiskStore()
        return self._facts_by_sha

    def item_completed(self, results: list[Any], item: Any, info: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        outcomes = []
        # Results come for the requested images only, in order; one per body image here.
        pending = iter(results)
        for image in item.record.get("images", []) if item.record else [None] * len(results):
            problem = image_url_problem(image["url"]) if image is not None else None
            if problem is not None:
                outcomes.append({"error": f"not fetched: {problem}"})
                continue
            ok, value = next(pending)
            if ok:
                outcomes.append(
                    dict(
                        self._facts.get(value["checksum"])
                        or {"sha256": value["checksum"], "path": value["path"]}
                    )
                )
            else:
                error = getattr(value, "value", value)  # a Failure carries the exception
                reason = str(error) if isinstance(error, FileException) else ""
                outcomes.append({"error": reason or describe(error)})
        item.image_results = outcomes
        return item


def _archived_image(archive: Any, url: str) -> dict[str, Any] | None:
    """The facts of the archived image at this canonical URL, if any."""
    with archive.session() as session:
        image = session.scalars(
            select(Image_)
            .join(ImageUrl, ImageUrl.image_sha256 == Image_.sha256)
            .where(ImageUrl.url == url)
        ).first()
        if image is None:
            return None
        return {
            "sha256": image.sha256,
            "mime": image.mime,
            "width": image.width,
            "height": image.height,
            "size": image.size,
            "path": image.path,
        }
