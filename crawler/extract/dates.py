"""Date and time parsing for the dates Chinese portals print in their meta lines.

Every notation is a regex of ours (the ``_NOTATIONS`` table); nothing is fuzzy-guessed.
All results are tz-aware and expressed in China Standard Time (UTC+08:00).

Rules worth knowing:

* ``CST`` is China Standard Time (UTC+8), never US Central: on these sites it comes from a
  Java/Go server running in ``Asia/Shanghai``.
* ``GMT+08:00`` (Java ``Date.toString()``) means eight hours *ahead* of UTC. python-dateutil
  reads it with the POSIX sign convention (UTC-8), sixteen hours off, so it is not used here.
  Other ``GMT±HH:MM`` / ISO offsets are converted to +08:00.
* Precision is what was printed: ``second`` with seconds, ``minute`` with HH:MM, ``hour`` with
  an hour only (``11时``), ``day`` for a date alone (value at 00:00:00, no invented time).
* Fake midnight: a time of exactly 00:00 or 00:00:00 printed in China time gives precision
  ``day``, because portals print midnight when the editor entered no time.
* Relative times (刚刚, N分钟前, 昨天 HH:MM, ...) and dates without a year (``MM-DD HH:MM``)
  need ``fetched_at``; without it they give ``None``. A year-less date takes the year of
  ``fetched_at`` unless that lands on a later calendar day than the fetch, then the year before.
  A naive ``fetched_at`` is read as China wall-clock time.
* A padded two-digit year (``18-03-08 23:16``) is read as 20YY, only as a whole value.
* Invalid calendar dates (2021-02-30, month 13, hour 25) give ``None``, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Literal, cast

__all__ = [
    "CHINA_TZ",
    "REASON_INVALID",
    "REASON_NEEDS_FETCH_TIME",
    "REASON_NO_YEAR",
    "REASON_UNKNOWN_ZONE",
    "DateMatch",
    "ParsedTime",
    "Precision",
    "iter_datetimes",
    "match_datetime",
    "parse_datetime",
]

CHINA_TZ: tzinfo = timezone(timedelta(hours=8))
_CHINA_OFFSET = timedelta(hours=8)

Precision = Literal["second", "minute", "hour", "day"]

REASON_INVALID = "invalid date"
REASON_NEEDS_FETCH_TIME = "relative time needs a fetch time"
REASON_NO_YEAR = "date without a year needs a fetch time"
REASON_UNKNOWN_ZONE = "unknown time zone"

# Plausible years for a news portal; anything else (0000-00-00 from MySQL, typos) is invalid.
_MIN_YEAR = 1900
_MAX_YEAR = 2100


@dataclass(frozen=True)
class ParsedTime:
    """A point in time as printed by a portal, in China time, with the precision printed."""

    value: datetime
    precision: Precision

    def __post_init__(self) -> None:
        value = self.value
        # A naive value is China wall-clock time; everything else is converted.
        value = (
            value.replace(tzinfo=CHINA_TZ) if value.tzinfo is None else value.astimezone(CHINA_TZ)
        )
        value = value.replace(microsecond=0)
        # Digits below the precision were not printed, so they must not be invented.
        if self.precision == "minute":
            value = value.replace(second=0)
        elif self.precision == "hour":
            value = value.replace(minute=0, second=0)
        elif self.precision == "day":
            value = value.replace(hour=0, minute=0, second=0)
        object.__setattr__(self, "value", value)

    def isoformat(self) -> str:
        return self.value.isoformat()


@dataclass(frozen=True)
class DateMatch:
    """A date-shaped span of text: either ``parsed`` or the ``failure`` reason is set."""

    start: int
    end: int
    parsed: ParsedTime | None
    failure: str | None


# ---------------------------------------------------------------------------------------------
# Rule tables
# ---------------------------------------------------------------------------------------------

# Width-preserving normalisation (one character in, one out) so spans map back to the input.
_WIDTH_MAP = str.maketrans(
    "０１２３４５６７８９：／－．，＋",
    "0123456789:/-.,+",
)

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip

# Zone abbreviations seen on Chinese servers. CST is China Standard Time here.
_ZONE_ABBREVIATIONS: dict[str, timedelta] = {
    "CST": _CHINA_OFFSET,
    "BJT": _CHINA_OFFSET,
    "HKT": _CHINA_OFFSET,
    "GMT": timedelta(0),
    "UTC": timedelta(0),
    "UT": timedelta(0),
    "Z": timedelta(0),
}
# Only these may carry an explicit offset (GMT+08:00, UTC+8); the sign is read as written.
_OFFSET_BASES = {"", "GMT", "UTC", "UT"}

_AM_MARKERS = {"上午", "早上", "早晨", "凌晨", "am", "a.m."}
_PM_MARKERS = {"下午", "晚上", "傍晚", "pm", "p.m."}
_NOON_MARKERS = {"中午"}

_RELATIVE_DAYS = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}

# Regex building blocks. _SP is horizontal space only: a date never spans a line break.
_SP = r"[ \t\u00a0\u3000]"
_WEEKDAY = (
    r"(?:[（(]?(?:星期|礼拜|禮拜)[一二三四五六日天][)）]?|[（(]?[周週][一二三四五六日][)）]?)"
)
_AMPM = r"上午|下午|早上|早晨|中午|晚上|傍晚|凌晨|(?i:a\.m\.|p\.m\.|am|pm)"
_TIME = (
    rf"(?:(?P<ampm>{_AMPM}){_SP}*)?"
    rf"(?:(?P<H>\d{{1,2}}):(?P<M>\d{{2}})(?::(?P<S>\d{{2}})(?:\.\d{{1,9}})?)?(?!\d)"
    rf"|(?P<Hc>\d{{1,2}}){_SP}*[时時点點](?![击擊])"
    rf"(?:{_SP}*(?P<Mc>\d{{1,2}}){_SP}*分(?:{_SP}*(?P<Sc>\d{{1,2}}){_SP}*秒)?)?)"
    rf"(?:{_SP}*(?P<ampm2>(?i:am|pm))(?![A-Za-z]))?"
)
_MON_NAME = r"(?i:(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?)"
_DOW_NAME = r"(?i:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?)"
_ZONE = r"(?P<tz>[A-Z]{1,5}(?:[+-]\d{1,2}(?::?\d{2})?)?|[+-]\d{2}:?\d{2})"
# An ISO offset: allowed after "T" or after printed seconds, so "11:20-11:30" is not a zone.
_ISO_OFFSET = r"(?P<off>Z(?![A-Za-z])|[+-]\d{2}:?\d{2}(?!\d))"

# The time may stand in brackets after the date: 2014-12-17 (16:31) (141, 144-singtao), or
# after a China-time zone word: 2014-12-25 HKT 22:40 (170-rthk). A Latin word may run into
# the year: the outlet's name, 新頭殼newtalk2014.10.24 (174-newtalk).
_CHINA_ZONE_WORD = r"(?:HKT|CST|BJT)"
_NUMERIC = (
    r"(?<![\d./_-])(?P<y>\d{4})(?P<sep>[-/.])(?P<mo>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"(?!\d|/\w)"
    rf"(?:{_SP}*{_WEEKDAY})?"
    rf"(?:(?:(?P<isoT>T)|{_SP}+(?:{_CHINA_ZONE_WORD}{_SP}+)?|-(?=\d{{1,2}}:\d\d)|{_SP}*(?P<paren>[（(]){_SP}*)"
    rf"{_TIME}(?:(?(isoT)|(?(S)|(?!))){_ISO_OFFSET})?(?(paren){_SP}*[)）]))?"
    rf"(?:{_SP}*{_WEEKDAY})?"
)
# US notation (ASP.NET under an en-US locale): month first, year last, 12-hour clock:
# "7/5/2005 9:23:57 PM". In free text only with its time, as "7/5/2005" alone could be
# day first.
_US = (
    r"(?<![\d/.-])(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})(?![\d/])"
    rf"{_SP}+(?P<H>\d{{1,2}}):(?P<M>\d{{2}})(?::(?P<S>\d{{2}}))?(?!\d)"
    rf"(?:{_SP}*(?P<ampm2>(?i:am|pm))(?![A-Za-z]))?"
)
_US_BARE = r"(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})"
# The time printed before the date on its line: 15:31 2018/09/16 (072-chinatimes-2019).
_TIME_FIRST = (
    r"(?<![\d:.-])(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?"
    rf"{_SP}+(?P<y>\d{{4}})(?P<sep>[-/.])(?P<mo>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}})(?![\d/:])"
)
# A time may be stated in GMT in words: 2012年12月10日, 格林尼治标准时间10:41 (050-bbc-zhongwen).
_GMT_WORDS = r"(?P<gmt>格林[尼威]治标准时间|格林[尼威]治標準時間)"
_CJK_DATE = (
    rf"(?<!\d)(?P<y>\d{{4}}){_SP}*[年]{_SP}*(?P<mo>\d{{1,2}}){_SP}*月{_SP}*"
    rf"(?P<d>\d{{1,2}}){_SP}*[日号號]"
    rf"(?:{_SP}*{_WEEKDAY})?(?:(?:[,，]?{_SP}*{_GMT_WORDS})?{_SP}*{_TIME})?(?:{_SP}*{_WEEKDAY})?"
)
_JAVA = (
    rf"(?:{_DOW_NAME},?{_SP}+)?{_MON_NAME}{_SP}+(?P<d>\d{{1,2}}),?{_SP}+"
    rf"(?P<H>\d{{1,2}}):(?P<M>\d{{2}})(?::(?P<S>\d{{2}}))?{_SP}+{_ZONE}{_SP}+(?P<y>\d{{4}})(?!\d)"
)
# JavaScript Date.toString(): "Mon Nov 02 2020 11:20:24 GMT+0800 (中国标准时间)".
_JS = (
    rf"(?:{_DOW_NAME},?{_SP}+)?{_MON_NAME}{_SP}+(?P<d>\d{{1,2}}),?{_SP}+(?P<y>\d{{4}}){_SP}+"
    rf"(?P<H>\d{{1,2}}):(?P<M>\d{{2}})(?::(?P<S>\d{{2}}))?{_SP}+{_ZONE}"
    rf"(?:{_SP}*[（(][^()（）\n]{{1,30}}[)）])?"
)
_RFC2822 = (
    rf"(?:{_DOW_NAME},?{_SP}*)?(?<!\d)(?P<d>\d{{1,2}}){_SP}+{_MON_NAME}{_SP}+(?P<y>\d{{4}}){_SP}+"
    rf"(?P<H>\d{{1,2}}):(?P<M>\d{{2}})(?::(?P<S>\d{{2}}))?{_SP}+{_ZONE}(?![A-Za-z\d])"
)
_NO_YEAR_NUMERIC = (
    rf"(?<![\dA-Za-z./_:-])(?P<mo>\d{{1,2}})[-/](?P<d>\d{{1,2}})(?![\d/-]){_SP}+{_TIME}"
)
# A two-digit year, padded, as Baidu's 百家号 prints past years: 发布时间：18-03-08 23:16
# (031-baijiahao-fashion). Only as a whole value: in free text it could be anything.
_SHORT_YEAR = rf"(?P<yy>\d{{2}})-(?P<mo>\d{{2}})-(?P<d>\d{{2}})(?:{_SP}+{_TIME})?"
# Alone (no time), only the padded MM-DD form: "1/2" is more often a fraction or a page count.
_NO_YEAR_NUMERIC_BARE = r"(?P<mo>\d{2})-(?P<d>\d{2})"
_NO_YEAR_CJK = (
    rf"(?<![\d年])(?P<mo>\d{{1,2}}){_SP}*月{_SP}*(?P<d>\d{{1,2}}){_SP}*[日号號]"
    rf"(?:{_SP}*{_WEEKDAY})?{_SP}*{_TIME}"
)
_NO_YEAR_CJK_BARE = (
    rf"(?P<mo>\d{{1,2}}){_SP}*月{_SP}*(?P<d>\d{{1,2}}){_SP}*[日号號](?:{_SP}*{_WEEKDAY})?"
)
# Chinese numerals, as printed at the foot of official documents: 二〇二一年三月四日.
_CN_DIGITS = {**{c: i for i, c in enumerate("〇一二三四五六七八九")}, **dict.fromkeys("零○Ｏ0", 0)}
_CN_DATE = (
    r"(?P<cy>[〇零○Ｏ0一二三四五六七八九]{4})年"
    r"(?P<cmo>十[一二]?|[一二三四五六七八九])月"
    r"(?P<cd>[二三]?十[一二三四五六七八九]?|[一二三四五六七八九])[日号號]"
)
_JUST_NOW = r"刚刚|剛剛|刚才|剛才"
# A larger unit may come first: 5 小时 15 分钟前, V2EX's post time (161-v2ex-topic).
_AGO = (
    rf"(?:(?P<big>\d{{1,3}}){_SP}*(?P<big_unit>天|个?小时|個?小時){_SP}*)?"
    r"(?P<n>\d{1,3}|半)"
    rf"{_SP}*(?P<unit>秒钟?|秒鐘|分钟|分鐘|分|个?小时|個?小時|天)"
    r"(?:之|以)?前"
)
_DAY_WORD = rf"(?P<day>今天|今日|昨天|昨日|前天)(?:{_SP}*{_TIME})"
_DAY_WORD_BARE = r"(?P<day>今天|今日|昨天|昨日|前天)"

_Build = Callable[[re.Match[str], "datetime | None"], "ParsedTime | str"]


@dataclass(frozen=True)
class _Notation:
    name: str
    regex: re.Pattern[str]
    build: _Build
    # Whole-text only notations are too ambiguous inside free text (e.g. "今天是", "1-2").
    free_text: bool = True


# ---------------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------------


def _group(m: re.Match[str], name: str) -> str | None:
    return cast("str | None", m.groupdict().get(name))


def _clock(m: re.Match[str]) -> tuple[int, int, int, Precision] | str | None:
    """The printed time of day as (hour, minute, second, precision); None when absent."""
    if _group(m, "H") is not None:
        hour, minute = int(m["H"]), int(m["M"])
        sec_text = _group(m, "S")
        second = int(sec_text) if sec_text is not None else 0
        precision: Precision = "second" if sec_text is not None else "minute"
    elif _group(m, "Hc") is not None:
        hour = int(m["Hc"])
        min_text, sec_text = _group(m, "Mc"), _group(m, "Sc")
        minute = int(min_text) if min_text is not None else 0
        second = int(sec_text) if sec_text is not None else 0
        if sec_text is not None:
            precision = "second"
        elif min_text is not None:
            precision = "minute"
        else:
            precision = "hour"
    else:
        return None
    marker = (_group(m, "ampm") or _group(m, "ampm2") or "").lower()
    if marker in _PM_MARKERS:
        if hour == 0 or hour > 23:
            return REASON_INVALID
        if hour < 12:
            hour += 12
    elif marker in _AM_MARKERS:
        if hour > 12:
            return REASON_INVALID
        if hour == 12:
            hour = 0
    elif marker in _NOON_MARKERS and 1 <= hour <= 5:
        hour += 12
    if hour > 23 or minute > 59 or second > 59:
        return REASON_INVALID
    return hour, minute, second, precision


def _zone_offset(text: str) -> timedelta | str:
    """Offset of a printed zone such as CST, GMT+08:00, +0800, Z; else a failure reason."""
    m = re.fullmatch(r"([A-Z]*)\s*(?:([+-])(\d{1,2})(?::?(\d{2}))?)?", text.strip())
    if m is None:
        return REASON_UNKNOWN_ZONE
    abbr, sign, hours, minutes = m.groups()
    if sign is None:
        return _ZONE_ABBREVIATIONS.get(abbr, REASON_UNKNOWN_ZONE)
    if abbr not in _OFFSET_BASES:
        return REASON_UNKNOWN_ZONE
    h, mi = int(hours), int(minutes or 0)
    if h > 14 or mi > 59:
        return REASON_INVALID
    # Java and ISO write the sign the human way: GMT+08:00 is ahead of UTC.
    delta = timedelta(hours=h, minutes=mi)
    return delta if sign == "+" else -delta


def _finish(
    year: int,
    month: int,
    day: int,
    clock: tuple[int, int, int, Precision] | None,
    offset: timedelta | None = None,
) -> ParsedTime | str:
    """Validate and build; ``offset`` None means the text was printed in China time."""
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        return REASON_INVALID
    hour, minute, second, precision = clock if clock is not None else (0, 0, 0, "day")
    try:
        local = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return REASON_INVALID
    china_printed = offset is None or offset == _CHINA_OFFSET
    if china_printed and (hour, minute, second) == (0, 0, 0):
        precision = "day"  # fake midnight: no time was entered
    zone = CHINA_TZ if offset is None else timezone(offset)
    return ParsedTime(local.replace(tzinfo=zone), precision)


def _build_numeric(m: re.Match[str], fetched_at: datetime | None) -> ParsedTime | str:
    clock = _clock(m)
    if isinstance(clock, str):
        return clock
    offset: timedelta | None = timedelta(0) if _group(m, "gmt") else None
    off_text = _group(m, "off")
    if off_text is not None:
        zone = _zone_offset("Z" if off_text == "Z" else "UTC" + off_text)
        if isinstance(zone, str):
            return zone
        offset = zone
    return _finish(int(m["y"]), int(m["mo"]), int(m["d"]), clock, offset)


def _build_named_month(m: re.Match[str], fetched_at: datetime | None) -> ParsedTime | str:
    clock = _clock(m)
    if isinstance(clock, str):
        return clock
    offset = _zone_offset(m["tz"])
    if isinstance(offset, str):
        return offset
    return _finish(int(m["y"]), _MONTHS[m["mon"].lower()], int(m["d"]), clock, offset)


def _build_short_year(m: re.Match[str], fetched_at: datetime | None) -> ParsedTime | str:
    clock = _clock(m)
    if isinstance(clock, str):
        return clock
    return _finish(2000 + int(m["yy"]), int(m["mo"]), int(m["d"]), clock)


def _cn_number(text: str) -> int:
    """一 .. 三十一 as an int (only the forms the _CN_DATE regex admits)."""
    if "十" not in text:
        return _CN_DIGITS[text]
    tens, ones = text.split("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def _build_cn_date(m: re.Match[str], fetched_at: datetime | None) -> ParsedTime | str:
    year = int("".join(str(_CN_DIGITS[c]) for c in m["cy"]))
    return _finish(year, _cn_number(m["cmo"]), _cn_number(m["cd"]), None)


def _china_now(fetched_at: datetime) -> datetime:
    if fetched_at.tzinfo is None:
        return fetched_at.replace(tzinfo=CHINA_TZ)
    return fetched_at.astimezone(CHINA_TZ)


_Clock = tuple[int, int, int, Precision] | None


def _clock_and_now(
    m: re.Match[str], fetched_at: datetime | None, missing: str
) -> tuple[_Clock, datetime] | str:
    """The printed clock and the fetch time in China, for dates read relative to the fetch;
    the reason string when the clock is invalid or no fetch time is known."""
    clock = _clock(m)
    if isinstance(clock, str):
        return clock
    if fetched_at is None:
        return missing
    return clock, _china_now(fetched_at)


def _build_no_year(m: re.Match[str], fetched_at: datetime | None) -> ParsedTime | str:
    found = _clock_and_now(m, fetched_at, REASON_NO_YEAR)
    if isinstance(found, str):
        return found
    clock, now = found
    month, day = int(m["mo"]), int(m["d"])
    result: ParsedTime | str = REASON_INVALID
    # "Not in the future" is judged by calendar day, so a same-day time a few minutes ahead of
    # the fetch (server clock skew) does not jump back a whole year.
    for year in (now.year, now.year - 1):
        result = _finish(year, month, day, clock)
        if isinstance(result, ParsedTime) and result.value.date() <= now.date():
            return result
    return result if isinstance(result, str) else REASON_INVALID


def _build_just_now(m: re.Match[str], fetched_at: datetime | None) -> ParsedTime | str:
    if fetched_at is None:
        return REASON_NEEDS_FETCH_TIME
    return ParsedTime(_china_now(fetched_at), "minute")


_AGO_UNITS: dict[str, tuple[timedelta, Precision]] = {
    "秒": (timedelta(seconds=1), "second"),
    "分": (timedelta(minutes=1), "minute"),
    "时": (timedelta(hours=1), "hour"),
    "時": (timedelta(hours=1), "hour"),
    "天": (timedelta(days=1), "day"),
}


def _build_ago(m: re.Match[str], fetched_at: datetime | None) -> ParsedTime | str:
    if fetched_at is None:
        return REASON_NEEDS_FETCH_TIME
    unit = m["unit"]
    key = next(k for k in _AGO_UNITS if k in unit)
    step, precision = _AGO_UNITS[key]
    before = timedelta()
    if m["big"]:
        big, _ = _AGO_UNITS[next(k for k in _AGO_UNITS if k in m["big_unit"])]
        if big <= step:
            return REASON_INVALID
        before = int(m["big"]) * big
    if m["n"] == "半":
        if precision != "hour":
            return REASON_INVALID
        return ParsedTime(_china_now(fetched_at) - before - timedelta(minutes=30), "minute")
    return ParsedTime(_china_now(fetched_at) - before - int(m["n"]) * step, precision)


def _build_day_word(m: re.Match[str], fetched_at: datetime | None) -> ParsedTime | str:
    found = _clock_and_now(m, fetched_at, REASON_NEEDS_FETCH_TIME)
    if isinstance(found, str):
        return found
    clock, now = found
    day: date = now.date() - timedelta(days=_RELATIVE_DAYS[m["day"]])
    return _finish(day.year, day.month, day.day, clock)


_NOTATIONS: tuple[_Notation, ...] = (
    _Notation("numeric", re.compile(_NUMERIC), _build_numeric),
    _Notation("cjk", re.compile(_CJK_DATE), _build_numeric),
    _Notation("us", re.compile(_US), _build_numeric),
    _Notation("time-first", re.compile(_TIME_FIRST), _build_numeric),
    _Notation("java", re.compile(_JAVA), _build_named_month),
    _Notation("javascript", re.compile(_JS), _build_named_month),
    _Notation("rfc2822", re.compile(_RFC2822), _build_named_month),
    _Notation("cn-numerals", re.compile(_CN_DATE), _build_cn_date),
    _Notation("no-year", re.compile(_NO_YEAR_NUMERIC), _build_no_year),
    _Notation("no-year-cjk", re.compile(_NO_YEAR_CJK), _build_no_year),
    _Notation("just-now", re.compile(_JUST_NOW), _build_just_now),
    _Notation("ago", re.compile(_AGO), _build_ago),
    _Notation("day-word", re.compile(_DAY_WORD), _build_day_word),
    _Notation("us-bare", re.compile(_US_BARE), _build_numeric, False),
    _Notation("short-year", re.compile(_SHORT_YEAR), _build_short_year, False),
    _Notation("no-year-bare", re.compile(_NO_YEAR_NUMERIC_BARE), _build_no_year, False),
    _Notation("no-year-cjk-bare", re.compile(_NO_YEAR_CJK_BARE), _build_no_year, False),
    _Notation("day-word-bare", re.compile(_DAY_WORD_BARE), _build_day_word, False),
)

# Stripped around a whole-text value: whitespace and the brackets portals wrap dates in.
_SPACES = " \t\r\n\u00a0\u3000"
_WRAPPING = _SPACES + "()（）[]【】"


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def _to_match(start: int, end: int, result: ParsedTime | str) -> DateMatch:
    if isinstance(result, ParsedTime):
        return DateMatch(start, end, result, None)
    return DateMatch(start, end, None, result)


def match_datetime(text: str, *, fetched_at: datetime | None = None) -> DateMatch | None:
    """The whole of ``text`` (minus surrounding space and brackets) read as one date.

    None when the text is not date-shaped; otherwise a match with ``parsed`` or ``failure``.
    """
    if not isinstance(text, str):
        return None
    normal = text.translate(_WIDTH_MAP)
    # Whitespace first, then brackets too: "(中国标准时间)" ends a date, "（2020-11-02）" wraps one.
    for wrapping in (_SPACES, _WRAPPING):
        stripped = normal.strip(wrapping)
        if not stripped:
            return None
        start = normal.index(stripped)
        for notation in _NOTATIONS:
            m = notation.regex.fullmatch(stripped)
            if m is not None:
                return _to_match(start, start + len(stripped), notation.build(m, fetched_at))
    return None


def parse_datetime(text: str, *, fetched_at: datetime | None = None) -> ParsedTime | None:
    """Parse text that is entirely a date, e.g. ``"2020-11-02 11:20:24"``; None otherwise."""
    found = match_datetime(text, fetched_at=fetched_at)
    return found.parsed if found is not None else None


def iter_datetimes(text: str, *, fetched_at: datetime | None = None) -> Iterator[DateMatch]:
    """Date-shaped spans of free text, left to right, the longest at each position.

    Invalid ones are yielded too (with ``failure`` set) so callers can report them.
    """
    if not isinstance(text, str):
        return
    normal = text.translate(_WIDTH_MAP)
    found: list[tuple[int, int, _Notation, re.Match[str]]] = []
    for notation in _NOTATIONS:
        if notation.free_text:
            found.extend((m.start(), m.end(), notation, m) for m in notation.regex.finditer(normal))
    found.sort(key=lambda item: (item[0], -item[1]))
    cursor = 0
    for start, end, notation, m in found:
        if start < cursor or start == end:
            continue
        cursor = end
        yield _to_match(start, end, notation.build(m, fetched_at))
