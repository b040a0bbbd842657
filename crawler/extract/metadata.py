"""Meta-line parsing: the labelled fields Chinese portals print around an article.

``parse_meta(text)`` reads a meta line (or a meta block, or the end of a body with its editor
credits) and returns the publish time, source, editor and author. Rules live in the tables at
the top of this module; the code only loops over them.

How a text is read:

* Labels are found by their simplified *or* traditional spelling (each character of a label
  matches its variants, so mixed spellings work too), followed by a full- or half-width colon,
  optionally after spaces or a stray digit (``发稿时间1:``). Labels may be glued to the
  previous value with no separator (``2020来源:路南发布编辑:王瑶``). Without a colon a label is
  recognised only as a separate token (``通讯员 张三``, ``A 发表于 D``), or, for people
  labels, directly before a name (``（记者张三 通讯员李四）``).
* A value runs to the next label or the end of its line; an empty value at the end of a line
  takes the next short line (labels and values printed on separate lines).
* Noise never leaks into values: counts (浏览次数, 点击, 阅读数 ...), font controls (字号,
  【字体:大 中 小】), print/share/close links, document numbers (文号, 索引号) and ``+|-``.
  Credits other than the editor (审核, 校对, 监制, 值班编辑, 审看, 制作 ...) are labels of their
  own whose values are dropped, so they end the previous value and go nowhere.
* People (editor, author) are split on spaces, 、, ，, / and joined with ``、``.
* A source is kept as printed (URLs, ``X微信公众号``); trailing person names after it
  (``来源:唐山日报 张三 李四``) become authors.

Several dates in one text -- which one is the publish time:

1. a publish label (发布时间, 发布日期, 發布日期, 发表时间, 发稿时间, 刊发日期, 公开日期, ...),
2. else a generic label (时间, 日期),
3. else a secondary label (更新时间, 生成日期, 上载日期, 创建于, 成文日期 ...),
4. else the first date that carries no label at all (``D Ts 來源:S``), ignoring dates under
   unrelated labels (今天是, 活动时间, 实施日期 ...).

Within one rank the first in text order wins, except that a later date of the same rank on the
same calendar day with a finer precision replaces it (``發布日期:D`` then ``發布時間:D T``).

Problems: a date label with a non-empty value that is not a date gives
``Problem("published_at", raw, "unrecognised date format")``; an impossible date gives
"invalid date"; a relative time (or a date without a year) without ``fetched_at`` gives
"relative time needs a fetch time" (or "date without a year needs a fetch time").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from crawler.extract.dates import (
    REASON_INVALID,
    REASON_NEEDS_FETCH_TIME,
    REASON_NO_YEAR,
    DateMatch,
    ParsedTime,
    iter_datetimes,
    match_datetime,
)
from crawler.extract.labels import (
    AUTHOR_BEFORE_LABELS,
    DATED_PUBLISH_LABELS,
    GLUED_DATE_LABELS,
    GLUED_PERSON_LABELS,
    HAN,
    LABELS,
    SLASH_LABELS,
    FieldName,
    Label,
    simplified,
    spellings,
    words,
)

__all__ = ["Meta", "Problem", "parse_meta"]

REASON_UNRECOGNISED = "unrecognised date format"

# ---------------------------------------------------------------------------------------------
# Rule tables
# ---------------------------------------------------------------------------------------------

# Noise that may be glued to the end of a value: "来源:S浏览字体:[ ]".
_GLUABLE_NOISE = words("""
    浏览次数 浏览量 浏览 点击次数 点击数 点击量 点击 访问次数 访问量 字体大小 字体显示 字号 字体
    大字
""")
# Noise recognised at the end of a value only after a separator (these words occur in names:
# 全民阅读, 城市分享).
_SEPARATED_NOISE = words("""
    阅读次数 阅读数 阅读量 阅读 打印本页 打印 分享到 分享 关闭窗口 关闭 收藏本页 收藏 返回顶部
    返回 人气 次
""")

# Words that make a short bracketed segment at the end of a value a widget: 【我要打印】.
_WIDGET_WORDS = words("打印 关闭 收藏 分享 字体 字号 纠错 返回 顶部 推荐 评论 复制 链接")

# A comment or interaction counter at the end of a value, its count in brackets or followed
# by 条: 来源：新华网 参与互动(0), the link after the source on 120-chinanews's date line;
# 来源: 京华时报 网友评论 0 条 (130-ent-163-2005).
_COUNTER_WORDS = words("参与互动 网友评论")
_COUNTS = (r"[（(]\s*\d*\s*[)）]", r"\d+\s*条")

# Where an editor's value ends, whatever follows on its line: a tip line (澎湃新闻报料：
# 4009-20-4009, 058/059-thepaper), a copyright notice (未经授权不得转载), a phone number, or
# the bracket closing a credit printed in brackets ([责任编辑：韩保林 PK155]推荐0, 044).
_EDITOR_STOP = re.compile(
    r"[\u3400-\u9fff]{0,8}报料(?:热线|电话)?\s*[:：]|未经授权|版权所有|转载请注明|"
    r"\d{3,4}-\d{2,4}-\d{3,4}|(?<=\S)[\]】]"
)

# Values that mean "nothing here".
_PLACEHOLDERS = frozenset(words("无 無 暂无 暫無 未知 - -- — —— / null none undefined 空 佚名"))

_STAFF_CODE = re.compile(r"[A-Za-z]{1,4}\d{2,6}")
# Values of a people label that name nobody: 作者：网络 (064-ednchina). As a source they are
# kept (来源：网络 is what the page says).
_NOT_PEOPLE = frozenset(words("网络 互联网 本站 本网 网友"))
# Role words around names in people lists: "本报记者张三", "张三 摄", "文/图".
_ROLE_PREFIXES = words(
    "本报记者 本台记者 本网记者 特约通讯员 见习记者 实习记者 通讯员 实习生 记者 摄影"
)
_ROLE_SUFFIXES = words("报道 供图 整理 撰文 摄影 摄")
# A token ending with one of these after an outlet's name describes a role, not a person:
# 【文/观察者网专栏作者 王文】 (047-guancha-column), 新华社记者 X.
_ROLE_TAILS = words("专栏作者 特约作者 作者 记者 通讯员 评论员 特约评论员 撰稿人")
# A token after the names ending so is the report's place: 台北報導 (simplified 报导).
_DATELINE_ENDINGS = ("报道", "报导")
_ROLE_WORDS = frozenset(
    words("""
        文 图 摄 摄影 报道 供图 整理 撰文 记者 通讯员 本报记者 本台记者 编辑 责编 等 实习生 文字
        图片 见习记者 特约通讯员
    """)
)

# A token is an organisation rather than a person when it ends with one of these.
_ORG_SUFFIXES = frozenset(
    "报台网局馆站社刊会部处办室厅委院所校队团号圈端媒府市区县镇乡村省州旗厂司组中心店园堂宫"
    "阁楼坊苑营业协联科股"
)
_COMPOUND_SURNAMES = words("""
    欧阳 司马 诸葛 上官 东方 皇甫 令狐 慕容 公孙 长孙 宇文 司徒 夏侯 尉迟 澹台 端木 独孤 南宫
    西门 呼延 轩辕
""")
_NOT_NAMES = frozenset(
    words("""
        本站 本网 原创 转载 网络 综合 整理 供稿 新华社 中新社 本报 本台 编辑 作者 来源 责编 记者
        通讯员 报道 摄影 图片 文字 公众号 微信 官网 网站
    """)
)

# Label-less fields recognised by their shape, tried only on text outside any label.
_UNLABELLED_RULES: tuple[tuple[FieldName, re.Pattern[str]], ...] = (
    # 《唐山劳动日报》( 2020年11月02日 03版)
    (
        "source",
        re.compile(
            r"《(?P<value>[^《》\n]{1,40})》[ \t\u00a0\u3000]*[（(]"
            r"[ \t\u00a0\u3000]*\d{4}[ \t\u00a0\u3000]*年"
        ),
    ),
    # An outlet printed bare after the date on its line: 2019-09-26 10:56:28 证券时报网 (049).
    (
        "source",
        re.compile(
            r"(?m)(?:19|20)\d\d[-/.年]\d{1,2}[-/.月]\d{1,2}日?"
            r"(?:[ \t\u00a0\u3000]+\d{1,2}:\d\d(?::\d\d)?)?[ \t\u00a0\u3000·|｜]+"
            r"(?P<value>[\u3400-\u9fff]{2,10}[网报社台])[ \t\u00a0\u3000]*$"
        ),
    ),
    # A line that is only an outlet's reporter credit: 新京报记者 陆一夫 closing the body (024),
    # 扬子晚报记者 张楠 (068), 澎湃新闻记者 贺梨萍 under the title (060).
    (
        "author",
        re.compile(
            r"(?m)^[\u3400-\u9fff]{2,8}?(?:见习记者|实习记者|记者|通讯员)[ \t\u00a0\u3000]+"
            r"(?P<value>[\u3400-\u9fff·]{2,4}(?:[ \t\u00a0\u3000、][\u3400-\u9fff·]{2,4}){0,3})"
            r"[ \t\u00a0\u3000]*$"
        ),
    ),
    # A Taiwanese byline on the meta line: 聯合報 記者陳嘉寧／桃園機場報導 (081-udn-2019).
    (
        "author",
        re.compile(
            r"(?:^|(?<=[\s\u00a0\u3000]))[记記]者[ \t\u00a0\u3000]*"
            r"(?P<value>[\u3400-\u9fff·]{2,4})[/／][\u3400-\u9fff]{1,10}(?:报道|報導|報道)"
        ),
    ),
    # The same right after the date, with no 記者: 新頭殼newtalk2014.10.24 金名/高雄報導
    # (174-newtalk); a desk compiling a story (社會中心／綜合報導) names no one.
    (
        "author",
        re.compile(
            r"(?<=[\d日])[ \t\u00a0\u3000]+(?P<value>[\u3400-\u9fff·]{2,4})[/／]"
            r"(?![综綜]合)[\u3400-\u9fff]{1,10}(?:报道|報導|報道)(?=[\s\u00a0\u3000]|$)"
        ),
    ),
    # □张三 李四 报道 (newspaper byline)
    (
        "author",
        re.compile(
            r"[□■][ \t\u00a0\u3000]*(?P<value>[\u3400-\u9fff·、 \t\u00a0\u3000]"
            r"{2,40}?)[ \t\u00a0\u3000]*(?:报道|報道)"
        ),
    ),
)

# Text replaced before reading: a mis-decoded nbsp ("??"), literal entities, zero-width chars.
_PRE_REPLACE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\r\n?"), "\n"),
    (re.compile(r"&nbsp;?|&#160;|&#xa0;", re.IGNORECASE), "\u00a0"),
    (re.compile(r"\?{2,}"), "\u00a0"),
    (re.compile(r"[\u200b\u200c\u200d\ufeff]"), ""),
)

_SP = r"[ \t\u00a0\u3000]"

_COLON = r"[:：﹕]"
# A value is cut at a field separator bar; "+|-" is a font-size widget.
_VALUE_CUT = re.compile(r"[|｜]")
_TRAILING_PUNCT = " \t\n\u00a0\u3000，,。.；;：:、|｜\\-—_~·…!！?？+＋*"
_LEADING_PUNCT = " \t\n\u00a0\u3000，,。.；;：:、|｜\\-—_~·…!！?？+＋*©®"
# Opening -> closing bracket, from pairs written side by side.
_BRACKETS = {
    pair[0]: pair[1] for pair in words("() （） [] 【】 《》 〔〕 「」 『』 <> 〈〉 “” ‘’ \"\" ''")
}
_CLOSERS = {v: k for k, v in _BRACKETS.items()}
_URL = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
_PEOPLE_SPLIT = re.compile(r"[\s、，,/;；|｜]+")
_NAME_RX = re.compile(rf"[{HAN}]{{2,3}}|[{HAN}]{{1,8}}·[{HAN}·]{{1,12}}")
# A line following the label is "short" when it can be a value, not a body paragraph.
_MAX_NEXT_LINE_VALUE = 40
_SENTENCE_PUNCT = re.compile(r"[，。！？；]")


# ---------------------------------------------------------------------------------------------
# Public data types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    field: str
    raw: str
    reason: str


@dataclass
class Meta:
    published: ParsedTime | None = None
    source: str | None = None
    editor: str | None = None
    author: str | None = None
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, str | None]:
        return {
            "published_at": self.published.isoformat() if self.published else None,
            "published_precision": self.published.precision if self.published else None,
            "source": self.source,
            "editor": self.editor,
            "author": self.author,
        }

    def merged_with(self, other: Meta) -> Meta:
        """Fill this one's missing fields from ``other``; this one wins."""
        return Meta(
            published=self.published if self.published is not None else other.published,
            source=self.source if self.source is not None else other.source,
            editor=self.editor if self.editor is not None else other.editor,
            author=self.author if self.author is not None else other.author,
            problems=[*self.problems, *other.problems],
        )


# ---------------------------------------------------------------------------------------------
# Label recognition
# ---------------------------------------------------------------------------------------------


def _alternation(names: Iterable[str]) -> str:
    return spellings(names, lone_single_chars=True)


_BOUNDARY_BEFORE = r"(?<![^\s|｜/（(【\[、])"
_NAME_AHEAD = rf"(?=[{HAN}·]{{2,4}}(?:[\s）)】\]、|｜]|$))"

# (kind, regex); every regex has a group "label". Longer spans win over shorter ones.
_HIT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("colon", re.compile(rf"(?P<label>{_alternation(LABELS)})\d?{_SP}*{_COLON}")),
    ("slash", re.compile(rf"(?P<label>{_alternation(SLASH_LABELS)})/(?=[{HAN}])")),
    (
        "token",
        re.compile(
            rf"{_BOUNDARY_BEFORE}(?P<label>{_alternation(n for n in LABELS if len(n) > 1)})"
            rf"(?={_SP}|\n|$)"
        ),
    ),
    (
        "glued",
        re.compile(
            rf"{_BOUNDARY_BEFORE}(?P<label>{_alternation(GLUED_PERSON_LABELS)})"
            rf"{_NAME_AHEAD}"
        ),
    ),
    ("glued", re.compile(rf"(?P<label>{_alternation(GLUED_DATE_LABELS)})(?={_SP}*\d)")),
)

_TRAILING_NOISE = re.compile(
    rf"(?:(?:{_alternation(_GLUABLE_NOISE)})"
    rf"|(?:(?<=[\s【\[（(|｜])|^)(?:{_alternation(_SEPARATED_NOISE)}))"
    rf"\s*{_COLON}?\s*(?:\d+\s*次?|大\s*中\s*小|默认|默認|[大中小])?\s*[】\]）)]?\s*$"
)
_TRAILING_COUNTER = re.compile(
    rf"(?:(?<=\s)|^)(?:{_alternation(_COUNTER_WORDS)})\s*(?:{'|'.join(_COUNTS)})\s*$"
)
_TRAILING_FONT = re.compile(r"(?:(?<=\s)|^)大\s*中\s*小\s*[】\]）)]?\s*$")
# A short bracketed widget at the end of a value: 【我要打印】, [纠错], 【收藏本页】.
_TRAILING_WIDGET = re.compile(
    rf"[【\[]\s*[^】\]\n]{{0,8}}?(?:{_alternation(_WIDGET_WORDS)})[^】\]\n]{{0,8}}[】\]]\s*$"
)


@dataclass
class _Hit:
    start: int
    end: int
    label: Label
    value_start: int = 0
    value_end: int = 0
    value: str = ""


def _find_hits(text: str) -> list[_Hit]:
    found: list[tuple[int, int, str]] = []
    for _kind, regex in _HIT_RULES:
        for m in regex.finditer(text):
            canon = simplified(m["label"])
            if canon in LABELS:
                found.append((m.start(), m.end(), canon))
    found.sort(key=lambda item: (item[0], -(item[1] - item[0])))
    hits: list[_Hit] = []
    cursor = 0
    for start, end, canon in found:
        if start >= cursor:
            hits.append(_Hit(start, end, LABELS[canon]))
            cursor = end
    return hits


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _assign_values(text: str, hits: list[_Hit]) -> None:
    """Give each hit the span of its value (see the module docstring)."""
    starts = [h.start for h in hits]
    for i, hit in enumerate(hits):
        next_start = starts[i + 1] if i + 1 < len(hits) else len(text)
        line_end = _line_end(text, hit.end)
        end = min(next_start, line_end)
        hit.value_start, hit.value_end = hit.end, end
        if text[hit.end : end].strip() or next_start <= line_end:
            continue
        # Empty value, last label on its line: the value may be printed on the next line.
        pos = line_end
        while pos < len(text) and text[pos] in "\n \t\u00a0\u3000":
            pos += 1
        if pos >= len(text) or pos >= next_start:
            continue
        stop = min(next_start, _line_end(text, pos))
        candidate = text[pos:stop].strip()
        if len(candidate) <= _MAX_NEXT_LINE_VALUE and not _SENTENCE_PUNCT.search(candidate):
            hit.value_start, hit.value_end = pos, stop
    for hit in hits:
        hit.value = text[hit.value_start : hit.value_end]


# ---------------------------------------------------------------------------------------------
# Value cleaning
# ---------------------------------------------------------------------------------------------


def _strip_brackets(value: str) -> str:
    """Strip punctuation and brackets around a value, keeping balanced inner brackets."""
    previous = None
    while value != previous:
        previous = value
        value = value.strip(_TRAILING_PUNCT).lstrip(_LEADING_PUNCT)
        if not value:
            break
        first, last = value[0], value[-1]
        if first in _BRACKETS and last == _BRACKETS[first]:
            value = value[1:-1]
        elif first in _BRACKETS and _BRACKETS[first] not in value:
            value = value[1:]
        elif last in _CLOSERS and _CLOSERS[last] not in value:
            value = value[:-1]
        elif first in _CLOSERS:
            value = value[1:]
        elif last in _BRACKETS:
            value = value[:-1]
    return value


def _clean(value: str) -> str | None:
    """Whitespace, brackets, trailing punctuation and noise removed; None when nothing is left."""
    value = _VALUE_CUT.split(value, maxsplit=1)[0]
    value = re.sub(rf"{_SP}+", " ", value.replace("\n", " "))
    if _URL.match(value.strip()):
        value = value.strip().rstrip("，,。；;）)】]")
        return value or None
    previous = None
    while value != previous:
        previous = value
        value = _strip_brackets(value)
        value = _TRAILING_NOISE.sub("", value)
        value = _TRAILING_FONT.sub("", value)
        value = _TRAILING_COUNTER.sub("", value)
        value = _TRAILING_WIDGET.sub("", value)
    value = value.strip()
    if not value or value.lower() in _PLACEHOLDERS:
        return None
    return value


def _strip_roles(token: str) -> str:
    for prefix in _ROLE_PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 2:
            token = token[len(prefix) :]
            break
    for suffix in _ROLE_SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 2:
            token = token[: -len(suffix)]
            break
    return token


def _people(values: Iterable[str]) -> list[str]:
    names: list[str] = []
    for value in values:
        for number, token in enumerate(_PEOPLE_SPLIT.split(value)):
            token = _strip_brackets(token)
            if number and len(token) > 2 and simplified(token).endswith(_DATELINE_ENDINGS):
                # The place after the names is the dateline: 記者賴淑敏 蔣龍祥 台北報導 (171).
                continue
            token = _strip_roles(token)
            if token in _NOT_PEOPLE:
                continue
            if token and token not in _ROLE_WORDS and token.lower() not in _PLACEHOLDERS:
                if any(token.endswith(t) and len(token) > len(t) + 1 for t in _ROLE_TAILS):
                    continue
                names.append(token)
    names = list(dict.fromkeys(names))
    # A staff code printed after a name (责任编辑：韩保林 PK155, 044-ifeng-ent) is no second
    # person; a code printed alone is all the page gives (责任编辑：HN666, 049-hexun).
    if any(not _STAFF_CODE.fullmatch(n) for n in names):
        names = [n for n in names if not _STAFF_CODE.fullmatch(n)]
    return names


def _is_name(token: str) -> bool:
    if token in _NOT_NAMES or not _NAME_RX.fullmatch(token):
        if len(token) == 4 and token.startswith(_COMPOUND_SURNAMES):
            return all("\u3400" <= c <= "\u9fff" for c in token)
        return False
    return "·" in token or token[-1] not in _ORG_SUFFIXES


def _split_source(value: str) -> tuple[str, list[str]]:
    """``唐山日报 张三 李四`` -> (``唐山日报``, [张三, 李四]); anything else is kept whole."""
    tokens = value.split(" ")
    if len(tokens) < 2 or _is_name(tokens[0]):
        return value, []
    tail = [_strip_roles(t) for t in tokens[1:] if t not in _ROLE_WORDS]
    if tail and all(_is_name(t) for t in tail):
        return tokens[0], tail
    return value, []


def _cut_at_date(value: str, fetched_at: datetime | None) -> tuple[str, list[DateMatch]]:
    """A non-date value ends where a date starts (``来源: 张三 2020-11-02 11:20``)."""
    if _URL.match(value.strip()):
        return value, []
    dates = list(iter_datetimes(value, fetched_at=fetched_at))
    if not dates:
        return value, []
    return value[: dates[0].start], dates


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------


def _date_from_value(value: str, fetched_at: datetime | None) -> tuple[DateMatch, str, int] | None:
    """The date a label's value starts with, its raw text and how much of ``value`` it used.

    None when the value does not start with something date-shaped.
    """
    stripped = value.lstrip(_LEADING_PUNCT + "([（【")
    lead = len(value) - len(stripped)
    cleaned = _clean(stripped) or ""
    whole = match_datetime(cleaned, fetched_at=fetched_at)
    if whole is not None:
        return whole, cleaned, len(value)
    first = next(iter(iter_datetimes(stripped, fetched_at=fetched_at)), None)
    if first is not None and first.start == 0:
        return first, stripped[: first.end], lead + first.end
    return None


def _problem_reason(found: DateMatch) -> str:
    # An unknown zone abbreviation is, to the user, just a format we do not read.
    if found.failure in (REASON_INVALID, REASON_NEEDS_FETCH_TIME, REASON_NO_YEAR):
        return found.failure
    return REASON_UNRECOGNISED


@dataclass
class _DateCandidate:
    rank: int
    position: int
    parsed: ParsedTime


def _pick_date(candidates: list[_DateCandidate]) -> ParsedTime | None:
    if not candidates:
        return None
    best_rank = min(c.rank for c in candidates)
    if best_rank == _SECONDARY_RANK:
        # An update is never earlier than the publication: a label-less date printed before
        # the update time and not later than it is the publish time (``D Ts`` / ``最后更新: D2``,
        # 045/047-guancha); a later one is something else, such as today's date in a header.
        updated = min((c for c in candidates if c.rank == best_rank), key=lambda c: c.position)
        earlier = [
            c
            for c in candidates
            if c.rank == _LABELLESS_RANK
            and c.position < updated.position
            and c.parsed.value <= updated.parsed.value
        ]
        if earlier:
            best_rank = _LABELLESS_RANK
            candidates = earlier
    ranked = sorted((c for c in candidates if c.rank == best_rank), key=lambda c: c.position)
    order = ("day", "hour", "minute", "second")
    chosen = ranked[0].parsed
    for other in ranked[1:]:
        same_day = other.parsed.value.date() == chosen.value.date()
        if same_day and order.index(other.parsed.precision) > order.index(chosen.precision):
            chosen = other.parsed
    return chosen


# ---------------------------------------------------------------------------------------------
# parse_meta
# ---------------------------------------------------------------------------------------------

_LABELLESS_RANK = 3
# The rank of secondary labels (更新时间, 最后更新 ...) in LABEL_TABLE.
_SECONDARY_RANK = 2


def _normalise(text: str) -> str:
    for regex, replacement in _PRE_REPLACE:
        text = regex.sub(replacement, text)
    return text


def _free_spans(length: int, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    cursor = 0
    for start, end in sorted(taken):
        if start > cursor:
            spans.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < length:
        spans.append((cursor, length))
    return spans


def _inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def _lines_with_spans(text: str) -> Iterator[tuple[int, int]]:
    pos = 0
    while pos <= len(text):
        end = _line_end(text, pos)
        yield pos, end
        pos = end + 1


def parse_meta(text: str, *, fetched_at: datetime | None = None) -> Meta:
    """Read the publish time, source, editor and author from a meta line or block."""
    meta = Meta()
    if not isinstance(text, str) or not text.strip():
        return meta
    text = _normalise(text)
    hits = _find_hits(text)
    _assign_values(text, hits)

    dates: list[_DateCandidate] = []
    labelless: list[tuple[int, DateMatch]] = []  # dates found outside date labels
    sources: list[tuple[int, int, str]] = []
    editors: list[str] = []
    authors: list[str] = []
    date_lines: set[int] = set()

    for hit in hits:
        kind = hit.label.field
        if kind == "published_at":
            raw = _clean(hit.value)
            if raw is None:
                continue
            date_lines.add(text.count("\n", 0, hit.start))
            dated = _date_from_value(hit.value, fetched_at)
            if dated is None:
                meta.problems.append(Problem("published_at", raw, REASON_UNRECOGNISED))
                continue
            found, raw, used = dated
            # What follows the date is free text again (a second date, a site name ...).
            hit.value_end = hit.value_start + used
            if found.parsed is None:
                meta.problems.append(Problem("published_at", raw, _problem_reason(found)))
            else:
                dates.append(_DateCandidate(hit.label.rank, hit.start, found.parsed))
            continue
        if kind == "ignore":
            # A date under an unrelated label (今天是, 实施日期) is dropped; text after it is not.
            dated = _date_from_value(hit.value, fetched_at)
            if dated is not None:
                hit.value_end = hit.value_start + dated[2]
                parsed = dated[0].parsed
                if hit.label.name in DATED_PUBLISH_LABELS and parsed is not None:
                    dates.append(_DateCandidate(0, hit.start, parsed))
            continue
        value, inner = _cut_at_date(hit.value, fetched_at)
        if kind == "editor":
            # Read to the end of the line: the stop may begin before the next label (澎湃新闻
            # 报料：, whose 新闻报料 is a label of its own).
            rest = text[hit.value_start : _line_end(text, hit.value_start)]
            stop = _EDITOR_STOP.search(rest)
            if stop is not None:
                value = value[: stop.start()]
        labelless.extend((hit.value_start + d.start, d) for d in inner)
        if kind == "noise":
            continue
        cleaned = _clean(value)
        if cleaned is None:
            continue
        if kind == "source":
            sources.append((hit.label.rank, hit.start, cleaned))
        elif kind == "editor":
            editors.append(cleaned)
        elif kind == "author":
            authors.append(cleaned)

    # Text that belongs to no label: label-less dates and fields recognised by shape.
    taken = [(h.start, h.end) for h in hits] + [(h.value_start, h.value_end) for h in hits]
    free = _free_spans(len(text), taken)
    for start, end in free:
        labelless.extend(
            (start + d.start, d) for d in iter_datetimes(text[start:end], fetched_at=fetched_at)
        )
    labelless.sort(key=lambda item: item[0])
    for position, found in labelless:
        if found.parsed is not None:
            dates.append(_DateCandidate(_LABELLESS_RANK, position, found.parsed))

    meta.published = _pick_date(dates)
    if meta.published is None:
        for _position, found in labelless:
            if found.failure in (REASON_NEEDS_FETCH_TIME, REASON_NO_YEAR):
                raw = text[_position : _position + found.end - found.start]
                meta.problems.append(Problem("published_at", raw.strip(), found.failure))
                break

    source_authors: list[str] = []
    if sources:
        _rank, _pos, chosen = min(sources, key=lambda s: (s[0], s[1]))
        meta.source, source_authors = _split_source(chosen)

    shaped_authors: list[str] = []
    for field_name, regex in _UNLABELLED_RULES:
        for m in regex.finditer(text):
            if not _inside(free, m.start("value"), m.end("value")):
                continue
            shaped = _clean(m["value"])
            if shaped is None:
                continue
            if field_name == "source" and meta.source is None:
                meta.source = shaped
            elif field_name == "author":
                shaped_authors.append(shaped)

    shaped_authors.extend(_forum_authors(text, hits, free))
    shaped_authors.extend(_bare_name_lines(text, free, date_lines))

    editor_names = _people(editors)
    meta.editor = "、".join(editor_names) if editor_names else None
    author_names = _people([*authors, *source_authors])
    if not author_names:
        author_names = _people(shaped_authors)
    meta.author = "、".join(author_names) if author_names else None
    return meta


def _forum_authors(text: str, hits: list[_Hit], free: list[tuple[int, int]]) -> list[str]:
    """``张三 发表于 2020-11-02``: the single token right before the label is the author."""
    found: list[str] = []
    for hit in hits:
        if hit.label.name not in AUTHOR_BEFORE_LABELS:
            continue
        line_start = text.rfind("\n", 0, hit.start) + 1
        before = text[line_start : hit.start]
        if not _inside(free, line_start, hit.start) and before.strip():
            continue
        token = _clean(before)
        if token and " " not in token and len(token) <= 30:
            found.append(token)
    return found


def _bare_name_lines(text: str, free: list[tuple[int, int]], date_lines: set[int]) -> list[str]:
    """A line holding only person names right after a dated line (``发布时间:D`` / ``张三``)."""
    found: list[str] = []
    for number, (start, end) in enumerate(_lines_with_spans(text)):
        if number - 1 not in date_lines or not _inside(free, start, end):
            continue
        line = text[start:end].strip()
        if not line:
            continue
        tokens = [t for t in _PEOPLE_SPLIT.split(line) if t]
        if 1 <= len(tokens) <= 4 and all(_is_name(_strip_roles(t)) for t in tokens):
            found.append(line)
    return found
