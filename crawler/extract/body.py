"""Body cleaning: from the body container's HTML to clean HTML, plain text and images.

Rules are data: the tags that never carry article text, the short blocks that are page
chrome when they stand alone (share, print, font-size, QR, comments, prev/next), the
patterns of image-credit captions and of file names that leak into the text. The code
only loops over them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import nh3
from bs4 import BeautifulSoup
from bs4.element import Comment, NavigableString, Tag

from crawler.extract.labels import CAPTION_CREDIT_LABELS, CAPTION_LEAD_LABELS, spellings
from crawler.extract.urls import BadUrl, checked_url

DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "iframe",
    "form",
    "input",
    "button",
    "select",
    "textarea",
    "object",
    "embed",
    "svg",
    "canvas",
    "video",
    "audio",
    "link",
    "meta",
)

# Words that make up page tools; a short block made only of these (and brackets) is chrome.
CHROME_WORDS = (
    "打印本页",
    "打印本頁",
    "打印此页",
    "打印",
    "关闭窗口",
    "关闭本页",
    "關閉窗口",
    "关闭",
    "關閉",
    "字体大小",
    "字體大小",
    "字体",
    "字體",
    "字号",
    "字號",
    "默认",
    "大",
    "中",
    "小",
    "分享到",
    "分享",
    "收藏",
    "返回顶部",
    "返回",
    "顶部",
    "纠错",
    "我要纠错",
)
CHROME_PUNCT = re.compile(r"[\s【】\[\]（）()：:|/、，,.。>»·-]+")
# A short block that starts with (or contains) one of these is chrome whatever follows.
CHROME_BLOCKS = tuple(
    re.compile(p)
    for p in (
        # 扫描二维码关注: a portal's WeChat-account box after the article (036-sina-finance).
        r"扫一扫|掃一掃|获得更多|意想不到|手机打开|手機打開|扫描二维码|扫码关注|二维码关注",
        r"^(全部评论|相关场馆|相关阅读|相关新闻|相关文章|推荐内容|热点内容|更多>>|更多)",
        r"^(上一篇|下一篇|上一条|下一条|上一篇文章|下一篇文章)\s*[：:]",
        r"^(当前位置|您的位置|您现在的位置|當前位置)\s*[：:]",
        r"ICP备|ICP證|网站标识码|網站標識碼|公网安备|技术支持\s*[：:]|^主办\s*[：:]|^承办\s*[：:]",
        # A like button's count (div.zan-i, 011-xinhuanet).
        r"^\+1$",
        # An app promotion closing a portal's copy: (本文来自澎湃新闻，更多原创资讯请下载
        # “澎湃新闻”APP) (059, 060-thepaper).
        r"请下载.{0,12}(?:APP|App|app|客户端)",
        # A paper's promotions closing its stories: its forum (有話要說 投稿「即時論壇」, 069),
        # its fan page (>>加入蘋果日報粉絲團94即時94狂！, 070), its app (還想看更多新聞嗎？
        # 歡迎下載自由時報APP…, with the download links, 077).
        r"^有話要說\s*投稿|加入.{0,10}粉絲團|歡迎下載.{0,12}(?:APP|App|app)|^(?:iOS|Android)載點"
        r"|^活動辦法\s*[：:]\s*https?://",
        # A story's hashtag links (#上吊 #自殺 under 072-chinatimes-2019).
        r"^(?:#\s*[\u3400-\u9fff]{1,10}\s*)+$",
        # A paywall's notice under an archived story: 您所瀏覽的新聞已過查詢時效。建議您加入
        # 中央社付費會員… (073-cna).
        r"已過查詢時效|加入.{0,10}付費會員",
    )
)
CHROME_MAX_LEN = 60
# A block whose first text is one of these headings is page furniture after the article
# (recommendation and related lists, comment boxes, disclaimers): it goes whole, however
# long, unless it is the body container itself. A keyword list (文章关键词： and its tag
# links, 036-sina-finance) is one too; a colon may follow the heading.
SECTION_MARKERS = re.compile(
    r"^[【\[]?(?:推荐阅读|延伸\s*[·・]\s*推荐|相关阅读|相关新闻|相关文章|相关报道|相关链接|延伸阅读|猜你喜欢|热门推荐|"
    r"精彩推荐|为你推荐|热门文章|热点新闻|热门评论|关注我们|网友评论|发表评论|我要评论|评论列表|全部评论|免责声明|"
    r"版权声明|文章关键词|关键词|关键字)[】\]]?\s*[：:]?\s*(?:更多\s*>*|>>)?$"
)
SECTION_TAGS = ("div", "section", "aside", "ul", "table", "dl")
# A block opening with one of these notices is the site's, not the article's, however long:
# 【免责声明】本文仅代表作者本人观点… after a short article (049-hexun-stock), 免责声明：自媒体
# 综合提供的内容… in a paragraph of its own (037-sina-finance-usstock).
NOTICE_BLOCK = re.compile(
    r"^[【\[]?(?:免责声明|版权声明|郑重声明|特别声明|风险提示)(?:[】\]]|\s*[:：])"
)

# The standing notice Taiwanese papers append to stories of suicide: an opening line
# (《蘋果》關心你, 069/070; ★中時電子報關心您：再給自己一次機會, 071/072; ●《ETNEWS新聞雲》提醒您，
# 請給自己機會：, 074/075) and its hotline lines (張老師專線：1980). It goes, line by line, when
# a hotline follows the opening line.
STANDING_NOTICE_OPEN = re.compile(
    r"^[★●◎]?\s*(?:《[^》\n]{1,12}》|[^\s，。：:《》]{2,10})\s*(?:關心您|關心你|关心您|关心你|提醒您)"
)
STANDING_NOTICE_LINE = re.compile(
    r"專線|专线|生命線|生命线|張老師|张老师|自殺|自杀|珍惜生命|再給自己|再给自己|請給自己|请给自己"
)
STANDING_NOTICE_HOTLINE = re.compile(r"專線|专线|生命線|生命线")
STANDING_NOTICE_MAX_LEN = 40
FILE_NAME = re.compile(r"^\S{0,80}\.(?:jpe?g|png|gif|bmp|webp)$", re.IGNORECASE)
# A republication's note of the headline it first ran under — （原标题：X） heading a NetEase
# copy (018–025-163), 原标题：X on Sina (035, 039, 040), 本文原标题：《X》 (016-thepaper-gov),
# （原题为《X》） closing a 澎湃 copy (058, 059-thepaper): a line of its own, not article text.
REPOST_TITLE = re.compile(r"^[（(]?(?:本文)?原(?:标题|题为?)\s*[：:《]")
REPOST_TITLE_MAX_LEN = 120
# A repost's credit of where it was copied from, a block of its own: 本文转载自http://blog.
# jobbole.com/24006/ in the blockquote opening a 简书 post (162-jianshu-blog), 转自X. The block
# leaves the body; what it names, as printed (a site or only an address), is the source.
REPOST_SOURCE = re.compile(
    r"^[（(【\[]?(?:本文|此文|文章|原文)?(?:转载|轉載|转|轉)自\s*[:：]?\s*"
    r"(?P<source>[^\s，。；,;（）()【】\[\]]{2,100})[）)】\]]?$"
)
# A link out of the article: 点击进入“文艺星青年”>> over a 人民网 text (006-people-culture),
# 返回腾讯网首页>> closing its last paragraph (014-qq-finance).
LINK_OUT = re.compile(r"^(?:返回.{0,10}首页|点击进入.{0,20})\s*[>》]*$")
# A link of a page tool (【纠错】 inside 新华网's closing line, 011-xinhuanet) goes even where
# its block holds more; one character (大, 中) may be a word linked in the text.
LINK_TOOL_MIN_LEN = 2
# A line made only of U+FFFD: characters (emoji) the page lost before it was saved, printed
# as replacement marks between a WeChat post's pictures (016-thepaper-gov).
LOST_CHARS = re.compile(r"^[\ufffd\s]+$")
# Credits that caption the image above them: （记者 张三 摄）, 新华社记者 X 摄, 摄影 X, X 供图.
CAPTION = re.compile(
    rf"^[（(]?.{{0,40}}(?:{spellings(CAPTION_CREDIT_LABELS)})[）)]?$"
    rf"|^[（(]?(?:{spellings(CAPTION_LEAD_LABELS)})[／/：:].{{1,30}}[）)]?$|^图为"
    # A bracketed picture credit closing the caption: …一帶。（圖翻攝自google map） (077).
    rf"|[（(](?:{spellings(CAPTION_LEAD_LABELS)})[／/：:]?[^（）()\n]{{1,30}}[）)]$"
)
CAPTION_MAX_LEN = 80
# A caption opening with a picture mark may run longer: ▲台南市永康分局…（圖／記者林悅翻攝）
# under 074/075-ettoday's lead photo.
CAPTION_MARK = re.compile(r"^[▲▼△]")
CAPTION_MARKED_MAX_LEN = 200

BLOCK_TAGS = (
    "p",
    "div",
    "section",
    "article",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "tr",
    "table",
    "blockquote",
    "figure",
    "figcaption",
    "ul",
    "ol",
    "center",
    "pre",
)
ALLOWED_TAGS = {
    "p",
    "br",
    "img",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "td",
    "th",
    "blockquote",
    "figure",
    "figcaption",
    "sub",
    "sup",
    "span",
    "div",
}
ALLOWED_ATTRIBUTES = {
    "img": {"src", "alt", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000\u2002\u2003\u200b]+")


@dataclass(frozen=True)
class BodyImage:
    url: str
    alt: str | None
    caption: str | None


@dataclass(frozen=True)
class CleanBody:
    html: str
    text: str
    images: tuple[BodyImage, ...]
    # Image addresses that are not fetchable (src as written, why): left out of `images`.
    bad_images: tuple[tuple[str, str], ...] = ()


def squash(text: str) -> str:
    return SPACES.sub(" ", text).strip()


def _is_chrome(text: str) -> bool:
    if len(text) > CHROME_MAX_LEN:
        return False
    if any(p.search(text) for p in CHROME_BLOCKS):
        return True
    rest = CHROME_PUNCT.sub("", text)
    for word in CHROME_WORDS:
        rest = rest.replace(word, "")
    return not rest


def _block_of(tag: Tag) -> Tag:
    """The nearest block ancestor (the paragraph an image sits in)."""
    node: Tag = tag
    while node.parent is not None and node.name not in BLOCK_TAGS:
        node = node.parent
    return node


def _has_img(tag: Tag) -> bool:
    """`tag.find("img")` without building a matcher per call (this runs per block)."""
    return any(isinstance(node, Tag) and node.name == "img" for node in tag.descendants)


def _next_block(tag: Tag) -> Tag | None:
    sibling = tag.find_next_sibling()
    while sibling is not None and not squash(sibling.get_text()) and not _has_img(sibling):
        sibling = sibling.find_next_sibling()
    return sibling if isinstance(sibling, Tag) else None


def clean_body(
    html: str,
    page_url: str,
    *,
    remove: tuple[str, ...] = (),
    rewrite_url: Callable[[str], str] = lambda url: url,
    title: str | None = None,
) -> CleanBody:
    """Clean a body container. `rewrite_url` maps absolute image URLs (e.g. to the
    site's canonical origin); the article's `title`, when given, is dropped where the
    container repeats it as its first lines."""
    soup = BeautifulSoup(html, "lxml")
    for comment in [node for node in soup.descendants if isinstance(node, Comment)]:
        comment.extract()
    for tag in soup.find_all(DROP_TAGS):
        tag.decompose()
    for selector in remove:
        for tag in soup.select(selector):
            tag.decompose()

    images: list[BodyImage] = []
    bad_images: list[tuple[str, str]] = []
    for img in soup.find_all("img"):
        src = img.get("data-src") or img.get("src") or img.get("data-original")
        srcset = img.get("srcset")
        if (not isinstance(src, str) or not src.strip()) and isinstance(srcset, str):
            src = _first_candidate(srcset)
        if not isinstance(src, str) or not src.strip() or src.startswith("data:"):
            img.decompose()
            continue
        try:
            url = rewrite_url(checked_url(src, page_url))
        except BadUrl as exc:
            bad_images.append((src.strip(), str(exc)))
            img.decompose()
            continue
        img.attrs = {"src": url, **({"alt": img["alt"]} if img.get("alt") else {})}
        alt = squash(str(img.get("alt", ""))) or None
        caption = None
        figure = img.find_parent("figure")
        figcaption = figure.find("figcaption") if figure else None
        if isinstance(figcaption, Tag):
            caption = squash(figcaption.get_text()) or None
            figcaption.decompose()
        else:
            # The caption may follow the image inside its block (div.pic750 > img + p, 076;
            # div.photo > a > img, then p, 077).
            inline: Tag = img
            while isinstance(inline.parent, Tag) and inline.parent.name not in BLOCK_TAGS:
                inline = inline.parent
            after = inline.find_next_sibling()
            inside = after if isinstance(after, Tag) and after.name == "p" else None
            candidate = inside or _next_block(_block_of(img))
            if candidate is not None and not _has_img(candidate):
                text = squash(candidate.get_text())
                marked = CAPTION_MARK.match(text) and len(text) <= CAPTION_MARKED_MAX_LEN
                # A block repeating the image's alt text is its caption (div.picinfo, 073-cna).
                repeats_alt = alt is not None and text == alt
                credited = len(text) <= CAPTION_MAX_LEN and CAPTION.search(text)
                if text and (marked or repeats_alt or credited):
                    caption = text
                    candidate.decompose()
        images.append(BodyImage(url=url, alt=alt, caption=caption))

    for tag in soup.find_all((*SECTION_TAGS, "p")):
        if tag.decomposed or tag.parent is None or tag.parent.name in ("body", "[document]"):
            continue
        first = next(
            (
                node
                for node in tag.descendants
                if isinstance(node, NavigableString)
                and not isinstance(node, Comment)
                and node.strip()
            ),
            None,
        )
        opening = squash(str(first)) if first is not None else ""
        if opening and (SECTION_MARKERS.match(opening) or NOTICE_BLOCK.match(opening)):
            tag.decompose()

    for link in soup.find_all("a"):
        if link.decomposed:
            continue
        text = squash(link.get_text())
        if LINK_OUT.match(text) or (len(text) >= LINK_TOOL_MIN_LEN and _is_chrome(text)):
            link.decompose()

    # Chrome and leaked file names go from the smallest blocks up, so a container that
    # also holds article text is never dropped whole.
    for tag in reversed(soup.find_all(BLOCK_TAGS)):
        if _has_img(tag):
            continue
        text = squash(tag.get_text())
        if not text:
            continue
        if (
            _is_chrome(text)
            or FILE_NAME.match(text)
            or _is_repost_title(text)
            or repost_source(text)
        ):
            tag.decompose()
    for node in [node for node in soup.descendants if isinstance(node, NavigableString)]:
        text = squash(str(node))
        if FILE_NAME.match(text) or LOST_CHARS.match(text) or _is_repost_title(text):
            node.extract()
    if title:
        _drop_title_lines(soup, title)
    _drop_standing_notices(soup)

    root = soup.body or soup
    clean_html = nh3.clean(
        root.decode_contents(),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel=None,
        strip_comments=True,
    ).strip()

    for br in root.find_all("br"):
        br.replace_with("\n")
    for tag in root.find_all(BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    lines = (squash(line) for line in root.get_text().split("\n"))
    text = "\n".join(line for line in lines if line and not FILE_NAME.match(line))
    return CleanBody(html=clean_html, text=text, images=tuple(images), bad_images=tuple(bad_images))


def _drop_standing_notices(soup: BeautifulSoup) -> None:
    """A standing notice (STANDING_NOTICE_OPEN, then its lines) leaves the body."""
    strings = [
        node
        for node in soup.descendants
        if isinstance(node, NavigableString) and not isinstance(node, Comment) and squash(node)
    ]
    i = 0
    while i < len(strings):
        opening = squash(str(strings[i]))
        if len(opening) > STANDING_NOTICE_MAX_LEN or not STANDING_NOTICE_OPEN.match(opening):
            i += 1
            continue
        j = i + 1
        while j < len(strings):
            line = squash(str(strings[j]))
            if len(line) > STANDING_NOTICE_MAX_LEN or not STANDING_NOTICE_LINE.search(line):
                break
            j += 1
        notice = strings[i:j]
        if any(STANDING_NOTICE_HOTLINE.search(squash(str(n))) for n in notice):
            for node in notice:
                node.extract()
        i = max(j, i + 1)


def _is_repost_title(text: str) -> bool:
    return len(text) <= REPOST_TITLE_MAX_LEN and bool(REPOST_TITLE.match(text))


def repost_source(text: str) -> str | None:
    """What a repost credit (REPOST_SOURCE) names, when the text is one."""
    found = REPOST_SOURCE.match(text) if len(text) <= REPOST_TITLE_MAX_LEN else None
    return found["source"] if found is not None else None


def _drop_title_lines(soup: BeautifulSoup, title: str) -> None:
    """The container's opening text when it is the title again, whole, in one or more
    pieces (the heading of a 国务院公报 resolution over three lines, 002-gov-cn-gongbao;
    NetEase's h2 over the text, 019-163-news-sports); nothing when it only starts so."""
    want = "".join(title.split())
    seen = ""
    pieces: list[NavigableString] = []
    for node in soup.descendants:
        if not isinstance(node, NavigableString) or isinstance(node, Comment):
            continue
        text = "".join(str(node).split())
        if not text:
            continue
        seen += text
        pieces.append(node)
        if seen == want:
            for piece in pieces:
                piece.extract()
            return
        if not want.startswith(seen):
            return


def _first_candidate(srcset: str) -> str | None:
    """The first address of a `srcset` (candidates are `URL [descriptor]`, comma-separated)."""
    for candidate in srcset.split(","):
        words = candidate.split()
        if words:
            return words[0]
    return None
