"""What the archive knows about each configured site: its last crawl, how many articles it
holds (current and withdrawn) and how many failures its crawls recorded.

A crawl run row lists its site names in JSON (`crawl_runs.sites`), which SQLite and
PostgreSQL query differently, so runs are read once as (id, names, times, status) rows and
attributed here; articles and failures are counted by the database, one grouped query
each, whatever the number of sites.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from archive.models import Article, CrawlRun, Failure, Site
from archive.timefmt import iso


@dataclass(frozen=True)
class LastRun:
    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str


@dataclass(frozen=True)
class SiteStatus:
    name: str
    last_run: LastRun | None
    articles: int  # archived and not withdrawn
    gone: int  # withdrawn (404/410), kept
    last_run_failures: int
    total_failures: int
    runs: int
    # Fields whose coverage fell sharply in the last run (archive.runs.drift).
    drift: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        last = self.last_run
        return {
            "site": self.name,
            "last_run": None
            if last is None
            else {
                "id": last.id,
                "started_at": iso(last.started_at),
                "finished_at": iso(last.finished_at),
                "status": last.status,
            },
            "runs": self.runs,
            "articles": self.articles,
            "gone": self.gone,
            "failures_last_run": self.last_run_failures,
            "failures_total": self.total_failures,
            "drift": self.drift,
        }


def _runs_by_site(session: Session, names: set[str]) -> dict[str, list[LastRun]]:
    """Every run of each named site, newest first."""
    found: dict[str, list[LastRun]] = {name: [] for name in names}
    rows = session.execute(
        select(
            CrawlRun.id, CrawlRun.sites, CrawlRun.started_at, CrawlRun.finished_at, CrawlRun.status
        ).order_by(CrawlRun.id.desc())
    )
    for run_id, sites, started, finished, status in rows:
        for name in (sites or {}).get("names", []):
            if name in found:
                found[name].append(LastRun(run_id, started, finished, status))
    return found


def _article_counts(session: Session, names: set[str]) -> dict[str, tuple[int, int]]:
    """Site name -> (current, gone) article counts."""
    gone = case((Article.gone_at.is_not(None), 1), else_=0)
    rows = session.execute(
        select(Site.name, func.count(Article.id), func.coalesce(func.sum(gone), 0))
        .join(Article, Article.site_id == Site.id)
        .where(Site.name.in_(names))
        .group_by(Site.name)
    )
    return {name: (int(total) - int(withdrawn), int(withdrawn)) for name, total, withdrawn in rows}


def _failures_per_run(session: Session) -> dict[int, int]:
    """Failure rows per crawl run: one row per run, however many failures."""
    rows = session.execute(
        select(Failure.crawl_run_id, func.count())
        .where(Failure.crawl_run_id.is_not(None))
        .group_by(Failure.crawl_run_id)
    )
    return {int(run_id): int(count) for run_id, count in rows if run_id is not None}


def site_statuses(session: Session, names: list[str]) -> list[SiteStatus]:
    """One status per site name, in the order given; a site never crawled has no last run."""
    wanted = set(names)
    runs = _runs_by_site(session, wanted)
    articles = _article_counts(session, wanted)
    failures = _failures_per_run(session)
    last_ids = [site_runs[0].id for site_runs in runs.values() if site_runs]
    drifts = {
        run_id: list((stats or {}).get("drift") or [])
        for run_id, stats in session.execute(
            select(CrawlRun.id, CrawlRun.stats).where(CrawlRun.id.in_(last_ids))
        )
    }
    statuses = []
    for name in names:
        site_runs = runs[name]
        last = site_runs[0] if site_runs else None
        current, gone = articles.get(name, (0, 0))
        statuses.append(
            SiteStatus(
                name=name,
                last_run=last,
                articles=current,
                gone=gone,
                last_run_failures=failures.get(last.id, 0) if last else 0,
                total_failures=sum(failures.get(run.id, 0) for run in site_runs),
                runs=len(site_runs),
                drift=drifts.get(last.id, []) if last else [],
            )
        )
    return statuses
