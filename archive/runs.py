"""Crawl runs: what each crawl did (start, end, sites, status, counts) and its failures,
and each run's field coverage with the template drift it shows."""

from __future__ import annotations

import statistics
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.locks import process_gone
from archive.models import CrawlRun, Failure
from archive.timefmt import iso
from crawler.extract.record import covered_fields

# Field coverage: the stats the archive writer counts for every stored article.
COVERAGE_STAT = "wenhua/coverage/"
# Template drift: a field found in at least this share fewer of a run's stored articles
# than the median of the site's previous runs ...
DRIFT_DROP = 0.3
# ... compared over the last runs that stored enough articles to say anything.
DRIFT_HISTORY = 5
DRIFT_MIN_ARTICLES = 5

COUNT_KEYS = (
    "pages",
    "articles_new",
    "articles_changed",
    "articles_unchanged",
    "articles_gone",
    "images",
    "failures",
)


# The run record's note of the process that crawls it ("pid host", archive.locks).
PROCESS_SETTING = "process"
ABANDONED = "abandoned"


def dead_run(run: CrawlRun) -> bool:
    """A run still `running` whose crawl process is gone (SIGKILL, a crash, a reboot)."""
    owner = run.settings.get(PROCESS_SETTING) if isinstance(run.settings, dict) else None
    return run.status == "running" and isinstance(owner, str) and process_gone(owner)


def abandon_dead_runs(session: Session, sites: list[str]) -> list[int]:
    """Mark `abandoned`, with the reason, every run of these sites left `running` by a
    process that is gone; the next crawl calls it before it starts (its own frontier
    entries are resumed by it). Returns their ids."""
    abandoned = []
    for run in session.scalars(select(CrawlRun).where(CrawlRun.status == "running")):
        if not set(run.sites.get("names", [])) & set(sites) or not dead_run(run):
            continue
        pid = str(run.settings[PROCESS_SETTING]).split(" ", 1)[0]
        run.status = ABANDONED
        run.stats = {
            **run.stats,
            "abandoned": f"its crawl process {pid} ended without closing the run "
            "(killed or crashed); found by the next crawl, which resumes its work",
        }
        abandoned.append(run.id)
    return abandoned


def shown_status(run: CrawlRun) -> str:
    """The status to show: a read-only command cannot mark a dead run, but says it."""
    return "running (process gone)" if dead_run(run) else run.status


class UnknownRunError(LookupError):
    """No crawl run has this id."""


def run_summary(run: CrawlRun) -> dict[str, Any]:
    counts = run.stats.get("counts") or {}
    return {
        "id": run.id,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "sites": list(run.sites.get("names", [])),
        "status": shown_status(run),
        "counts": {key: counts.get(key) for key in COUNT_KEYS},
        "settings": run.settings,
        "coverage": run.stats.get("coverage"),
        "drift": list(run.stats.get("drift") or []),
    }


def list_runs(session: Session, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` runs, newest first."""
    runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit))
    return [run_summary(run) for run in runs]


def run_details(session: Session, run_id: int) -> dict[str, Any]:
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise UnknownRunError(f"no crawl run with id {run_id} (see `wenhua runs`)")
    summary = run_summary(run)
    summary["accounting"] = run.stats.get("accounting")
    summary["abandoned"] = run.stats.get("abandoned")
    summary["failures"] = [
        {
            "url": row.url,
            "kind": row.kind,
            "http_status": row.http_status,
            "reason": row.reason,
            "at": iso(row.created_at),
            "retries": row.retries,
        }
        for row in session.scalars(
            select(Failure).where(Failure.crawl_run_id == run_id).order_by(Failure.id)
        )
    ]
    return summary


def render_balance(balance: dict[str, Any] | None) -> str:
    """One line: what became of every request the run scheduled."""
    if not balance:
        return "- (recorded by newer versions only)"
    parts = [f"scheduled={balance['scheduled']} settled={balance['settled']}"]
    parts.append(f"lists={balance['lists']}")
    for group in ("archived", "failed", "skipped"):
        counts = balance.get(group) or {}
        if counts:
            parts.append(f"{group}(" + ", ".join(f"{k} {v}" for k, v in counts.items()) + ")")
    parts.append(
        "balanced" if balance["balanced"] else "NOT BALANCED: " + "; ".join(balance["problems"])
    )
    return " ".join(parts)


def render_counts(counts: dict[str, Any]) -> str:
    short = {
        "pages": "pages",
        "articles_new": "new",
        "articles_changed": "changed",
        "articles_unchanged": "unchanged",
        "articles_gone": "gone",
        "images": "images",
        "failures": "failures",
    }
    return " ".join(
        f"{short[key]}={counts[key] if counts.get(key) is not None else '-'}" for key in COUNT_KEYS
    )


def run_statuses(session: Session, run_ids: list[int]) -> list[tuple[int, str, str]]:
    """(id, sites, status) of the given runs, in id order."""
    runs = session.scalars(select(CrawlRun).where(CrawlRun.id.in_(run_ids)).order_by(CrawlRun.id))
    return [(run.id, ",".join(run.sites.get("names", [])), run.status) for run in runs]


def coverage_of(stats: dict[str, Any]) -> dict[str, Any] | None:
    """{articles, fields: {name: share}} of a run's stats; None when it stored no article."""
    articles = int(stats.get(COVERAGE_STAT + "articles") or 0)
    if not articles:
        return None
    shares = {
        name: round(int(stats.get(COVERAGE_STAT + name) or 0) / articles, 4)
        for name in covered_fields()
    }
    return {"articles": articles, "fields": shares}


def drift(
    coverage: dict[str, Any] | None, previous: list[dict[str, Any] | None]
) -> list[dict[str, Any]]:
    """The fields whose coverage fell sharply against the previous runs (newest first)."""
    if coverage is None or coverage["articles"] < DRIFT_MIN_ARTICLES:
        return []
    history = [c for c in previous if c and c["articles"] >= DRIFT_MIN_ARTICLES][:DRIFT_HISTORY]
    if not history:
        return []
    found = []
    for name, share in coverage["fields"].items():
        before = statistics.median(c["fields"].get(name, 0.0) for c in history)
        if before - share >= DRIFT_DROP:
            found.append({"field": name, "coverage": share, "before": round(before, 4)})
    return found


def previous_coverage(session: Session, run: CrawlRun) -> list[dict[str, Any] | None]:
    """The coverage of the earlier finished runs of the same sites, newest first."""
    names = (run.sites or {}).get("names", [])
    rows = session.scalars(
        select(CrawlRun)
        .where(CrawlRun.id < run.id, CrawlRun.status == "finished")
        .order_by(CrawlRun.id.desc())
        .limit(50 * DRIFT_HISTORY)
    )
    return [
        row.stats.get("coverage")
        for row in rows
        if (row.sites or {}).get("names", []) == names and row.stats.get("coverage")
    ]


def render_coverage(coverage: dict[str, Any]) -> str:
    shares = " ".join(f"{name}={share:.0%}" for name, share in coverage["fields"].items())
    return f"{shares} (of {coverage['articles']} stored articles)"


def drift_text(site: str, warnings: list[dict[str, Any]]) -> str:
    """One line: which fields of which site stopped being found."""
    fields = ", ".join(
        f"{w['field']} in {w['coverage']:.0%} of the articles (was {w['before']:.0%})"
        for w in warnings
    )
    return f"template drift on {site}: {fields}; check its definition (`wenhua sites check {site}`)"
