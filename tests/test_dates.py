"""Date/time parsing: every notation the survey found, invalid dates, garbage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.extract.dates import (
    CHINA_TZ,
    REASON_INVALID,
    REASON_NEEDS_FETCH_TIME,
    REASON_NO_YEAR,
    ParsedTime,
    iter_datetimes,
    match_datetime,
    parse_datetime,
)


def find_datetime(
    text: str, *, fetched_at: datetime | None = None
) -> tuple[ParsedTime, int, int] | None:
    """The first valid date in free text with its (start, end) span in ``text``."""
    for found in iter_datetimes(text, fetched_at=fetched_at):
        if found.parsed is not None:
            return found.parsed, found.start, found.end
    return None


FETCHED = datetime(2021, 3, 4, 10, 30, 15, tzinfo=CHINA_TZ)

# (text, expected isoformat, expected precision)
ABSOLUTE = [
    # Java Date.toString(): GMT+08:00 is eight hours AHEAD of UTC (dateutil gets this backwards).
    ("Mon Nov 02 11:20:24 GMT+08:00 2020", "2020-11-02T11:20:24+08:00", "second"),
    ("Thu Sep 26 15:03:00 GMT+08:00 2024", "2024-09-26T15:03:00+08:00", "second"),
    # CST is China Standard Time, not US Central.
    ("Sun Jan 05 15:47:07 CST 2020", "2020-01-05T15:47:07+08:00", "second"),
    # Go pads the day with a space.
    ("Wed Aug  5 10:00:00 CST 2020", "2020-08-05T10:00:00+08:00", "second"),
    # Other GMT offsets are converted to China time.
    ("Mon Nov 02 11:20:24 GMT 2020", "2020-11-02T19:20:24+08:00", "second"),
    ("Mon Nov 02 11:20:24 GMT-05:00 2020", "2020-11-03T00:20:24+08:00", "second"),
    ("Mon Nov 02 11:20:24 GMT+09:30 2020", "2020-11-02T09:50:24+08:00", "second"),
    ("Mon Nov 02 11:20:24 UTC 2020", "2020-11-02T19:20:24+08:00", "second"),
    ("Mon, 02 Nov 2020 03:20:24 GMT", "2020-11-02T11:20:24+08:00", "second"),
    # JavaScript Date.toString()
    ("Mon Nov 02 2020 11:20:24 GMT+0800 (中国标准时间)", "2020-11-02T11:20:24+08:00", "second"),
    ("Mon Nov 02 2020 11:20:24 GMT+0800", "2020-11-02T11:20:24+08:00", "second"),
    # YYYY-MM-DD[ HH:MM[:SS]]
    ("2020-11-02", "2020-11-02T00:00:00+08:00", "day"),
    ("2020-11-02 11:20", "2020-11-02T11:20:00+08:00", "minute"),
    ("2020-11-02 11:20:24", "2020-11-02T11:20:24+08:00", "second"),
    ("2020-11-02 11:20:24.0", "2020-11-02T11:20:24+08:00", "second"),  # java.sql.Timestamp
    ("2020-11-02\u00a011:20", "2020-11-02T11:20:00+08:00", "minute"),
    ("2020-11-02\u3000\u300011:20:24", "2020-11-02T11:20:24+08:00", "second"),
    ("２０２０－１１－０２ １１：２０", "2020-11-02T11:20:00+08:00", "minute"),  # full width
    # unpadded, slashes, dots
    ("2020-3-9", "2020-03-09T00:00:00+08:00", "day"),
    ("2019/8/6 9:05:07", "2019-08-06T09:05:07+08:00", "second"),
    ("2019/08/06", "2019-08-06T00:00:00+08:00", "day"),
    ("2020.10.01", "2020-10-01T00:00:00+08:00", "day"),
    # 年月日, with or without a space before the time
    ("2021年09月03日", "2021-09-03T00:00:00+08:00", "day"),
    ("2020年9月5日", "2020-09-05T00:00:00+08:00", "day"),
    ("2021年06月05日10:30", "2021-06-05T10:30:00+08:00", "minute"),
    ("2021年06月05日 10:30", "2021-06-05T10:30:00+08:00", "minute"),
    ("2021年03月12日 09:10:11", "2021-03-12T09:10:11+08:00", "second"),
    ("2021年3月12日9:10:11", "2021-03-12T09:10:11+08:00", "second"),
    ("2021年3月12号", "2021-03-12T00:00:00+08:00", "day"),
    ("2021年3月12日 9时", "2021-03-12T09:00:00+08:00", "hour"),
    ("2021年3月12日 9时5分", "2021-03-12T09:05:00+08:00", "minute"),
    ("2021年3月12日 9时5分7秒", "2021-03-12T09:05:07+08:00", "second"),
    # Chinese numerals (foot of official documents)
    ("二〇二一年三月四日", "2021-03-04T00:00:00+08:00", "day"),
    ("二〇二〇年十一月二十二日", "2020-11-22T00:00:00+08:00", "day"),
    ("二零一九年十二月三十一日", "2019-12-31T00:00:00+08:00", "day"),
    ("二〇二一年十月十日", "2021-10-10T00:00:00+08:00", "day"),
    # weekday suffixes
    ("2020-11-02 星期一", "2020-11-02T00:00:00+08:00", "day"),
    ("2020年11月02日 星期一", "2020-11-02T00:00:00+08:00", "day"),
    ("2021年3月7日 星期天", "2021-03-07T00:00:00+08:00", "day"),
    ("2021年3月7日 星期日", "2021-03-07T00:00:00+08:00", "day"),
    ("2021年3月7日 周日", "2021-03-07T00:00:00+08:00", "day"),
    ("2021-03-01 周一 08:15", "2021-03-01T08:15:00+08:00", "minute"),
    ("2021-03-01 08:15 (星期一)", "2021-03-01T08:15:00+08:00", "minute"),
    ("2024年05月16日 禮拜四", "2024-05-16T00:00:00+08:00", "day"),
    # 12-hour clocks
    ("2021-03-04 下午 3:05:00", "2021-03-04T15:05:00+08:00", "second"),
    ("2021-03-04 下午 03:05:00", "2021-03-04T15:05:00+08:00", "second"),
    ("2021-03-04 上午 9:05", "2021-03-04T09:05:00+08:00", "minute"),
    ("2021-03-04 下午 12:30", "2021-03-04T12:30:00+08:00", "minute"),
    ("2021-03-04 上午 12:30", "2021-03-04T00:30:00+08:00", "minute"),
    ("2021-03-04 晚上 8:00", "2021-03-04T20:00:00+08:00", "minute"),
    ("2021-03-04 3:05 PM", "2021-03-04T15:05:00+08:00", "minute"),
    ("2021年3月4日下午3:05", "2021-03-04T15:05:00+08:00", "minute"),
    # ISO 8601 with offsets
    ("2020-11-02T11:20:24+08:00", "2020-11-02T11:20:24+08:00", "second"),
    ("2020-11-02T03:20:24Z", "2020-11-02T11:20:24+08:00", "second"),
    ("2020-11-02T03:20:24.123456Z", "2020-11-02T11:20:24+08:00", "second"),
    ("2020-11-02T11:20:24+05:30", "2020-11-02T13:50:24+08:00", "second"),
    ("2020-11-02T11:20:24-0300", "2020-11-02T22:20:24+08:00", "second"),
    ("2020-11-02T11:20+08:00", "2020-11-02T11:20:00+08:00", "minute"),
    ("2020-11-02T11:20:24", "2020-11-02T11:20:24+08:00", "second"),
    ("2020-11-02 11:20:24+00:00", "2020-11-02T19:20:24+08:00", "second"),
    # fake midnight: portals print 00:00 when no time was entered
    ("2020-11-02 00:00", "2020-11-02T00:00:00+08:00", "day"),
    ("2022-04-01 00:00:00", "2022-04-01T00:00:00+08:00", "day"),
    ("Mon Nov 02 00:00:00 CST 2020", "2020-11-02T00:00:00+08:00", "day"),
    ("2020-11-02T00:00:00+08:00", "2020-11-02T00:00:00+08:00", "day"),
    # ... but midnight printed in another zone is a real instant
    ("2020-11-02T00:00:00Z", "2020-11-02T08:00:00+08:00", "second"),
    # surrounding whitespace and brackets
    ("  （2020-11-02）  ", "2020-11-02T00:00:00+08:00", "day"),
    ("[2020-11-02 11:20]", "2020-11-02T11:20:00+08:00", "minute"),
    # the time in brackets after the date (141, 144-singtao's span.newsheadlinetime)
    ("2014-12-17 (16:31)", "2014-12-17T16:31:00+08:00", "minute"),
    ("2014-12-17（16:31:05）", "2014-12-17T16:31:05+08:00", "second"),
    # a China-time zone word between the date and the time (170-rthk)
    ("2014-12-25 HKT 22:40", "2014-12-25T22:40:00+08:00", "minute"),
]


@pytest.mark.parametrize(("text", "iso", "precision"), ABSOLUTE)
def test_absolute_notations(text: str, iso: str, precision: str) -> None:
    parsed = parse_datetime(text)
    assert parsed is not None, text
    assert (parsed.isoformat(), parsed.precision) == (iso, precision)


def test_gmt_plus_eight_is_not_read_backwards() -> None:
    # python-dateutil returns 11:20:24-08:00 here, i.e. 2020-11-03T03:20:24+08:00.
    parsed = parse_datetime("Mon Nov 02 11:20:24 GMT+08:00 2020")
    assert parsed is not None
    assert parsed.value.utcoffset() == timedelta(hours=8)
    assert parsed.value == datetime(2020, 11, 2, 3, 20, 24, tzinfo=UTC)


# (text, expected isoformat, precision) relative to FETCHED = 2021-03-04 10:30:15 +08:00
RELATIVE = [
    ("刚刚", "2021-03-04T10:30:00+08:00", "minute"),
    ("剛剛", "2021-03-04T10:30:00+08:00", "minute"),
    ("30秒前", "2021-03-04T10:29:45+08:00", "second"),
    ("5分钟前", "2021-03-04T10:25:00+08:00", "minute"),
    ("5分鐘前", "2021-03-04T10:25:00+08:00", "minute"),
    ("3小时前", "2021-03-04T07:00:00+08:00", "hour"),
    ("3小時前", "2021-03-04T07:00:00+08:00", "hour"),
    ("半小时前", "2021-03-04T10:00:00+08:00", "minute"),
    ("2天前", "2021-03-02T00:00:00+08:00", "day"),
    # a larger unit first (161-v2ex-topic: alphadog619 · 5 小时 15 分钟前)
    ("5 小时 15 分钟前", "2021-03-04T05:15:00+08:00", "minute"),
    ("1天2小时前", "2021-03-03T08:00:00+08:00", "hour"),
    ("昨天 21:30", "2021-03-03T21:30:00+08:00", "minute"),
    ("昨天21:30:05", "2021-03-03T21:30:05+08:00", "second"),
    ("昨天 下午 3:05", "2021-03-03T15:05:00+08:00", "minute"),
    ("昨天", "2021-03-03T00:00:00+08:00", "day"),
    ("前天", "2021-03-02T00:00:00+08:00", "day"),
    ("前天 08:00", "2021-03-02T08:00:00+08:00", "minute"),
    ("今天 08:00", "2021-03-04T08:00:00+08:00", "minute"),
]


@pytest.mark.parametrize(("text", "iso", "precision"), RELATIVE)
def test_relative_times_resolve_against_fetch_time(text: str, iso: str, precision: str) -> None:
    parsed = parse_datetime(text, fetched_at=FETCHED)
    assert parsed is not None, text
    assert (parsed.isoformat(), parsed.precision) == (iso, precision)


@pytest.mark.parametrize("text", [t for t, _, _ in RELATIVE])
def test_relative_times_without_fetch_time_give_none(text: str) -> None:
    assert parse_datetime(text) is None
    found = match_datetime(text)
    assert found is not None and found.failure == REASON_NEEDS_FETCH_TIME


def test_fetch_time_in_utc_is_converted_before_taking_the_day() -> None:
    # 2021-03-03 20:00 UTC is already 2021-03-04 04:00 in China: 昨天 is March 3rd.
    fetched = datetime(2021, 3, 3, 20, 0, tzinfo=UTC)
    parsed = parse_datetime("昨天 09:00", fetched_at=fetched)
    assert parsed is not None and parsed.isoformat() == "2021-03-03T09:00:00+08:00"


def test_naive_fetch_time_is_china_wall_clock() -> None:
    parsed = parse_datetime("5分钟前", fetched_at=datetime(2021, 3, 4, 10, 30))
    assert parsed is not None and parsed.isoformat() == "2021-03-04T10:25:00+08:00"


@pytest.mark.parametrize(
    ("text", "fetched", "iso"),
    [
        ("03-08 16:20", "2021-03-10T12:00:00+08:00", "2021-03-08T16:20:00+08:00"),
        # would be in the future relative to the fetch: previous year
        ("12-30 09:00", "2021-01-05T08:00:00+08:00", "2020-12-30T09:00:00+08:00"),
        ("03-11 16:20", "2021-03-10T12:00:00+08:00", "2020-03-11T16:20:00+08:00"),
        # the same calendar day stays in the fetch's year even if a little ahead (clock skew)
        ("03-10 12:05", "2021-03-10T12:00:00+08:00", "2021-03-10T12:05:00+08:00"),
        ("11月2日 10:00", "2021-03-10T12:00:00+08:00", "2020-11-02T10:00:00+08:00"),
        ("3月2日", "2021-03-10T12:00:00+08:00", "2021-03-02T00:00:00+08:00"),
        ("03-08", "2021-03-10T12:00:00+08:00", "2021-03-08T00:00:00+08:00"),
        # Feb 29th: this year has none, the previous one does
        ("02-29 08:00", "2021-03-10T12:00:00+08:00", "2020-02-29T08:00:00+08:00"),
    ],
)
def test_dates_without_a_year(text: str, fetched: str, iso: str) -> None:
    parsed = parse_datetime(text, fetched_at=datetime.fromisoformat(fetched))
    assert parsed is not None and parsed.isoformat() == iso


def test_dates_without_a_year_need_a_fetch_time() -> None:
    assert parse_datetime("03-08 16:20") is None
    found = match_datetime("03-08 16:20")
    assert found is not None and found.failure == REASON_NO_YEAR


@pytest.mark.parametrize(
    "text",
    [
        "2021-02-30",
        "2021-02-29",
        "2021-13-01",
        "2021-00-10",
        "2021-01-32",
        "2021-01-01 25:00",
        "2021-01-01 24:00:00",
        "2021-01-01 10:60",
        "2021-01-01 10:10:61",
        "2021年13月1日",
        "2021年2月30日 10:00",
        "0000-00-00 00:00:00",
        "1066-10-14",
        "Mon Feb 30 11:20:24 CST 2021",
        "2021-03-04 上午 13:05",
        "2021-03-04T10:00:00+25:00",
        "二〇二一年二月三十日",
    ],
)
def test_invalid_dates_give_none(text: str) -> None:
    assert parse_datetime(text) is None
    found = match_datetime(text)
    assert found is not None and found.failure == REASON_INVALID, found


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello",
        "路南区公共文化服务体系示范区创建工作取得阶段性成果",
        "发布时间",
        "2020",
        "11:20",
        "20201102",
        "2020-11",
        "2020-11-02 and then some",
        "2020-11-02 11:20-11:30",
        "Mon Nov 02 11:20:24 PDT 2020",  # unknown zone: no guess
        "Nov 2020",
        "1/2",
        "今天是个好日子",
        "\x00\x01",
    ],
)
def test_garbage_gives_none(text: str) -> None:
    assert parse_datetime(text) is None
    assert parse_datetime(text, fetched_at=FETCHED) is None


def test_find_datetime_returns_first_date_with_span() -> None:
    text = "发布时间:Mon Nov 02 11:20:24 GMT+08:00 2020来源:路南发布编辑:王瑶"
    found = find_datetime(text)
    assert found is not None
    parsed, start, end = found
    assert text[start:end] == "Mon Nov 02 11:20:24 GMT+08:00 2020"
    assert parsed.isoformat() == "2020-11-02T11:20:24+08:00"


def test_find_datetime_span_with_full_width_digits() -> None:
    text = "日期：２０２０－１１－０２　来源"
    found = find_datetime(text)
    assert found is not None
    assert text[found[1] : found[2]] == "２０２０－１１－０２"


def test_find_datetime_skips_invalid_and_url_dates() -> None:
    text = "http://x.cn/art/2020/11/2/art_1.html 编号2021-02-30 发布:2021-03-04 10:00"
    found = find_datetime(text)
    assert found is not None
    assert found[0].isoformat() == "2021-03-04T10:00:00+08:00"
    failures = [m.failure for m in iter_datetimes(text)]
    assert failures == [REASON_INVALID, None]


def test_find_datetime_does_not_take_today_words_without_a_time() -> None:
    # "今天是" in a page header is not a relative time; the date after it is.
    found = find_datetime("今天是:2024年05月16日 星期四", fetched_at=FETCHED)
    assert found is not None and found[0].isoformat() == "2024-05-16T00:00:00+08:00"


def test_a_bracketed_time_counts_only_when_the_bracket_closes_after_it() -> None:
    # 2014-12-17 (16:31) is one instant (141); a bracketed time range is not its time.
    found = find_datetime("星島日報 2014-12-17 (16:31) 港聞")
    assert found is not None and found[0].isoformat() == "2014-12-17T16:31:00+08:00"
    found = find_datetime("2014-12-17 (10:00-12:00)")
    assert found is not None and found[0].precision == "day"


def test_a_date_run_into_the_outlet_s_latin_name() -> None:
    # 174-newtalk opens its text with 新頭殼newtalk2014.10.24 金名/高雄報導.
    found = find_datetime("新頭殼newtalk2014.10.24 金名/高雄報導")
    assert found is not None and found[0].isoformat() == "2014-10-24T00:00:00+08:00"
    assert found[1] == len("新頭殼newtalk")


def test_find_datetime_none() -> None:
    assert find_datetime("没有日期的一段话。") is None
    assert find_datetime("") is None


def test_parsed_time_invariants() -> None:
    value = datetime(2020, 11, 2, 3, 20, 24, 999, tzinfo=UTC)
    parsed = ParsedTime(value, "second")
    assert parsed.value.utcoffset() == timedelta(hours=8)
    assert parsed.value.microsecond == 0
    assert parsed.isoformat() == "2020-11-02T11:20:24+08:00"
    # digits below the precision are not invented
    assert ParsedTime(value, "day").isoformat() == "2020-11-02T00:00:00+08:00"
    assert ParsedTime(value, "hour").isoformat() == "2020-11-02T11:00:00+08:00"
    assert ParsedTime(value, "minute").isoformat() == "2020-11-02T11:20:00+08:00"


def test_china_tz_is_fixed_utc_plus_eight() -> None:
    assert CHINA_TZ.utcoffset(None) == timedelta(hours=8)
    assert CHINA_TZ.utcoffset(datetime(2020, 7, 1)) == timedelta(hours=8)


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(st.text(max_size=60))
def test_never_raises_on_arbitrary_text(text: str) -> None:
    parse_datetime(text)
    parse_datetime(text, fetched_at=FETCHED)
    found = find_datetime(text, fetched_at=FETCHED)
    if found is not None:
        assert 0 <= found[1] < found[2] <= len(text)


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 12, 31)),
    st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y年%m月%d日 %H:%M:%S"]),
)
def test_round_trip_printed_seconds(value: datetime, fmt: str) -> None:
    value = value.replace(microsecond=0)
    parsed = parse_datetime(value.strftime(fmt))
    assert parsed is not None
    if (value.hour, value.minute, value.second) == (0, 0, 0):
        assert parsed.precision == "day"
    else:
        assert parsed.precision == "second"
    assert parsed.value == value.replace(tzinfo=CHINA_TZ)
