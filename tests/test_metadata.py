"""Meta-line parsing, table-driven over tests/fixtures/meta_formats.json.

The table has at least one case for every template row of the field survey
(shared/guide/formats.md, "Meta-line templates"), placeholders filled with realistic values.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.extract.dates import CHINA_TZ, ParsedTime
from crawler.extract.metadata import Meta, Problem, parse_meta

FIXTURE = Path(__file__).parent / "fixtures" / "meta_formats.json"
CASES: list[dict[str, Any]] = json.loads(FIXTURE.read_text(encoding="utf-8"))
EXPECTED_KEYS = {"published_at", "published_precision", "source", "editor", "author"}
SEED_LINE = "发布时间:Mon Nov 02 11:20:24 GMT+08:00 2020来源:路南发布编辑:王瑶"


def _fetched(case: dict[str, Any]) -> datetime | None:
    raw = case.get("fetched_at")
    return datetime.fromisoformat(raw) if raw else None


@pytest.mark.parametrize("case", CASES, ids=[f"{c['id']}-{c['note'][:40]}" for c in CASES])
def test_meta_formats_table(case: dict[str, Any]) -> None:
    meta = parse_meta(case["text"], fetched_at=_fetched(case))
    assert meta.as_dict() == case["expected"], case["note"]


def test_table_is_well_formed() -> None:
    assert len(CASES) >= 60
    assert len({c["id"] for c in CASES}) == len(CASES)
    for case in CASES:
        assert set(case["expected"]) == EXPECTED_KEYS, case["id"]
        assert isinstance(case["text"], str) and case["text"], case["id"]


def _survey_templates() -> list[str] | None:
    """First column of the survey's template table, when the guide is next to the repo."""
    root = Path(__file__).resolve().parents[1]
    for candidate in (root.parent / "shared", root / "shared"):
        guide = candidate / "guide" / "formats.md"
        if guide.is_file():
            text = guide.read_text(encoding="utf-8")
            section = text.split("## Meta-line templates", 1)[1].split("\n## ", 1)[0]
            rows = []
            for line in section.splitlines():
                if line.startswith("| ") and not line.startswith("| template"):
                    rows.append(re.split(r"(?<!\\)\|", line)[1].strip())
            return rows
    return None


def test_every_surveyed_template_has_a_case() -> None:
    templates = _survey_templates()
    if templates is None:
        pytest.skip("shared/guide/formats.md is not next to the repository")
    covered = {c["template"] for c in CASES if c.get("template")}
    missing = [t for t in templates if t not in covered]
    assert not missing, f"no case in {FIXTURE.name} for: {missing}"


def test_seed_line() -> None:
    meta = parse_meta(SEED_LINE)
    assert meta.as_dict() == {
        "published_at": "2020-11-02T11:20:24+08:00",
        "published_precision": "second",
        "source": "路南发布",
        "editor": "王瑶",
        "author": None,
    }
    assert meta.problems == []


# --- labels: every family, simplified and traditional ------------------------------------------

DATE_LABELS = [
    "发布时间", "發布時間", "發佈時間", "发布日期", "發布日期", "时间", "時間", "日期", "发表时间",
    "發表時間", "发表于", "發表於", "更新时间", "更新時間", "刊发日期", "刊發日期", "上传时间",
    "上傳時間", "发稿时间", "發稿時間", "公开日期", "公開日期", "发文日期", "發文日期", "上载日期",
    "上載日期", "创建于", "創建於", "生成日期",
]  # fmt: skip
SOURCE_LABELS = [
    "来源", "來源", "信息来源", "信息來源", "文章来源", "文章來源", "稿件来源", "稿件來源",
    "消息来源", "消息來源", "内容来源", "內容來源", "新闻来源", "新聞來源", "转载来源", "轉載來源",
    "发布机构", "發布機構",
]  # fmt: skip
EDITOR_LABELS = [
    "编辑", "編輯", "责任编辑", "責任編輯", "责编", "責編", "发稿编辑", "發稿編輯",
]  # fmt: skip
AUTHOR_LABELS = [
    "作者", "记者", "記者", "通讯员", "通訊員", "特约通讯员", "特約通訊員", "见习记者", "見習記者",
    "文", "图", "圖", "文/图", "文/圖",
]  # fmt: skip


@pytest.mark.parametrize("label", DATE_LABELS)
@pytest.mark.parametrize("colon", [":", "：", " :"])
def test_date_labels(label: str, colon: str) -> None:
    meta = parse_meta(f"{label}{colon}2021-05-18 09:32 来源:唐山文化云")
    assert meta.published is not None and meta.published.isoformat() == "2021-05-18T09:32:00+08:00"
    assert meta.source == "唐山文化云"


@pytest.mark.parametrize("label", SOURCE_LABELS)
@pytest.mark.parametrize("colon", [":", "：", " :"])
def test_source_labels(label: str, colon: str) -> None:
    meta = parse_meta(f"发布时间:2021-05-18{label}{colon}路南区文化广电和旅游局")
    assert meta.source == "路南区文化广电和旅游局"
    assert meta.editor is None and meta.author is None


@pytest.mark.parametrize("label", EDITOR_LABELS)
@pytest.mark.parametrize("colon", [":", "：", " :"])
def test_editor_labels(label: str, colon: str) -> None:
    meta = parse_meta(f"来源:唐山文化云 {label}{colon}王瑶")
    assert meta.editor == "王瑶"
    assert meta.author is None and meta.source == "唐山文化云"


@pytest.mark.parametrize("label", AUTHOR_LABELS)
@pytest.mark.parametrize("colon", [":", "：", " :"])
def test_author_labels(label: str, colon: str) -> None:
    meta = parse_meta(f"来源:唐山文化云 {label}{colon}张建国")
    assert meta.author == "张建国"
    assert meta.editor is None and meta.source == "唐山文化云"


def test_other_credits_are_not_the_editor_and_do_not_leak() -> None:
    text = "编辑:王瑶 审核:李娜 校对:赵强 监制:孙丽 值班编辑:周杰 审看:吴敏 制作:郑爽"
    meta = parse_meta(text)
    assert (meta.editor, meta.author, meta.source) == ("王瑶", None, None)


def test_other_credits_without_editor() -> None:
    meta = parse_meta("审核:李娜 校对:赵强 值班编辑:周杰 來源:唐山晚报")
    assert (meta.editor, meta.author, meta.source) == (None, None, "唐山晚报")


@pytest.mark.parametrize(
    "text",
    [
        "（责编：张三、李四）",
        "（責編:張三、李四）",
        "[编辑: 张三 李四 ]",
        "责任编辑:张三，李四 值班编辑:王五",
        "责任编辑:张三/李四",
    ],
)
def test_editor_credits_at_the_end_of_a_body(text: str) -> None:
    meta = parse_meta("路南区举办迎新春书画展，吸引众多市民前来观看。\n" + text)
    names = {"张三、李四", "張三、李四"}
    assert meta.editor in names
    assert meta.author is None and meta.published is None


def test_fields_in_any_order_and_glued() -> None:
    expected = ("2020-11-02T11:20:24+08:00", "路南发布", "王瑶", "李明")
    parts = [
        "发布时间:2020-11-02 11:20:24",
        "来源:路南发布",
        "编辑:王瑶",
        "作者:李明",
    ]
    for order in ([0, 1, 2, 3], [3, 2, 1, 0], [1, 0, 3, 2], [2, 3, 0, 1]):
        for sep in ["", " ", "\u00a0\u00a0\u00a0", "\u3000", " | ", "??"]:
            text = sep.join(parts[i] for i in order)
            meta = parse_meta(text)
            published = meta.published.isoformat() if meta.published else None
            assert (published, meta.source, meta.editor, meta.author) == expected, text


@pytest.mark.parametrize(
    ("text", "noise_free"),
    [
        ("来源:唐山晚报 浏览次数:123", "唐山晚报"),
        ("来源:唐山晚报 瀏覽:0", "唐山晚报"),
        ("来源:唐山晚报 点击:", "唐山晚报"),
        ("来源:唐山晚报点击数:5", "唐山晚报"),
        ("来源:唐山晚报 点击量:356", "唐山晚报"),
        ("来源:唐山晚报 阅读 88", "唐山晚报"),
        ("来源:唐山晚报 阅读数:88", "唐山晚报"),
        ("来源:唐山晚报 阅读次数:", "唐山晚报"),
        ("来源:唐山晚报 访问次数 : 12", "唐山晚报"),
        ("来源:唐山晚报 字号:默认", "唐山晚报"),
        ("来源:唐山晚报 字体:大 中 小", "唐山晚报"),
        ("来源:唐山晚报 【字体：大 中 小】", "唐山晚报"),
        ("来源:唐山晚报 字體大小:大", "唐山晚报"),
        ("来源:唐山晚报 字体显示:大 中 小", "唐山晚报"),
        ("来源:唐山晚报 【打印】 【关闭】", "唐山晚报"),
        ("来源:唐山晚报 【我要打印】【关闭窗口】", "唐山晚报"),
        ("来源:唐山晚报 [纠错]", "唐山晚报"),
        ("来源:唐山晚报 打印 分享 关闭", "唐山晚报"),
        ("来源:唐山晚报 文档序号:1024", "唐山晚报"),
        ("来源:唐山晚报 文号:唐文旅〔2021〕3号", "唐山晚报"),
        ("来源:唐山晚报 索引号:000014349/2021-00123", "唐山晚报"),
        ("来源:唐山晚报 +|-", "唐山晚报"),
        ("来源:唐山晚报浏览字体:[ ]", "唐山晚报"),
        ("来源:（唐山晚报）。", "唐山晚报"),
        ("来源:全民阅读", "全民阅读"),  # a name that ends with a noise word stays whole
        ("来源:人民网（北京）", "人民网（北京）"),  # balanced brackets inside a value stay
    ],
)
def test_trailing_noise_never_leaks(text: str, noise_free: str) -> None:
    assert parse_meta(text).source == noise_free


@pytest.mark.parametrize(
    ("text", "source"),
    [
        (
            "消息来源:http://www.tangshan.gov.cn/zhuzhan/whly/20210903/1234.html",
            "http://www.tangshan.gov.cn/zhuzhan/whly/20210903/1234.html",
        ),
        ("来源: 路南文旅微信公众号", "路南文旅微信公众号"),
        ("来源:https://mp.weixin.qq.com/s/AbC-dEf_123", "https://mp.weixin.qq.com/s/AbC-dEf_123"),
    ],
)
def test_sources_kept_as_printed(text: str, source: str) -> None:
    assert parse_meta(text).source == source


def test_source_followed_by_people() -> None:
    meta = parse_meta("来源:唐山晚报 作者:李明 王强 赵丽")
    assert (meta.source, meta.author) == ("唐山晚报", "李明、王强、赵丽")
    meta = parse_meta("(来源:唐山晚报 张国庆 李红)")
    assert (meta.source, meta.author) == ("唐山晚报", "张国庆、李红")
    # a person as the source stays the source
    assert parse_meta("来源: 刘建华").source == "刘建华"


@pytest.mark.parametrize(
    ("text", "author"),
    [
        ("作者:李明、王强", "李明、王强"),
        ("作者:李明，王强", "李明、王强"),
        ("作者:李明/王强", "李明、王强"),
        ("作者:李明 王强\u3000赵丽", "李明、王强、赵丽"),
        ("（记者张建 刘丽 通讯员王晓 制作赵磊 审看孙涛）", "张建、刘丽、王晓"),
        ("文字/陳明 李華 圖片/王芳", "陳明、李華、王芳"),
        ("本报记者 周冬 文/摄", "周冬"),
        ("作者:张三 摄", "张三"),
        ("作者:李明 李明", "李明"),
        ("发布者:李明 发布时间:2021-03-04", "李明"),
        ("作者:本报记者 张三 通讯员 李四", "张三、李四"),
        ("作者:张三 (实习生)", "张三"),
    ],
)
def test_people_are_joined_with_enumeration_comma(text: str, author: str) -> None:
    assert parse_meta(text).author == author


def test_empty_labels_give_none() -> None:
    meta = parse_meta("作者: 来源: 编辑: 发布时间:")
    assert meta.as_dict() == dict.fromkeys(EXPECTED_KEYS)
    assert meta.problems == []


# --- several dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("更新时间:2021-01-05 发布时间:2021-01-01", "2021-01-01T00:00:00+08:00"),
        ("生成日期:2020-06-10 發布日期:2020-06-11", "2020-06-11T00:00:00+08:00"),
        ("上载日期:2021-03-05 发文日期:2021-03-04", "2021-03-04T00:00:00+08:00"),
        ("2021-01-09 更新时间:2021-01-06", "2021-01-06T00:00:00+08:00"),
        ("2021-01-09 发布时间:2021-01-08 10:00", "2021-01-08T10:00:00+08:00"),
        ("日期:2021-01-02 发布日期:2021-01-01", "2021-01-01T00:00:00+08:00"),
        # same rank, same day: the finer one
        ("發布日期:2020-06-11\n發布時間:2020-06-11 09:30", "2020-06-11T09:30:00+08:00"),
        # dates under unrelated labels are not the publish date
        ("今天是:2024年05月16日 星期四 2024-05-10", "2024-05-10T00:00:00+08:00"),
        ("活动时间:2021-05-01 发布时间:2021-04-20", "2021-04-20T00:00:00+08:00"),
        ("实施日期:2021-05-01 2021-04-20", "2021-04-20T00:00:00+08:00"),
    ],
)
def test_publish_date_rule(text: str, iso: str) -> None:
    meta = parse_meta(text)
    assert meta.published is not None and meta.published.isoformat() == iso


# --- problems ------------------------------------------------------------------------------


def test_problem_for_unrecognised_date() -> None:
    meta = parse_meta("发布时间:不详 来源:唐山晚报")
    assert meta.published is None and meta.source == "唐山晚报"
    assert meta.problems == [Problem("published_at", "不详", "unrecognised date format")]


def test_problem_for_invalid_date() -> None:
    meta = parse_meta("发布日期:2021-02-30 10:00")
    assert meta.published is None
    assert meta.problems == [Problem("published_at", "2021-02-30 10:00", "invalid date")]


def test_problem_for_relative_time_without_fetch_time() -> None:
    meta = parse_meta("发布时间:3小时前 来源:唐山文化云")
    assert meta.published is None
    assert meta.problems == [Problem("published_at", "3小时前", "relative time needs a fetch time")]
    fetched = datetime(2021, 3, 4, 10, 0, tzinfo=CHINA_TZ)
    meta = parse_meta("发布时间:3小时前 来源:唐山文化云", fetched_at=fetched)
    assert meta.published is not None and meta.published.isoformat() == "2021-03-04T07:00:00+08:00"
    assert meta.problems == []


def test_problem_for_labelless_relative_time_without_fetch_time() -> None:
    meta = parse_meta("唐山文化云 5分钟前")
    assert meta.problems == [Problem("published_at", "5分钟前", "relative time needs a fetch time")]


def test_problem_does_not_hide_a_good_date() -> None:
    meta = parse_meta("更新时间:待定 发布时间:2021-01-01")
    assert meta.published is not None and meta.published.precision == "day"
    assert [p.reason for p in meta.problems] == ["unrecognised date format"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n ",
        "路南区自启动国家第四批公共文化服务体系示范区创建工作以来，按照全市总体安排部署。",
    ],
)
def test_text_without_metadata(text: str) -> None:
    meta = parse_meta(text)
    assert meta.as_dict() == dict.fromkeys(EXPECTED_KEYS)
    assert meta.problems == []


# --- Meta ----------------------------------------------------------------------------------


def test_as_dict_keys_and_values() -> None:
    published = ParsedTime(datetime(2020, 11, 2, 11, 20, tzinfo=CHINA_TZ), "minute")
    meta = Meta(published=published, source="路南发布")
    assert meta.as_dict() == {
        "published_at": "2020-11-02T11:20:00+08:00",
        "published_precision": "minute",
        "source": "路南发布",
        "editor": None,
        "author": None,
    }


def test_merged_with_fills_missing_fields_and_self_wins() -> None:
    day = ParsedTime(datetime(2020, 11, 2, tzinfo=CHINA_TZ), "day")
    minute = ParsedTime(datetime(2020, 11, 2, 11, 20, tzinfo=CHINA_TZ), "minute")
    first = Meta(published=day, source="路南发布", problems=[Problem("author", "x", "why")])
    second = Meta(
        published=minute,
        source="唐山晚报",
        editor="王瑶",
        author="李明",
        problems=[Problem("published_at", "y", "invalid date")],
    )
    merged = first.merged_with(second)
    assert merged.published == day
    assert (merged.source, merged.editor, merged.author) == ("路南发布", "王瑶", "李明")
    assert merged.problems == [*first.problems, *second.problems]
    # neither input is changed
    assert first.editor is None and len(first.problems) == 1


def test_merging_meta_line_with_body_end_credits() -> None:
    head = parse_meta("发布时间:2022-03-15 10:05:33 来源: 河北新闻网")
    tail = parse_meta("（责编：张晓、刘洋）")
    merged = head.merged_with(tail)
    assert merged.as_dict() == {
        "published_at": "2022-03-15T10:05:33+08:00",
        "published_precision": "second",
        "source": "河北新闻网",
        "editor": "张晓、刘洋",
        "author": None,
    }
