"""Running crawls from the `wenhua` command: Scrapy settings from the archive config and
the command line, one CrawlerProcess for all requested sites, and the run summary."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from sqlalchemy import func, select

from archive.config import ArchiveConfig
from archive.db import Archive
from archive.locks import check_writable, crawl_locks
from archive.models import Article, ArticleVersion, CrawlRun, Failure, Site, VersionImage
from archive.runs import abandon_dead_runs, drift_text
from archive.timefmt import human_iso
from crawler.frontier.scheduler import frontier_settings
from crawler.memory import crawl_memory
from crawler.progress import progress_group
from crawler.spiders.portal import PortalSpider

# What --no-politeness (and the loopback demo) lifts; robots.txt stays obeyed.
IMPOLITE = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
    "WENHUA_RETRY_BACKOFF": 0.1,
}


def crawl_settings(
    config: ArchiveConfig,
    *,
    polite: bool = True,
    progress: bool = True,
    user_agent: str | None = None,
    since: str | None = None,
    frontier: str | None = None,
    idle_exit: float = 30.0,
) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    config.logs_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    overrides: dict[str, Any] = {
        "WENHUA_DATA_DIR": str(config.data_dir),
        "WENHUA_DB_URL": config.db_url,
        "FILES_STORE": str(config.data_dir),
        "WENHUA_PROGRESS": progress,
        "LOG_FILE": str(config.logs_dir / f"crawl-{stamp}.log"),
        "LOG_FILE_APPEND": True,
    }
    if not polite:
        overrides.update(IMPOLITE)
    user_agent = user_agent or os.environ.get("WENHUA_USER_AGENT")
    if user_agent:
        overrides["USER_AGENT"] = user_agent
    if since:
        overrides["WENHUA_SINCE"] = since
    settings.setdict(overrides, priority="cmdline")
    if frontier:  # many workers share one crawl through Redis
        settings.setdict(frontier_settings(settings, frontier, idle_exit, polite), "cmdline")
    return settings


def run_crawl(
    config: ArchiveConfig,
    sites: dict[str, str | None],
    *,
    polite: bool = True,
    progress: bool = True,
    user_agent: str | None = None,
    since: str | None = None,
    revisit_all: bool = False,
    full_lists: bool = False,
    frontier: str | None = None,
    idle_exit: float = 30.0,
) -> list[int]:
    """Crawl each site (name -> serving origin or None); returns the crawl run ids.

    Refuses to start (archive.locks) when the data directory cannot be written or another
    process crawls one of the sites into it (workers of a Redis frontier share on purpose)."""
    check_writable(
        [config.data_dir, config.raw_dir, config.images_dir, config.warc_dir, config.logs_dir]
    )
    # Migrate before Scrapy starts: several spiders opening a new archive at once
    # must not race to create it.
    Archive(config.db_url).close()
    settings = crawl_settings(
        config,
        polite=polite,
        progress=progress,
        user_agent=user_agent,
        since=since,
        frontier=frontier,
        idle_exit=idle_exit,
    )
    # One progress line and one summary for all the sites of this crawl (crawler.progress).
    settings.setdict(progress_group(len(sites)), priority="cmdline")
    process = CrawlerProcess(settings)
    for name, serve_at in sites.items():
        process.crawl(
            PortalSpider,
            site=name,
            serve_at=serve_at,
            revisit_all=revisit_all,
            full_lists=full_lists,
        )
    crawlers = list(process.crawlers)
    with crawl_locks(config.data_dir, [] if frontier else list(sites)):
        archive = Archive(config.db_url)
        try:
            with archive.session() as session:
                abandon_dead_runs(session, list(sites))
        finally:
            archive.close()
        with crawl_memory():
            process.start()
    return [
        c.stats.get_value("wenhua/run_id") for c in crawlers if c.stats.get_value("wenhua/run_id")
    ]


@dataclass
class Summary:
    articles: int
    images: int  # distinct image files (by content) the current versions show
    image_refs: int  # image links in the current versions, archived or not
    districts: list[str]
    earliest: str | None
    latest: str | None
    run_failures: int
    run_stats: dict[str, int]
    # Template drift the runs found (archive.runs.drift), one line per site.
    warnings: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [
            f"articles:   {self.articles}",
            f"images:     {self.images} distinct files, in {self.image_refs} image links"
            " of the articles (the per-site lines count downloads)",
            f"districts:  {len(self.districts)} ({'、'.join(self.districts)})",
            f"published:  {human_iso(self.earliest, 'day') or '-'}"
            f" … {human_iso(self.latest, 'day') or '-'}",
            "this run:   " + ", ".join(f"{k} {v}" for k, v in self.run_stats.items()),
            f"failures:   {self.run_failures}"
            + ("  (see `wenhua failures`)" if self.run_failures else ""),
        ]
        lines += [f"warning:    {warning}" for warning in self.warnings]
        return "\n".join(lines)


def summarize(archive: Archive, site_names: list[str], run_ids: list[int]) -> Summary:
    with archive.session() as session:
        current = (
            select(ArticleVersion)
            .join(Article, Article.current_version_id == ArticleVersion.id)
            .join(Site, Site.id == Article.site_id)
            .where(Site.name.in_(site_names))
            .subquery()
        )
        articles = session.scalar(select(func.count()).select_from(current)) or 0
        earliest, latest = session.execute(
            select(func.min(current.c.published_at), func.max(current.c.published_at))
        ).one()
        districts = sorted(d for d in session.scalars(select(current.c.district).distinct()) if d)
        images = (
            session.scalar(
                select(func.count(func.distinct(VersionImage.image_sha256))).where(
                    VersionImage.version_id.in_(select(current.c.id)),
                    VersionImage.image_sha256.is_not(None),
                )
            )
            or 0
        )
        image_refs = (
            session.scalar(
                select(func.count())
                .select_from(VersionImage)
                .where(VersionImage.version_id.in_(select(current.c.id)))
            )
            or 0
        )
        failures = (
            session.scalar(
                select(func.count())
                .select_from(Failure)
                .where(Failure.crawl_run_id.in_(run_ids), Failure.kind != "skipped")
            )
            or 0
        )
        totals: dict[str, int] = {"new": 0, "changed": 0, "unchanged": 0, "gone": 0}
        warnings = []
        for run in session.scalars(select(CrawlRun).where(CrawlRun.id.in_(run_ids))):
            for key in totals:
                totals[key] += int(run.stats.get(f"wenhua/articles_{key}", 0))
            if run.stats.get("drift"):
                site = ",".join(run.sites.get("names", []))
                warnings.append(drift_text(site, run.stats["drift"]))
    return Summary(
        articles, images, image_refs, districts, earliest, latest, failures, totals, warnings
    )
