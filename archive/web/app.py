"""The read-only HTTP service: JSON API for the portal, Chinese web UI for researchers.

Every route is a GET; there is nothing to write. Bodies are sanitized again on the way out
(archive.web.sanitize), templates autoescape, images are served only from DATA/images by a
validated sha256, and all SQL goes through SQLAlchemy with bound parameters.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as FastApiPath
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from archive.captures import REPLAY_PREFIX, replay_path, version_capture
from archive.config import ArchiveConfig
from archive.db import Archive
from archive.export import article_record
from archive.feed import CursorError, iter_feed, make_cursor, parse_cursor, window_upper
from archive.models import Article, ArticleVersion, Image, VersionImage
from archive.search import search
from archive.web.replay import ReplayServer, ReplayUnavailable, forward
from archive.web.sanitize import safe_body_html, safe_snippet_html
from crawler.extract.record import summary_fields

SHA256 = re.compile(r"[0-9a-f]{64}")
TEMPLATES = Path(__file__).with_name("templates")
PAGE_SIZE = 20


def _session(request: Request) -> Iterator[Session]:
    with request.app.state.archive.session() as session:
        yield session


Db = Annotated[Session, Depends(_session)]

# Ids and offsets past what the databases store as integers answer 422, not a 500 from
# the driver's overflow.
MAX_ID = 2**63 - 1
MAX_OFFSET = 10**12
MAX_PAGE = 10**9
ArticleId = Annotated[int, FastApiPath(ge=1, le=MAX_ID)]

# Every HTML and JSON response: no script but our own files (none inline), no framing,
# no content sniffing. The API docs page is the one exception: FastAPI's Swagger UI
# starts from an inline script and loads its assets from a CDN.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    "https://fastapi.tiangolo.com; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
# Replayed captures carry the portal's own markup, inline scripts and styles (and pywb's
# client-side rewriter): they may run, but only against this service ('self'), so the
# browser can fetch nothing from the live web, even what the rewriting missed.
REPLAY_CSP = (
    "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)


def create_app(
    config: ArchiveConfig, archive: Archive | None = None, replay: ReplayServer | None = None
) -> FastAPI:
    """The service; `replay` is started on the first replay request unless the caller
    started it (`wenhua serve` does, so the first click is fast), and stopped with the app."""
    archive = archive or Archive(config.db_url)
    replay = replay or ReplayServer(config.warc_dir)
    data_dir = config.data_dir
    images_root = config.images_dir.resolve()
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True)
    )
    templates = Jinja2Templates(env=env)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=60.0) as client:
            app.state.replay_client = client
            try:
                yield
            finally:
                await run_in_threadpool(replay.stop)

    app = FastAPI(
        title="wenhua archive",
        description="Read-only access to archived regional cultural news.",
        version="1",
        lifespan=lifespan,
    )

    app.state.archive = archive
    app.state.replay = replay

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith(DOCS_PATHS):
            response.headers["Content-Security-Policy"] = DOCS_CSP
        elif request.url.path.startswith(REPLAY_PREFIX + "/"):
            response.headers["Content-Security-Policy"] = REPLAY_CSP
        return response

    # ---- JSON API ---------------------------------------------------------------

    @app.get("/api/articles", tags=["api"])
    def api_articles(
        db: Db,
        q: str = "",
        site: str | None = None,
        district: str | None = None,
        source: str | None = None,
        category: str | None = None,
        date_from: Annotated[str | None, Query(alias="from", pattern=r"^\d{4}-\d{2}-\d{2}")] = None,
        date_to: Annotated[str | None, Query(alias="to", pattern=r"^\d{4}-\d{2}-\d{2}")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = PAGE_SIZE,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        page: Annotated[int | None, Query(ge=1, le=MAX_PAGE)] = None,
    ) -> dict[str, Any]:
        """Search (or list) articles; `page` (1-based) overrides `offset`."""
        if page is not None:
            offset = (page - 1) * limit
        result = search(
            db,
            q,
            site=site,
            district=district,
            source=source,
            category=category,
            date_from=date_from,
            date_to=date_to,
            limit=limit,
            offset=offset,
        )
        items = [
            {
                "id": hit.id,
                "url": hit.url,
                "title": hit.title,
                "published_at": hit.published_at,
                "district": hit.district,
                "source": hit.source,
                "site": hit.site,
                "snippet": hit.snippet,
            }
            for hit in result.items
        ]
        return {
            "items": items,
            "total": result.total,
            "limit": limit,
            "offset": offset,
            "page": offset // limit + 1,
            "has_more": offset + len(items) < result.total,
        }

    @app.get("/api/articles/{article_id}", tags=["api"])
    def api_article(article_id: ArticleId, db: Db) -> dict[str, Any]:
        """One article: its current record (body_html sanitized), versions and provenance."""
        article = _load_article(db, article_id)
        assert article.current is not None
        return {
            **_public_record(article, article.current),
            "versions": [_version_info(v, n, data_dir) for n, v in enumerate(article.versions, 1)],
        }

    @app.get("/api/changes", tags=["api"])
    def api_changes(
        db: Db,
        since: str | None = None,
        site: str | None = None,
        district: str | None = None,
        all_versions: bool = False,
        limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    ) -> dict[str, Any]:
        """Articles created, changed or withdrawn after `since` — the feed of `export --since`.

        Follow `next_cursor` until `has_more` is false; keep the last one for next time.
        """
        try:
            after = parse_cursor(since)
        except CursorError as exc:
            raise HTTPException(400, f"since: {exc}") from exc
        upper = window_upper(db, after, limit)
        items = [
            _sanitized(record)
            for record in iter_feed(
                db, after, upper, site=site, district=district, all_versions=all_versions
            )
        ]
        more = window_upper(db, upper, 1) > upper
        return {"items": items, "next_cursor": make_cursor(upper), "has_more": more}

    @app.get("/api/stats", tags=["api"])
    def api_stats(db: Db) -> dict[str, Any]:
        """Articles (current versions) per district per month of publication."""
        rows = _stats(db)
        return {
            "items": [{"district": d, "month": m, "count": c} for d, m, c in rows],
            "total": sum(c for _, _, c in rows),
        }

    @app.get("/images/{sha256}", tags=["api"], response_class=Response)
    def image(sha256: str, db: Db) -> Response:
        """An archived image's bytes, by sha256, with its stored content type."""
        if not SHA256.fullmatch(sha256):
            raise HTTPException(404, "not an image id (64 lowercase hex digits)")
        row = db.get(Image, sha256)
        if row is None:
            raise HTTPException(404, "no such image in the archive")
        path = (config.data_dir / row.path).resolve()
        if not path.is_relative_to(images_root) or not path.is_file():
            raise HTTPException(404, "image file missing from the archive")
        return FileResponse(
            path,
            media_type=row.mime,
            headers={
                "Cache-Control": "public, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
            },
        )

    # ---- web UI -------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/search")

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search_page(
        request: Request,
        db: Db,
        q: str = "",
        district: str = "",
        source: str = "",
        date_from: Annotated[str, Query(alias="from")] = "",
        date_to: Annotated[str, Query(alias="to")] = "",
        page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    ) -> Response:
        valid = re.compile(r"\d{4}-\d{2}-\d{2}")
        date_from = date_from if valid.fullmatch(date_from) else ""
        date_to = date_to if valid.fullmatch(date_to) else ""
        searched = bool(q.strip() or district or source or date_from or date_to)
        result = None
        if searched:
            result = search(
                db,
                q,
                district=district or None,
                source=source or None,
                date_from=date_from or None,
                date_to=date_to or None,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )
        districts = sorted(d for d in db.scalars(select(ArticleVersion.district).distinct()) if d)
        params = {"q": q, "district": district, "source": source}
        params |= {"from": date_from, "to": date_to}

        def page_url(n: int) -> str:
            return "/search?" + urlencode({**params, "page": n})

        return templates.TemplateResponse(
            request,
            "search.html",
            {
                "q": q,
                "district": district,
                "source": source,
                "date_from": date_from,
                "date_to": date_to,
                "districts": districts,
                "result": result,
                "hits": [(hit, safe_snippet_html(hit.snippet_html)) for hit in result.items]
                if result
                else [],
                "page": page,
                "pages": (result.total + PAGE_SIZE - 1) // PAGE_SIZE if result else 0,
                "page_url": page_url,
            },
        )

    @app.get("/articles/{article_id}", response_class=HTMLResponse, include_in_schema=False)
    def article_page(
        request: Request,
        article_id: ArticleId,
        db: Db,
        version: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    ) -> Response:
        article = _load_article(db, article_id)
        versions = article.versions
        shown = article.current
        if version is not None:
            if not 1 <= version <= len(versions):
                raise HTTPException(404, "no such version")
            shown = versions[version - 1]
        assert shown is not None
        number = versions.index(shown) + 1
        record = _public_record(article, shown)
        return templates.TemplateResponse(
            request,
            "article.html",
            {
                "article": article,
                "record": record,
                "number": number,
                "versions": [_version_info(v, n, data_dir) for n, v in enumerate(versions, 1)],
                "current_id": article.current_version_id,
            },
        )

    @app.get(REPLAY_PREFIX + "/{archived:path}", include_in_schema=False)
    async def replay_capture(request: Request, archived: str) -> Response:
        """A capture as the portal served it, replayed by pywb from the WARC files:
        /replay/<14-digit time>/<archived URL> (a page, or an image or file it links)."""
        try:
            base = await run_in_threadpool(replay.ensure)
        except ReplayUnavailable as exc:
            return PlainTextResponse(f"replay unavailable: {exc}", status_code=503)
        client = getattr(request.app.state, "replay_client", None)
        if client is None:  # an app used without its lifespan: a client for this request
            return await forward(request, base, httpx.AsyncClient(timeout=60.0), own=True)
        return await forward(request, base, client)

    @app.get("/stats", response_class=HTMLResponse, include_in_schema=False)
    def stats_page(request: Request, db: Db) -> Response:
        rows = _stats(db)
        return templates.TemplateResponse(
            request, "stats.html", {"chart": _chart(rows), "rows": rows}
        )

    return app


# ---- helpers -------------------------------------------------------------------------


def _load_article(db: Session, article_id: int) -> Article:
    article = db.scalars(
        select(Article)
        .where(Article.id == article_id, Article.current_version_id.is_not(None))
        .options(
            selectinload(Article.site),
            selectinload(Article.current)
            .selectinload(ArticleVersion.images)
            .selectinload(VersionImage.image),
            selectinload(Article.versions),
        )
    ).one_or_none()
    if article is None:
        raise HTTPException(404, "no such article")
    return article


def _sanitized(record: dict[str, Any]) -> dict[str, Any]:
    archived = {i["url"]: i["sha256"] for i in record["images"]}
    for image in record["images"]:
        image["archive_url"] = f"/images/{image['sha256']}" if image["sha256"] else None
    record["body_html"] = safe_body_html(record["body_html"], archived)
    return record


def _public_record(article: Article, version: ArticleVersion) -> dict[str, Any]:
    record = _sanitized(article_record(article, version))
    record["version_id"] = version.id
    record["provenance"] = _provenance(version)
    return record


def _provenance(version: ArticleVersion) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "fetched_at": version.fetched_at.isoformat(timespec="seconds"),
        "final_url": version.final_url,
        "http_status": version.http_status,
        "content_type": version.content_type,
        "last_modified": version.last_modified,
        "etag": version.etag,
        "raw_sha256": version.raw_sha256,
        "content_hash": version.content_hash,
        "crawl_run_id": version.crawl_run_id,
    }
    # WARC record columns (file, offset, record id …) once the archive has them.
    for column in ArticleVersion.__table__.columns:
        if column.name.startswith("warc"):
            facts[column.name] = getattr(version, column.key)
    return facts


def _version_info(version: ArticleVersion, number: int, data_dir: Path) -> dict[str, Any]:
    return {
        "number": number,
        "version_id": version.id,
        **{name: getattr(version, name) for name in summary_fields()},
        **_provenance(version),
        **_replay(version, data_dir),
    }


def _replay(version: ArticleVersion, data_dir: Path) -> dict[str, Any]:
    """The version's capture as served: its replay URL and capture time (WARC-Date of its
    response record), or nulls when the version has no WARC record."""
    capture = version_capture(data_dir, version)
    if capture is None:
        return {"replay_url": None, "captured_at": None}
    return {"replay_url": replay_path(capture.timestamp, capture.uri), "captured_at": capture.date}


def _stats(db: Session) -> list[tuple[str, str, int]]:
    month = func.substr(ArticleVersion.published_at, 1, 7)
    rows = db.execute(
        select(ArticleVersion.district, month, func.count())
        .join(Article, Article.current_version_id == ArticleVersion.id)
        .where(ArticleVersion.published_at.is_not(None))
        .group_by(ArticleVersion.district, month)
        .order_by(month, ArticleVersion.district)
    ).all()
    return [(d or "未知", m, int(c)) for d, m, c in rows]


COLORS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
          "#ff9da7", "#9c755f", "#bab0ac")  # fmt: skip


def _chart(rows: list[tuple[str, str, int]]) -> dict[str, Any]:
    """Stacked monthly bars per district, laid out for an inline SVG."""
    if not rows:
        return {"bars": [], "legend": [], "width": 0, "height": 0}
    months = _month_range(min(m for _, m, _ in rows), max(m for _, m, _ in rows))
    districts = sorted({d for d, _, _ in rows})
    color = {d: COLORS[i % len(COLORS)] for i, d in enumerate(districts)}
    counts: dict[tuple[str, str], int] = {(d, m): c for d, m, c in rows}
    totals = {m: sum(counts.get((d, m), 0) for d in districts) for m in months}
    peak = max(totals.values()) or 1
    left, top, plot_h, step = 40, 10, 220, max(6, min(24, 900 // len(months)))
    bars = []
    for i, m in enumerate(months):
        y: float = top + plot_h
        for d in districts:
            c = counts.get((d, m), 0)
            if not c:
                continue
            h = plot_h * c / peak
            y -= h
            bars.append(
                {
                    "x": left + i * step,
                    "y": round(y, 1),
                    "w": step - 1,
                    "h": round(h, 1),
                    "color": color[d],
                    "label": f"{m} {d}：{c} 篇",
                }
            )
    ticks = [
        {"x": left + i * step, "label": m}
        for i, m in enumerate(months)
        if m.endswith("-01") or len(months) <= 12
    ]
    yticks = [{"y": round(top + plot_h - plot_h * v / peak, 1), "label": v}
              for v in sorted({0, peak // 2, peak})]  # fmt: skip
    return {
        "bars": bars,
        "ticks": ticks,
        "yticks": yticks,
        "legend": [{"name": d, "color": color[d]} for d in districts],
        "width": left + len(months) * step + 20,
        "height": top + plot_h + 40,
        "base": top + plot_h,
        "left": left,
    }


def _month_range(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    months: list[str] = []
    while f"{year:04d}-{month:02d}" <= last and len(months) < 1200:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
