"""The `wenhua` command as a user runs it: real subprocesses, real demo portal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archive.db import Archive
from crawler.demo_portal import DemoPortal, build_corpus
from tests.archive_checks import records_by_url, row_counts

SEED_URL = "http://demo.wenhua.local/new-13173.html"
TIMEOUT = 600


def wenhua(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-c", "from archive.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"wenhua {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli-demo")
    result = wenhua("demo", "--data-dir", str(data), "--no-progress")
    assert f"articles:   {len(build_corpus())}" in result.stdout
    assert "failures:   0" in result.stdout
    return data


def test_second_demo_adds_no_rows(demo_dir: Path) -> None:
    archive = Archive(f"sqlite:///{demo_dir / 'archive.sqlite'}")
    before = row_counts(archive)
    result = wenhua("demo", "--data-dir", str(demo_dir), "--no-progress")
    assert "new 0, changed 0" in result.stdout
    assert row_counts(archive) == before


def test_export_jsonl_and_csv(demo_dir: Path, tmp_path: Path) -> None:
    result = wenhua("export", "--data-dir", str(demo_dir))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == len(build_corpus())
    assert len({line["id"] for line in lines}) == len(lines)
    seed = next(line for line in lines if line["url"] == SEED_URL)
    assert seed["published_at"] == "2020-11-02T11:20:24+08:00"
    assert seed["first_seen"] and seed["last_seen"] and seed["gone_at"] is None
    assert all(i["path"].startswith("images/") and len(i["sha256"]) == 64 for i in seed["images"])
    out = tmp_path / "a.csv"
    wenhua("export", "--data-dir", str(demo_dir), "--format", "csv", "--out", str(out))
    assert out.read_text(encoding="utf-8").count(SEED_URL) == 1


def test_extract_of_seed_page_equals_archived_record(demo_dir: Path, tmp_path: Path) -> None:
    with DemoPortal() as portal:
        served = portal.base_url + "/new-13173.html"
        from urllib.request import urlopen

        page = tmp_path / "seed.html"
        with urlopen(served, timeout=30) as response:
            page.write_bytes(response.read())
    result = wenhua("extract", "--url", SEED_URL, str(page))
    extracted = json.loads(result.stdout)
    archived = records_by_url(Archive(f"sqlite:///{demo_dir / 'archive.sqlite'}"))[SEED_URL]
    for key in (
        "url",
        "title",
        "published_at",
        "published_precision",
        "source",
        "editor",
        "author",
        "body_text",
        "body_html",
        "site",
        "city",
    ):
        assert extracted[key] == archived[key], key
    assert [i["url"] for i in extracted["images"]] == [i["url"] for i in archived["images"]]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("crawl", "no-such-site"), "unknown site 'no-such-site'"),
        (("extract", "missing-page.html"), "no such file: missing-page.html"),
        (("export", "--db", "nosuchdriver://x"), "nosuchdriver"),
        (("meta", "--fetched-at", "yesterday", "x"), "--fetched-at 'yesterday'"),
        (("crawl", "demo-trs-lubei", "--since", "last year"), "--since 'last year'"),
    ],
)
def test_user_mistakes_give_one_line_errors(
    args: tuple[str, ...], needle: str, tmp_path: Path
) -> None:
    result = (
        wenhua(*args, "--data-dir", str(tmp_path), check=False)
        if args[0] != "meta"
        else wenhua(*args, check=False)
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]


def test_broken_page_is_reported_not_crashed(tmp_path: Path) -> None:
    page = tmp_path / "empty.html"
    page.write_bytes(b"<html><body><div>\xff\xfe</div></body></html>")
    result = wenhua("extract", "--site", "demo-culture-cloud", str(page), check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "empty.html" in result.stderr and "no title" in result.stderr


def test_meta_parses_the_seed_line() -> None:
    result = wenhua("meta", "发布时间:Mon Nov 02 11:20:24 GMT+08:00 2020来源:路南发布编辑:王瑶")
    assert json.loads(result.stdout) == {
        "published_at": "2020-11-02T11:20:24+08:00",
        "published_precision": "second",
        "source": "路南发布",
        "editor": "王瑶",
        "author": None,
    }


def test_problems_are_listed_for_an_archivist(tmp_path: Path) -> None:
    from archive.store import ensure_site, store_article
    from crawler.extract.metadata import parse_meta
    from crawler.sitedefs import load_site

    meta = parse_meta("发布时间:2021-02-30 10:00 来源:路南发布")
    assert meta.published is None
    problems = [{"field": p.field, "raw": p.raw, "reason": p.reason} for p in meta.problems]
    archive = Archive(f"sqlite:///{tmp_path / 'archive.sqlite'}")
    with archive.session() as session:
        site_id = ensure_site(session, load_site("demo-culture-cloud")).id
        store_article(
            session,
            site_id=site_id,
            record={
                "url": "http://demo.wenhua.local/new-9.html",
                "title": "t",
                "body_text": "b",
                "body_html": "<p>b</p>",
                "images": [],
            },
            capture={
                "fetched_at": "2024-01-01T00:00:00+00:00",
                "http_status": 200,
                "final_url": "http://demo.wenhua.local/new-9.html",
                "raw_sha256": "c" * 64,
            },
            image_results=[],
            problems=problems,
            run_id=None,
        )
    result = wenhua("problems", "--data-dir", str(tmp_path))
    assert "http://demo.wenhua.local/new-9.html\tpublished_at\tinvalid date" in result.stdout
    assert "2021-02-30" in result.stdout


def test_meta_resolves_relative_times_against_fetch_time() -> None:
    result = wenhua(
        "meta", "--fetched-at", "2024-03-05T12:00:00+08:00", "发布时间:昨天 09:30 来源:丰南发布"
    )
    parsed = json.loads(result.stdout)
    assert parsed["published_at"] == "2024-03-04T09:30:00+08:00"
    assert parsed["source"] == "丰南发布"


def test_extract_prints_one_line_per_input_in_order(tmp_path: Path) -> None:
    """A batch's output lines up with its inputs: a page with no title, and an input that is
    not there, still get their line, carrying the problem; line separators inside the text
    (U+2028, U+0085, as Word pastes leave them) do not split a record for a line reader."""
    good = tmp_path / "good.html"
    good.write_text(
        "<html><head><title>文化馆举办非遗展览</title></head><body><h1>文化馆举办非遗展览</h1>"
        "<div>发布时间：2021-03-04 09:30 来源：文化馆</div>"
        "<div class='content'><p>本次展览\u2028展出剪纸、皮影等作品一百余件。\x85观众络绎不绝，"
        "展览将持续到三月底，欢迎市民前来参观。</p></div></body></html>",
        encoding="utf-8",
    )
    untitled = tmp_path / "untitled.html"
    untitled.write_bytes(b"<html><body><div>\xff\xfe</div></body></html>")
    inputs = [str(good), str(untitled), str(tmp_path / "absent.html"), str(good)]
    result = wenhua(
        "extract",
        "--site",
        "demo-culture-cloud",
        "--url",
        "http://x.example/a.html",
        *inputs,
        check=False,
    )
    lines = result.stdout.splitlines()  # splitlines() breaks on U+2028 and U+0085 too
    assert len(lines) == len(inputs)
    records = [json.loads(line) for line in lines]
    assert [r["input"] for r in records] == inputs
    assert records[0]["title"] == "文化馆举办非遗展览"
    assert "展览\u2028展出" in records[0]["body_text"] and "\x85观众" in records[0]["body_text"]
    assert records[1]["problems"] and "no title" in records[1]["problems"][0]["reason"]
    assert records[2]["problems"] and "no such file" in records[2]["problems"][0]["reason"]
    assert records[3]["body_text"] == records[0]["body_text"]
    assert result.returncode == 2  # the absent file is a user mistake
    assert "Traceback" not in result.stderr
