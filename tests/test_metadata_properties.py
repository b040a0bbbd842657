"""Property test: generated meta lines parse back to the values they were generated from.

A line is built from random label spellings (simplified or traditional), colon widths,
separators (none, spaces, U+00A0 runs, U+3000), field order and date notation.

Source names ending in 发布 are left out of the pools on purpose: glued to a 时间 label,
``来源:唐山发布时间:…`` is ambiguous even to a human (唐山 + 发布时间, or 唐山发布 + 时间).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.extract.metadata import parse_meta

CHINA = timezone(timedelta(hours=8))

DATE_LABELS = [
    "发布时间", "發布時間", "發佈時間", "发布日期", "發布日期", "时间", "時間", "日期", "發表時間",
    "发表时间", "刊发日期", "刊發日期", "发稿时间", "發稿時間", "公开日期", "公開日期",
]  # fmt: skip
SOURCE_LABELS = [
    "来源", "來源", "信息来源", "信息來源", "文章来源", "文章來源", "稿件来源", "消息來源",
    "内容来源", "內容來源", "新闻来源", "新聞來源", "转载来源", "轉載來源",
]  # fmt: skip
EDITOR_LABELS = ["编辑", "編輯", "责任编辑", "責任編輯", "责编", "責編", "发稿编辑", "發稿編輯"]
AUTHOR_LABELS = ["作者", "记者", "記者", "通讯员", "通訊員", "特约通讯员", "見習記者"]

SOURCES = [
    "路南区文化广电和旅游局", "唐山劳动日报", "河北新闻网", "唐山市文化馆", "中国文化报",
    "路南文旅微信公众号", "丰南区文化和旅游局", "開平區文化廣電和旅遊局", "灤州市文化館",
    "http://www.tangshan.gov.cn/", "唐山市群众艺术馆",
]  # fmt: skip
NAMES = ["王瑶", "李明", "赵晓燕", "刘洋", "陈静", "欧阳娜娜", "孙丽", "張偉", "林美玲", "周杰"]

COLONS = [":", "：", " :", " ：", ": ", "："]
SEPARATOR_UNITS = [" ", "\u00a0", "\u3000"]

WEEKDAYS_EN = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
WEEKDAYS_ZH = ["一", "二", "三", "四", "五", "六", "日"]
MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass(frozen=True)
class Printed:
    text: str
    iso: str
    precision: str


def _china(value: datetime, precision: str, *, china_printed: bool = True) -> Printed:
    """The expected reading, computed independently of the parser."""
    if china_printed and (value.hour, value.minute, value.second) == (0, 0, 0):
        precision = "day"  # fake midnight
    aware = value if value.tzinfo else value.replace(tzinfo=CHINA)
    aware = aware.astimezone(CHINA)
    if precision == "minute":
        aware = aware.replace(second=0)
    elif precision == "day":
        aware = aware.replace(hour=0, minute=0, second=0)
    return Printed("", aware.isoformat(), precision)


def _print(value: datetime, notation: str, offset_minutes: int) -> Printed:
    y, mo, d, h, mi, s = value.year, value.month, value.day, value.hour, value.minute, value.second
    wd = value.weekday()
    day_only = value.replace(hour=0, minute=0, second=0)
    if notation == "D":
        text, expected = f"{y:04d}-{mo:02d}-{d:02d}", _china(day_only, "day")
    elif notation == "D T":
        text, expected = f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}", _china(value, "minute")
    elif notation == "D Ts":
        text = f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}"
        expected = _china(value, "second")
    elif notation == "unpadded":
        text, expected = f"{y}-{mo}-{d}", _china(day_only, "day")
    elif notation == "slashes":
        text, expected = f"{y}/{mo}/{d} {h}:{mi:02d}:{s:02d}", _china(value, "second")
    elif notation == "dotted":
        text, expected = f"{y:04d}.{mo:02d}.{d:02d}", _china(day_only, "day")
    elif notation == "cjk":
        text, expected = f"{y}年{mo:02d}月{d:02d}日", _china(day_only, "day")
    elif notation == "cjk T glued":
        text, expected = f"{y}年{mo}月{d}日{h:02d}:{mi:02d}", _china(value, "minute")
    elif notation == "cjk Ts":
        text = f"{y}年{mo:02d}月{d:02d}日 {h:02d}:{mi:02d}:{s:02d}"
        expected = _china(value, "second")
    elif notation == "weekday":
        text, expected = f"{y:04d}-{mo:02d}-{d:02d} 星期{WEEKDAYS_ZH[wd]}", _china(day_only, "day")
    elif notation == "cjk weekday":
        text, expected = f"{y}年{mo}月{d}日 周{WEEKDAYS_ZH[wd]}", _china(day_only, "day")
    elif notation == "12-hour":
        marker = "上午" if h < 12 else "下午"
        text = f"{y:04d}-{mo:02d}-{d:02d} {marker} {h % 12 or 12}:{mi:02d}:{s:02d}"
        expected = _china(value, "second")
    elif notation == "java GMT+08:00":
        text = (
            f"{WEEKDAYS_EN[wd]} {MONTHS_EN[mo - 1]} {d:02d} {h:02d}:{mi:02d}:{s:02d} GMT+08:00 {y}"
        )
        expected = _china(value, "second")
    elif notation == "java CST":
        text = f"{WEEKDAYS_EN[wd]} {MONTHS_EN[mo - 1]} {d:02d} {h:02d}:{mi:02d}:{s:02d} CST {y}"
        expected = _china(value, "second")
    elif notation == "go CST":
        text = f"{WEEKDAYS_EN[wd]} {MONTHS_EN[mo - 1]} {d:>2} {h:02d}:{mi:02d}:{s:02d} CST {y}"
        expected = _china(value, "second")
    elif notation in ("java GMT offset", "iso offset"):
        zone = timezone(timedelta(minutes=offset_minutes))
        sign = "+" if offset_minutes >= 0 else "-"
        hh, mm = divmod(abs(offset_minutes), 60)
        if notation == "java GMT offset":
            stamp = f"{h:02d}:{mi:02d}:{s:02d} GMT{sign}{hh:02d}:{mm:02d}"
            text = f"{WEEKDAYS_EN[wd]} {MONTHS_EN[mo - 1]} {d:02d} {stamp} {y}"
        else:
            text = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{sign}{hh:02d}:{mm:02d}"
        expected = _china(
            value.replace(tzinfo=zone), "second", china_printed=offset_minutes == 8 * 60
        )
    else:  # pragma: no cover - the strategy only draws the names above
        raise AssertionError(notation)
    return Printed(text, expected.iso, expected.precision)


NOTATIONS = [
    "D", "D T", "D Ts", "unpadded", "slashes", "dotted", "cjk", "cjk T glued", "cjk Ts",
    "weekday", "cjk weekday", "12-hour", "java GMT+08:00", "java CST", "go CST",
    "java GMT offset", "iso offset",
]  # fmt: skip
OFFSETS_MINUTES = [8 * 60, 0, -5 * 60, 5 * 60 + 30, 9 * 60 + 30, -3 * 60 - 30, 14 * 60]


@st.composite
def printed_dates(draw: st.DrawFn) -> Printed:
    value = draw(st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2035, 12, 31)))
    # Midnight is rare in a uniform draw but is a rule of its own: make it common.
    if draw(st.booleans()) and draw(st.booleans()):
        value = value.replace(hour=0, minute=0, second=0)
    value = value.replace(microsecond=0)
    return _print(value, draw(st.sampled_from(NOTATIONS)), draw(st.sampled_from(OFFSETS_MINUTES)))


@st.composite
def separators(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["none", "spaces", "nbsp", "ideographic", "mixed"]))
    if kind == "none":
        return ""
    count = draw(st.integers(min_value=1, max_value=6))
    if kind == "spaces":
        return " " * count
    if kind == "nbsp":
        return "\u00a0" * count
    if kind == "ideographic":
        return "\u3000" * count
    return "".join(draw(st.lists(st.sampled_from(SEPARATOR_UNITS), min_size=1, max_size=6)))


@st.composite
def meta_lines(draw: st.DrawFn) -> tuple[str, dict[str, str | None]]:
    date = draw(printed_dates())
    source = draw(st.sampled_from(SOURCES))
    editor = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=2, unique=True))
    author = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    present = draw(st.sets(st.sampled_from(["date", "source", "editor", "author"]), min_size=1))
    fields = {
        "date": (draw(st.sampled_from(DATE_LABELS)), date.text),
        "source": (draw(st.sampled_from(SOURCE_LABELS)), source),
        "editor": (draw(st.sampled_from(EDITOR_LABELS)), "、".join(editor)),
        "author": (
            draw(st.sampled_from(AUTHOR_LABELS)),
            draw(st.sampled_from([" ", "、"])).join(author),
        ),
    }
    order = draw(st.permutations(sorted(present)))
    # The catalogue's "D Ts 來源:S": a date without a label, printed first.
    unlabelled_date = "date" in present and order[0] == "date" and draw(st.booleans())
    parts = []
    for name in order:
        label, value = fields[name]
        if name == "date" and unlabelled_date:
            parts.append(value)
        else:
            parts.append(f"{label}{draw(st.sampled_from(COLONS))}{value}")
    text = parts[0]
    for part in parts[1:]:
        text += draw(separators()) + part
    # A value printed last may be followed by trailing spaces or a newline.
    text += draw(st.sampled_from(["", " ", "\u00a0\u00a0", "\n"]))
    expected: dict[str, str | None] = {
        "published_at": date.iso if "date" in present else None,
        "published_precision": date.precision if "date" in present else None,
        "source": source if "source" in present else None,
        "editor": "、".join(editor) if "editor" in present else None,
        "author": "、".join(author) if "author" in present else None,
    }
    return text, expected


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(meta_lines())
def test_generated_meta_lines_parse_back(line: tuple[str, dict[str, str | None]]) -> None:
    text, expected = line
    meta = parse_meta(text)
    assert meta.as_dict() == expected, text
    assert meta.problems == []


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(printed_dates())
def test_generated_dates_under_a_label(date: Printed) -> None:
    meta = parse_meta(f"发布时间:{date.text}")
    assert meta.published is not None, date.text
    assert (meta.published.isoformat(), meta.published.precision) == (date.iso, date.precision)


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(st.text(max_size=80))
def test_parse_meta_never_raises(text: str) -> None:
    meta = parse_meta(text)
    for value in (meta.source, meta.editor, meta.author):
        assert value is None or (value and value == value.strip())
