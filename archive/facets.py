"""A search's whole result set: how it divides by district, source, category and year, and
its article ids in order.

The search page shows, beside one page of results, how many of all the matching articles
fall under each value, and downloads all of them. Both read the match set of
archive.search (`matches`), the one `search` pages and counts, so a facet's count is the
total the search shows once that facet is chosen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from archive.search import ORDERS, Matches

FACETS = ("district", "source", "category", "year")
ID_BATCH = 1000


@dataclass(frozen=True)
class FacetCount:
    value: str | None  # None: the article does not say
    count: int


def facet_counts(session: Session, found: Matches | None) -> dict[str, list[FacetCount]]:
    """Per facet, each value with the number of matching articles that have it: most
    first (years newest first), articles lacking the value counted under None, last."""
    counts: dict[str, Counter[str | None]] = {facet: Counter() for facet in FACETS}
    if found is not None:
        # One pass over the match set, grouped by every facet at once: far fewer rows than
        # articles, and the match set (the costly part) is computed once, not per facet.
        grouped = text(
            "SELECT v.district AS district, v.source AS source, v.category AS category,"
            " substr(m.published_at, 1, 4) AS year, count(*) AS n"
            f" FROM ({found.sql}) AS m"
            " JOIN search_docs AS sd ON sd.article_id = m.id"
            " JOIN article_versions AS v ON v.id = sd.version_id"
            " GROUP BY v.district, v.source, v.category, substr(m.published_at, 1, 4)"
        )
        for row in session.execute(grouped, found.params):
            for facet in FACETS:
                counts[facet][getattr(row, facet) or None] += int(row.n)
    result = {}
    for facet, counted in counts.items():
        known = [(value, n) for value, n in counted.items() if value is not None]
        if facet == "year":
            known.sort(reverse=True)
        else:
            known.sort(key=lambda item: (-item[1], item[0]))
        unknown = [(None, counted[None])] if None in counted else []
        result[facet] = [FacetCount(value, n) for value, n in [*known, *unknown]]
    return result


def result_ids(
    session: Session, found: Matches | None, order: str = "relevance"
) -> Iterator[list[int]]:
    """The ids of every matching article in `order` (a key of ORDERS), in batches."""
    if found is None:
        return
    ordered = text(f"SELECT id FROM ({found.sql}) AS m {ORDERS[order]}")
    rows = session.execute(ordered, found.params).scalars()
    batch: list[int] = []
    for article_id in rows:
        batch.append(int(article_id))
        if len(batch) == ID_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
