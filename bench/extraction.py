"""Extraction benchmark: `python -m bench.extraction [--write docs/benchmarks.md]`.

Scores the generic extractor (no site definition) on the labelled set in
tests/fixtures/generic — per-field accuracy, body-text F1 on character bigrams, ms/page —
and trafilatura and GNE on the same pages when they are installed (`pip install -e
'.[bench]'`). Prints a Markdown table; with --write, replaces the "Extraction" section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.extract.encoding import decode_html

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CASES = sorted(p for p in (FIXTURES / "generic").iterdir() if p.is_dir())
FIELDS = ("title", "published_at", "published_precision", "source", "editor", "author")
FETCHED_AT = datetime(2025, 1, 1, tzinfo=UTC)
REPEAT = 5


def load_case(case: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    return data


def page_path(case: Path) -> Path:
    """A labelled page is kept once: a generic case named like a golden extraction case
    (tests/fixtures/extract/<case>/page.html) labels that page instead of copying it."""
    own = case / "page.html"
    return own if own.exists() else FIXTURES / "extract" / case.name / "page.html"


def page_text(case: Path) -> str:
    expected = load_case(case)
    text, _ = decode_html(page_path(case).read_bytes(), expected.get("content_type"), None)
    return text


def extract_case(case: Path, text: str | None = None) -> dict[str, Any]:
    """The record `wenhua extract` gives for the page without a site definition."""
    from crawler.extract.normalize import normalize
    from crawler.extract.rules import extract_raw

    expected = load_case(case)
    raw = extract_raw(text if text is not None else page_text(case), expected["url"], None)
    return normalize(raw, site=None, fetched_at=FETCHED_AT, canonical_url=expected["url"]).record


def bigram_f1(predicted: str, reference: str) -> float:
    def grams(text: str) -> Counter[str]:
        chars = "".join(text.split())
        return Counter(chars[i : i + 2] for i in range(len(chars) - 1))

    p, r = grams(predicted), grams(reference)
    overlap = sum((p & r).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(p.values()), overlap / sum(r.values())
    return 2 * precision * recall / (precision + recall)


def _ours(case: Path, text: str) -> dict[str, Any]:
    return extract_case(case, text)


def _trafilatura() -> Callable[[Path, str], dict[str, Any]] | None:
    try:
        import trafilatura
    except ImportError:
        return None

    def run(case: Path, text: str) -> dict[str, Any]:
        raw: Any = trafilatura.bare_extraction(text, url=load_case(case)["url"], with_metadata=True)
        doc = raw.as_dict() if hasattr(raw, "as_dict") else (raw or {})
        return {
            "title": doc.get("title"),
            "body_text": doc.get("text") or "",
            "published_at": doc.get("date"),
            "author": doc.get("author"),
        }

    return run


def _gne() -> Callable[[Path, str], dict[str, Any]] | None:
    try:
        from gne import GeneralNewsExtractor
    except ImportError:
        return None
    extractor = GeneralNewsExtractor()

    def run(case: Path, text: str) -> dict[str, Any]:
        doc = extractor.extract(text, host=load_case(case)["url"], with_body_html=False)
        return {
            "title": doc.get("title"),
            "body_text": doc.get("content") or "",
            "published_at": doc.get("publish_time"),
            "author": doc.get("author"),
            "images": [{"url": u} for u in doc.get("images", [])],
        }

    return run


def _date_ok(value: Any, expected: str | None) -> bool:
    """Other extractors print dates in their own notation; compare the calendar day."""
    if not value or not expected:
        return not value and not expected
    return str(value)[:10].replace("/", "-") == expected[:10]


def score(name: str, run: Callable[[Path, str], dict[str, Any]], native: bool) -> dict[str, Any]:
    right: Counter[str] = Counter()
    f1s: list[float] = []
    elapsed = 0.0
    pages = [(case, page_text(case), load_case(case)) for case in CASES]
    for case, text, expected in pages:
        start = time.perf_counter()
        for _ in range(REPEAT):
            record = run(case, text)
        elapsed += (time.perf_counter() - start) / REPEAT
        f1s.append(bigram_f1(record.get("body_text") or "", expected["body_text"]))
        right["title"] += record.get("title") == expected["title"]
        if native:
            for key in FIELDS[1:]:
                right[key] += record.get(key) == expected[key]
            right["images"] += [i["url"] for i in record["images"]] == expected["images"]
        else:
            right["published_at"] += _date_ok(record.get("published_at"), expected["published_at"])
            right["author"] += (record.get("author") or None) == expected["author"]
    return {
        "name": name,
        "right": right,
        "f1": sum(f1s) / len(f1s),
        "ms": 1000 * elapsed / len(pages),
        "native": native,
    }


def generic_only_ms() -> float:
    """ms/page of the generic extractor's own work (parse, title, meta block, body choice),
    without the normalization and body cleaning it shares with site definitions."""
    from parsel import Selector

    from crawler.extract.generic import extract_generic

    pages = [page_text(case) for case in CASES]
    start = time.perf_counter()
    for _ in range(REPEAT):
        for text in pages:
            extract_generic(Selector(text=text))
    return 1000 * (time.perf_counter() - start) / REPEAT / len(pages)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return (
        f"{os.cpu_count()} CPUs (nproc), {cpu}, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d}, commit {commit or 'unknown'}"
    )


def table(results: list[dict[str, Any]], missing: list[str]) -> str:
    n = len(CASES)
    cols = ("title", "published_at", "published_precision", "source", "editor", "author", "images")
    lines = [
        "| extractor | " + " | ".join(cols) + " | body F1 (bigrams) | ms/page |",
        "|---" * (len(cols) + 3) + "|",
    ]
    for r in results:
        cells = []
        for col in cols:
            scored = r["native"] or col in ("title", "published_at", "author")
            cells.append(f"{r['right'][col]}/{n}" if scored else "–")
        lines.append(
            f"| {r['name']} | " + " | ".join(cells) + f" | {r['f1']:.3f} | {r['ms']:.1f} |"
        )
    for name in missing:
        lines.append(f"| {name} | not installed: skipped |" + " |" * (len(cols) + 1))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", metavar="FILE", help="Replace the Extraction section of FILE.")
    args = parser.parse_args()
    results = [score("wenhua generic", _ours, native=True)]
    missing = []
    for name, factory in (("trafilatura", _trafilatura), ("GNE", _gne)):
        run = factory()
        if run is None:
            missing.append(name)
        else:
            results.append(score(name, run, native=False))
    report = (
        f"{len(CASES)} labelled pages (tests/fixtures/generic), {REPEAT} runs each; "
        f"machine: {machine()}.\n\n{table(results, missing)}\n\n"
        f"wenhua generic, extraction only (parse, title, meta block, body choice; without the "
        f"normalization and body cleaning shared with site definitions): "
        f"{generic_only_ms():.1f} ms/page.\n"
    )
    print(report)
    if args.write:
        path = Path(args.write)
        old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
        head = old.split("## Extraction")[0].rstrip() + "\n\n"
        rest = old.split("## Extraction", 1)[1].split("\n## ", 1) if "## Extraction" in old else []
        tail = "\n## " + rest[1] if len(rest) > 1 else ""
        path.write_text(head + "## Extraction\n\n" + NOTES + "\n" + report + tail, encoding="utf-8")


NOTES = (
    "`python -m bench.extraction --write docs/benchmarks.md`. Fields are exact matches of the "
    "record; for trafilatura and GNE, which have no source/editor notion, the title, the "
    "publish day and the author are scored, and the body by character-bigram F1 against the "
    "labelled body text. Timing is per page, parse included, for the whole extraction (our "
    "figure includes normalization and body cleaning).\n"
)


if __name__ == "__main__":
    main()
