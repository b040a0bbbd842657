"""The label vocabulary of Chinese article pages, kept once: label -> field, with variants.

A label is the word a portal prints before a value (发布时间, 来源, 编辑, 作者 ...). Meta-line
parsing (metadata.py), generic extraction (generic.py: which lines are meta or credit lines)
and body cleaning (body.py: which lines under an image are credits) all read their labels
from here. Only simplified spellings are written; each character's traditional and variant
forms come from ``VARIANTS``, so 發佈時間 and 发布時間 are the same label as 发布时间.

The groups after ``LABEL_TABLE`` are subsets of it for one use each; every word in them is
a label of the table (checked at import).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

FieldName = Literal["published_at", "source", "editor", "author", "ignore", "noise"]

HAN = r"\u3400-\u9fff"

# Simplified character -> its traditional (and variant) forms, used to build label patterns.
VARIANTS: dict[str, str] = {
    "发": "發", "布": "佈", "时": "時", "间": "間", "来": "來", "编": "編", "辑": "輯",
    "责": "責", "记": "記", "讯": "訊", "员": "員", "见": "見", "习": "習", "约": "約",
    "图": "圖", "摄": "攝", "闻": "聞", "转": "轉", "载": "載", "内": "內", "机": "機",
    "构": "構", "开": "開", "于": "於", "传": "傳", "创": "創", "对": "對", "监": "監",
    "制": "製", "审": "審", "浏": "瀏", "览": "覽", "点": "點", "击": "擊", "数": "數",
    "阅": "閱", "读": "讀", "访": "訪", "问": "問", "号": "號", "体": "體", "显": "顯",
    "档": "檔", "链": "鏈", "栏": "欄", "类": "類", "实": "實", "废": "廢", "单": "單",
    "标": "標", "题": "題", "词": "詞", "关": "關", "闭": "閉", "录": "錄", "线": "線",
    "网": "網", "报": "報", "动": "動", "举": "舉", "办": "辦", "结": "結", "赛": "賽",
    "终": "終", "复": "複覆", "签": "簽", "统": "統", "筹": "籌", "划": "劃", "视": "視",
    "频": "頻", "现": "現", "属": "屬", "键": "鍵", "当": "當", "储": "儲", "台": "臺",
    "这": "這", "书": "書", "乡": "鄉", "价": "價", "条": "條", "设": "設", "计": "計",
    "译": "譯", "协": "協", "联": "聯", "话": "話", "电": "電", "邮": "郵", "湾": "灣",
    "证": "證", "户": "戶", "启": "啟", "态": "態", "况": "況", "级": "級",
    "质": "質", "产": "產", "术": "術", "务": "務", "无": "無", "门": "門",
    "维": "維", "护": "護", "组": "組", "织": "織", "导": "導", "长": "長",
}  # fmt: skip
TO_SIMPLIFIED: dict[int, str] = {ord(t): s for s, ts in VARIANTS.items() for t in ts}


def spelling(name: str) -> str:
    """A regex matching a label in any mix of simplified and traditional characters."""
    return "".join(f"[{c}{VARIANTS[c]}]" if c in VARIANTS else re.escape(c) for c in name)


def spellings(names: Iterable[str], *, lone_single_chars: bool = False) -> str:
    """An alternation of labels, the longest first (so 责任编辑 wins over 编辑).

    With ``lone_single_chars`` a one-character label (文, 图, 摄) counts only after a
    non-Han character, as it is a label only when it does not end a word.
    """
    ordered = sorted(set(names), key=lambda n: (-len(n), n))
    return "|".join(
        f"(?<![{HAN}]){spelling(n)}" if lone_single_chars and len(n) == 1 else spelling(n)
        for n in ordered
    )


def simplified(text: str) -> str:
    return text.translate(TO_SIMPLIFIED)


def words(text: str) -> tuple[str, ...]:
    """Tables are written as whitespace-separated words to keep them readable."""
    return tuple(text.split())


# (field, rank, labels). Rank orders labels of one field: lower is preferred. Only simplified
# spellings are listed; traditional and mixed spellings are derived through VARIANTS.
LABEL_TABLE: tuple[tuple[FieldName, int, tuple[str, ...]], ...] = (
    # Publish acts: the publish date proper.
    (
        "published_at",
        0,
        words("""
        发布时间 发布日期 发表时间 发表日期 发稿时间 发稿日期 刊发日期 刊发时间 刊登日期
        公开日期 公开时间 发文日期 上传时间 上传日期 发表于 录入时间 添加时间 上线时间 出版日期
    """),
    ),
    # Generic labels.
    ("published_at", 1, words("时间 日期 登载时间")),
    # Secondary dates: used only when nothing better is printed.
    (
        "published_at",
        2,
        words("""
        更新时间 更新日期 更新于 生成日期 生成时间 上载日期 上载时间 创建于 创建时间 创建日期
        成文日期 修改时间 修改日期 最后更新
    """),
    ),
    (
        "source",
        0,
        words("""
        来源 信息来源 文章来源 稿件来源 消息来源 内容来源 新闻来源 转载来源 资料来源 图片来源
        转自 出处 稿源 来源于
    """),
    ),
    ("source", 1, words("发布机构 发布单位 来源单位 供稿单位 供稿")),
    ("editor", 0, words("编辑 责任编辑 责编 发稿编辑 网络编辑 网编 本文编辑 编辑人 新媒体编辑")),
    (
        "author",
        0,
        words("""
        作者 记者 本报记者 本台记者 本网记者 通讯员 特约通讯员 见习记者 实习记者 实习生 撰稿
        撰文 撰稿人 文 图 文/图 图/文 文/摄 文字 图片 摄影 摄 供图 发布人 发稿人 发布者 录入
        录入者 录入人 上传者 采写 执笔
    """),
    ),
    # Labels whose values go nowhere: other credits (not the editor), document numbers, dates
    # that are not the publish date (今天是, 活动时间 ...), navigation. Listing them matters:
    # they end the previous value, and the longer label wins over the 编辑/时间 inside it.
    (
        "ignore",
        0,
        words("""
        值班编辑 审核 审校 校对 责任校对 监制 审看 制作 终审 初审 复审 一审 二审 三审 主编 总编
        总编辑 副总编辑 编审 审签 签发 统筹 策划 美编 视频 出品 出品人 排版 设计 翻译 主办 承办
        协办 技术支持 联系电话 电话 邮编 来源地址 原文地址 原文链接 链接 网址 索引号 分类
        主题分类 信息分类 体裁分类 文号 发文字号 发文机关 有效性 文档序号 所属栏目 栏目 关键词
        关键字 主题词 标题 实施日期 废止日期 失效日期 今天是 现在时间 当前时间 活动时间 活动日期
        活动地点 开放时间 报名时间 演出时间 举办时间 截止时间 开始时间 结束时间 比赛时间 展览时间
        展出时间 培训时间 上课时间 营业时间 服务时间 办公时间 展期 地点 上一篇 下一篇 当前位置
        您的位置 所在位置 位置 附件 相关链接 扫一扫 发布于 频道 语种 点评 评论 报料 新闻报料
    """),
    ),
    # Counters and widgets.
    (
        "noise",
        0,
        words("""
        浏览次数 浏览量 浏览 点击 点击数 点击次数 点击量 点击率 阅读 阅读数 阅读次数 阅读量
        访问次数 访问量 访问 人气 字号 字体 字体大小 字体显示 大字 分享 分享到 打印 关闭 收藏
    """),
    ),
)

# People labels that may stand right before a name with no colon: （记者张三 通讯员李四）.
GLUED_PERSON_LABELS = words("""
    记者 本报记者 本台记者 本网记者 通讯员 特约通讯员 见习记者 实习记者 实习生 摄影 制作 审看
    审核 校对 监制 责编 值班编辑
""")
# Labels that introduce a date directly, without colon or space: 发表于2020-11-02.
GLUED_DATE_LABELS = words("发表于 更新于 创建于")
# Labels of other things that name the publish time when a date is their value: 发布于 D
# (028-021news), while 发布于:{channel} names a channel.
DATED_PUBLISH_LABELS = words("发布于")
# Labels whose separator may be a slash: 文/张三 图/李四, 文字/A B 圖片/C.
SLASH_LABELS = words("文 图 摄 文字 图片 摄影 编辑 责编 执笔")
# The text right before these labels names the author: "张三 发表于 2020-11-02" (forums).
AUTHOR_BEFORE_LABELS = words("发表于")

# Generic extraction: a short line is a meta line when one of these is followed by a colon
# (the labels that rarely stand before a colon in article text), or holds a bare 发表于.
META_LINE_LABELS = words("""
    时间 日期 来源 编辑 责编 作者 浏览 浏览次数 浏览量 点击 点击数 点击次数 点击量 阅读 阅读数
    阅读次数 阅读量
""")
META_LINE_BARE_LABELS = words("发表于")
# Reporter bylines printed in the article's opening words rather than under a label:
# 本报讯（记者 X 通讯员 Y）, （记者 X）, 本报记者 X, 光明日报记者 X, 文/图 X, 通讯员 X. Each
# pattern's group "names" holds the credit; the role words in it (BYLINE_ROLES) are dropped.
# The roles in any spelling: 香港文匯報訊（記者  鄭治祖）, 140-wenweipo.
BYLINE_ROLES = (
    rf"[{HAN}]{{0,8}}?(?:{spellings(words('记者 通讯员'))})"
    rf"|{spellings(words('文/图 图/文 文/摄 摄影'))}"
)
BYLINE_PATTERNS: tuple[str, ...] = (
    # A wire dateline naming its reporter, the place and day glued after the name:
    # （中央社記者邱俊欽桃園19日電） (073-cna). The place takes what the name (two or three
    # characters, the longest first) leaves.
    rf"^[（(][{HAN}]{{0,8}}?[记記]者(?P<names>[{HAN}·]{{2,3}})[{HAN}]{{2,6}}\d{{1,2}}日[电電][）)]",
    rf"^[^（(\n]{{0,20}}?[（(](?P<names>(?:{BYLINE_ROLES})[^（()）\n]{{2,40}}?)[）)]",
    rf"^(?P<names>(?:(?:{BYLINE_ROLES})(?:[ \t\u3000\u00a0]*[{HAN}·]{{2,4}})+[ \t\u3000\u00a0]*)+)"
    rf"(?:$|\n|(?<=[ \t\u3000\u00a0]))",
)
# A short paragraph among the body's first few that is only a credit: 《棱镜》作者 周纯, 文 张三.
BYLINE_LINE_PATTERNS: tuple[str, ...] = (
    # 执笔/A、B&C: a WeChat column's pen names (048-huanqiu).
    # 【文/观察者网专栏作者 王文】: bracketed, the outlet's role before the name (047).
    rf"^[【\[]?(?:《[^》\n]{{1,12}}》)?(?:作者|文|执笔)[ \t\u3000\u00a0:：|｜/]*"
    rf"(?:[{HAN}]{{0,10}}?(?:专栏作者|特约作者|记者)[ \t\u3000\u00a0]*)?"
    rf"(?P<names>[{HAN}·]{{2,4}}(?:[ \t\u3000\u00a0、&＆][{HAN}·]{{2,4}}){{0,3}})[】\]]?$",
    # WeChat's original-content mark, carried with the article: 原创： X编译 公众号名
    # (037-sina-finance-usstock). The account name after the space is no person.
    rf"^原创[ \t\u3000\u00a0]*[:：][ \t\u3000\u00a0]*(?P<names>[{HAN}·]{{2,4}}?)(?:编译|整理|编辑)?"
    rf"[ \t\u3000\u00a0]+\S{{2,20}}$",
    # A Taiwanese reporter's line over the text, the place after a slash: 記者林悅／南市報導
    # (074, 075-ettoday); a desk (社會中心／綜合報導, 078-setn) names no one.
    rf"^[记記]者[ \t\u3000\u00a0]*(?P<names>[{HAN}·]{{2,4}})[/／][{HAN}]{{1,10}}"
    rf"(?:报道|報導|報道)$",
    # 【文/观察者网专栏作者 王文】 opening the text (047-guancha-column).
    rf"^[【\[]文[/／](?:[{HAN}]{{0,12}}?(?:专栏作者|特约作者|作者|记者))?[ \t\u3000\u00a0]*"
    rf"(?P<names>[{HAN}·]{{2,4}}(?:[ \t\u3000\u00a0、][{HAN}·]{{2,4}}){{0,3}})[】\]]$",
)
# The body's last paragraph may end with the reporter's name in brackets: …举行。（张巨峰）
BYLINE_TAIL_PATTERNS: tuple[str, ...] = (
    rf"[。！？”][ \t\u3000\u00a0]*[（(]"
    rf"(?P<names>[{HAN}·]{{2,3}}(?:[ \u3000、][{HAN}·]{{2,3}}){{0,2}})[）)]$",
)
# A closing byline with the place after a slash, read on the body container's lines from
# the last, wherever it stands on its line (a standing notice box may follow it in the same
# paragraph, related lists below it in the container):
# …釐清死因。（王煌忠／台中報導） (069, 070-appledaily-tw).
BYLINE_CLOSING_PATTERNS: tuple[str, ...] = (
    rf"[。！？”][ \t\u3000\u00a0]*[（(](?P<names>[{HAN}·]{{2,3}})[/／][{HAN}]{{1,10}}"
    rf"(?:报道|報導|報道)[）)](?=\s|$)",
)
# A bracketed tail ending with one of these names an organisation or a note, not a reporter:
# （新华社）, （市政府办）, （完）.
BYLINE_TAIL_NOT_ENDINGS = frozenset(
    "报台网局馆站社刊会部处办室厅委院所校队团号府市区县镇乡村省州完供摄"
)
# Words a byline may end with that are no names: 记者 张三 报道.
BYLINE_NOT_NAMES = words("报道 摄 供图 整理 采写 综合 整合")  # 整合: （记者陈智 整合）, 061
# Generic extraction: a dated short block after the body (blog and forum footers, post
# footers) is a meta line when it holds one of these.
TAIL_DATE_LABELS = words("发布时间 发布日期 发表时间 发表日期 发表于 发布于 更新时间 时间 日期")
# Generic extraction: a short block after the body is a credit line when one of these is
# followed by a colon (责任编辑：X).
CREDIT_LINE_LABELS = words("责任编辑 责编 编辑 作者 记者 通讯员 来源 审核 校对 监制 采写")
# Body cleaning: the paragraph under an image is its caption when it ends with one of these
# credits (（记者 张三 摄）, X 供图) or starts with one of the lead labels and a separator
# (摄影/X, 图：X).
CAPTION_CREDIT_LABELS = words("摄 供图 摄影 图片来源")
CAPTION_LEAD_LABELS = words("摄影 图")


@dataclass(frozen=True)
class Label:
    name: str
    field: FieldName
    rank: int


def _build_labels() -> dict[str, Label]:
    labels: dict[str, Label] = {}
    for field_name, rank, names in LABEL_TABLE:
        for name in names:
            # A label listed twice keeps its first (preferred) field and rank.
            labels.setdefault(name, Label(name, field_name, rank))
    return labels


LABELS = _build_labels()

for _group in (
    GLUED_PERSON_LABELS,
    GLUED_DATE_LABELS,
    DATED_PUBLISH_LABELS,
    SLASH_LABELS,
    AUTHOR_BEFORE_LABELS,
    META_LINE_LABELS,
    META_LINE_BARE_LABELS,
    CREDIT_LINE_LABELS,
    TAIL_DATE_LABELS,
    CAPTION_CREDIT_LABELS,
    CAPTION_LEAD_LABELS,
):
    _missing = [name for name in _group if name not in LABELS]
    if _missing:
        raise ValueError(f"labels used but not in LABEL_TABLE: {', '.join(_missing)}")
