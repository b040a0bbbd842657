"""Extraction benchmark: `python -m bench.extraction [--write docs/benchmarks.md]`.

Scores the generic extractor (no site definition) on the labelled set in
tests/fixtures/generic — per-field accuracy, body-text F1 on character bigrams, ms/page —
and trafilatura and GNE on the same pages when they are installed (`pip install -e
'.[bench]'`). Then the real-page set in tests/fixtures/realworld (pages no one here wrote,
labelled with title, publish time, source, author, editor, the body's first and last
sentences and, page by page, the body text): per field, how many of the pages that state it
come out right, and the body's bigram F1 against the labelled body (mean, and pages at 0.9 or
more), for ours and for trafilatura, GNE and readability-lxml when installed. Prints Markdown tables; with
--write, replaces the "Extraction" section of docs/benchmarks.md; with --pages PREFIX...,
prints only the real-page table of the folders starting with a prefix (a held-out check).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import html as lxml_html

from crawler.extract.encoding import decode_html

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CASES = sorted(p for p in (FIXTURES / "generic").iterdir() if p.is_dir())
FIELDS = ("title", "published_at", "published_precision", "source", "editor", "author")
FETCHED_AT = datetime(2025, 1, 1, tzinfo=UTC)
REPEAT = 5
# Page folders are numbered (001-zsnews); other folders there (LICENSES) hold no page.
REALWORLD = sorted(
    p for p in (FIXTURES / "realworld").iterdir() if p.is_dir() and re.match(r"\d{3}-", p.name)
)
# What the real-page set scores, in table order: the title, the publish day, the exact
# instant (pages that print a time), the labelled fields, the body's first and last sentence.
REAL_FIELDS = (
    "title",
    "published_day",
    "published_instant",
    "source",
    "editor",
    "author",
    "body_first",
    "body_last",
)
PEOPLE_SPLIT = re.compile(r"[\s、，,/;；|]+")
# A real page's body counts as well extracted at this bigram F1 against its labelled body.
BODY_F1_GOOD = 0.9


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
        raw: Any = trafilatura.bare_extraction(
            text, url=real_url(load_case(case)), with_metadata=True
        )
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
        doc = extractor.extract(text, host=real_url(load_case(case)), with_body_html=False)
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


def real_url(expected: dict[str, Any]) -> str:
    return str(expected["url"] or f"http://{expected['site']}/")


def real_text(case: Path) -> str:
    """The page as the crawler would read it: its bytes through wenhua's decoding (BOM,
    declared charset, then detection), so a page stored as GB18030 bytes is read through
    its <meta> charset and a page declaring GB2312 over UTF-8 bytes falls back to UTF-8."""
    text, _ = decode_html((case / "page.html").read_bytes(), None, None)
    return text


def extract_real(case: Path, text: str | None = None) -> dict[str, Any]:
    """Our record for a real page; {} when the page gives none (no title or no body)."""
    from crawler.extract.normalize import normalize
    from crawler.extract.rules import ExtractionError, extract_raw

    expected = load_case(case)
    url = real_url(expected)
    try:
        raw = extract_raw(text if text is not None else real_text(case), url, None)
    except ExtractionError:
        return {}
    return normalize(raw, site=None, fetched_at=FETCHED_AT, canonical_url=url).record


def _compact(value: Any) -> str:
    return "".join(str(value or "").split())


def _people(value: Any) -> set[str]:
    return {t for t in PEOPLE_SPLIT.split(str(value or "")) if t}


def _when(value: Any) -> Any:
    """A printed or ISO date as a ParsedTime (any extractor's notation), else None."""
    from crawler.extract.dates import parse_datetime

    if not value:
        return None
    text = str(value).strip()
    try:
        return parse_datetime(datetime.fromisoformat(text).isoformat())
    except ValueError:
        return parse_datetime(text)


def real_checks(record: dict[str, Any], expected: dict[str, Any]) -> dict[str, bool | None]:
    """Per field: right, wrong, or None where the page does not state it."""
    checks: dict[str, bool | None] = dict.fromkeys(REAL_FIELDS)
    checks["title"] = _compact(record.get("title")) == _compact(expected["title"])
    stated = expected["published_at"]
    if stated:
        got, want = _when(record.get("published_at")), _when(stated)
        checks["published_day"] = got is not None and got.value.date() == want.value.date()
        if "T" in stated:
            # Compared at the label's precision: a label to the minute (the page prints
            # 18:57) is met by 18:57:38 read from the page's own meta tags.
            exact = got is not None and got.precision != "day"
            if exact and re.search(r"T\d\d:\d\d(?!:)", stated):
                exact = got.value.replace(second=0, microsecond=0) == want.value
            elif exact:
                exact = got.value == want.value
            checks["published_instant"] = exact
    for key in ("source", "editor", "author"):
        if expected[key]:
            if key == "source":
                checks[key] = _compact(record.get(key)) == _compact(expected[key])
            else:
                checks[key] = _people(record.get(key)) == _people(expected[key])
    body = _compact(record.get("body_text"))
    for key in ("body_first", "body_last"):
        if expected[key]:
            checks[key] = _compact(expected[key]) in body
    return checks


def spurious(record: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """Fields given a value where the page states none."""
    return [k for k in ("source", "editor", "author") if record.get(k) and not expected[k]]


def _readability() -> Callable[[Path, str], dict[str, Any]] | None:
    try:
        from readability import Document
    except ImportError:
        return None

    def run(case: Path, text: str) -> dict[str, Any]:
        doc = Document(text)
        summary = doc.summary(html_partial=True)
        body = lxml_html.fromstring(summary).text_content() if summary.strip() else ""
        return {"title": doc.short_title(), "body_text": body}

    return run


# The fields each other extractor has a notion of (the rest are shown as "–").
OTHERS_PROVIDE = {
    "trafilatura": {
        "title",
        "published_day",
        "published_instant",
        "author",
        "body_first",
        "body_last",
    },
    "GNE": {"title", "published_day", "published_instant", "author", "body_first", "body_last"},
    "readability-lxml": {"title", "body_first", "body_last"},
}


def real_body_f1(record: dict[str, Any], expected: dict[str, Any]) -> float | None:
    """Bigram F1 of the record's body against the page's labelled `body`; None for a page
    whose body is not labelled (only its first and last sentences)."""
    if not expected.get("body"):
        return None
    return bigram_f1(record.get("body_text") or "", expected["body"])


def score_real(name: str, run: Callable[[Path, str], dict[str, Any]]) -> dict[str, Any]:
    right: Counter[str] = Counter()
    stated: Counter[str] = Counter()
    misses: dict[str, list[str]] = {}
    f1s: dict[str, float] = {}
    extra = 0
    for case in REALWORLD:
        expected = load_case(case)
        try:
            record = run(case, real_text(case))
        except Exception:  # another extractor crashing on a page scores nothing there
            record = {}
        extra += len(spurious(record, expected))
        f1 = real_body_f1(record, expected)
        if f1 is not None:
            f1s[case.name] = f1
        for key, ok in real_checks(record, expected).items():
            if ok is None:
                continue
            stated[key] += 1
            right[key] += ok
            if not ok:
                misses.setdefault(key, []).append(case.name)
    return {
        "name": name,
        "right": right,
        "stated": stated,
        "misses": misses,
        "extra": extra,
        "f1s": f1s,
    }


def body_cells(result: dict[str, Any]) -> list[str]:
    """Mean body F1 and the pages at BODY_F1_GOOD or more, over the pages with a body label."""
    f1s = list(result["f1s"].values())
    if not f1s:
        return ["–", "–"]
    good = sum(f >= BODY_F1_GOOD for f in f1s)
    return [f"{sum(f1s) / len(f1s):.3f}", f"{good}/{len(f1s)}"]


REAL_HEADINGS = {
    "title": "title",
    "published_day": "publish day",
    "published_instant": "exact instant",
    "source": "source",
    "editor": "editor",
    "author": "author",
    "body_first": "body first sentence found",
    "body_last": "body last sentence found",
}


def real_table(results: list[dict[str, Any]], missing: list[str]) -> str:
    lines = [
        "| extractor | "
        + " | ".join(REAL_HEADINGS[k] for k in REAL_FIELDS)
        + f" | body F1 (bigrams, mean) | body F1 ≥ {BODY_F1_GOOD} | values where none is printed |",
        "|---" * (len(REAL_FIELDS) + 4) + "|",
    ]
    for r in results:
        provides = OTHERS_PROVIDE.get(r["name"], set(REAL_FIELDS))
        cells = [f"{r['right'][k]}/{r['stated'][k]}" if k in provides else "–" for k in REAL_FIELDS]
        cells += body_cells(r)
        extra = str(r["extra"]) if r["name"] not in OTHERS_PROVIDE else "–"
        lines.append(f"| {r['name']} | " + " | ".join(cells) + f" | {extra} |")
    for name in missing:
        lines.append(f"| {name} | not installed: skipped |" + " |" * (len(REAL_FIELDS) + 2))
    return "\n".join(lines)


def real_report() -> str:
    results = [score_real("wenhua generic", lambda case, text: extract_real(case, text))]
    missing = []
    for name, factory in (
        ("trafilatura", _trafilatura),
        ("GNE", _gne),
        ("readability-lxml", _readability),
    ):
        run = factory()
        if run is None:
            missing.append(name)
        else:
            results.append(score_real(name, run))
    ours = results[0]["misses"]
    miss_lines = "\n".join(
        f"- {REAL_HEADINGS[k]}: {', '.join(ours[k])}" for k in REAL_FIELDS if k in ours
    )
    low = sorted((f, page) for page, f in results[0]["f1s"].items() if f < BODY_F1_GOOD)
    low_line = ", ".join(f"{page} ({f:.2f})" for f, page in low) or "none"
    sites = len({load_case(case)["site"] for case in REALWORLD})
    labelled = len(results[0]["f1s"])
    return (
        f"{len(REALWORLD)} real pages from {sites} sites (tests/fixtures/realworld), one run "
        f"each; a cell is "
        f"right/stated, over the pages that print the field. Body F1 is character-bigram F1 "
        f"against the page's labelled `body`, over the {labelled} pages that have one "
        f"({len(REALWORLD) - labelled} pages without a `body` label skipped in those two "
        f"columns).\n\n{real_table(results, missing)}\n\n"
        f"wenhua generic misses: \n{miss_lines or '- none'}\n"
        f"- body F1 below {BODY_F1_GOOD}: {low_line}\n"
    )


def generic_only_ms() -> float:
    """ms/page of the generic extractor's own work (parse, title, meta block, body choice),
    without the normalization and body cleaning it shares with site definitions."""
    from crawler.extract.generic import extract_generic, parse_page

    pages = [page_text(case) for case in CASES]
    start = time.perf_counter()
    for _ in range(REPEAT):
        for text in pages:
            extract_generic(parse_page(text))
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
    parser.add_argument(
        "--pages",
        nargs="+",
        metavar="PREFIX",
        help="Score only the real pages whose folder starts with a PREFIX (e.g. 069 120), and "
        "print only their table: a held-out check on newly labelled pages.",
    )
    args = parser.parse_args()
    if args.pages:
        global REALWORLD
        REALWORLD = [p for p in REALWORLD if p.name.startswith(tuple(args.pages))]
        if not REALWORLD:
            parser.error(f"no real page folder starts with {' or '.join(args.pages)}")
        if args.write:
            parser.error("--pages prints a partial table; it cannot --write")
        print(real_report())
        return
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
        f"{generic_only_ms():.1f} ms/page.\n\n### Real pages\n\n{real_report()}"
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
