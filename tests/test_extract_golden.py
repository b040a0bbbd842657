"""Golden extraction tests: saved pages (tests/fixtures/extract/<case>/page.html, bytes as
served) give exactly the expected record; required text appears, boilerplate never."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.extract.encoding import decode_html
from crawler.extract.normalize import normalize
from crawler.extract.rules import extract_raw
from crawler.sitedefs import available_sites, load_site

CASES = sorted(p for p in (Path(__file__).parent / "fixtures" / "extract").iterdir() if p.is_dir())
FIELDS = (
    "title",
    "published_at",
    "published_precision",
    "source",
    "editor",
    "author",
    "district",
    "category",
    "city",
    "body_text",
)


def run_case(case: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    site = load_site(meta["site"])
    text, _ = decode_html(
        (case / "page.html").read_bytes(), meta.get("content_type"), site.encoding
    )
    raw = extract_raw(text, meta["url"], site)
    # Category and district come from the list page an article was reached from, not from
    # the page itself; the crawl tests check them.
    record = normalize(
        raw, site=site, fetched_at=datetime(2025, 1, 1, tzinfo=UTC), canonical_url=meta["url"]
    ).record
    return record, expected


def test_there_are_cases_for_every_demo_family() -> None:
    sites = {json.loads((c / "meta.json").read_text(encoding="utf-8"))["site"] for c in CASES}
    assert {s for s in sites if s.startswith("demo-")} == {
        name for name in available_sites() if name.startswith("demo-")
    }


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_record(case: Path) -> None:
    record, expected = run_case(case)
    for key in FIELDS:
        if key in expected and key not in ("category", "district"):
            assert record[key] == expected[key], key
    images = [{k: i[k] for k in ("url", "alt", "caption")} for i in record["images"]]
    assert images == expected["images"]
    for snippet in expected.get("body_must_contain", []):
        assert snippet in record["body_text"]
    for snippet in expected.get("body_must_not_contain", []):
        assert snippet not in record["body_text"], snippet
        assert snippet not in record["body_html"], snippet
