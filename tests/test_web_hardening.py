"""HTTP hardening of `wenhua serve`: security headers on every HTML and JSON response, and
out-of-range ids, offsets and pages answered with 4xx instead of a database overflow."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from archive.config import resolve
from archive.db import Archive
from archive.web.app import create_app
from tests.feed_helpers import put


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    archive = Archive(db_url)
    with archive.session() as s:
        put(s, "http://t.local/a", "路南区文化馆举办非遗展览。", title="非遗展览")
    with TestClient(create_app(resolve(tmp_path, db_url), archive)) as test_client:
        yield test_client
    archive.close()


ROUTES = [
    "/search",
    "/search?q=非遗",
    "/stats",
    "/stats?year=2023",
    "/search/download?q=非遗&format=csv",
    "/docs",
    "/api/articles",
    "/api/articles?q=非遗",
    "/api/stats",
    "/api/changes",
    "/articles/999999",  # a 404 page carries them too
    "/api/articles/999999",
]


@pytest.mark.parametrize("route", ROUTES)
def test_every_html_and_json_response_is_hardened(client: TestClient, route: str) -> None:
    response = client.get(route)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    csp = response.headers["content-security-policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in csp


def test_the_ui_has_no_inline_script(client: TestClient) -> None:
    article = client.get("/api/articles").json()["items"][0]["id"]
    for route in ("/search?q=非遗", "/stats", f"/articles/{article}"):
        html = client.get(route).text
        assert "<script>" not in html and "<script " not in html.replace("<script src=", "")


HUGE = str(2**70)


@pytest.mark.parametrize(
    "route",
    [
        f"/articles/{HUGE}",
        f"/api/articles/{HUGE}",
        f"/api/articles?offset={HUGE}",
        f"/api/articles?page={HUGE}",
        f"/api/articles?q=非遗&offset={HUGE}",
        f"/search?q=非遗&page={HUGE}",
        "/articles/1?version=" + HUGE,
        "/articles/-1",
    ],
)
def test_huge_numbers_are_client_errors(client: TestClient, route: str) -> None:
    response = client.get(route)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])


def test_large_offset_within_range_is_an_empty_page(client: TestClient) -> None:
    body = client.get("/api/articles", params={"offset": 10**12}).json()
    assert body["items"] == [] and body["total"] == 1 and body["has_more"] is False


@pytest.mark.parametrize("route", ["/api/articles", "/search", "/search/download"])
def test_a_search_of_hundreds_of_words_is_a_client_error(client: TestClient, route: str) -> None:
    words = " ".join(f"词{n}" for n in range(600))
    response = client.get(route, params={"q": words, "format": "csv"})
    assert response.status_code == 422
    assert "more than 100 words" in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


DAMAGED_ROUTES = ["/search?q=非遗", "/stats", "/articles/1", "/api/articles", "/api/stats"]


@pytest.mark.parametrize("damage", ["not a database", "pages overwritten"])
def test_a_damaged_archive_is_503_with_one_line(damage: str, tmp_path: Path) -> None:
    """The database goes bad under a running service: 503 and one line, never a 500."""
    path = tmp_path / "archive.sqlite"
    db_url = f"sqlite:///{path}"
    archive = Archive(db_url)
    with archive.session() as s:
        put(s, "http://t.local/a", "路南区文化馆举办非遗展览。", title="非遗展览")
    with TestClient(
        create_app(resolve(tmp_path, db_url), archive), raise_server_exceptions=False
    ) as client:
        assert client.get("/api/articles").status_code == 200
        # Everything into the main file first: what the WAL still holds would be read
        # from there, past the damage.
        with closing(sqlite3.connect(path)) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        whole = path.read_bytes()
        if damage == "not a database":
            path.write_bytes(b"this is no SQLite database\n" * 400)
        else:  # keep the header, overwrite every page after the first
            path.write_bytes(whole[:4096] + b"\xa5" * (len(whole) - 4096))
        for route in DAMAGED_ROUTES:
            response = client.get(route)
            assert response.status_code == 503, (route, response.status_code, response.text)
            assert response.headers["x-content-type-options"] == "nosniff"
            if route.startswith("/api/"):
                message = response.json()["detail"]
            else:
                assert response.headers["content-type"].startswith("text/html")
                message = response.text
            assert "\n" not in message and "Traceback" not in message
            assert "wenhua verify" in message
    archive.close()
