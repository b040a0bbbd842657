"""Pieces shared by the three families' templates: responses, escaping, body blocks."""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape

from crawler.demo_portal.corpus import ArticleLayout, DemoArticle, DemoList

# Pages that belong to no article (home pages, robots.txt, 404) carry this fixed date, so a
# response never depends on the wall clock.
PORTAL_EPOCH = datetime(2024, 12, 31, 18, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Resource:
    body: bytes
    content_type: str
    last_modified: datetime
    status: int = 200

    @property
    def etag(self) -> str:
        # Strong validator: derived from the exact bytes, so it changes whenever they do.
        return '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'

    @property
    def last_modified_header(self) -> str:
        return format_datetime(self.last_modified.astimezone(UTC), usegmt=True)


def html(text: str) -> str:
    return escape(text, quote=True)


def relative(from_path: str, to_path: str) -> str:
    """A relative href from one page to another, as TRS publishes them (``./x``, ``../x``)."""
    rel = posixpath.relpath(to_path, posixpath.dirname(from_path))
    return rel if rel.startswith("../") else "./" + rel


def newest(articles: tuple[DemoArticle, ...] | list[DemoArticle]) -> datetime:
    return max((a.published for a in articles), default=PORTAL_EPOCH)


def list_modified(lst: DemoList, page: int) -> datetime:
    return newest(lst.page_articles(page))


def body_html(
    article: DemoArticle,
    layout: ArticleLayout,
    templates: Mapping[str, str],
    image_src: Mapping[str, str] | None = None,
) -> str:
    """Print the article's body blocks with one template per block kind.

    Templates use ``{text}`` (escaped block text) and, for ``img``, ``{src}``, ``{alt}`` and
    ``{name}`` (the image's file name).
    ``image_src`` maps an image's URL path to the src the family prints (TRS uses relative
    ones); by default the path itself is printed.
    """
    out = []
    for block in layout.blocks:
        if block.kind == "img":
            image = article.images[block.image]
            src = (image_src or {}).get(image.path, image.path)
            name = image.path.rsplit("/", 1)[1]
            out.append(templates["img"].format(src=html(src), alt=html(image.alt), name=name))
        else:
            out.append(templates[block.kind].format(text=html(block.text)))
    return "\n".join(out)


def neighbours(lst: DemoList, article: DemoArticle, count: int) -> tuple[DemoArticle, ...]:
    """Articles listed next to ``article`` in its column (for 相关阅读 / 上一篇 / 下一篇)."""
    index = lst.articles.index(article)
    start = max(0, min(index - count // 2, len(lst.articles) - count - 1))
    return tuple(a for a in lst.articles[start : start + count + 1] if a != article)[:count]


def pager_links(page: int, last: int, link: Callable[[int, str], str]) -> list[str]:
    """The static pager's 首页 上一页 下一页 尾页 (TRS, Hanweb): `link(n, word)` where that
    page exists, the bare word on the first or last page."""
    return [
        link(1, "首页"),
        link(page - 1, "上一页") if page > 1 else "上一页",
        link(page + 1, "下一页") if page < last else "下一页",
        link(last, "尾页"),
    ]
