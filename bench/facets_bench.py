"""Facet benchmark: what the search page adds to a search — counts per district, source,
category and year over every match (`archive.facets.facet_counts`).

    python bench/facets_bench.py --articles 100000 --db sqlite

Builds the synthetic archive of bench/search_bench.py (same generator, seed and options),
then times, for 2-character words with and without a district filter, the page's search
(`search`, one page of 20) and its facet counts, each as a whole call. Prints p50/p95/max
in milliseconds and the matches per query.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.db import Archive
from archive.facets import facet_counts
from archive.search import matches, reindex_all, search
from bench.search_bench import (
    DISTRICTS,
    PG_URL,
    fresh_database,
    load,
    percentile,
    two_character_words,
)

Query = tuple[str, str | None]


def timed(archive: Archive, queries: list[Query], call: Callable[..., int]) -> list[float]:
    times = []
    for query, district in queries:
        started = time.perf_counter()
        with archive.session() as session:
            call(session, query, district)
        times.append((time.perf_counter() - started) * 1000)
    return times


def page(session: Session, query: str, district: str | None) -> int:
    return search(session, query, district=district).total


def facets(session: Session, query: str, district: str | None) -> int:
    counts = facet_counts(session, matches(session, query, district=district))
    return sum(item.count for item in counts["district"])


def report(label: str, times: list[float], totals: list[int]) -> None:
    print(
        f"{label:40} n={len(times):3}  p50 {statistics.median(times):6.1f} ms  "
        f"p95 {percentile(times, 0.95):6.1f} ms  max {max(times):6.1f} ms  "
        f"matches/query median {int(statistics.median(totals))}, max {max(totals)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--workdir", type=Path, default=Path("bench-data"))
    parser.add_argument("--pg-db", default="wenhua_facets_bench")
    parser.add_argument("--reuse", action="store_true", help="time the archive a previous run left")
    args = parser.parse_args()
    if args.reuse:
        url = (
            f"sqlite:///{args.workdir / 'search-bench.sqlite'}"
            if args.db == "sqlite"
            else make_url(PG_URL).set(database=args.pg_db).render_as_string(hide_password=False)
        )
        archive = Archive(url)
    else:
        archive = Archive(fresh_database(args.db, args.workdir, args.pg_db))
        load(archive, args.articles, args.seed)
        with archive.session() as session:
            reindex_all(session)
        with archive.engine.begin() as conn:
            conn.execute(text("ANALYZE"))

    rng = random.Random(args.seed + 1)
    words = two_character_words()
    for label, filtered in (("2-char word + district", True), ("2-char word, no filter", False)):
        queries = [
            (rng.choice(words), rng.choice(DISTRICTS) if filtered else None)
            for _ in range(args.queries)
        ]
        timed(archive, queries[:5], page)  # warm-up, not counted
        with archive.session() as session:
            totals = [page(session, q, d) for q, d in queries]
        report(f"{label}: search page of 20", timed(archive, queries, page), totals)
        report(f"{label}: facet counts", timed(archive, queries, facets), totals)
    archive.close()


if __name__ == "__main__":
    main()
