"""A writer process for the concurrency test: stores the same articles, in the same order,
as its twin process, starting together at a barrier (spawned, so a real separate process
with its own connections)."""

from __future__ import annotations

from typing import Any

URLS = [f"http://demo.wenhua.local/new-{n}.html" for n in range(1, 6)]
ROUNDS = 12


def body_for(round_: int) -> str:
    # Each content is stored in two consecutive rounds: 'same' and 'changed' both happen.
    return f"第一段\n第{round_ // 2}次修改的第二段"


def record(url: str, round_: int) -> dict[str, Any]:
    return {
        "url": url,
        "title": "并发标题",
        "published_at": "2020-11-02T11:20:24+08:00",
        "published_precision": "second",
        "source": "路南发布",
        "editor": "王瑶",
        "author": None,
        "body_text": body_for(round_),
        "body_html": f"<p>{body_for(round_)}</p>",
        "images": [],
        "site": "demo-culture-cloud",
        "city": "唐山市",
        "district": "路南区",
        "category": "信息资讯",
    }


def write(db_url: str, barrier: Any, writer: int) -> None:
    from archive.db import Archive
    from archive.store import ensure_site, store_article
    from crawler.sitedefs import load_site

    archive = Archive(db_url, migrate=False)
    site = load_site("demo-culture-cloud")
    barrier.wait(timeout=120)
    for round_ in range(ROUNDS):
        for url in URLS:
            with archive.session() as session:
                site_id = ensure_site(session, site).id
                store_article(
                    session,
                    site_id=site_id,
                    record=record(url, round_),
                    capture={
                        "fetched_at": f"2024-01-01T00:{round_:02d}:{writer:02d}+00:00",
                        "http_status": 200,
                        "final_url": url,
                        "content_type": "text/html",
                        "last_modified": None,
                        "etag": None,
                        "raw_sha256": "c" * 64,
                    },
                    image_results=[],
                    problems=[],
                    run_id=None,
                )
    archive.close()
