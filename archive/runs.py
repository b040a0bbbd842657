"""Crawl runs: what each crawl did (start, end, sites, status, counts) and its failures."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import CrawlRun, Failure

COUNT_KEYS = (
    "pages",
    "articles_new",
    "articles_changed",
    "articles_unchanged",
    "articles_gone",
    "images",
    "failures",
)


class UnknownRunError(LookupError):
    """No crawl run has this id."""


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def run_summary(run: CrawlRun) -> dict[str, Any]:
    counts = run.stats.get("counts") or {}
    return {
        "id": run.id,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "sites": list(run.sites.get("names", [])),
        "status": run.status,
        "counts": {key: counts.get(key) for key in COUNT_KEYS},
        "settings": run.settings,
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
    summary["failures"] = [
        {
            "url": row.url,
            "kind": row.kind,
            "http_status": row.http_status,
            "reason": row.reason,
            "at": _iso(row.created_at),
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
