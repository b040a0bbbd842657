"""What a researcher and an archivist meet at the command line: China time for people and
ISO at +08:00 for machines, spreadsheets that open in Excel, exports of a search, paging,
district short names, and the messages of the smaller commands.

Archives are written through archive.store (tests/feed_helpers.py) on SQLite and, where
matching is the database's work, on PostgreSQL too; commands run through click's runner
or, for the crawl, in a subprocess.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from archive.cli import cli
from archive.config import resolve
from archive.db import Archive
from archive.store import finish_run, start_run, store_failure
from archive.web.app import create_app
from crawler.demo_portal import DemoPortal
from crawler.extract.record import FIELDS
from crawler.runner import summarize
from tests.feed_helpers import mark_gone, png, put

REPO = Path(__file__).resolve().parents[1]
SEED_PAGE = REPO / "tests/fixtures/extract/demo-culture-cloud-seed/page.html"
SEED_URL = "http://demo.wenhua.local/new-13173.html"
BOM = b"\xef\xbb\xbf"

# (url, title, body, district, source, category, published_at): the test archive. Every
# district filter below is checked against a scan of this table.
ARTICLES = [
    (
        "http://t.local/1.html",
        "路南非遗展演",
        "非遗传承人表演皮影戏。",
        "路南区",
        "路南发布",
        "非遗保护",
        "2019-03-01T09:00:00+08:00",
    ),
    (
        "http://t.local/2.html",
        "=开幕式",
        "非遗进校园活动开幕。",
        "路南区",
        "唐山文旅",
        "信息资讯",
        "2020-06-15T10:30:00+08:00",
    ),
    (
        "http://t.local/3.html",
        "书法展览",
        "书法展览在文化馆举办。",
        "路南区",
        "路南发布",
        "信息资讯",
        "2021-12-31T23:59:00+08:00",
    ),
    (
        "http://t.local/4.html",
        "迁安剪纸",
        "非遗剪纸作品展出。",
        "迁安市",
        "迁安融媒",
        "非遗保护",
        "2020-01-01T00:00:00+08:00",
    ),
    (
        "http://t.local/5.html",
        "新区非遗",
        "非遗新区活动。",
        "路南新区",
        "路南发布",
        "非遗保护",
        "2020-05-05T08:00:00+08:00",
    ),
    (
        "http://t.local/6.html",
        "南区非遗",
        "非遗南区活动。",
        "南区",
        "路南发布",
        "非遗保护",
        "2020-05-06T08:00:00+08:00",
    ),
    (
        "http://t.local/7.html",
        "路北非遗",
        "非遗路北活动。",
        "路北区",
        "路北发布",
        "非遗保护",
        "2022-02-02T08:00:00+08:00",
    ),
]


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def archive_dir(db_url: str, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """ARTICLES archived (article 2 with two images, one archived, one not)."""
    archive = Archive(db_url)
    with archive.session() as session:
        image = png(tmp_path, 1)
        for url, title, body, district, source, category, published in ARTICLES:
            images = (
                [("http://t.local/upload/a.png", image), ("/upload/missing.png", None)]
                if url.endswith("/2.html")
                else []
            )
            put(
                session,
                url,
                body,
                title=title,
                district=district,
                source=source,
                category=category,
                published_at=published,
                images=images,
            )
        session.commit()
    archive.close()
    yield tmp_path, db_url


def args(where: tuple[Path, str], *more: str) -> list[str]:
    data, db = where
    return [*more, "--data-dir", str(data), "--db", db]


def expected_urls(
    word: str = "", district: str | None = None, start: str = "", end: str = "9999"
) -> set[str]:
    """The plain scan of what a filter means: the district by its name or its name plus
    one of 区/县/市/旗, never by substring."""
    names = None if district is None else {district, *(district + s for s in "区县市旗")}
    return {
        url
        for url, title, body, d, _, _, published in ARTICLES
        if (word in title or word in body)
        and (names is None or d in names)
        and start <= published[:10] <= end
    }


# --- spreadsheets ----------------------------------------------------------------------


def test_csv_export_starts_with_a_bom_unless_told_and_flattens_lists(
    archive_dir: tuple[Path, str], tmp_path: Path
) -> None:
    out = tmp_path / "a.csv"
    result = run(*args(archive_dir, "export", "--format", "csv", "--out", str(out)))
    assert result.exit_code == 0, result.stderr
    raw = out.read_bytes()
    assert raw.startswith(BOM)
    rows = list(csv.DictReader(io.StringIO(raw[len(BOM) :].decode("utf-8"), newline="")))
    assert {row["url"] for row in rows} == {a[0] for a in ARTICLES}
    assert "body_html" not in rows[0]
    assert not any(value.startswith(("[", "{")) for row in rows for value in row.values())
    second = next(row for row in rows if row["url"].endswith("/2.html"))
    assert second["images"] == "2"
    assert second["image_urls"].split("\n") == [
        "http://t.local/upload/a.png",
        "/upload/missing.png",
    ]
    paths = second["image_paths"].split("\n")
    assert paths[0].startswith("images/") and paths[1] == "-"
    assert second["title"] == "=开幕式" and second["body_text"] == "非遗进校园活动开幕。"

    plain = run(*args(archive_dir, "export", "--format", "csv", "--no-bom"))
    assert plain.exit_code == 0
    assert plain.stdout_bytes.startswith(b"id,url,")
    assert raw.endswith(plain.stdout_bytes)  # the BOM is the only difference


def test_xlsx_export_has_one_sheet_with_chinese_headings(
    archive_dir: tuple[Path, str], tmp_path: Path
) -> None:
    out = tmp_path / "a.xlsx"
    result = run(*args(archive_dir, "export", "--format", "xlsx", "--out", str(out)))
    assert result.exit_code == 0, result.stderr
    book = load_workbook(out)
    assert book.sheetnames == ["文章"]
    sheet = book["文章"]
    header = [cell.value for cell in sheet[1]]
    for heading in ("标题", "发布时间", "来源", "区县", "栏目", "正文", "图片数", "图片地址"):
        assert heading in header
    listed = [f for f in FIELDS if f.sheet and f.exported and f.stored != "images"]
    assert all(field.label in header for field in listed)
    assert "正文 HTML" not in header and "body_html" not in header
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(2)]
    assert len(rows) == len(ARTICLES)
    second = next(row for row in rows if row["网址"].endswith("/2.html"))
    # A title starting with "=" stays text, not a formula.
    assert second["标题"] == "=开幕式"
    assert sheet.cell(rows.index(second) + 2, header.index("标题") + 1).data_type == "s"
    assert second["图片数"] == 2
    assert second["图片地址"] == "http://t.local/upload/a.png\n/upload/missing.png"
    assert second["发布时间"] == "2020-06-15T10:30:00+08:00"
    assert second["抓取时间"].endswith("+08:00")


# --- search and export ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "filters", "district", "start", "end"),
    [
        ("非遗", ["--district", "路南"], "路南", "", "9999"),
        ("非遗", ["--district", "路南区"], "路南区", "", "9999"),
        ("非遗", ["--from", "2019-01-01", "--to", "2020-12-31"], None, "2019-01-01", "2020-12-31"),
        ("", ["--district", "迁安"], "迁安", "", "9999"),
        ("", ["--district", "南"], "南", "", "9999"),  # 南区, not 路南区
        ("非遗", ["--district", "路"], "路", "", "9999"),  # nothing: never a substring
    ],
)
def test_export_takes_the_search_filters_and_matches_as_search(
    archive_dir: tuple[Path, str],
    query: str,
    filters: list[str],
    district: str | None,
    start: str,
    end: str,
) -> None:
    exported = run(*args(archive_dir, "export", "--query", query, *filters))
    assert exported.exit_code == 0, exported.stderr
    urls = {json.loads(line)["url"] for line in exported.stdout.splitlines()}
    assert urls == expected_urls(query, district, start, end)
    words = [query] if query else []
    found = run(*args(archive_dir, "search", *words, *filters, "--limit", "0", "--format", "json"))
    assert found.exit_code == 0, found.stderr
    assert {hit["url"] for hit in json.loads(found.stdout)} == urls


def test_district_short_name_matches_every_suffix_never_a_substring(
    archive_dir: tuple[Path, str],
) -> None:
    found = run(*args(archive_dir, "search", "非遗", "--district", "路南", "--format", "json"))
    assert {hit["district"] for hit in json.loads(found.stdout)} == {"路南区"}
    # Both 路南区 and a 路南县 stored: the short name means either.
    _, db = archive_dir
    archive = Archive(db)
    with archive.session() as session:
        put(session, "http://t.local/8.html", "非遗县里活动。", district="路南县")
        session.commit()
    archive.close()
    found = run(*args(archive_dir, "search", "非遗", "--district", "路南", "--format", "json"))
    assert {hit["district"] for hit in json.loads(found.stdout)} == {"路南区", "路南县"}
    assert found.stderr.startswith("3 matching articles")
    found = run(*args(archive_dir, "search", "非遗", "--district", "路南县", "--format", "json"))
    assert [hit["district"] for hit in json.loads(found.stdout)] == ["路南县"]


def test_api_and_feed_accept_the_district_short_name(archive_dir: tuple[Path, str]) -> None:
    data, db = archive_dir
    archive = Archive(db)
    app = create_app(resolve(data, db), archive)
    with TestClient(app) as client:
        items = client.get("/api/articles", params={"district": "路南"}).json()["items"]
        assert {item["url"] for item in items} == expected_urls("", "路南")
        changes = client.get("/api/changes", params={"district": "迁安"}).json()["items"]
        assert [item["url"] for item in changes] == ["http://t.local/4.html"]
    archive.close()


def test_export_filters_keep_the_cursor(archive_dir: tuple[Path, str]) -> None:
    first = run(*args(archive_dir, "export", "-q", "非遗", "--district", "路南"))
    cursor = first.stderr.strip().splitlines()[-1].removeprefix("next cursor: ")
    _, db = archive_dir
    archive = Archive(db)
    with archive.session() as session:
        put(session, "http://t.local/9.html", "非遗新作。", district="路南区")
        put(session, "http://t.local/10.html", "非遗新作。", district="路北区")
        session.commit()
    archive.close()
    then = run(*args(archive_dir, "export", "-q", "非遗", "--district", "路南", "--since", cursor))
    assert [json.loads(line)["url"] for line in then.stdout.splitlines()] == [
        "http://t.local/9.html"
    ]


@pytest.fixture
def many(db_url: str, tmp_path: Path) -> tuple[Path, str]:
    """More articles than one search page may hold (1,000)."""
    archive = Archive(db_url)
    with archive.session() as session:
        for n in range(1005):
            put(
                session,
                f"http://t.local/m/{n}.html",
                f"第{n}篇非遗报道。",
                published_at=f"2020-01-01T{n // 60 % 24:02d}:{n % 60:02d}:00+08:00",
            )
        session.commit()
    archive.close()
    return tmp_path, db_url


def test_search_pages_and_limit_zero_means_all(many: tuple[Path, str]) -> None:
    every = run(*args(many, "search", "非遗", "--limit", "0", "--format", "json"))
    assert every.exit_code == 0, every.stderr
    hits = [hit["id"] for hit in json.loads(every.stdout)]
    assert len(hits) == len(set(hits)) == 1005
    assert every.stderr.startswith("1005 matching articles, showing 1-1005")
    page = run(*args(many, "search", "非遗", "--limit", "10", "--page", "3", "--format", "json"))
    assert [hit["id"] for hit in json.loads(page.stdout)] == hits[20:30]
    tail = run(
        *args(many, "search", "非遗", "--limit", "0", "--offset", "1000", "--format", "json")
    )
    assert [hit["id"] for hit in json.loads(tail.stdout)] == hits[1000:]
    exported = run(*args(many, "export", "-q", "非遗"))
    assert len(exported.stdout.splitlines()) == 1005


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--page", "2", "--offset", "4"], "--offset or --page"),
        (["--page", "0"], "--page must be 1 or more"),
        (["--page", "2", "--limit", "0"], "--page needs a --limit"),
        (["--limit", "1001"], "--limit must be between 0 (all) and 1000"),
    ],
)
def test_search_paging_mistakes_are_one_line_errors(
    archive_dir: tuple[Path, str], options: list[str], message: str
) -> None:
    result = run(*args(archive_dir, "search", "非遗", *options))
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("wenhua: error: ") and message in line


# --- times ---------------------------------------------------------------------------


@pytest.fixture
def with_run(archive_dir: tuple[Path, str]) -> tuple[Path, str]:
    """A finished crawl run of demo-trs-lubei with one failure, at known instants."""
    _, db = archive_dir
    archive = Archive(db)
    with archive.session() as session:
        run_row = start_run(session, ["demo-trs-lubei"], {})
        run_row.started_at = datetime(2026, 12, 2, 4, 28, 4, tzinfo=UTC)
        finish_run(session, run_row.id, {"counts": {"pages": 3}}, "finished")
        run_row.finished_at = datetime(2026, 12, 2, 4, 30, 0, tzinfo=UTC)
        store_failure(
            session,
            run_id=run_row.id,
            url="http://t.local/broken.html",
            kind="fetch",
            reason="HTTP 500",
            http_status=500,
            raw_sha256=None,
            retries=2,
        )
        session.commit()
    archive.close()
    return archive_dir


def test_runs_show_china_time_to_people_and_iso_at_8_to_machines(
    with_run: tuple[Path, str],
) -> None:
    text = run(*args(with_run, "runs"))
    assert "2026年12月2日 12:28:04" in text.stdout and "2026年12月2日 12:30:00" in text.stdout
    assert "04:28" not in text.stdout and "+00:00" not in text.stdout
    [row] = json.loads(run(*args(with_run, "runs", "--format", "json")).stdout)
    assert row["started_at"] == "2026-12-02T12:28:04+08:00"
    assert row["finished_at"] == "2026-12-02T12:30:00+08:00"
    shown = run(*args(with_run, "runs", "show", str(row["id"]))).stdout
    assert "started  2026年12月2日 12:28:04" in shown


def test_history_and_failures_show_china_time(with_run: tuple[Path, str]) -> None:
    _, db = with_run
    archive = Archive(db)
    with archive.session() as session:
        mark_gone(session, "http://t.local/3.html")
        session.commit()
    archive.close()
    text = run(*args(with_run, "history", "http://t.local/3.html")).stdout
    moment = r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d:\d\d"
    assert re.search(rf"^first seen {moment}  last seen {moment}  GONE since {moment}$", text, re.M)
    assert re.search(rf"^  fetched_at    {moment}$", text, re.M)
    assert "+00:00" not in text
    data = json.loads(
        run(*args(with_run, "history", "http://t.local/3.html", "--format", "json")).stdout
    )
    assert all(v["fetched_at"].endswith("+08:00") for v in data["versions"])
    assert data["gone_at"].endswith("+08:00") and data["first_seen"].endswith("+08:00")
    failures = run(*args(with_run, "failures")).stdout
    assert failures.startswith("2026年") and "http://t.local/broken.html" in failures


def test_export_gives_every_time_at_8(archive_dir: tuple[Path, str]) -> None:
    records = [json.loads(line) for line in run(*args(archive_dir, "export")).stdout.splitlines()]
    for record in records:
        for key in ("fetched_at", "first_seen", "last_seen"):
            assert record[key].endswith("+08:00"), key
            # The same instant as was stored (put() stamps now, in UTC).
            moment = datetime.fromisoformat(record[key])
            assert abs((datetime.now(UTC) - moment).total_seconds()) < 3600


def test_search_table_shows_publish_time_at_its_precision(archive_dir: tuple[Path, str]) -> None:
    _, db = archive_dir
    archive = Archive(db)
    with archive.session() as session:
        put(
            session,
            "http://t.local/day.html",
            "一天精度的灯会报道。",
            published_at="2021-02-26T00:00:00+08:00",
            published_precision="day",
        )
        session.commit()
    archive.close()
    table = run(*args(archive_dir, "search", "灯会")).stdout
    assert "2021年2月26日" in table and "00:00" not in table
    table = run(*args(archive_dir, "search", "书法")).stdout
    assert "2021年12月31日 23:59" in table


def test_sites_list_shows_the_last_crawl_in_china_time(with_run: tuple[Path, str]) -> None:
    text = run(*args(with_run, "sites", "list")).stdout
    block = text[text.index("demo-trs-lubei") :]
    assert "last crawl 2026年12月2日 12:30 (run " in block.splitlines()[1]
    assert "UTC" not in text
    rows = json.loads(run(*args(with_run, "sites", "list", "--format", "json")).stdout)
    [lubei] = [row for row in rows if row["site"] == "demo-trs-lubei"]
    assert lubei["last_run"]["finished_at"] == "2026-12-02T12:30:00+08:00"


# --- the smaller points ---------------------------------------------------------------


def test_empty_failures_problems_and_runs_say_so(tmp_path: Path) -> None:
    where = (tmp_path, f"sqlite:///{tmp_path / 'archive.sqlite'}")
    Archive(where[1]).close()  # an empty archive: read-only commands make none
    assert run(*args(where, "failures")).stdout.startswith("no failures recorded")
    assert run(*args(where, "problems")).stdout.startswith("no problems recorded")
    assert run(*args(where, "runs")).stdout.startswith("no crawl runs yet")


def test_summary_tells_image_files_from_image_links(db_url: str, tmp_path: Path) -> None:
    archive = Archive(db_url)
    same = png(tmp_path, 7)
    with archive.session() as session:
        # One image file, linked from two articles under two URLs, and one link never archived.
        put(session, "http://t.local/a.html", "甲", images=[("http://t.local/x.png", same)])
        put(
            session,
            "http://t.local/b.html",
            "乙",
            images=[("http://t.local/y.png", same), ("http://t.local/gone.png", None)],
        )
        session.commit()
    text = summarize(archive, ["test-site"], []).render()
    archive.close()
    [line] = [line for line in text.splitlines() if line.startswith("images:")]
    assert "1 distinct files" in line and "3 image links" in line
    assert "published:  2023年2月9日 … 2023年2月9日" in text


def test_crawl_of_a_site_that_cannot_resolve_says_how(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from archive.cli import main; main()", "crawl", "demo-trs-lubei",
         "--data-dir", str(tmp_path), "--no-progress"],
        capture_output=True, text=True, timeout=120, cwd=REPO, check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("wenhua: error: demo-trs-lubei: cannot resolve demo.wenhua.local")
    assert "--serve-at" in line and "wenhua demo" in line


def test_crawl_help_prints_one_example_per_line() -> None:
    text = run("crawl", "--help").stdout
    examples = [line.strip() for line in text.splitlines() if line.strip().startswith("wenhua ")]
    assert len(examples) >= 3
    assert all(line.count("wenhua ") == 1 for line in examples)


@pytest.fixture(scope="module")
def saved_pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A list page and an article page of the demo portal, saved as files."""
    folder = tmp_path_factory.mktemp("saved")
    pages = {"list": "/lubei/wlzx/index.html", "cc-list": "/list-xxzx-lunan-1.html"}
    saved = {}
    with DemoPortal() as portal:
        for name, path in pages.items():
            with urlopen(portal.base_url + path, timeout=30) as response:
                saved[name] = folder / f"{name}.html"
                saved[name].write_bytes(response.read())
    return saved


@pytest.mark.parametrize("page", ["list", "cc-list"])
def test_extract_of_a_list_page_says_so(saved_pages: dict[str, Path], page: str) -> None:
    url = "http://demo.wenhua.local" + (
        "/lubei/wlzx/index.html" if page == "list" else "/list.html"
    )
    result = run("extract", "--url", url, str(saved_pages[page]))
    assert result.exit_code == 1
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    [problem] = [p for p in record["problems"] if p["field"] == "page"]
    assert problem["reason"].startswith("looks like a list page")
    assert "looks like a list page" in result.stderr


def test_extract_of_an_article_is_not_taken_for_a_list() -> None:
    result = run("extract", "--url", SEED_URL, str(SEED_PAGE))
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["problems"] == [] and record["images"][0]["url"].startswith("http://demo.")
    assert record["fetched_at"].endswith("+08:00")


def test_extract_of_a_saved_page_with_relative_links_needs_url() -> None:
    result = run("extract", str(SEED_PAGE))
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert "--url" in line and "/upload/2020/11/new-13173/1.jpg" in line
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    # No record with guessed addresses: the input's line carries the problem only.
    assert line.endswith(record["problems"][0]["reason"]) and "images" not in record


def test_sites_new_does_not_overwrite_without_force(
    saved_pages: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "new.toml"
    out.write_text("# mine\n", encoding="utf-8")
    page = ["sites", "new", str(saved_pages["list"]), "--url", "http://x.gov.cn/col/index.html"]
    refused = run(*page, "--out", str(out))
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert out.read_text(encoding="utf-8") == "# mine\n"
    replaced = run(*page, "--out", str(out), "--force")
    assert replaced.exit_code == 0, replaced.stderr
    assert out.read_text(encoding="utf-8").startswith("# Proposed by `wenhua sites new`")


def test_every_field_has_a_spreadsheet_heading() -> None:
    headings: list[Any] = [field.label for field in FIELDS]
    assert all(headings) and len(set(headings)) == len(headings)
