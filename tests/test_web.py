"""The HTTP API and web UI through FastAPI's TestClient, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from archive.config import resolve
from archive.db import Archive
from archive.models import Image
from archive.web.app import create_app
from tests.feed_helpers import mark_gone, png, put

HOSTILE = (
    '<p onclick="alert(1)">文化<script>alert(2)</script></p>'
    '<img src="x" onerror="alert(3)">'
    '<a href="javascript:alert(4)">点我</a>'
    '<iframe src="http://evil.example/"></iframe>'
    '<embed src="http://evil.example/x.swf"><object data="http://evil.example/o"></object>'
    '<svg onload="alert(5)"></svg><style>body{display:none}</style>'
    '<img src="http://t.local/ok.png" alt="好图">'
)
EXECUTABLE = ("<script", "onerror", "onclick", "onload", "javascript:", "<iframe", "<embed",
              "<object", "<svg", "<style", "evil.example")  # fmt: skip


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    archive = Archive(db_url)
    ok = png(tmp_path, 1)
    with archive.session() as s:
        put(
            s,
            "http://t.local/a",
            "路南区文化馆举办非遗展览，群众踊跃参观。",
            title="路南区非遗展览开幕",
            body_html='<p>路南区文化馆举办非遗展览。</p><img src="http://t.local/1.png">'
            '<img src="http://t.local/missing.png">',
            images=[("http://t.local/1.png", ok), ("http://t.local/missing.png", None)],
        )
        put(s, "http://t.local/b", "古冶区评剧团送戏下乡。", district="古冶区",
            published_at="2024-12-17T20:25:56+08:00")  # fmt: skip
        put(s, "http://t.local/b", "古冶区评剧团送戏下乡，演出三场。", district="古冶区",
            published_at="2024-12-17T20:25:56+08:00")  # fmt: skip
        put(s, "http://t.local/h", "恶意文章文化", title="恶意", body_html=HOSTILE,
            images=[("http://t.local/ok.png", png(tmp_path, 2))])  # fmt: skip
        mark_gone(s, "http://t.local/h")
    app = create_app(resolve(tmp_path, db_url), archive)
    with TestClient(app) as test_client:
        yield test_client, {"ok": ok["sha256"]}
    archive.close()


def ids(client: TestClient) -> dict[str, int]:
    items = client.get("/api/articles", params={"limit": 1000}).json()["items"]
    return {item["url"].rsplit("/", 1)[1]: item["id"] for item in items}


def test_api_search_filters_and_paging(client: tuple[TestClient, dict[str, str]]) -> None:
    c, _ = client
    body = c.get("/api/articles", params={"q": "文化"}).json()
    assert body["total"] == 2
    assert set(body["items"][0]) >= {"id", "url", "title", "published_at", "district",
                                     "source", "snippet"}  # fmt: skip
    assert c.get("/api/articles", params={"q": "路南", "district": "古冶区"}).json()["total"] == 0
    dated = c.get("/api/articles", params={"from": "2024-01-01", "to": "2024-12-31"}).json()
    assert [i["url"] for i in dated["items"]] == ["http://t.local/b"]
    first = c.get("/api/articles", params={"limit": 1, "page": 2}).json()
    assert first["offset"] == 1 and len(first["items"]) == 1 and first["has_more"]
    assert c.get("/api/articles", params={"limit": 1001}).status_code == 422


def test_api_article_versions_provenance_and_changes(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, images = client
    found = ids(c)
    b = c.get(f"/api/articles/{found['b']}").json()
    assert b["body_text"] == "古冶区评剧团送戏下乡，演出三场。"
    assert [v["number"] for v in b["versions"]] == [1, 2]
    assert b["provenance"]["http_status"] == 200 and len(b["provenance"]["raw_sha256"]) == 64
    a = c.get(f"/api/articles/{found['a']}").json()
    assert f'src="/images/{images["ok"]}"' in a["body_html"]
    assert "missing.png" not in a["body_html"] and "图片未存档" in a["body_html"]
    assert c.get("/api/articles/999999").status_code == 404

    feed = c.get("/api/changes").json()
    assert [i["change"] for i in feed["items"]] == ["new", "changed", "gone"]
    assert feed["items"][-1]["gone_at"] is not None and not feed["has_more"]
    assert c.get("/api/changes", params={"since": feed["next_cursor"]}).json()["items"] == []
    paged = c.get("/api/changes", params={"limit": 2}).json()
    assert paged["has_more"] and paged["next_cursor"] == "c2"
    assert c.get("/api/changes", params={"since": "drop table"}).status_code == 400


def test_api_stats_and_openapi_is_read_only(client: tuple[TestClient, dict[str, str]]) -> None:
    c, _ = client
    stats = c.get("/api/stats").json()
    assert {"district": "古冶区", "month": "2024-12", "count": 1} in stats["items"]
    assert stats["total"] == 3
    spec = c.get("/openapi.json").json()
    assert {"/api/articles", "/api/articles/{article_id}", "/api/changes", "/api/stats",
            "/images/{sha256}"} <= set(spec["paths"])  # fmt: skip
    assert all(set(ops) == {"get"} for ops in spec["paths"].values())
    assert c.post("/api/articles").status_code == 405


def test_images_by_sha256_only_inside_the_store(
    client: tuple[TestClient, dict[str, str]], db_url: str, tmp_path: Path
) -> None:
    c, images = client
    got = c.get(f"/images/{images['ok']}")
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert hashlib.sha256(got.content).hexdigest() == images["ok"]
    for bad in ("../archive.sqlite", "ABC", images["ok"].upper(), "0" * 63 + "g"):
        assert c.get(f"/images/{bad}").status_code == 404
    # A row whose path points outside DATA/images is refused, not followed.
    (tmp_path / "secret.png").write_bytes(b"secret")
    archive = Archive(db_url)
    with archive.session() as s:
        s.add(Image(sha256="e" * 64, mime="image/png", width=1, height=1, size=6,
                    path="images/../secret.png", first_seen=s.get(Image, images["ok"]).first_seen))  # type: ignore[union-attr]  # fmt: skip
    archive.close()
    assert c.get("/images/" + "e" * 64).status_code == 404


def test_hostile_body_is_neutralized_in_api_and_page(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    """Stored as-is (bypassing the crawler's cleaning): output-time sanitizing still holds."""
    c, _ = client
    found = ids(c)
    api = c.get(f"/api/articles/{found['h']}").json()["body_html"].lower()
    page = c.get(f"/articles/{found['h']}").text.lower()
    body = page.split('<article class="body">', 1)[1].split("</article>", 1)[0]
    for needle in EXECUTABLE:
        assert needle not in api, needle
        assert needle not in body, needle
        assert needle == "<style" or needle not in page, needle
    assert "/images/" in api and "http://t.local/ok.png" not in api
    feed = c.get("/api/changes").json()["items"]
    assert all(n not in i["body_html"].lower() for i in feed for n in EXECUTABLE)


def test_ui_search_article_and_stats_pages(client: tuple[TestClient, dict[str, str]]) -> None:
    c, images = client
    found = ids(c)
    html = c.get("/search", params={"q": "路南"}).text
    assert "<mark>路南</mark>" in html
    assert f'href="/articles/{found["a"]}"' in html and "2023-02-09" in html
    assert "共找到" in html
    escaped = c.get("/search", params={"q": "<script>x"}).text
    assert "<script>x" not in escaped and "&lt;script&gt;x" in escaped
    article = c.get(f"/articles/{found['a']}").text
    assert f'src="/images/{images["ok"]}"' in article
    assert 'src="http' not in article  # never hot-linked to the portal
    assert "图片未存档" in article and "来源与存档信息" in article
    old = c.get(f"/articles/{found['b']}", params={"version": 1}).text
    assert "第 1 版" in old and "送戏下乡。" in old
    assert c.get(f"/articles/{found['b']}", params={"version": 9}).status_code == 404
    stats = c.get("/stats").text
    assert "<svg" in stats and "古冶区" in stats
