"""Writing small archives directly through archive.store, for feed, API and UI tests."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Article, Site
from archive.store import record_change, store_article


def site_id(session: Session, name: str = "test-site", district: str = "路南区") -> int:
    row = session.scalars(select(Site).where(Site.name == name)).one_or_none()
    if row is None:
        row = Site(name=name, title=name, family="test", base_url="http://t.local")
        row.district = district
        session.add(row)
        session.flush()
    return row.id


def png(data_dir: Path, seed: int) -> dict[str, Any]:
    """A real PNG in DATA/images, with the facts the image pipeline would report."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), ((seed * 40) % 256, 90, 160)).save(buffer, "PNG")
    body = buffer.getvalue()
    sha = hashlib.sha256(body).hexdigest()
    path = f"images/{sha[:2]}/{sha[2:4]}/{sha}.png"
    (data_dir / path).parent.mkdir(parents=True, exist_ok=True)
    (data_dir / path).write_bytes(body)
    return {"sha256": sha, "mime": "image/png", "width": 40, "height": 30, "size": len(body),
            "path": path}  # fmt: skip


def put(
    session: Session,
    url: str,
    body: str,
    *,
    title: str | None = None,
    district: str = "路南区",
    published_at: str | None = "2023-02-09T12:10:31+08:00",
    published_precision: str = "second",
    source: str = "路南发布",
    category: str = "信息资讯",
    body_html: str | None = None,
    images: list[tuple[str, dict[str, Any] | None]] = (),  # type: ignore[assignment]
    site: str = "test-site",
) -> str:
    record = {
        "url": url,
        "title": title or body[:20],
        "published_at": published_at,
        "published_precision": published_precision if published_at else None,
        "source": source,
        "editor": "王瑶",
        "author": None,
        "city": "唐山市",
        "district": district,
        "category": category,
        "body_text": body,
        "body_html": body_html if body_html is not None else f"<p>{body}</p>",
        "images": [{"url": u, "alt": "图", "caption": None} for u, _ in images],
    }
    capture = {
        "fetched_at": datetime.now(UTC).isoformat(),
        "http_status": 200,
        "final_url": url,
        "raw_sha256": hashlib.sha256(body.encode()).hexdigest(),
        "content_type": "text/html; charset=utf-8",
    }
    return store_article(
        session,
        site_id=site_id(session, site, district),
        record=record,
        capture=capture,
        image_results=[facts or {"error": "404"} for _, facts in images],
        problems=[],
        run_id=None,
    )


def mark_gone(session: Session, url: str) -> None:
    article = session.scalars(select(Article).where(Article.url == url)).one()
    article.gone_at = datetime.now(UTC)
    record_change(session, article.id, "gone")
