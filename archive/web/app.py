"""The read-only HTTP service: JSON API for the portal, Chinese web UI for researchers.

Every route is a GET; there is nothing to write. Bodies are sanitized again on the way out
(archive.web.sanitize), templates autoescape, images are served only from DATA/images by a
validated sha256, and all SQL goes through SQLAlchemy with bound parameters.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Annotated, Any, Literal, get_args

import httpx
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as FastApiPath
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.templating import Jinja2Templates
from fastapi_offline import FastAPIOffline
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, selectinload

from archive.captures import REPLAY_PREFIX, replay_path, version_capture
from archive.config import ArchiveConfig
from archive.db import Archive
from archive.export import MEDIA_TYPES, article_record, search_records, write_articles
from archive.facets import facet_counts
from archive.feed import CursorError, iter_feed, make_cursor, parse_cursor, window_upper
from archive.models import Article, ArticleVersion, Image, VersionImage
from archive.search import ORDERS, SearchError, matches, search, split_query
from archive.timefmt import iso
from archive.web.replay import ReplayServer, ReplayUnavailable, forward
from archive.web.sanitize import safe_body_html, safe_snippet_html
from archive.web.ui import SearchForm, china_time, highlight, pager, published
from crawler.extract.record import summary_fields

SHA256 = re.compile(r"[0-9a-f]{64}")
TEMPLATES = Path(__file__).with_name("templates")
PAGE_SIZE = 20
SortOrder = Literal["relevance", "newest", "oldest"]  # the keys of archive.search.ORDERS
SORT_LABELS = {"relevance": "相关度", "newest": "时间（新→旧）", "oldest": "时间（旧→新）"}
Download = Literal["csv", "xlsx", "jsonl"]  # what the search page offers
DOWNLOADS = {fmt: MEDIA_TYPES[fmt] for fmt in get_args(Download)}
# A download is written to a temporary file (memory up to this size, disk beyond), then sent.
SPOOL_IN_MEMORY = 8 << 20


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
# no content sniffing, nothing from another host. The API docs use the copy of Swagger UI
# that fastapi-offline ships, served from here; Swagger UI starts from one inline script,
# which the docs page allows by its hash and no other.
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
    "default-src 'self'; script-src 'self'{scripts}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_ASSETS = "/static-offline-docs"
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)
# Replayed captures carry the portal's own markup, inline scripts and styles (and pywb's
# client-side rewriter): they may run, but only against this service ('self'), so the
# browser can fetch nothing from the live web, even what the rewriting missed.
REPLAY_CSP = (
    "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)


def unreadable_reason(exc: DatabaseError) -> str:
    """One line: what the database driver said, without SQL or parameters."""
    cause = exc.orig if exc.orig is not None else exc
    first = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first}" if first else type(cause).__name__


def archive_unavailable(request: Request, exc: DatabaseError) -> Response:
    """HTTP 503 with one line, as JSON for the API and as a page for the UI."""
    message = (
        f"the archive database cannot be read ({unreadable_reason(exc)}): "
        "run `wenhua verify`, then restore the database from a backup"
    )
    headers = {"Retry-After": "300"}
    path = request.url.path
    if path.startswith("/api/") or "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"detail": message}, status_code=503, headers=headers)
    page = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        "<title>档案暂不可用</title></head>"
        f"<body><p>档案暂不可用 / archive unavailable: {html.escape(message)}</p></body></html>"
    )
    return HTMLResponse(page, status_code=503, headers=headers)


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

    env.filters |= {"china_time": china_time, "published": published}
    app = FastAPIOffline(
        title="wenhua archive",
        description="Read-only access to archived regional cultural news.",
        version="1",
        # /docs is served below, with a policy that admits its one inline script; ReDoc is
        # left out, as it links a logo from its own site.
        docs_url=None,
        redoc_url=None,
        static_url=DOCS_ASSETS,
        lifespan=lifespan,
    )

    app.state.archive = archive
    app.state.replay = replay

    @app.exception_handler(SearchError)
    async def search_refused(request: Request, exc: SearchError) -> Response:
        # A search the library refuses (too many words, a bad date) is the asker's to change.
        return PlainTextResponse(str(exc), status_code=422)

    @app.exception_handler(DatabaseError)
    async def archive_unreadable(request: Request, exc: DatabaseError) -> Response:
        # The database went bad under a running service (a disk error, a file replaced by
        # something that is no SQLite database): the service is unavailable, not broken,
        # and says what the operator is to do, in one line.
        return archive_unavailable(request, exc)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith(REPLAY_PREFIX + "/"):
            response.headers["Content-Security-Policy"] = REPLAY_CSP
        return response

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            # No badge fetched from the public validator.
            swagger_ui_parameters={"validatorUrl": None},
        )
        hashes = "".join(
            " 'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
            for script in INLINE_SCRIPT.findall(bytes(page.body))
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP.format(scripts=hashes)
        return page

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
        sort: SortOrder = "relevance",
    ) -> dict[str, Any]:
        """Search (or list) articles; `page` (1-based) overrides `offset`; `sort` by rank
        or by publication time."""
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
            order=sort,
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
            "total_exact": result.total_exact,  # False: total is a lower bound
            "limit": limit,
            "offset": offset,
            "page": offset // limit + 1,
            "has_more": offset + len(items) < result.total
            or (not result.total_exact and len(items) == limit),
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
    def api_stats(
        db: Db, year: Annotated[str | None, Query(pattern=r"^\d{4}$")] = None
    ) -> dict[str, Any]:
        """Articles (current versions) per district per month of publication (of `year`)."""
        rows = _stats(db, year)
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
        form: Annotated[SearchForm, Depends(_search_form)],
        page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    ) -> Response:
        result = None
        facets = None
        if form.searched:
            result = search(
                db,
                form.q,
                **form.criteria(),
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
                order=form.sort,
            )
            facets = facet_counts(db, matches(db, form.q, **form.criteria()))
        districts = sorted(d for d in db.scalars(select(ArticleVersion.district).distinct()) if d)
        pages = (result.total + PAGE_SIZE - 1) // PAGE_SIZE if result else 0
        terms = split_query(form.q)
        return templates.TemplateResponse(
            request,
            "search.html",
            {
                "form": form,
                "districts": districts,
                "result": result,
                "hits": [
                    (hit, highlight(hit.title, terms), safe_snippet_html(hit.snippet_html))
                    for hit in result.items
                ]
                if result
                else [],
                "facets": facets,
                "orders": SORT_LABELS,
                "formats": DOWNLOADS,
                "page": page,
                "pages": pages,
                "pager": pager(page, pages),
            },
        )

    @app.get("/search/download", include_in_schema=False)
    def search_download(
        db: Db,
        form: Annotated[SearchForm, Depends(_search_form)],
        fmt: Annotated[Download, Query(alias="format")] = "csv",
    ) -> Response:
        """Every article of the search's result set (not one page), in its order."""
        found = matches(db, form.q, **form.criteria()) if form.searched else None
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        write_articles(fmt, search_records(db, found, form.sort), spool)  # CSV with a BOM
        size = spool.tell()
        spool.seek(0)
        return StreamingResponse(
            _chunks(spool),
            media_type=DOWNLOADS[fmt],
            headers={
                "Content-Disposition": f"attachment; filename=wenhua-search.{fmt}",
                "Content-Length": str(size),
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
    def stats_page(request: Request, db: Db, year: str = "") -> Response:
        years = _years(db)
        if year not in years:
            year = ""
        rows = _stats(db, year or None)
        if year:  # that year's months
            periods = [f"{year}-{month:02d}" for month in range(1, 13)]
            chart = _chart(rows, periods)
        else:  # one bar per year
            by_year: dict[tuple[str, str], int] = {}
            for district, month, count in rows:
                key = (district, month[:4])
                by_year[key] = by_year.get(key, 0) + count
            periods = [str(y) for y in range(int(min(years)), int(max(years)) + 1)] if years else []
            chart = _chart([(d, y, c) for (d, y), c in by_year.items()], periods)
        return templates.TemplateResponse(
            request,
            "stats.html",
            {"chart": chart, "rows": rows, "year": year, "years": years},
        )

    return app


# ---- helpers -------------------------------------------------------------------------


def _search_form(
    q: str = "",
    district: str = "",
    source: str = "",
    category: str = "",
    date_from: Annotated[str, Query(alias="from")] = "",
    date_to: Annotated[str, Query(alias="to")] = "",
    sort: str = "",
) -> SearchForm:
    return SearchForm.read(
        tuple(ORDERS),
        q=q,
        district=district,
        source=source,
        category=category,
        date_from=date_from,
        date_to=date_to,
        sort=sort,
    )


def _chunks(spool: IO[bytes], size: int = 1 << 16) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(size):
            yield chunk


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
        "fetched_at": iso(version.fetched_at),
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
    return {
        "replay_url": replay_path(capture.timestamp, capture.uri),
        "captured_at": iso(datetime.fromisoformat(capture.date)),
    }


def _stats(db: Session, year: str | None = None) -> list[tuple[str, str, int]]:
    month = func.substr(ArticleVersion.published_at, 1, 7)
    query = (
        select(ArticleVersion.district, month, func.count())
        .join(Article, Article.current_version_id == ArticleVersion.id)
        .where(ArticleVersion.published_at.is_not(None))
        .group_by(ArticleVersion.district, month)
        .order_by(month, ArticleVersion.district)
    )
    if year is not None:
        query = query.where(func.substr(ArticleVersion.published_at, 1, 4) == year)
    return [(d or "未知", m, int(c)) for d, m, c in db.execute(query).all()]


def _years(db: Session) -> dict[str, int]:
    """Years of publication with their article counts (current versions), oldest first."""
    year = func.substr(ArticleVersion.published_at, 1, 4)
    rows = db.execute(
        select(year, func.count())
        .join(Article, Article.current_version_id == ArticleVersion.id)
        .where(ArticleVersion.published_at.is_not(None))
        .group_by(year)
        .order_by(year)
    ).all()
    return {y: int(c) for y, c in rows}


COLORS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
          "#ff9da7", "#9c755f", "#bab0ac")  # fmt: skip


def _period_label(period: str) -> str:
    """2020 → 2020年, 2020-03 → 2020年3月."""
    if len(period) == 4:
        return f"{period}年"
    return f"{period[:4]}年{int(period[5:7])}月"


def _chart(rows: list[tuple[str, str, int]], periods: list[str]) -> dict[str, Any]:
    """Stacked bars per district, one per period (month or year), laid out for an inline SVG;
    a year's bar links to that year's months."""
    if not rows or not periods:
        return {"bars": [], "legend": [], "width": 0, "height": 0}
    districts = sorted({d for d, _, _ in rows})
    color = {d: COLORS[i % len(COLORS)] for i, d in enumerate(districts)}
    counts: dict[tuple[str, str], int] = {(d, p): c for d, p, c in rows}
    totals = {p: sum(counts.get((d, p), 0) for d in districts) for p in periods}
    peak = max(totals.values()) or 1
    left, top, plot_h, step = 40, 20, 220, max(6, min(60, 900 // len(periods)))
    bars = []
    columns = []
    for i, period in enumerate(periods):
        y: float = top + plot_h
        x = left + i * step
        for d in districts:
            c = counts.get((d, period), 0)
            if not c:
                continue
            h = plot_h * c / peak
            y -= h
            bars.append(
                {
                    "x": x,
                    "y": round(y, 1),
                    "w": step - 1,
                    "h": round(h, 1),
                    "color": color[d],
                    "label": f"{_period_label(period)} {d}：{c} 篇",
                }
            )
        columns.append(
            {
                "x": x + (step - 1) / 2,
                "top": round(y - 4, 1),
                "total": totals[period],
                "href": f"/stats?year={period}" if len(period) == 4 and totals[period] else None,
            }
        )
    short = len(periods) <= 12 or len(periods[0]) == 4
    ticks = [
        {"x": left + i * step, "label": _period_label(p) if len(p) == 4 else f"{int(p[5:7])}月"}
        if short
        else {"x": left + i * step, "label": p[:4]}
        for i, p in enumerate(periods)
        if short or p.endswith("-01")
    ]
    yticks = [{"y": round(top + plot_h - plot_h * v / peak, 1), "label": v}
              for v in sorted({0, peak // 2, peak})]  # fmt: skip
    return {
        "bars": bars,
        "columns": columns,
        "ticks": ticks,
        "yticks": yticks,
        "legend": [{"name": d, "color": color[d]} for d in districts],
        "width": left + len(periods) * step + 20,
        "height": top + plot_h + 40,
        "base": top + plot_h,
        "left": left,
    }
