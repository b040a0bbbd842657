"""What the web UI's templates show beyond the records: China times in Chinese, titles with
the query words marked, the page numbers of a result list."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from urllib.parse import urlencode

from markupsafe import Markup, escape

from archive.search import match_spans
from archive.timefmt import human, human_published

# Page numbers shown on each side of the current page.
PAGER_SPREAD = 3


def china_time(value: datetime | str | None, precision: str = "minute") -> str:
    """A stored instant (a datetime or ISO 8601 text) as China time, ``2026年12月2日 12:28``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return human(value, precision)


def published(value: str | None, precision: str | None) -> str:
    """A publish time at the precision the page stated (a day shows no 00:00), to the
    minute at most, as portals and readers give one (2020年11月2日 11:20)."""
    return human_published(value, "minute" if precision == "second" else precision)


def highlight(text: str, terms: Sequence[str]) -> Markup:
    """`text` escaped, with every occurrence of the terms in <mark>: the text is escaped
    piece by piece, so nothing of it can become markup."""
    pieces: list[str] = []
    cursor = 0
    for start, end in match_spans(text, terms):
        pieces += [escape(text[cursor:start]), Markup("<mark>"), escape(text[start:end])]
        pieces.append(Markup("</mark>"))
        cursor = end
    pieces.append(escape(text[cursor:]))
    return Markup("").join(pieces)


@dataclass(frozen=True)
class PageLink:
    label: str
    number: int | None  # None: nothing to link (a gap, or a step past either end)
    current: bool = False
    rel: str | None = None


def pager(page: int, pages: int, spread: int = PAGER_SPREAD) -> list[PageLink]:
    """首页, 上一页, the numbers around `page` (gaps as …), 下一页, 末页."""
    if pages <= 1:
        return []
    links = [
        PageLink("首页", 1 if page > 1 else None, rel="first"),
        PageLink("上一页", page - 1 if page > 1 else None, rel="prev"),
    ]
    first, last = max(1, page - spread), min(pages, page + spread)
    if first > 1:
        links.append(PageLink("…", None))
    links += [PageLink(str(n), n, current=n == page) for n in range(first, last + 1)]
    if last < pages:
        links.append(PageLink("…", None))
    links += [
        PageLink("下一页", page + 1 if page < pages else None, rel="next"),
        PageLink("末页", pages if page < pages else None, rel="last"),
    ]
    return links


DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(value: str) -> str:
    """`value` if it is a YYYY-MM-DD day, else ""."""
    try:
        return value if DAY.fullmatch(value) and date.fromisoformat(value) else ""
    except ValueError:
        return ""


@dataclass(frozen=True)
class SearchForm:
    """What the search page was asked: the query, the filters and the order; values that
    are not what a field takes (a malformed date, an unknown order) are left out."""

    q: str = ""
    district: str = ""
    source: str = ""
    category: str = ""
    date_from: str = ""
    date_to: str = ""
    sort: str = ""

    @classmethod
    def read(cls, orders: Sequence[str], **values: str) -> SearchForm:
        form = cls(**values)
        sort = form.sort if form.sort in orders else ""
        return replace(
            form,
            date_from=_day(form.date_from),
            date_to=_day(form.date_to),
            sort=sort or ("relevance" if form.q.strip() else "newest"),
        )

    @property
    def searched(self) -> bool:
        return bool(
            self.q.strip()
            or self.district
            or self.source
            or self.category
            or self.date_from
            or self.date_to
        )

    def criteria(self) -> dict[str, str | None]:
        """Keyword arguments of archive.search's `search` and `matches`."""
        return {
            "district": self.district or None,
            "source": self.source or None,
            "category": self.category or None,
            "date_from": self.date_from or None,
            "date_to": self.date_to or None,
        }

    def year(self) -> str:
        """The year the date range is exactly, if it is one (as a year facet sets it)."""
        year = self.date_from[:4]
        if self.date_from == f"{year}-01-01" and self.date_to == f"{year}-12-31":
            return year
        return ""

    def url(self, path: str = "/search", **changes: str | int) -> str:
        """`path` with this form's values, `changes` applied (empty values left out)."""
        values: dict[str, str | int] = {
            "q": self.q,
            "district": self.district,
            "source": self.source,
            "category": self.category,
            "from": self.date_from,
            "to": self.date_to,
            "sort": self.sort,
        }
        values |= changes
        query = urlencode({key: value for key, value in values.items() if value not in ("", 1)})
        return f"{path}?{query}" if query else path
