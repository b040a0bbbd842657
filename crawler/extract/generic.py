"""Zero-configuration article extraction: title, meta block, body, for any portal.

Pure functions on a page parsed once (a parsel Selector; its lxml tree is walked once for
statistics). The rules are data at the top of the module; the code loops over them.

How the body is found (a text-density method for Chinese pages):

* every element gets the count of CJK characters it holds outside links, the count of
  Chinese sentence punctuation, and the CJK characters inside links;
* boilerplate counts as nothing: elements whose class/id names page chrome (nav, footer,
  share, related, comment, ...), short blocks of chrome text (当前位置, 相关阅读, ICP备 ...),
  the title and short meta lines (a date next to a label such as 来源/发布时间);
* starting from <body>, descend into the child block that holds most of the remaining text
  while it holds at least ``DESCEND_SHARE`` of it and it is a container (not a paragraph);
  class/id hints such as content/article/TRS_Editor/zoom break ties towards the article.

The meta block is the text between the title element and the body container in document
order, so a date in the page header (today's date) or in a related list after the body is
never read as the publish time. Meta tags (PubDate, ContentSource, article:published_time
...) and JSON-LD (datePublished, author, publisher) fill what the block does not say. Editor
credits printed just after the body (责任编辑：X) are kept from the tail.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

from lxml import html as lxml_html
from parsel import Selector

from crawler.extract.body import (
    CAPTION_MARK,
    CHROME_BLOCKS,
    NOTICE_BLOCK,
    SECTION_MARKERS,
    repost_source,
)
from crawler.extract.dates import (
    CHINA_TZ,
    REASON_NEEDS_FETCH_TIME,
    REASON_NO_YEAR,
    ParsedTime,
    iter_datetimes,
    parse_datetime,
)
from crawler.extract.labels import (
    BYLINE_CLOSING_PATTERNS,
    BYLINE_LINE_PATTERNS,
    BYLINE_NOT_NAMES,
    BYLINE_PATTERNS,
    BYLINE_ROLES,
    BYLINE_TAIL_NOT_ENDINGS,
    BYLINE_TAIL_PATTERNS,
    CREDIT_LINE_LABELS,
    HAN,
    LABELS,
    META_LINE_BARE_LABELS,
    META_LINE_LABELS,
    TAIL_DATE_LABELS,
    simplified,
    spellings,
)
from crawler.extract.metadata import parse_meta

CJK = re.compile(r"[\u3400-\u9fff]")
CN_PUNCT = re.compile(r"[，。！？；：、“”（）《》]")
SKIP_TAGS = {"script", "style", "noscript", "template", "select", "option", "textarea", "head"}
LINK_TAGS = {"a", "button"}
# Containers the body may be; paragraphs and inline tags are never chosen on their own.
CONTAINER_TAGS = {
    "div",
    "td",
    "table",
    "tbody",
    "tr",
    "article",
    "section",
    "main",
    "center",
    "form",
    # A two-column layout made of list items (guancha's ul.two-coloum > li.left-main, 045-047).
    "ul",
    "li",
}
DESCEND_SHARE = 0.7

# class/id tokens that name page chrome, and tokens that name an article body.
NEGATIVE_HINT = re.compile(
    r"(?:^|[-_\s])(nav|navbar|menu|foot|footer|copyright|share|bdshare|jiathis|related|relate|"
    r"xgxw|xgwz|recommend|tuijian|hot|rank|comment|comments|pinglun|reply|breadcrumb|crumb|"
    r"position|location|weizhi|dqwz|sidebar|side|aside|qrcode|ewm|erweima|tools|tool|print|"
    r"font-?size|fontsize|zh|prev|next|prevnext|pager|pagination|page-?nav|header|top|logo|"
    r"banner|friendlink|links|login|search|venue|ad|ads|gotop|"
    # The column beside a short article (div#article-rightbar, 009-mingridapan).
    r"rightbar)(?:$|[-_\s\d])",
    re.IGNORECASE,
)
POSITIVE_HINT = re.compile(
    r"trs_editor|zoom|content|article|artic|detail|text|body|main|news_con|newscon|"
    r"con_?text|contxt|wzzw|zhengwen|postmessage|t_f|vsbcontent|v_news_content|arc",
    re.IGNORECASE,
)
POSITIVE_BONUS = 1.15
JS_HOOK = re.compile(r"js[-_]", re.IGNORECASE)
# A chrome-named element holding the <h1> and at least this much Chinese text wraps the page.
WRAPPER_MIN_CJK = 500
# So does one holding that much Chinese outside links in at least this many sentences (prose,
# not a bar of buttons or a list of headlines): 043-ifeng-nb's article sits in
# div.js_img_share_area. Comment boxes hold prose too and stay chrome whatever their size.
WRAPPER_MIN_SENTENCES = 10
SENTENCE_END = re.compile(r"[。！？]")
COMMENT_HINT = re.compile(r"comment|pinglun|reply|plun", re.IGNORECASE)
# A reply's frame goes with the reply: an element holding a comment-named one (V2EX's
# div.reply_content, 161-v2ex-topic) and, beside it, only the reply's header (floor number,
# member link, a relative time such as 5 小时 7 分钟前: at most COMMENT_FRAME_MAX_CJK Chinese
# characters outside links, no sentence punctuation) counts as nothing. So a thread's list
# of replies does not outweigh its first post.
COMMENT_FRAME_MAX_CJK = 20
# Elements the page does not show (a block of spam keywords under style="display:none",
# 067-njxfhn-repost) are never the body nor the meta block: they count as nothing.
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)

# A short line is meta when a label and a date (or a label and a value) make it up.
META_LABEL = re.compile(
    rf"(?:{spellings(META_LINE_LABELS)})\s*[:：]|{spellings(META_LINE_BARE_LABELS)}"
)
DATE_LIKE = re.compile(
    r"(19|20)\d\d\s*[-年/.]\s*\d{1,2}|\d{1,2}[-/]\d{1,2}\s+\d\d:\d\d|\d{1,2}/\d{1,2}/(19|20)\d\d|GMT|CST"
)
META_MAX_LEN = 160
CREDIT_LABEL = re.compile(rf"(?:{spellings(CREDIT_LINE_LABELS)})\s*[:：]")
# Dated lines after the body are read for the publish time only with a publish label
# (发布日期：D) or a forum footer (本帖由 X 于 D 发布).
TAIL_DATE_LABEL = re.compile(rf"{spellings(TAIL_DATE_LABELS)}")
TAIL_MAX_NODES = 4
TAIL_MAX_LEN = 80
TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||｜|\s[-—–]\s|--|—|-)\s*")
TITLE_META = (
    "//meta[@name='ArticleTitle']/@content",
    "//meta[@property='og:title']/@content",
    "//meta[@name='og:title']/@content",
    "//meta[@name='title']/@content",
)
TITLE_CANDIDATES = (
    "//h1",
    "//h2",
    "//h3",
    "//*[contains(translate(@class,'TITLE','title'),'title')]",
    "//*[contains(translate(@id,'TITLE','title'),'title')]",
)
DATE_META = (
    "PubDate",
    "pubdate",
    "publishdate",
    "PublishDate",
    "article:published_time",
    "og:article:published_time",
    "og:release_date",
    "publish_time",
    "firstpublishedtime",
    "dc.date",
    "DC.Date",
)
# Publish times that templates keep only in their page scripts, read when nothing is
# printed or declared: toutiao's publish_time: '2019-09-08 11:42:03' (053), Tencent's
# "pubtime" (068), Baidu's JSON-LD "pubDate" (065); WeChat's var ct = "<Unix seconds>"
# under a relative 昨天 (033, 034).
SCRIPT_DATES = tuple(
    re.compile(p)
    for p in (
        r"""["']?\b(?:publish_?time|publishTime|pubtime|pubTime|pubDate|pub_date)["']?\s*[:=]\s*"""
        r"""["'](?P<text>(?:19|20)\d\d-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d)?)["']""",
    )
)
# A date in brackets opening one of the last lines of the body container, after the text and
# its share buttons: (2014-12-12&nbsp;12:00)&nbsp;中晝新聞 (171-pts; the bulletin's name after it).
CLOSING_DATE = re.compile(r"[(（]\s*(?P<date>(?:19|20)\d\d[-/.年][^()（）]{3,24}?)\s*[)）]")
SCRIPT_EPOCHS = (re.compile(r"""\bvar\s+ct\s*=\s*["'](?P<epoch>1\d{9})["']"""),)
SOURCE_META = ("ContentSource", "source", "og:article:source", "article:source", "Source")
# Where a page names its own site. A source or author that a page only declares (meta tags,
# JSON-LD) and that is the site's own name says who runs the page, not where the story came
# from or who wrote it (蘋果日報, ETtoday新聞雲, 三立新聞網 filled into author, publisher and
# source alike: 069, 070, 074, 075, 078, 079); nor is one that is both the declared author
# and the declared publisher.
SITE_NAME_META = ("og:site_name", "application-name")
SITE_NAME_SPLIT = re.compile(r"\s*[|｜]\s*")
# A declared author holding a digit is a dateline or a code, not a name (澎湖縣28日電, 080).
DECLARED_AUTHOR_NOT = re.compile(r"\d")
# A printed date without a year (发布时间：10-08 12:00) takes its year from a full date in
# the page's meta tags, when that date falls on the same day (and minute, if printed).
YEAR_META = (*DATE_META, "dateUpdate", "dateModified", "article:modified_time")
# class tokens of the element that prints the author's (or publishing account's) name in
# the meta block: <p class="author-name">.
AUTHOR_HINT = re.compile(
    # js_author_name / profile_nickname: WeChat's author, else its account (033, 034);
    # media-user: a toutiao account (053); rp_name: 中時's reporter (071).
    r"(?:^|\s)(?:author-?name|author_name|authorname|auth-?name|writer-?name|js_author_name|"
    r"profile_nickname|media-user|rp_name)(?:$|\s)",
    re.IGNORECASE,
)
AUTHOR_MAX_LEN = 20
# How many elements after the title may name the author when the body holds the title.
NAMED_AFTER_TITLE_MAX = 40
# A forum or blog prints its poster as a link to the member's page between the title and the
# post: <a href="/member/alphadog619">alphadog619</a> · 5 小时 15 分钟前 (161-v2ex-topic). The
# link is the author's when its text is the member name its address ends with, under one of
# these path words (a tag link, /tag/网盘, is not; nor a link to a numbered profile).
PROFILE_LINK = re.compile(
    r"/(?:member|members|user|users|u|people|space|profile)/(?P<name>[^/?#]+)/?(?:[?#]|$)",
    re.IGNORECASE,
)
# An author box (<div class="news_paike_author">) names the publishing account in its
# element of class "name", next to avatars and follow buttons.
AUTHOR_BOX_HINT = re.compile(r"(?:^|\s)(?:[\w-]*[_-])?author(?:$|\s)", re.IGNORECASE)
NAME_HINT = re.compile(r"(?:^|\s)name(?:$|\s)", re.IGNORECASE)
# A self-media mark inside an element (<p class="n-i-source">心理咨询师熊玲 <span
# class="wemedia"></span></p>, 121-ifeng-share-wemedia) makes it the publishing account's
# name: the author, as for the other platforms' accounts (010, 030), whatever its class says.
SELF_MEDIA_MARK = re.compile(r"(?:^|\s)wemedia(?:$|\s)", re.IGNORECASE)
# The same for the source: <span class="a_source">棱镜</span>.
SOURCE_HINT = re.compile(
    # media_name: sina's source slot, an id (038-sina-tech).
    r"(?:^|\s)(?:a_source|source|article-source|source-name|ly|media_name)(?:$|\s)",
    re.IGNORECASE,
)
WS = re.compile(r"[\s\u00a0\u3000]+")
# A source printed without a label beside the publish date in the meta block: right after it
# on its line (2019-09-26 10:56:28 证券时报网, 049-hexun-stock; 2019年09月11日01:53 新浪科技,
# 038-sina-tech; 2019-09-05 11:10 游民星空[整理], 065-gamersky-wap), or alone on the block's
# first line above it (新华社, 059-thepaper-xinhua), there after the reporter and a slash
# (石佳/中国青年报, 058-thepaper-cyol); the date starts its line. An outlet is Chinese, with
# an optional bracketed note; a shorter one than OUTLET_MIN_LEN must end like an outlet (a
# name of two or three characters beside the date is a person's). The name may open with a
# Latin brand, letters and digits: 21CN娱乐 (131-et-21cn-2008).
OUTLET = re.compile(
    rf"(?P<core>(?:(?=\d*[A-Za-z])[A-Za-z0-9]{{1,8}})?[{HAN}]{{2,12}})(?:[\[【（(][{HAN}]{{1,4}}[\]】）)])?"
)
OUTLET_MIN_LEN = 4
OUTLET_ENDINGS = frozenset("报台网社刊站")
# A word ending in 报道 (報導) beside the date is a report's kind or place, no outlet: a desk
# credit (2014/11/11 12:07 綜合報導, 173-cts; 台北報導).
OUTLET_NOT_ENDINGS = ("报道", "报导")
PERSON_SLASH_OUTLET = re.compile(rf"(?P<person>[{HAN}·]{{2,4}})[/／](?P<outlet>.+)")
# The site's own web address printed before the date is no label (http://ent.QQ.com
# 2008年05月12日08:53 京华时报, 132-ent-qq-2008).
SITE_ADDRESS = re.compile(r"(?:https?://|www\.)[\w.-]+/?", re.IGNORECASE)

# A collector (a crawler or archiving tool) may save a page inside an element of its own
# before the <html> start tag: <text id=... title=...>. What stands before <html> is the
# page's own only when it is a doctype, an XML declaration, comments or blank.
DOCUMENT_START = re.compile(r"<html[\s>]", re.IGNORECASE)
PAGE_PROLOGUE = re.compile(r"(?:\s|<!doctype[^>]*>|<\?xml[^>]*>|<!--.*?-->)*", re.I | re.S)
# A collector's wrapper is short and holds none of the document's own head or body tags.
WRAPPER_MAX_LEN = 4096
DOCUMENT_TAGS = re.compile(r"<(?:head|body|title|meta)[\s>/]", re.IGNORECASE)
BYLINES = tuple(re.compile(p) for p in BYLINE_PATTERNS)
BYLINE_LINES = tuple(re.compile(p) for p in BYLINE_LINE_PATTERNS)
BYLINE_TAILS = tuple(re.compile(p) for p in BYLINE_TAIL_PATTERNS)
BYLINE_CLOSINGS = tuple(re.compile(p) for p in BYLINE_CLOSING_PATTERNS)
# A credit paragraph is looked for among this many short paragraphs opening the body.
BYLINE_LEAD_PARAGRAPHS = 4
# How many of the body's first text blocks (containers and paragraphs, in document order)
# may open with a reporter byline.
BYLINE_LEAD_BLOCKS = 5
BYLINE_LINE_MAX = 30
# A paragraph opening with a photo caption's mark (body.CAPTION_MARK: ▲…（圖／記者林悅翻攝）
# over 074-ettoday's byline) is passed over when looking for the credit line.
BYLINE_ROLE = re.compile(BYLINE_ROLES)
BYLINE_NAME = re.compile(r"[\u3400-\u9fff·]{2,5}")
BYLINE_MAX_NAMES = 6
# When the <title> head is printed nowhere as an element of its own it names the site or the
# section (新闻动态); the article's heading is then the nearest of these before the body.
HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# A heading inside the body container counts only before its first long line of text.
HEADING_LEAD_MAX = 60
# How many short lines opening the body container may hold its meta line.
BODY_LEAD_LINES = 6
# What may stand before the date opening that meta line: the outlet's name, with no space.
DATELINE_OUTLET = re.compile(rf"[{HAN}A-Za-z]{{2,16}}")
# A lead paragraph printed right after the headline, outside the body container, in an element
# whose class/id names a lead (東方日報's div.leadin above the ads, 142-orientaldaily), opens
# the body; a summary that the body repeats (064-ednchina's div.art-lead) does not.
LEAD_HINT = re.compile(r"(?:^|[-_\s])(?:leadin|lead)(?:$|[-_\s])", re.IGNORECASE)
# Longest badge a heading may print before the title (原创, 转载, 置顶, 独家).
TITLE_BADGE_MAX = 4
# The <title> may keep only the first parts of a headline printed whole: the heading's one
# text is the <title> head, a space and a further part (年終平均1.38月 … 三成企業加碼辦　年終比去年
# 多1.8天 獎金太低54%擬離職 in div#Heading, 143-ttv). Headings are h1–h6 or elements whose
# class/id holds one of TITLE_HINT_WORDS; the further part is at most TITLE_MORE_MAX long and
# holds no date, label or full stop (a meta line printed in the heading is not the title's).
TITLE_HINT_WORDS = ("title", "heading")
# An element whose class/id names a title is a heading: "title" anywhere in it, or a token
# ending in the short form "tit" (td.news_tit under a <title> that is only the site's name,
# 151-changzhou-zfcg; tit, art-tit, newstit, tit1).
HEADING_HINT = re.compile(r"title|tit(?:$|[-_\s\d])", re.IGNORECASE)
TITLE_MORE_MAX = 40
# A declared title opening with a separator: the template printed the site's part only.
EMPTY_HEAD = re.compile(r"\s*(?:[-_|｜—–]|--)")
# A declared title wrapping the headline in brackets after a short site word: 成報新聞(T).
TITLE_WRAPPER = re.compile(r"[^()（）]{1,8}[（(](?P<inner>.{4,})[)）]")
# A date printed in parts on lines of their own, as links to the day's archive: 2014年 / 12月 /
# 05日 / 19:21 in div#reporter_info (177-nownews). The parts are joined before the block is read.
SPLIT_DATE = re.compile(
    r"(?<=\d[年])\n(?=\d{1,2}月)|(?<=\d月)\n(?=\d{1,2}[日号號])|(?<=\d[日号號])\n(?=\d{1,2}:\d\d(?!\d))"
)


def squash(text: str) -> str:
    return WS.sub(" ", text).strip()


@dataclass
class Stats:
    text: int = 0  # CJK characters outside links and boilerplate
    punct: int = 0
    link: int = 0
    chars: int = 0  # all visible characters, for short-block tests
    comment: bool = False  # holds a comment-named element (COMMENT_HINT) counted as nothing


@dataclass
class GenericArticle:
    title: str | None = None
    title_node: Any = None
    body_html: str | None = None
    body_node: Any = None
    meta_text: str | None = None
    published_text: str | None = None
    source: str | None = None
    editor: str | None = None
    author: str | None = None
    meta_nodes: list[Any] = field(default_factory=list)


def _attrs(node: Any) -> str:
    return f"{node.get('class') or ''} {node.get('id') or ''}".strip()


def _is_negative(node: Any) -> bool:
    # A js- / js_ class is a script hook, not the element's name: ifeng's article container is
    # div.js_img_share_area (its images get share buttons), 043-ifeng-nb.
    hints = " ".join(t for t in _attrs(node).split() if not JS_HOOK.match(t))
    return bool(hints) and bool(NEGATIVE_HINT.search(hints)) and not _is_wrapper(node)


def _is_wrapper(node: Any) -> bool:
    """A chrome-named element holding the page's <h1> and the article's text is the page's
    wrapper (NetEase's div.post_header left open around the whole article, 018/024-163)."""
    if node.find(".//h1") is None:
        return _holds_prose(node)
    return len(CJK.findall("".join(node.itertext()))) >= WRAPPER_MIN_CJK


def _holds_prose(node: Any) -> bool:
    if COMMENT_HINT.search(_attrs(node)):
        return False
    own = "".join(t for t in node.xpath(".//text()[not(ancestor::a)]"))
    return (
        len(CJK.findall(own)) >= WRAPPER_MIN_CJK
        and len(SENTENCE_END.findall(own)) >= WRAPPER_MIN_SENTENCES
    )


def _is_hidden(node: Any) -> bool:
    return node.get("hidden") is not None or bool(HIDDEN_STYLE.search(node.get("style") or ""))


def _tag(node: Any) -> str | None:
    tag = node.tag
    return tag.lower() if isinstance(tag, str) else None


def _own_text(node: Any) -> str:
    return "".join(node.itertext()) if _tag(node) not in SKIP_TAGS else ""


def is_meta_line(text: str) -> bool:
    return (
        len(text) <= META_MAX_LEN
        and bool(META_LABEL.search(text))
        and (bool(DATE_LIKE.search(text)) or len(text) <= 40)
    )


def _is_chrome_text(text: str) -> bool:
    return len(text) <= 80 and any(p.search(text) for p in CHROME_BLOCKS)


def _compute(node: Any, stats: dict[Any, Stats], exclude: set[Any]) -> Stats:
    tag = _tag(node)
    result = Stats()
    if tag is None or tag in SKIP_TAGS or _is_hidden(node):
        stats[node] = result
        return result
    if node.text:
        result.text += len(CJK.findall(node.text))
        result.punct += len(CN_PUNCT.findall(node.text))
        result.chars += len(node.text.strip())
    for child in node:
        sub = _compute(child, stats, exclude)
        result.comment = result.comment or sub.comment
        if _tag(child) in LINK_TAGS:
            result.link += sub.text + sub.link
        else:
            result.text += sub.text
            result.punct += sub.punct
            result.link += sub.link
        result.chars += sub.chars
        if child.tail:
            result.text += len(CJK.findall(child.tail))
            result.punct += len(CN_PUNCT.findall(child.tail))
            result.chars += len(child.tail.strip())
    if node in exclude or _is_negative(node) or _opens_with_notice(node):
        comment = result.comment or bool(COMMENT_HINT.search(_attrs(node)) and _is_negative(node))
        result = Stats(link=result.text + result.link, chars=result.chars, comment=comment)
    elif result.comment and result.text <= COMMENT_FRAME_MAX_CJK and not result.punct:
        result = Stats(link=result.text + result.link, chars=result.chars, comment=True)
    elif result.chars <= META_MAX_LEN:
        text = squash(_own_text(node))
        if _is_chrome_text(text) or (is_meta_line(text) and result.punct <= 3):
            result = Stats(chars=result.chars, comment=result.comment)
    stats[node] = result
    return result


def _opens_with_notice(node: Any) -> bool:
    """The block opens with a site notice (【免责声明】…) or a furniture heading (热门评论,
    关注我们: 029-mydrivers' sidebar, which kept the choice above the article's column): it
    counts as nothing, unless it holds the page's prose (a wrapper whose first words are a
    heading of the navigation)."""
    first = squash(next((t for t in node.itertext() if t.strip()), ""))
    if not (NOTICE_BLOCK.match(first) or SECTION_MARKERS.match(first)):
        return False
    return not _holds_prose(node)


def _score(node: Any, stat: Stats) -> float:
    score = float(stat.text + 2 * stat.punct)
    if POSITIVE_HINT.search(_attrs(node)):
        score *= POSITIVE_BONUS
    return score


def find_body(root: Any, exclude: set[Any]) -> Any:
    body = root.find(".//body")
    start = body if body is not None else root
    stats: dict[Any, Stats] = {}
    _compute(start, stats, exclude)

    # stats hold each element's contribution as its parent counts it: boilerplate, the
    # title and meta lines count nothing.
    node = start
    while True:
        children = [c for c in node if _tag(c) in CONTAINER_TAGS]
        if not children:
            return node
        scored = [(_score(c, stats[c]), c) for c in children]
        best_score, best = max(scored, key=lambda pair: pair[0])
        total = _score(node, stats[node])
        if total <= 0 or best_score < DESCEND_SHARE * total:
            return node
        node = best


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Document-order events: ('start', el), ('text', str), ('end', el)."""
    tag = _tag(node)
    if tag is None or tag in SKIP_TAGS or _is_hidden(node):
        if node.tail:
            yield "text", node.tail
        return
    yield "start", node
    if node.text:
        yield "text", node.text
    for child in node:
        yield from _walk(child)
    yield "end", node
    if node.tail:
        yield "text", node.tail


BREAKS = ("br", "p", "div", "li", "tr", "span")


def _between(root: Any, after: Any, before: Any, limit: int = 600) -> str:
    """Text after the element `after` ends and before the element `before` starts."""
    parts: list[str] = []
    collecting = after is None
    for event, value in _walk(root):
        if event == "start" and value is before:
            break
        if event == "end" and value is after:
            collecting = True
            continue
        if event == "start" and collecting and _tag(value) in BREAKS:
            parts.append("\n" if _tag(value) != "span" else " ")
        if event == "text" and collecting:
            parts.append(value)
    text = "\n".join(squash(line) for line in "".join(parts).split("\n"))
    text = "\n".join(line for line in text.split("\n") if line)
    return text[-limit:]


def _tail_lines(body: Any) -> tuple[list[str], list[str]]:
    """Short blocks printed in the few blocks right after the body: credit lines
    (责任编辑：X) and dated meta lines (发布日期：D, forum and blog footers)."""
    credits: list[str] = []
    dated: list[str] = []
    node = body
    seen = 0
    while node is not None and seen < TAIL_MAX_NODES:
        sibling = node.getnext()
        while sibling is not None and seen < TAIL_MAX_NODES:
            # Empty spacers (div.clear, div.space10) are not blocks read (043-ifeng-nb).
            visible = _tag(sibling) not in (None, *SKIP_TAGS) and not _is_hidden(sibling)
            if visible and squash(_own_text(sibling)):
                seen += 1
                # Lines end at elements: [责任编辑：X]<div>推荐0</div> is two lines (044).
                text = _between(sibling, None, None, limit=TAIL_MAX_LEN + 1)
                if text and len(text) <= TAIL_MAX_LEN and DATE_LIKE.search(text):
                    if META_LABEL.search(text) or TAIL_DATE_LABEL.search(text):
                        dated.append(text)
                elif text and len(text) <= TAIL_MAX_LEN and CREDIT_LABEL.search(text):
                    credits.append(text)
                elif text and len(text) > TAIL_MAX_LEN:
                    # A post footer holding the credit line among share buttons.
                    credits += _credit_blocks(sibling)
            sibling = sibling.getnext()
        node = node.getparent()
        if node is not None and _tag(node) == "body":
            break
    return credits, dated


def _credit_blocks(node: Any) -> list[str]:
    """Short credit lines (责任编辑：X) printed as blocks of their own inside `node`."""
    found = []
    for el in node.iter("div", "p", "span", "li"):  # li: guancha's ul.article-other (045-047)
        text = squash(_own_text(el))
        # The credit may stand in brackets: [责任编辑：刘斌] (043-ifeng-nb).
        if text and len(text) <= TAIL_MAX_LEN // 2 and CREDIT_LABEL.match(text.lstrip("[【（(")):
            found.append(text)
    return found[:2]


def title_head(title: str) -> str:
    """<title> without the site-name suffix: the text before the first separator after
    which something follows (titles are 'Article_Column_Site' or 'Article - Site')."""
    for match in TITLE_SEPARATORS.finditer(title):
        if match.start() >= 4 and match.end() < len(title):
            return title[: match.start()].strip()
    return title.strip()


def _node_text(node: Any) -> str:
    return squash("".join(node.itertext()))


def _visible_text(node: Any) -> str:
    """The element's text without what scripts and styles inside it hold."""
    parts = [value for event, value in _walk(node) if event == "text"]
    if node.tail:
        parts.pop()
    return squash("".join(parts))


def parse_page(html: str) -> Selector:
    """The page parsed as its own document: a collector's wrapper before <html> is cut, and
    elements the parser put after the document's end (a header include that closes
    </html> early) go back into <body>."""
    start = DOCUMENT_START.search(html)
    if start is not None and 0 < start.start() <= WRAPPER_MAX_LEN:
        prefix = html[: start.start()]
        if not PAGE_PROLOGUE.fullmatch(prefix) and not DOCUMENT_TAGS.search(prefix):
            html = html[start.start() :]
    doc = Selector(text=html)
    _adopt_strays(doc.root)
    return doc


def _adopt_strays(root: Any) -> None:
    body = root.find("body")
    if body is None:
        return
    sibling = root.getnext()
    while sibling is not None:
        following = sibling.getnext()
        if _tag(sibling) == "html":
            inner = sibling.find("body")
            for child in list(inner if inner is not None else sibling):
                if _tag(child) != "head":
                    body.append(child)
        elif _tag(sibling) is not None:
            body.append(sibling)
        sibling = following


def _in_chrome(node: Any) -> bool:
    """Inside a link, an element whose class/id names page chrome, or a hidden element (a
    hidden <h1> for share cards is not the title shown, 051-chinadaily)."""
    for el in (node, *node.iterancestors()):
        if _tag(el) == "body":
            return False
        if _tag(el) in LINK_TAGS or _is_negative(el) or _is_hidden(el):
            return True
    return False


def _is_heading(el: Any) -> bool:
    return _tag(el) in HEADING_TAGS or bool(HEADING_HINT.search(_attrs(el)))


def _longer_headline(root: Any, head: str) -> Any:
    """A heading printing the <title> head and a further part in one text (TITLE_MORE_MAX)."""
    for el in root.iter():
        if _tag(el) is None or len(el) or not el.text:
            continue
        attrs = _attrs(el).lower()
        if _tag(el) not in HEADING_TAGS and not any(w in attrs for w in TITLE_HINT_WORDS):
            continue
        text = squash(el.text)
        more = text[len(head) :]
        if (
            text.startswith(head)
            and more.startswith(" ")
            and len(more.strip()) <= TITLE_MORE_MAX
            and not (DATE_LIKE.search(more) or META_LABEL.search(more) or "。" in more)
            and not _in_chrome(el)
        ):
            return el
    return None


def _head_in_a_heading(root: Any, head: str) -> bool:
    """The <title> head is printed inside a heading along with more (a meta line in <h1>)."""
    return any(
        _is_heading(el) and head in _node_text(el) and not _in_chrome(el)
        for el in root.iter()
        if _tag(el) is not None
    )


def _badged_heading(root: Any, head: str) -> Any:
    """A heading printing the <title> head after a short badge (<h2><span>原创</span>T</h2>,
    053-toutiao-gallery): it is the title element."""
    for el in root.iter(*HEADING_TAGS):
        text = _node_text(el)
        badge = len(text) - len(head)
        if text.endswith(head) and 0 < badge <= TITLE_BADGE_MAX and not _in_chrome(el):
            return el
    return None


def _heading_near_body(root: Any, body: Any) -> Any:
    """The heading that introduces the body container: the first heading at the start of
    the container, else the last heading before it, outside links and page chrome."""
    if body is None:
        return None
    before: Any = None
    inside = False
    for el in root.iter():
        if el is body:
            inside = True
        elif inside and body not in el.iterancestors():
            break
        tag = _tag(el)
        if tag is None:
            continue
        is_heading = _is_heading(el)
        text = _node_text(el) if is_heading else ""
        # A title-named meta line (div.title-meta: 发布时间：D, 009-mingridapan) is no heading.
        if is_heading and 4 <= len(text) <= 120 and not _in_chrome(el) and not is_meta_line(text):
            if inside:
                return el
            before = el
        elif inside and len(squash(el.text or "")) > HEADING_LEAD_MAX:
            break
    return before


def find_title(doc: Selector) -> tuple[str | None, Any]:
    """(title, the element that shows it on the page or None)."""
    root = doc.root
    page_title = squash(" ".join(doc.xpath("//title//text()").getall()))
    declared = [squash(t) for x in TITLE_META for t in doc.xpath(x).getall() if squash(t)]
    # A declared title opening with a separator left its headline out (og:title -公視新聞網,
    # 171-pts): it names the site only.
    declared = [t for t in declared if not EMPTY_HEAD.match(t)]
    declared += [t for t in _jsonld_values(doc, "headline") if t]
    candidates: list[tuple[str, Any]] = []
    for xpath in TITLE_CANDIDATES:
        for node in root.xpath(xpath):
            text = _node_text(node)
            # A heading inside the page header or a link is the site's (a blog's name).
            if 4 <= len(text) <= 120 and not _in_chrome(node):
                candidates.append((text, node))
    wanted = [title_head(t) for t in declared] + declared
    if page_title:
        wanted.append(page_title)
    # 0. a heading printing the declared or <title> head with a further part
    for head in dict.fromkeys(title_head(t) for t in (*declared, page_title) if t):
        longer = _longer_headline(root, head) if len(head) >= 4 else None
        if longer is not None:
            return _node_text(longer), longer
    # 1. an element whose text is the declared title or starts the <title>
    for want in wanted:
        for text, node in candidates:
            if text == want:
                return text, node
    if page_title:
        matches = [(t, n) for t, n in candidates if page_title.startswith(t)]
        if matches:
            return max(matches, key=lambda pair: len(pair[0]))
    # 2. a part of the declared title or <title> that an element prints as its text, or a
    # heading as its own text before its children: the site's name may come first (無綫新聞 -
    # 財經 - T in og:title, T printed in <h4>T<span class="time">D</span></h4>, 172-tvb), or
    # wrap it in brackets (成報新聞(T) over td.news_title, 175-singpao).
    for part in _title_parts((*declared, page_title)):
        for text, node in candidates:
            if text == part:
                return text, node
        for el in root.iter():
            heading = _tag(el) is not None and _is_heading(el)
            if heading and squash(el.text or "") == part and not _in_chrome(el):
                return part, el
    if declared:
        return title_head(declared[0]), _find_text_node(root, title_head(declared[0]))
    if page_title:
        head = title_head(page_title)
        shown = _find_text_node(root, head)
        if shown is None:
            shown = _badged_heading(root, head)
        if shown is None and not _head_in_a_heading(root, head):
            body = find_body(root, set())  # scored once for both fallbacks below
            heading = _heading_near_body(root, body)
            if heading is not None:
                return _node_text(heading), heading
            # A <title> head printed nowhere on the page (公共電視台 新聞網 over 171-pts's
            # headline cell) is the site's; the headline is the line above the body.
            printed = "".join(head.split()) in "".join(_visible_text(root).split())
            line = None if printed else _line_before_body(root, body)
            if line is not None:
                return _node_text(line), line
        return head, shown
    for text, node in candidates:
        return text, node
    return None, None


def _line_before_body(root: Any, body: Any) -> Any:
    """The last element before the body container printing a line of its own (at least four
    characters, no date, label or full stop), outside links and page chrome."""
    if body is None:
        return None
    last: Any = None
    for el in root.iter():
        if el is body:
            return last
        if _tag(el) is None or _tag(el) in LINK_TAGS:
            continue
        text = squash(el.text or "")
        if (
            4 <= len(text) <= 120
            and CJK.search(text)
            and squash(_own_text(el)) == text
            and not (DATE_LIKE.search(text) or META_LABEL.search(text) or "。" in text)
            and not _in_chrome(el)
        ):
            last = el
    return None


def _title_parts(titles: tuple[str, ...]) -> list[str]:
    """The parts of declared titles between separators, and the text inside a bracket
    wrapper (TITLE_WRAPPER), the longest first."""
    parts: set[str] = set()
    for title in titles:
        parts.update(p.strip() for p in TITLE_SEPARATORS.split(title or ""))
        wrapped = TITLE_WRAPPER.fullmatch(title or "")
        if wrapped is not None:
            parts.add(wrapped["inner"].strip())
    return sorted((p for p in parts if len(p) >= 4), key=lambda p: (-len(p), p))


def _find_text_node(root: Any, text: str) -> Any:
    """The smallest element whose whole text is `text` (the title shown in a table cell)."""
    body = root.find(".//body")
    if body is None:
        return None
    for node in body.iter():
        if (
            _tag(node) in ("td", "div", "p", "span", "strong", "b", "font", "h4", "h5")
            and _visible_text(node) == text
            and not _in_chrome(node)
        ):
            return node
    return None


def _jsonld(doc: Selector) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for raw in doc.xpath("//script[@type='application/ld+json']/text()").getall():
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, dict):
                found.append(item)
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)
    return found


def _name_of(value: Any) -> str | None:
    if isinstance(value, str):
        return squash(value) or None
    if isinstance(value, dict):
        return _name_of(value.get("name"))
    if isinstance(value, list):
        names = [n for n in (_name_of(v) for v in value) if n]
        return "、".join(names) or None
    return None


def _jsonld_values(doc: Selector, key: str) -> list[str]:
    values = [_name_of(item.get(key)) for item in _jsonld(doc)]
    return [v for v in values if v]


def _meta_tag(doc: Selector, names: tuple[str, ...]) -> str | None:
    for name in names:
        for attr in ("name", "property", "itemprop"):
            value = doc.xpath(f"//meta[@{attr}='{name}']/@content").get()
            if value and squash(value):
                return squash(value)
    return None


def extract_generic(doc: Selector) -> GenericArticle:
    """Title, meta block, direct meta values and body container of any article page."""
    root = doc.root
    title, title_node = find_title(doc)
    exclude = {title_node} if title_node is not None else set()
    body_node = find_body(root, exclude)
    article = GenericArticle(title=title, title_node=title_node, body_node=body_node)

    body_lead = ""
    opening = _lead_after_title(root, title, title_node, body_node)
    block = _between(root, title_node, body_node) if title_node is not None else ""
    shown = _node_text(title_node) if title_node is not None else ""
    if title and shown.startswith(title) and shown != title:
        # The heading prints the meta line after the title (<span class="time">, 172-tvb).
        block = "\n".join(p for p in (shown[len(title) :].strip(), block) if p)
    if title_node is None and body_node is not None:
        block = _between(root, None, body_node)[-200:]
    if opening is not None:
        # The lead paragraph is the body's, not the meta block's.
        above = _between(root, title_node, opening)
        above = above if title_node is not None else above[-200:]
        block = "\n".join(p for p in (above, _between(root, opening, body_node)) if p)
    if not block and _contains(body_node, title_node):
        # The chosen container holds the title and its date line: the meta block is what
        # follows the title up to the body's first long line.
        block = _lead_in(root, title_node)
        body_lead = block
    # A sentence in the block is a caption's or the text's, no meta line: a photo caption
    # ending 。圖：高雄市政府提供 above the text names no author (174-newtalk).
    block = "\n".join(line for line in block.split("\n") if not _is_prose_line(line))
    block = SPLIT_DATE.sub(lambda m: "" if m.string[m.start() - 1] in "年月" else " ", block)
    credits, dated = _tail_lines(body_node) if body_node is not None else ([], [])
    meta = parse_meta(block) if block else None
    if meta is None or meta.published is None:
        body_lead = ""  # lines under the title that give no date may be the article's
    if (meta is None or meta.published is None) and body_node is not None:
        # The body container may open with the meta line (中時's div.article_info inside
        # article.arttext, 071; 自由時報's span.viewtime under the lead picture, 076).
        lead = _body_lead(body_node) if not _contains(body_node, title_node) else ""
        joined = "\n".join(p for p in (block, lead) if p)
        with_lead = parse_meta(joined) if lead else None
        if with_lead is not None and with_lead.published is not None:
            block, meta, body_lead = joined, with_lead, lead
    if body_node is not None:
        article.body_html = _body_html(body_node, body_lead, opening)
    # A date printed after the post counts only when none is printed before it.
    if meta is not None and meta.published is not None:
        dated = []
    article.meta_text = "\n".join(p for p in (block, *credits, *dated) if p) or None

    if meta is None or (meta.published is None and not meta.problems):
        article.published_text = (
            _meta_tag(doc, DATE_META)
            or next(iter(_jsonld_values(doc, "datePublished")), None)
            or _script_date(doc)
            or (_closing_date(body_node) if body_node is not None else None)
        )
    elif meta.published is None and any(p.reason == REASON_NEEDS_FETCH_TIME for p in meta.problems):
        # A relative time (5 小时 15 分钟前) is read against the fetch, to the minute at best; a
        # publish time the page declares in its meta tags is exact, and wins (161-v2ex-topic).
        article.published_text = _meta_tag(doc, DATE_META)
    elif meta.published is None:
        article.published_text = _year_from_meta_tags(doc, meta.problems)
    elif meta.published.precision == "minute":
        article.published_text = _seconds_from_declared(doc, meta.published)
    publishers = _jsonld_values(doc, "publisher")
    declared_authors = _jsonld_values(doc, "author")
    site = _site_names(doc, publishers, declared_authors)
    has_source = meta is not None and meta.source
    if not has_source:
        # A printed element whose class names the source wins over a declared one:
        # 072 prints 中時 in div.source while its JSON-LD publisher is 社會 - 中時.
        article.source = (
            _named_by_class(root, title_node, body_node, SOURCE_HINT)
            or _not_the_site(_meta_tag(doc, SOURCE_META), site)
            or _not_the_site(next(iter(publishers), None), site)
        )
    if not has_source and article.source is None and body_node is not None:
        # A repost's credit opening the body (本文转载自X, 162-jianshu-blog) names its source.
        lines = _text_lines(body_node)[:BODY_LEAD_LINES]
        article.source = next((s for s in map(repost_source, lines) if s), None)
    reporter = None
    named_author = _named_by_class(root, title_node, body_node, AUTHOR_HINT)
    if not has_source and article.source is None and block:
        article.source, reporter = _source_beside_date(block, title or "", site)
        if article.source is not None and article.source == named_author:
            # The name beside the date is the account an element names as the author.
            article.source = None
    # A printed name (an element whose class names the author) wins over a declared one:
    # 072-chinatimes-2019 prints 謝明俊 while its JSON-LD names another person.
    if not (meta is not None and meta.author):
        article.author = (
            named_author
            or _profile_link(root, title_node, body_node, block)
            or next(
                (
                    a
                    for a in declared_authors
                    if _not_the_site(a, site) and not DECLARED_AUTHOR_NOT.search(a)
                ),
                None,
            )
        )
    if article.author is None and body_node is not None:
        printed = parse_meta(article.meta_text) if article.meta_text else None
        if printed is None or printed.author is None:
            article.author = _byline(body_node)
    if article.author is None and reporter and not (meta is not None and meta.author):
        article.author = reporter
    return article


def _site_names(doc: Selector, publishers: list[str], authors: list[str]) -> set[str]:
    """The names a page gives its own site (SITE_NAME_META), and a name it declares as both
    the author and the publisher."""
    names: set[str] = set()
    for name in SITE_NAME_META:
        for attr in ("name", "property"):
            values = doc.xpath(f"//meta[@{attr}='{name}']/@content").getall()
            names.update(squash(v) for v in values)
    names.update(set(publishers) & set(authors))
    return {n for n in names if n}


def _not_the_site(value: str | None, site: set[str]) -> str | None:
    """A declared value, unless it is the site's own name (``聯合新聞網 | 聯合新聞網`` too)."""
    if value is None:
        return None
    parts = [p for p in SITE_NAME_SPLIT.split(value) if p]
    return None if parts and all(p in site for p in parts) else value


def _source_beside_date(block: str, title: str, site: set[str]) -> tuple[str | None, str | None]:
    """(source, reporter) printed without labels around the block's first dated line."""
    lines = block.split("\n")
    for i, line in enumerate(lines):
        dated = [d for d in iter_datetimes(line) if d.parsed is not None]
        if not dated:
            continue
        before = line[: dated[0].start].strip()
        if before and not SITE_ADDRESS.fullmatch(before):
            # A labelled date (发表于 D under a forum poster's name) says nothing of a source.
            return None, None
        after = line[dated[0].end :].split()
        if not after and i + 2 == len(lines):
            # The date alone on its line, the outlet on the next and last (049-hexun-stock);
            # a line among a post footer's others (富达传媒 among category and counts,
            # 067-njxfhn-repost) is the poster's account.
            after = [lines[i + 1].strip()]
        if after and _is_outlet(after[0], title, site):
            return after[0], None
        if i == 1:
            above = lines[0].strip()
            credit = PERSON_SLASH_OUTLET.fullmatch(above)
            if credit is not None and _is_outlet(credit["outlet"], title, site):
                return credit["outlet"], credit["person"]
            if _is_outlet(above, title, site):
                return above, None
        return None, None
    return None, None


def _is_outlet(token: str, title: str, site: set[str]) -> bool:
    shape = OUTLET.fullmatch(token)
    if shape is None or token in title or simplified(shape["core"]) in LABELS:
        return False
    core = shape["core"]
    if simplified(core).endswith(OUTLET_NOT_ENDINGS):
        return False
    # A short name that opens the site's own name is its outlet's (中時 of 中時電子報, 071).
    opens_site = any(name.startswith(core) and name != core for name in site)
    # 聯合報 ends like 联合报 (081).
    ends_like_outlet = simplified(core[-1]) in OUTLET_ENDINGS
    return len(core) >= OUTLET_MIN_LEN or ends_like_outlet or opens_site


def _closing_date(body: Any) -> str | None:
    """A date printed in brackets opening one of the body container's last lines
    (CLOSING_DATE), read when the page prints and declares no other."""
    for line in reversed(_text_lines(body)[-TAIL_MAX_NODES:]):
        found = CLOSING_DATE.match(line)
        if found is not None and parse_datetime(found["date"]) is not None:
            return found["date"]
    return None


def _script_date(doc: Selector) -> str | None:
    """The publish time a page keeps in its inline scripts (SCRIPT_DATES, SCRIPT_EPOCHS)."""
    scripts = doc.xpath("//script[not(@src)]/text()").getall()
    for pattern in SCRIPT_DATES:
        for script in scripts:
            found = pattern.search(script)
            if found is not None:
                return found["text"]
    for epoch in SCRIPT_EPOCHS:
        for script in scripts:
            found = epoch.search(script)
            if found is not None:
                return datetime.fromtimestamp(int(found["epoch"]), CHINA_TZ).isoformat()
    return None


def _contains(outer: Any, inner: Any) -> bool:
    return outer is not None and inner is not None and outer in inner.iterancestors()


def _is_prose_line(line: str) -> bool:
    return len(line) > HEADING_LEAD_MAX and bool(SENTENCE_END.search(line))


def _body_lead(body: Any) -> str:
    """The short lines opening the body container from the first that starts with a date,
    before its first long line of prose (at most BODY_LEAD_LINES lines are read)."""
    parts: list[str] = []
    lines: list[str] = []
    for event, value in _walk(body):
        if event in ("start", "end") and _tag(value) in BREAKS and value is not body:
            parts.append("\n" if _tag(value) != "span" else " ")
        elif event == "text":
            parts.append(value.replace("\n", " "))
        lines = [squash(line) for line in "".join(parts).split("\n")]
        lines = [line for line in lines if line]
        if len(lines) > BODY_LEAD_LINES or any(len(line) > HEADING_LEAD_MAX for line in lines):
            break
    lead: list[str] = []
    for line in lines:
        if len(line) > HEADING_LEAD_MAX:
            break
        # The meta line starts with its date; a date inside a sentence (（2007年6月29日…会议
        # 通过） opening a resolution, 002-gov-cn-gongbao) is the text's.
        # The outlet's name may run into the date: 新頭殼newtalk2014.10.24 金名/高雄報導 (174).
        starts_dated = any(
            (d.start == 0 or DATELINE_OUTLET.fullmatch(line[: d.start])) and d.parsed is not None
            for d in iter_datetimes(line)
        )
        if lead or starts_dated:
            lead.append(line)
    return "\n".join(lead[:BODY_LEAD_LINES])


def _lead_in(root: Any, title: Any, limit: int = 400) -> str:
    """Short lines printed after the title element, up to the body's first line of prose
    (a long line, or one with a full stop)."""
    parts: list[str] = []
    collecting = False
    for event, value in _walk(root):
        if event == "end" and value is title:
            collecting = True
            continue
        if not collecting:
            continue
        if event == "start" and _tag(value) in BREAKS:
            parts.append("\n" if _tag(value) != "span" else " ")
        if event == "text":
            # A line break inside a text node is only whitespace; lines end at elements.
            parts.append(value.replace("\n", " "))
            line = squash("".join(parts).rsplit("\n", 1)[-1])
            # The limit counts printed text: a pretty-printed page's indentation runs are not
            # read (047-guancha-column's date line sits 60 lines of markup below its title).
            read = len(squash("".join(parts)))
            if len(line) > HEADING_LEAD_MAX or "。" in line or read > limit:
                parts[-1] = ""
                parts.append("\n")
                break
    lines = [squash(line) for line in "".join(parts).split("\n")]
    # The line being read when prose began is the body's, not the meta block's.
    return "\n".join(line for line in lines[:-1] if line)


def _year_from_meta_tags(doc: Selector, problems: list[Any]) -> str | None:
    """The meta tags' full date for a printed date without a year, when they agree on it."""
    printed = next((p.raw for p in problems if p.reason == REASON_NO_YEAR), None)
    declared = _meta_tag(doc, YEAR_META)
    full = parse_datetime(declared) if printed and declared else None
    if full is None or printed is None:
        return None
    shown = parse_datetime(printed, fetched_at=full.value)
    if shown is None or shown.value.date() != full.value.date():
        return None
    if shown.precision != "day" and shown.value.strftime("%H:%M") != full.value.strftime("%H:%M"):
        return None
    return declared


def _seconds_from_declared(doc: Selector, printed: ParsedTime) -> str | None:
    """A declared time (meta tags, script data) to the second, when the page prints the same
    minute: 百家号 prints 18-03-08 23:16 and declares dateUpdate 2018-03-08 23:16:24 (031)."""
    for declared in (_meta_tag(doc, YEAR_META), _script_date(doc)):
        full = parse_datetime(declared) if declared else None
        if full is None or full.precision != "second":
            continue
        if timedelta(0) <= full.value - printed.value < timedelta(minutes=1):
            return declared
    return None


def _named_by_class(root: Any, title: Any, body: Any, hint: re.Pattern[str]) -> str | None:
    """A short element whose class names the field (author-name, a_source) between the
    title and the body; one that holds a label or a date is a meta line, not a value."""
    if body is None:
        return None
    passed_title = title is None
    # A body container holding the title (a whole-page <body>, 033-wechat) is no end mark:
    # then the few elements after the title are read.
    around_title = _contains(body, title)
    after = 0
    in_body = False
    for el in root.iter():
        if el is body and not around_title:
            # The body container may open with the meta line (071): its elements count up
            # to the first one holding prose.
            in_body = True
        if _tag(el) is None:
            continue
        if in_body:
            own = squash(el.text or "")
            if len(own) > HEADING_LEAD_MAX or "。" in own:
                return None
        if not passed_title:
            passed_title = el is title or _contains(title, el)
            continue
        after += 1
        if around_title and after > NAMED_AFTER_TITLE_MAX:
            return None
        named = bool(hint.search(_attrs(el)))
        if not named and hint is AUTHOR_HINT and AUTHOR_BOX_HINT.search(el.get("class") or ""):
            inner = [d for d in el.iterdescendants() if NAME_HINT.search(d.get("class") or "")]
            # A box with no name element that holds only a link names the author by it:
            # <div class="author"><a>謝明俊</a></div> (072-chinatimes-2019).
            el, named = (inner[0], True) if inner else (el, _only_a_link(el))
        if not named and hint is AUTHOR_HINT:
            named = any(SELF_MEDIA_MARK.search(_attrs(child)) for child in el.iterchildren("*"))
        if named:
            text = _node_text(el)
            if (
                2 <= len(text) <= AUTHOR_MAX_LEN
                and not META_LABEL.search(text)
                and not DATE_LIKE.search(text)
            ):
                return text
    return None


def _profile_link(root: Any, title: Any, body: Any, block: str) -> str | None:
    """The member named by a link to its own page (PROFILE_LINK) in the meta block: after
    the title and before the body, printed in the block's text."""
    if body is None or not block:
        return None
    passed_title = title is None
    for el in root.iter():
        if el is body:
            return None
        if not passed_title:
            passed_title = el is title
            continue
        if _tag(el) != "a" or _contains(title, el):
            continue
        found = PROFILE_LINK.search(el.get("href") or "")
        text = _node_text(el)
        if (
            found is not None
            and 2 <= len(text) <= AUTHOR_MAX_LEN
            and unquote(found["name"]).casefold() == text.casefold()
            and text in block
        ):
            return text
    return None


def _only_a_link(el: Any) -> bool:
    """The element holds one link and nothing else, and the link is no furniture heading
    (<div class="author"><a>相关文章</a></div> over 028-021news's related list)."""
    children = list(el)
    return (
        len(children) == 1
        and _tag(children[0]) == "a"
        and not (el.text or "").strip()
        and not (children[0].tail or "").strip()
        and not SECTION_MARKERS.match(_node_text(children[0]))
    )


def _byline(body: Any) -> str | None:
    """Reporters credited in the article's opening words (（记者 X）, 本报记者 X). The first
    few paragraphs are read: a promotion box may stand before the lead (036-sina-finance)."""
    texts = (squash(_own_text(p)) for p in body.iter("p", "div", "td"))
    leads = [t for t in texts if t][:BYLINE_LEAD_BLOCKS] or [squash(_own_text(body))]
    # A container holding the headline and its tools above the text (073-cna): its first
    # paragraph of prose is read too.
    paragraphs = (squash(_own_text(p)) for p in body.iter("p"))
    prose = next((t for t in paragraphs if len(t) > BYLINE_LINE_MAX), None)
    if prose is not None and prose not in leads:
        leads.append(prose)
    # A container's text runs its paragraphs together (廖艳7岁…, 041-ifeng-news): of the
    # bylines read, the one naming the most people is the whole one.
    best: list[str] = []
    for first in leads:
        for pattern in BYLINES:
            found = pattern.search(first)
            if found is None:
                continue
            names = [
                n for n in BYLINE_ROLE.sub(" ", found["names"]).split() if n not in BYLINE_NOT_NAMES
            ]
            fits = 1 <= len(names) <= BYLINE_MAX_NAMES
            if fits and all(BYLINE_NAME.fullmatch(n) for n in names) and len(names) > len(best):
                best = names
    if best:
        return "、".join(dict.fromkeys(best))
    return _credit_paragraph(body) or _tail_byline(body)


def _tail_byline(body: Any) -> str | None:
    """The reporter named in brackets at the end of the body's last paragraph."""
    last = next(
        (t for t in (squash(_own_text(p)) for p in reversed(list(body.iter("p", "div")))) if t),
        "",
    )
    for pattern in BYLINE_TAILS:
        found = pattern.search(last)
        if found is None:
            continue
        names = found["names"].replace("、", " ").split()
        if all(n[-1] not in BYLINE_TAIL_NOT_ENDINGS and n not in BYLINE_NOT_NAMES for n in names):
            return "、".join(names)
    for line in reversed(_text_lines(body)):
        for pattern in BYLINE_CLOSINGS:
            found = pattern.search(line)
            if found is not None and found["names"] not in BYLINE_NOT_NAMES:
                return found["names"]
    return None


def _text_lines(node: Any) -> list[str]:
    """The element's visible text as lines: breaks at <br> and block elements."""
    parts: list[str] = []
    for event, value in _walk(node):
        if event in ("start", "end") and _tag(value) in BREAKS and value is not node:
            parts.append("\n" if _tag(value) != "span" else " ")
        elif event == "text":
            parts.append(value.replace("\n", " "))
    return [line for line in (squash(p) for p in "".join(parts).split("\n")) if line]


def _credit_paragraph(body: Any) -> str | None:
    """A short paragraph opening the body that is only a credit (《棱镜》作者 周纯)."""
    seen = 0
    for p in body.iter("p"):
        text = squash(_own_text(p))
        if not text or CAPTION_MARK.match(text):
            continue
        if len(text) > BYLINE_LINE_MAX or seen >= BYLINE_LEAD_PARAGRAPHS:
            return None
        seen += 1
        for pattern in BYLINE_LINES:
            found = pattern.search(text)
            if found is not None:
                names = re.split(r"[\s、&＆]+", found["names"])
                if all(n not in BYLINE_NOT_NAMES for n in names):
                    return "、".join(names)
    return None


def _body_html(node: Any, lead: str = "", opening: Any = None) -> str:
    """The container's HTML without the boilerplate blocks inside it, nor, when the meta
    line was read from its opening lines (``lead``), the elements printing them; a lead
    paragraph printed above the container (``opening``) goes first."""
    clone = copy.deepcopy(node)
    clone.tail = None
    if lead:
        _drop_lead(clone, "".join(lead.split()))
    if opening is not None:
        first = copy.deepcopy(opening)
        first.tail, clone.text = clone.text, None
        clone.insert(0, first)
    for child in list(clone.iterdescendants()):
        if _tag(child) is None or child.getparent() is None:
            continue
        if _is_negative(child) or _is_hidden(child):
            child.drop_tree()
            continue
        text = squash(_own_text(child))
        listed = _tag(child) in ("ul", "ol", "div", "table") and text and _link_share(child) > 0.6
        # A block holding most of the body's prose is the article with a long related list
        # inside it (029-mydrivers' div.main_left): only the list goes, later.
        if listed and 2 * _prose(child) < _prose(clone):
            child.drop_tree()
    return str(lxml_html.tostring(clone, encoding="unicode"))


def _lead_after_title(root: Any, title: str | None, title_node: Any, body: Any) -> Any:
    """The lead paragraph printed right after the headline, outside the body (LEAD_HINT)."""
    heading = title_node
    if heading is None and title:
        heading = next(
            (
                el
                for el in root.iter(*HEADING_TAGS)
                if _node_text(el) == title
                and not any(_tag(a) in LINK_TAGS for a in el.iterancestors())
            ),
            None,
        )
    if heading is None or body is None or _contains(body, heading) or _contains(heading, body):
        return None
    sibling = heading.getnext()
    while sibling is not None and (_tag(sibling) in (None, *SKIP_TAGS) or not _node_text(sibling)):
        sibling = sibling.getnext()
    if (
        sibling is None
        or sibling is body
        or _contains(sibling, body)
        or _is_hidden(sibling)
        or not LEAD_HINT.search(_attrs(sibling))
    ):
        return None
    text = _visible_text(sibling)
    first = SENTENCE_END.split(text, maxsplit=1)[0]
    if not SENTENCE_END.search(text) or "".join(first.split()) in "".join(_own_text(body).split()):
        return None
    return sibling


def _drop_lead(clone: Any, lead: str) -> None:
    """Drop the elements before the first prose whose whole text is part of ``lead`` (both
    without whitespace)."""
    for child in list(clone.iterdescendants()):
        if _tag(child) is None or child.getparent() is None:
            continue
        if len(squash(child.text or "")) > HEADING_LEAD_MAX:
            return
        text = "".join(_node_text(child).split())
        if text and text in lead and not any(_tag(d) == "img" for d in child.iter()):
            child.drop_tree()


def _prose(node: Any) -> int:
    """Chinese characters of the node's text outside links."""
    linked = sum(len(CJK.findall(_own_text(a))) for a in node.iter(*LINK_TAGS))
    return len(CJK.findall(_own_text(node))) - linked


def _link_share(node: Any) -> float:
    total = len(squash(_own_text(node)))
    links = sum(len(squash(_own_text(a))) for a in node.iter("a"))
    return links / total if total else 0.0


# A list of articles rather than an article: at least this many links carrying a
# headline's worth of Chinese, and less than this much Chinese of its own (outside links)
# in what was taken for the body. Real articles with long related-news sidebars keep
# hundreds of characters of their own; the demo's and portals' list pages keep a pager.
LIST_MIN_HEADLINES = 5
HEADLINE_MIN_CJK = 6
LIST_MAX_OWN_CJK = 100


def list_page_reason(html: str, body_html: str) -> str | None:
    """Why a page looks like a list page rather than an article (None when it does not):
    many links with headline text and little text of its own in the body."""
    page = parse_page(html)
    headlines = sum(
        1
        for anchor in page.xpath("//body//a[@href]")
        if len(CJK.findall("".join(anchor.xpath(".//text()").getall()))) >= HEADLINE_MIN_CJK
    )
    if headlines < LIST_MIN_HEADLINES:
        return None
    body = Selector(text=body_html or "<div></div>")
    own = len(CJK.findall("".join(body.xpath("//text()[not(ancestor::a)]").getall())))
    if own >= LIST_MAX_OWN_CJK:
        return None
    return (
        f"looks like a list page, not an article: {headlines} links with headline text,"
        f" {own} Chinese characters of its own in the body"
    )


def css_path(node: Any) -> str:
    """A CSS path for an element: by id when it has one, else tag.class chain."""
    parts: list[str] = []
    while node is not None and _tag(node) not in ("html", None):
        tag = _tag(node)
        ident = node.get("id")
        if ident and re.match(r"^[A-Za-z][\w-]*$", ident):
            parts.append(f"{tag}#{ident}")
            break
        classes = [c for c in (node.get("class") or "").split() if re.match(r"^[A-Za-z][\w-]*$", c)]
        parts.append(str(tag) + "".join(f".{c}" for c in classes[:2]))
        if tag == "body":
            break
        node = node.getparent()
    return " ".join(reversed(parts))


__all__ = [
    "GenericArticle",
    "css_path",
    "extract_generic",
    "find_body",
    "find_title",
    "is_meta_line",
    "list_page_reason",
    "squash",
    "title_head",
]
