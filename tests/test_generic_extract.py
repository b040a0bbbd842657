"""The labelled evaluation set (tests/fixtures/generic/<case>/{page.html, expected.json}):
the generic extractor, with no site definition, gets every field right on every page."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.extraction import CASES, FIELDS, extract_case, load_case

ROOT = Path(__file__).resolve().parent.parent


def test_the_set_covers_many_template_families() -> None:
    assert len(CASES) >= 19
    names = {c.name for c in CASES}
    for family in ("demo-trs", "demo-hanweb", "demo-culture-cloud", "dedecms", "phpcms", "vsb"):
        assert any(n.startswith(family) for n in names), family


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_field_right_without_a_definition(case: Path) -> None:
    expected = load_case(case)
    record = extract_case(case)
    for key in FIELDS:
        assert record[key] == expected[key], key
    assert [image["url"] for image in record["images"]] == expected["images"]
    assert record["body_text"] == expected["body_text"]
    for snippet in expected["body_must_contain"]:
        assert snippet in record["body_text"]
    for snippet in expected["body_must_not_contain"]:
        assert snippet not in record["body_text"], snippet
        assert snippet not in record["body_html"], snippet


def test_wenhua_extract_without_site_uses_the_generic_extractor() -> None:
    case = ROOT / "tests" / "fixtures" / "generic" / "decoy-dates"
    expected = load_case(case)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from archive.cli import main; main()",
            "extract",
            "--url",
            expected["url"],
            str(case / "page.html"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=True,
    )
    record = json.loads(out.stdout)
    assert record["site"] is None
    assert record["title"] == expected["title"]
    assert record["published_at"] == "2019-12-03T00:00:00+08:00"
    assert record["editor"] == "刘洋"
