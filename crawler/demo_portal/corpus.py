"""The demo portal's articles: ground truth for tests and the page templates' input.

Everything here is a pure function of one seeded ``random.Random``: no wall clock, no hash
randomisation, no set iteration order. The templates print what this module decided, so the
expected extraction result of every page is known without running an extractor.

Decisions a consumer must know:

* ``published_at`` is ISO 8601 with ``+08:00``; at ``minute`` precision the seconds are ``00``,
  at ``day`` precision the time is local midnight.
* ``paragraphs`` are the body lines an extractor should keep, in order: ordinary paragraphs,
  subheadings and end-of-body credits such as ``（责编：张三、李四）`` exactly as printed.
  Image captions (``（记者 张三 摄）``, printed as a ``<p>`` right after the image) are NOT body
  lines: they are the ``caption`` of that image. Raw file names leaking as their own paragraph
  (``IMG_20210305_093012.jpg``) and ``&nbsp;`` spacer paragraphs belong to neither.
* ``source`` / ``editor`` / ``author`` are ``None`` when the page prints no value (an empty
  ``作者：`` label counts as no value).
"""

from __future__ import annotations

import functools
import json
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple

CITY = "唐山市"
PROVINCE = "河北省"
CANONICAL_BASE = "http://demo.wenhua.local"
CHINA_TZ = timezone(timedelta(hours=8), "CST")

SITE_CULTURE_CLOUD = "demo-culture-cloud"
SITE_TRS = "demo-trs-lubei"
SITE_HANWEB = "demo-hanweb-fengrun"
FAMILY_CULTURE_CLOUD = "culture-cloud"
FAMILY_TRS = "trs"
FAMILY_HANWEB = "hanweb"

TRS_PREFIX = "/lubei"
HANWEB_PREFIX = "/fengrun"

# One seed for the whole corpus: changing it changes every generated page and fixture.
CORPUS_SEED = 20201102

_DATA_DIR = Path(__file__).with_name("data")
_FIRST_DAY = date(2019, 1, 1)
_LAST_DAY = date(2024, 12, 31)


@dataclass(frozen=True)
class DemoImage:
    path: str  # URL path on the portal, e.g. "/upload/2020/11/new-13173/1.jpg"
    alt: str  # the alt attribute as printed ("" when empty)
    caption: str | None  # the caption paragraph printed right after the image, as printed


@dataclass(frozen=True)
class DemoArticle:
    id: int
    site: str
    family: str
    path: str
    title: str
    published_at: str
    published_precision: str  # second | minute | day
    source: str | None
    editor: str | None
    author: str | None
    district: str
    category: str
    city: str
    paragraphs: tuple[str, ...]
    images: tuple[DemoImage, ...]

    @property
    def url(self) -> str:
        return CANONICAL_BASE + self.path

    @property
    def body_text(self) -> str:
        return "\n".join(self.paragraphs)

    @property
    def published(self) -> datetime:
        return datetime.fromisoformat(self.published_at)


@dataclass(frozen=True)
class ImageSpec:
    """What to draw for an image URL. Two URLs with the same spec serve identical bytes."""

    key: str
    format: str  # JPEG | PNG
    width: int
    height: int


@dataclass(frozen=True)
class Block:
    """One printed body element, in page order.

    kind: p (paragraph), h (subheading), credit (end-of-body editor credit), img (``image`` is
    the index into the article's images), caption, leak (a raw file name), blank (``&nbsp;``).
    """

    kind: str
    text: str = ""
    image: int = -1


@dataclass(frozen=True)
class ArticleLayout:
    """How an article is printed, beyond the ground truth fields."""

    blocks: tuple[Block, ...]
    # java-gmt | java-cst (culture cloud), seconds | day (TRS), minute (Hanweb)
    date_style: str
    column: str  # the key of the article's own list (see DemoList.key)
    column_name: str
    url_date: date  # TRS prints a creation date in the URL that may precede publication


@dataclass(frozen=True)
class DemoList:
    """A paginated article list: culture-cloud (category, district), or a TRS/Hanweb column."""

    site: str
    family: str
    key: str  # culture cloud "<cat>-<district>", TRS column directory, Hanweb column id
    name: str  # the list's printed name
    category: str
    district: str  # "" for the culture cloud's city-wide lists
    articles: tuple[DemoArticle, ...]  # newest first
    page_size: int
    # Page numbers the pager prints around the current page; 0: every page of the list, as
    # the culture cloud does. A benchmark portal of 300,000 articles printing every page
    # would serve 70 kB list pages where 10,000 serve 5 kB.
    pager_window: int = 0

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(len(self.articles) / self.page_size))

    def page_articles(self, page: int) -> tuple[DemoArticle, ...]:
        start = (page - 1) * self.page_size
        return self.articles[start : start + self.page_size]

    def page_path(self, page: int) -> str:
        if self.family == FAMILY_CULTURE_CLOUD:
            return f"/list-{self.key}-{page}.html"
        if self.family == FAMILY_TRS:
            # TRS numbers the second page index_1.html
            suffix = "" if page == 1 else f"_{page - 1}"
            return f"{TRS_PREFIX}/{self.key}/index{suffix}.html"
        first = f"{HANWEB_PREFIX}/col/col{self.key}/index.html"
        return first if page == 1 else f"{first}?pageNum={page}"


@dataclass(frozen=True, eq=False)
class Corpus:
    articles: tuple[DemoArticle, ...]
    layouts: Mapping[str, ArticleLayout]  # by article path
    lists: tuple[DemoList, ...]
    images: Mapping[str, ImageSpec]  # by image path
    by_path: Mapping[str, DemoArticle]

    def column_of(self, article: DemoArticle) -> DemoList:
        """The list an article is printed in (for a culture-cloud article: its district's)."""
        key = self.layouts[article.path].column
        return next(lst for lst in self.lists if lst.site == article.site and lst.key == key)

    def start_lists(self, site: str) -> tuple[DemoList, ...]:
        """The lists a site definition starts from: together they reach every article once."""
        return tuple(
            lst for lst in self.lists if lst.site == site and lst.district and lst.articles
        )


# --- regions, categories, columns ---------------------------------------------------------

# All districts of 唐山市 with the slug the culture cloud prints in list URLs.
DISTRICTS: tuple[tuple[str, str, str], ...] = (
    # name, slug, short name used in sources such as 路南发布
    ("路南区", "lunan", "路南"),
    ("路北区", "lubei", "路北"),
    ("古冶区", "guye", "古冶"),
    ("开平区", "kaiping", "开平"),
    ("丰南区", "fengnan", "丰南"),
    ("丰润区", "fengrun", "丰润"),
    ("曹妃甸区", "caofeidian", "曹妃甸"),
    ("滦州市", "luanzhou", "滦州"),
    ("遵化市", "zunhua", "遵化"),
    ("迁安市", "qianan", "迁安"),
    ("滦南县", "luannan", "滦南"),
    ("乐亭县", "laoting", "乐亭"),
    ("迁西县", "qianxi", "迁西"),
    ("玉田县", "yutian", "玉田"),
)
DISTRICT_SLUG = {name: slug for name, slug, _ in DISTRICTS}
DISTRICT_SHORT = {name: short for name, _, short in DISTRICTS}

# The culture cloud's 13-item navigation, in the seed's order, with list URL slugs.
CC_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("信息资讯", "xxzx"),
    ("文旅直播", "wlzb"),
    ("文旅活动", "wlhd"),
    ("场馆预订", "cgyd"),
    ("文化e课", "whek"),
    ("文旅品牌", "wlpp"),
    ("遗产保护", "ycbh"),
    ("文化团队", "whtd"),
    ("活动信息", "hdxx"),
    ("艺术培训", "yspx"),
    ("艺术演出", "ysyc"),
    ("艺术展览", "yszl"),
    ("百强示范点", "bqsfd"),
)
CC_CATEGORY_SLUG = dict(CC_CATEGORIES)

# Generated culture-cloud articles: districts and categories with relative weights.
_CC_DISTRICTS = (
    ("路南区", 4.0),
    ("古冶区", 1.5),
    ("开平区", 1.5),
    ("丰南区", 2.0),
    ("迁安市", 2.0),
)
_CC_CATS = (("信息资讯", 5.0), ("文旅活动", 2.5), ("遗产保护", 1.5), ("艺术展览", 1.5))
_CC_COUNT = 213  # plus the seed article
CC_PAGE_SIZE = 15


class Column(NamedTuple):
    key: str  # the column's directory (TRS) or id (Hanweb) in its URLs
    name: str  # as the site prints it
    category: str
    article_count: int  # how many the corpus generates in it


@dataclass(frozen=True)
class ColumnSite:
    """A district site organised in columns (TRS, Hanweb): its district, columns, page size."""

    site: str
    family: str
    district: str
    columns: tuple[Column, ...]
    page_size: int


# The district sites' columns, in their navigation order.
_COLUMNS: dict[str, tuple[Column, ...]] = {
    SITE_TRS: (
        Column("wlzx", "文旅资讯", "信息资讯", 46),
        Column("whhd", "文化活动", "文旅活动", 27),
        Column("fybh", "非遗保护", "遗产保护", 15),
    ),
    SITE_HANWEB: (
        Column("1661", "文旅动态", "信息资讯", 38),
        Column("1662", "文化活动", "文旅活动", 22),
        Column("1665", "文物和非遗", "遗产保护", 14),
    ),
}
TRS = ColumnSite(SITE_TRS, FAMILY_TRS, "路北区", _COLUMNS[SITE_TRS], page_size=20)
HANWEB = ColumnSite(SITE_HANWEB, FAMILY_HANWEB, "丰润区", _COLUMNS[SITE_HANWEB], page_size=12)

# --- phrase banks ------------------------------------------------------------------------
# Slots: d district, ds short district, town, venue, org, lvl (区级/县级), date (M月D日),
# year, month, month2, day2, festival, heritage, theme, troupe, school, piece, opera, season,
# founded, nth, name, n1 n1b n2 n2b n3 n3b n4 (numbers of different magnitudes).

_TOPICS: dict[str, tuple[tuple[str, str], ...]] = {
    "信息资讯": (
        (
            "{d}召开{year}年公共文化服务工作推进会",
            "{date}，{d}召开{year}年公共文化服务工作推进会，{org}主要负责同志和各街道（乡镇）"
            "综合文化站站长参加会议。会议总结了上一阶段工作，对全年重点任务进行了安排部署。",
        ),
        (
            "{d}图书馆总分馆制建设取得新进展",
            "近日，{d}图书馆总分馆制建设取得新进展，新建成的{town}分馆正式对外开放，"
            "首批配送图书{n3}册，实现与总馆统一采编、通借通还。",
        ),
        (
            "{d}{n1}个综合文化站完成提档升级",
            "记者从{org}获悉，截至{month}月底，{d}{n1}个街道（乡镇）综合文化站提档升级工程全部完成，"
            "站内多功能活动室、图书阅览室、文体活动广场实现标准化配置。",
        ),
        (
            "{d}开展文化市场安全生产专项检查",
            "为切实做好文化市场安全生产工作，{date}起，{org}组织综合执法人员对辖区内网吧、"
            "歌舞娱乐场所、剧本娱乐经营场所开展专项检查，共出动执法人员{n2}人次，"
            "检查经营场所{n2b}家次。",
        ),
        (
            "{d}农家书屋数字化改造惠及{n2}个行政村",
            "今年以来，{d}扎实推进农家书屋数字化改造工作，为{n2}个行政村农家书屋配备电子阅读设备，"
            "村民在家门口就能读到数字图书和期刊。",
        ),
        (
            "{d}文化志愿服务队伍不断壮大",
            "截至目前，{d}已注册文化志愿者{n3}名，组建文化志愿服务队{n2}支，"
            "常态化开展文艺演出、阅读推广、艺术辅导等志愿服务活动。",
        ),
        (
            "{d}公共文化场馆实行错时延时开放",
            "为更好满足群众夜间和节假日文化需求，自{date}起，{d}文化馆、图书馆及各综合文化站"
            "全面实行错时延时开放，每周开放时间不少于{n1b}小时。",
        ),
        (
            "{d}召开文化和旅游融合发展座谈会",
            "{date}，{d}召开文化和旅游融合发展座谈会，{org}、文旅企业代表及部分乡镇负责同志"
            "围绕文旅资源整合、精品线路打造等议题交流发言。",
        ),
        (
            "{town}综合文化服务中心成为群众“文化客厅”",
            "走进{d}{town}综合文化服务中心，阅览室里书香浓郁，排练厅内歌声阵阵，"
            "这里已成为周边群众休闲娱乐、学习交流的“文化客厅”。",
        ),
        (
            "{d}“城市书房”在{town}正式对外开放",
            "{date}，位于{d}{town}的“城市书房”正式对外开放。书房面积约{n4}平方米，"
            "藏书{n3}册，实行全天候自助借阅。",
        ),
    ),
    "文旅活动": (
        (
            "{d}举办{year}年“我们的节日·{festival}”群众文化活动",
            "{date}，{d}{year}年“我们的节日·{festival}”群众文化活动在{venue}举行，"
            "{n2}余名群众走进现场，共同感受传统节日的文化魅力。",
        ),
        (
            "{d}第{nth}届群众文化艺术节开幕",
            "{date}晚，{d}第{nth}届群众文化艺术节在{venue}开幕。本届艺术节以“{theme}”为主题，"
            "将持续至{month2}月底。",
        ),
        (
            "“文化进万家”文艺演出走进{d}{town}",
            "{date}，由{org}主办的“文化进万家”文艺演出走进{d}{town}，"
            "为当地群众送上了一台精彩纷呈的文化大餐。",
        ),
        (
            "{d}{year}年全民阅读季系列活动启动",
            "{date}，{d}{year}年全民阅读季系列活动在{venue}启动。活动期间将陆续开展读书分享会、"
            "亲子阅读、经典诵读等{n1}项主题活动。",
        ),
        (
            "{d}广场舞展演活动在{town}精彩上演",
            "{date}，{d}广场舞展演活动在{town}文化广场举行，来自各街道（乡镇）的{n1}支代表队"
            "同台竞技，展现了群众昂扬向上的精神风貌。",
        ),
        (
            "{d}文化馆{season}公益艺术培训班开班",
            "{date}，{d}文化馆{season}公益艺术培训班正式开班，共开设声乐、舞蹈、书法、国画、"
            "葫芦丝等{n1}个班次，招收学员{n3b}余人。",
        ),
        (
            "{troupe}送戏下乡走进{town}",
            "{date}，{troupe}来到{d}{town}，开展送戏下乡惠民演出，评剧选段、快板书、"
            "歌舞表演轮番登场，台下观众掌声不断。",
        ),
        (
            "{d}举办{year}年少儿才艺展演活动",
            "{date}，{d}少儿才艺展演活动在{venue}举行，{n2}名小演员通过舞蹈、器乐、"
            "朗诵等形式展示才艺。",
        ),
    ),
    "遗产保护": (
        (
            "{heritage}传承人走进{school}",
            "{date}，{d}{heritage}代表性传承人{name}走进{school}，为师生带来一堂生动的非遗体验课。",
        ),
        (
            "{d}开展{year}年“文化和自然遗产日”宣传展示活动",
            "{date}，{d}“文化和自然遗产日”宣传展示活动在{venue}举行，{heritage}、剪纸、"
            "面塑等{n1}个非遗项目集中亮相。",
        ),
        (
            "{d}公布第{nth}批{lvl}非物质文化遗产代表性项目名录",
            "近日，{d}人民政府公布第{nth}批{lvl}非物质文化遗产代表性项目名录，"
            "{heritage}等{n1}个项目入选。",
        ),
        (
            "{heritage}保护传承工作座谈会在{d}召开",
            "{date}，{heritage}保护传承工作座谈会在{d}召开，非遗传承人、研究人员和文化工作者"
            "围绕项目保护与活态传承展开深入交流。",
        ),
        (
            "{d}非遗展示馆推出{heritage}专题展",
            "{date}，{d}非遗展示馆推出{heritage}专题展，通过实物、图片和影像资料，"
            "系统展示这一项目的历史渊源和技艺特点。",
        ),
        (
            "{d}开展{season}文物安全巡查",
            "为切实加强文物安全管理，{date}起，{org}组织人员对辖区内各级文物保护单位开展安全巡查，"
            "重点检查消防设施、安防设备和日常管理制度落实情况。",
        ),
        (
            "{d}启动{heritage}数字化记录工程",
            "{date}，{d}非遗项目数字化记录工程正式启动，首批将对{heritage}等{n1}个项目"
            "进行影像采集和资料整理。",
        ),
    ),
    "艺术展览": (
        (
            "“{theme}”书画摄影作品展在{d}文化馆开展",
            "{date}，“{theme}”书画摄影作品展在{d}文化馆开展，展出书法、国画、摄影作品{n2}余幅。",
        ),
        (
            "{d}{year}年青少年书法美术作品展开幕",
            "{date}，{d}青少年书法美术作品展在{venue}开幕，共展出全区中小学生优秀作品{n2}件。",
        ),
        (
            "{d}举办{heritage}艺术作品展",
            "{date}，{d}{heritage}艺术作品展在{venue}开展，集中展示了近年来传承人和爱好者"
            "创作的精品力作。",
        ),
        (
            "“{theme}”主题美术作品展在{venue}举办",
            "{date}，“{theme}”主题美术作品展在{venue}举办，展览共分三个单元，"
            "展出油画、水彩、版画等作品{n2}件。",
        ),
        (
            "{d}文化馆举办“{theme}”摄影艺术展",
            "{date}，{d}文化馆“{theme}”摄影艺术展正式开展，{n2}幅摄影作品从不同角度记录了"
            "{ds}城乡面貌的发展变化。",
        ),
        (
            "{d}农民画作品展在{town}开展",
            "{date}，{d}农民画作品展在{town}综合文化站开展，{n2}幅作品色彩明快、构图质朴，"
            "生动描绘了乡村生活场景。",
        ),
    ),
}

_COMMON_SENTENCES = (
    "活动现场气氛热烈，群众纷纷表示，家门口的文化活动丰富了业余生活，增强了幸福感和获得感。",
    "近年来，{d}坚持以人民为中心的发展思想，持续加大公共文化投入，不断完善公共文化服务网络。",
    "{org}相关负责人表示，将以此为契机，进一步创新服务方式，推动优质文化资源向基层延伸。",
    "据了解，{d}已建成区、街道（乡镇）、村（社区）三级公共文化服务网络，基本实现全覆盖。",
    "活动由{org}主办，{venue}承办，{town}综合文化站协办。",
    "参与活动的市民{name}说：“这样的活动很接地气，我们老百姓特别喜欢。”",
    "活动期间，工作人员还向群众发放宣传资料{n3b}余份，现场解答群众咨询。",
    "今年以来，{d}共组织开展各类群众文化活动{n4}余场，惠及群众{n3}余人次。",
    "为确保活动顺利开展，主办方提前制定工作方案，细化任务分工，做好安全保障。",
    "{d}还依托微信公众号、数字文化馆等平台，开展线上培训、线上展览和线上讲座。",
)

_CATEGORY_SENTENCES: dict[str, tuple[str, ...]] = {
    "信息资讯": (
        "会议要求，各单位要进一步提高思想认识，压实工作责任，确保各项任务按时完成。",
        "会上，各街道（乡镇）分别汇报了综合文化站建设和运行情况，并就存在的问题进行了交流。",
        "在硬件建设方面，{d}累计投入资金{n2}万元，完成{n1}个文化场馆的改造提升。",
        "在服务供给方面，{d}推行“菜单式”“订单式”服务，群众点单、文化馆接单，实现供需精准对接。",
        "目前，{d}共有综合文化站{n1}个、村（社区）综合文化服务中心{n4}个，公共文化设施网络更加健全。",
        "检查中，执法人员对发现的问题当场提出整改意见，并要求限期整改到位。",
        "据介绍，分馆实行统一标识、统一采购、统一编目、统一服务标准，有效提升了基层图书馆的服务能力。",
        "针对群众反映的问题，{org}建立问题清单，逐项推动解决。",
        "{d}还将公共文化服务纳入年度绩效考核，形成了一级抓一级、层层抓落实的工作格局。",
        "书房内设有少儿阅读区、成人阅读区和自修区，配备自助借还机和电子阅报屏。",
    ),
    "文旅活动": (
        "演出在开场舞《{piece}》中拉开帷幕，随后，歌曲、舞蹈、戏曲、小品等节目轮番上演。",
        "评剧选段《{opera}》唱腔优美、韵味十足，赢得台下观众阵阵掌声。",
        "现场还设置了猜灯谜、书法展示、非遗手工体验等互动环节，吸引众多市民参与。",
        "节目全部由基层文艺骨干自编自演，内容贴近生活，形式新颖活泼。",
        "活动将持续至{month2}月，其间还将举办合唱比赛、戏曲票友大赛和摄影比赛等系列活动。",
        "孩子们在家长的陪伴下认真聆听、积极互动，现场书香满溢、其乐融融。",
        "培训班全部免费，由文化馆专业老师和优秀文艺骨干授课。",
        "参赛队伍服装整齐、动作协调，充分展示了基层群众文化活动的丰硕成果。",
        "为方便群众观看，此次活动还通过网络平台同步直播，线上观看量达{n3}人次。",
        "{troupe}成立于{founded}年，常年活跃在城乡基层，每年开展演出{n2}余场。",
    ),
    "遗产保护": (
        "{heritage}历史悠久、特色鲜明，是冀东地区具有代表性的非物质文化遗产项目。",
        "课堂上，传承人从项目起源、表演形式、制作工艺等方面进行讲解，并现场示范。",
        "同学们在传承人指导下亲手体验，感受传统技艺的独特魅力。",
        "近年来，{d}通过建立传承基地、开展进校园活动、举办专题展览等方式，推动非遗项目活态传承。",
        "目前，{d}共有各级非物质文化遗产代表性项目{n2}项，代表性传承人{n2b}名。",
        "与会人员建议，要加强对传承人的扶持力度，做好传承梯队建设，让非遗后继有人。",
        "展示现场，传承人现场制作、现场讲解，不少市民驻足观看、拍照留念。",
        "此次巡查共检查文物保护单位{n1}处，对发现的隐患逐一登记，并督促管理使用单位及时整改。",
        "{d}将把非遗保护与乡村振兴、文旅融合结合起来，推动非遗更好地融入现代生活。",
        "数字化记录工作将采用文字、录音、录像等多种方式，全面留存项目的技艺流程和传承脉络。",
    ),
    "艺术展览": (
        "此次展出的作品题材丰富、风格多样，既有传统笔墨，也有现代表现手法。",
        "作品以饱满的热情讴歌新时代，描绘家乡的发展变化和人民群众的幸福生活。",
        "展览期间，{venue}每天9:00至17:00免费向公众开放，周一闭馆。",
        "开幕式后，部分书画家现场挥毫泼墨，与观众交流创作心得。",
        "不少观众在作品前驻足欣赏，有的还用手机记录下自己喜爱的作品。",
        "本次展览共收到投稿作品{n4}余件，经专家评审，最终遴选出{n2}件作品参展。",
        "展览将持续至{month2}月{day2}日，随后将在各街道（乡镇）综合文化站进行巡展。",
        "参展作者中既有知名书画家，也有基层文艺爱好者和在校学生。",
        "{ds}美术家协会相关负责人表示，展览为本土艺术家搭建了展示交流的平台。",
    ),
}

_CLOSINGS = (
    "下一步，{d}将继续深化公共文化服务体系建设，让更多群众共享文化发展成果。",
    "此次活动的举办，进一步营造了健康向上的社会文化氛围，受到社会各界广泛好评。",
    "{d}将把这项工作作为常态化惠民举措，持续推动文化服务提质增效。",
    "据悉，{org}还将陆续推出系列惠民举措，进一步丰富群众精神文化生活。",
)

_SUBHEADINGS = (
    "强化组织领导",
    "完善设施网络",
    "丰富服务供给",
    "创新活动形式",
    "突出特色引领",
    "注重活态传承",
    "扩大社会参与",
    "提升服务效能",
)

_TOWNS = {
    "路南区": ("学院南路街道", "友谊街道", "广场街道", "永红桥街道", "小山街道", "女织寨乡"),
    "路北区": ("乔屯街道", "文化路街道", "钓鱼台街道", "东新村街道", "机场路街道", "河北路街道"),
    "古冶区": ("林西街道", "唐家庄街道", "赵各庄街道", "京华街道", "范各庄镇", "卑家店镇"),
    "开平区": ("开平街道", "马家沟街道", "税务庄街道", "越河镇", "双桥镇", "栗园镇"),
    "丰南区": ("胥各庄街道", "稻地镇", "小集镇", "黄各庄镇", "西葛镇", "钱营镇"),
    "丰润区": ("太平路街道", "燕山路街道", "丰润镇", "任各庄镇", "左家坞镇", "泉河头镇"),
    "迁安市": ("永顺街道", "兴安街道", "滨河街道", "夏官营镇", "杨店子镇", "建昌营镇"),
}
_HERITAGE = (
    "唐山皮影戏",
    "评剧",
    "乐亭大鼓",
    "冀东地秧歌",
    "唐山陶瓷烧制技艺",
    "冀东剪纸",
    "传统面塑",
    "民间吹歌",
    "高跷秧歌",
)
_THEMES = (
    "翰墨丹青颂盛世",
    "美丽乡村",
    "唐山印象",
    "冀东风韵",
    "光影记忆",
    "城市新颜",
    "丹青绘家乡",
)
_PIECES = ("盛世欢歌", "美丽家园", "幸福舞起来", "欢乐中国年", "大地飞歌")
_OPERAS = ("花为媒", "杨三姐告状", "刘巧儿", "秦香莲", "小二黑结婚")
_NTH = ("二", "三", "四", "五", "六", "七", "八", "九", "十")
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
_GIVEN = (
    "瑶", "宁", "磊", "静", "洋", "敏", "超", "丽", "军", "晓东", "海燕", "建华", "志强", "雪",
    "鹏", "婷", "晨", "雨萱", "思远", "立新", "春梅", "文博", "佳琪", "宏伟", "秀英", "子涵",
)  # fmt: skip

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def java_date(dt: datetime, zone: str = "GMT+08:00") -> str:
    """``java.util.Date.toString()``: ``Mon Nov 02 11:20:24 GMT+08:00 2020`` (English, padded)."""
    return (
        f"{_WEEKDAYS[dt.weekday()]} {_MONTHS[dt.month - 1]} {dt.day:02d} "
        f"{dt:%H:%M:%S} {zone} {dt.year}"
    )


# --- generation --------------------------------------------------------------------------


@functools.cache
def corpus() -> Corpus:
    """The corpus, built once per process."""
    return generate()


def build_corpus() -> tuple[DemoArticle, ...]:
    """All articles, deterministic (cached)."""
    return corpus().articles


def generate() -> Corpus:
    """Build the corpus from scratch (uncached; tests call it to prove determinism)."""
    return _Generator(random.Random(CORPUS_SEED)).run()


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)


class _Generator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.articles: list[DemoArticle] = []
        self.layouts: dict[str, ArticleLayout] = {}
        self.images: dict[str, ImageSpec] = {}
        # Specs of generated (non-seed) images, so a later article can reprint one.
        self.shareable: list[ImageSpec] = []
        self.titles: set[str] = set()

    def run(self) -> Corpus:
        self._seed_article()
        self._culture_cloud()
        self._trs()
        self._hanweb()
        articles = tuple(self.articles)
        return Corpus(
            articles=articles,
            layouts=self.layouts,
            lists=_lists(articles, self.layouts),
            images=self.images,
            by_path={a.path: a for a in articles},
        )

    # -- dates --

    def _moments(self, count: int, hours: tuple[int, int] = (8, 21)) -> list[datetime]:
        days = (_LAST_DAY - _FIRST_DAY).days + 1
        out = []
        for _ in range(count):
            day = _FIRST_DAY + timedelta(days=self.rng.randrange(days))
            out.append(
                datetime(
                    day.year,
                    day.month,
                    day.day,
                    self.rng.randint(*hours),
                    self.rng.randrange(60),
                    self.rng.randrange(60),
                    tzinfo=CHINA_TZ,
                )
            )
        out.sort()
        return out

    # -- the seed --

    def _seed_article(self) -> None:
        raw: dict[str, Any] = json.loads(
            (_DATA_DIR / "seed_article.json").read_text(encoding="utf-8")
        )
        published = datetime.fromisoformat(raw["published_at"])
        folder = f"/upload/{published:%Y/%m}/new-{raw['id']}"
        blocks: list[Block] = []
        images: list[DemoImage] = []
        for item in raw["blocks"]:
            kind = item["type"]
            if kind == "image":
                name = item["name"]
                path = f"{folder}/{name}"
                # Distinct keys: the seed's nine photos are nine different pictures.
                self.images[path] = ImageSpec(f"seed:{raw['id']}:{name}", "JPEG", 600, 400)
                blocks.append(Block("img", image=len(images)))
                images.append(DemoImage(path, name, None))
            elif kind == "blank":
                blocks.append(Block("blank"))
            else:
                blocks.append(Block("h" if kind == "subheading" else "p", item["text"]))
        self._add(
            DemoArticle(
                id=raw["id"],
                site=SITE_CULTURE_CLOUD,
                family=FAMILY_CULTURE_CLOUD,
                path=raw["path"],
                title=raw["title"],
                published_at=published.isoformat(),
                published_precision="second",
                source=raw["source"],
                editor=raw["editor"],
                author=None,
                district=raw["district"],
                category=raw["category"],
                city=raw["city"],
                paragraphs=_paragraphs(blocks),
                images=tuple(images),
            ),
            ArticleLayout(
                tuple(blocks),
                "java-gmt",
                f"{CC_CATEGORY_SLUG[raw['category']]}-{DISTRICT_SLUG[raw['district']]}",
                raw["category"],
                published.date(),
            ),
        )

    # -- culture cloud --

    def _culture_cloud(self) -> None:
        rng = self.rng
        combos = [(c, d) for c, _ in _CC_CATS for d, _ in _CC_DISTRICTS]
        # Every (category, district) list gets at least one article; the rest follow weights.
        picks = list(combos)
        while len(picks) < _CC_COUNT:
            cat = rng.choices([c for c, _ in _CC_CATS], [w for _, w in _CC_CATS])[0]
            dist = rng.choices([d for d, _ in _CC_DISTRICTS], [w for _, w in _CC_DISTRICTS])[0]
            picks.append((cat, dist))
        rng.shuffle(picks)
        last_id = 9000
        for moment, (category, district) in zip(self._moments(_CC_COUNT), picks, strict=True):
            # Ids grow with time, like an auto-increment column; 13173 belongs to the seed.
            day = (moment.date() - _FIRST_DAY).days
            art_id = max(last_id + 1, 9000 + day * 6 + rng.randrange(3))
            if art_id == 13173:
                art_id += 1
            last_id = art_id
            cst = rng.random() < 0.12
            text = self._compose(category, district, moment)
            editor = _person(rng)
            blocks = self._body_blocks(text)
            images = self._place_images(
                blocks, FAMILY_CULTURE_CLOUD, f"/upload/{moment:%Y/%m}/new-{art_id}", "",
                text.title, key=f"cc:{art_id}", leak_rate=0.08,
            )  # fmt: skip
            if rng.random() < 0.1:
                # End-of-body credit, after any picture, as the editors print it.
                helpers = "、".join([editor, _person(rng)][: rng.randint(1, 2)])
                blocks.append(Block("credit", f"（责编：{helpers}）"))
            if rng.random() < 0.3 and images:
                # Some editors leave &nbsp; spacer paragraphs around pictures, as the seed does.
                blocks = _with_spacers(blocks)
            source = rng.choice(
                (
                    f"{DISTRICT_SHORT[district]}发布",
                    f"{district}文化广电和旅游局",
                    "唐山文化云",
                    "唐山劳动日报",
                    f"{district}文化馆",
                    f"{district}融媒体中心",
                )
            )
            self._add(
                DemoArticle(
                    id=art_id,
                    site=SITE_CULTURE_CLOUD,
                    family=FAMILY_CULTURE_CLOUD,
                    path=f"/new-{art_id}.html",
                    title=text.title,
                    published_at=moment.isoformat(),
                    published_precision="second",
                    source=source,
                    editor=editor,
                    author=None,
                    district=district,
                    category=category,
                    city=CITY,
                    paragraphs=_paragraphs(blocks),
                    images=images,
                ),
                ArticleLayout(
                    tuple(blocks),
                    "java-cst" if cst else "java-gmt",
                    f"{CC_CATEGORY_SLUG[category]}-{DISTRICT_SLUG[district]}",
                    category,
                    moment.date(),
                ),
            )

    # -- TRS --

    def _trs(self) -> None:
        rng = self.rng
        draws = self._column_draws(TRS, 512000, 3, 40)
        for art_id, moment, column in draws:
            day_only = rng.random() < 0.1
            published = moment.replace(hour=0, minute=0, second=0) if day_only else moment
            # The URL carries the draft's creation date: usually the publication day, not always.
            url_day = moment.date() - timedelta(days=rng.choice((0,) * 8 + (1, 3)))
            folder = f"{TRS_PREFIX}/{column.key}/{url_day:%Y%m}"
            text = self._compose(column.category, TRS.district, moment)
            blocks = self._body_blocks(text)
            images = self._place_images(
                blocks, FAMILY_TRS, folder, f"W0{url_day:%Y%m%d}", text.title, key=f"trs:{art_id}"
            )
            author = _person(rng) if rng.random() < 0.75 else None
            source = rng.choice(
                ("路北区文化广电和旅游局", "路北区融媒体中心", "唐山晚报", "路北区文化馆", "本站")
            )
            styles = ("day", "day") if day_only else ("second", "seconds")
            self._add_column_article(
                TRS, column, art_id, f"{folder}/t{url_day:%Y%m%d}_{art_id}.html",
                text, blocks, images, published, styles,
                source=source, author=author, url_day=url_day,
            )  # fmt: skip

    # -- Hanweb --

    def _hanweb(self) -> None:
        rng = self.rng
        draws = self._column_draws(HANWEB, 1538000, 5, 90)
        for art_id, moment, column in draws:
            published = moment.replace(second=0)
            text = self._compose(column.category, HANWEB.district, moment)
            blocks = self._body_blocks(text)
            images = self._place_images(
                blocks, FAMILY_HANWEB, f"{HANWEB_PREFIX}/picture/0", f"{moment:%y%m%d%H%M}",
                text.title, key=f"hanweb:{art_id}", leak_rate=0.08,
            )  # fmt: skip
            source = rng.choice(
                ("丰润区文化广电和旅游局", "丰润区融媒体中心", "丰润区文化馆", "唐山劳动日报")
            )
            path = (
                f"{HANWEB_PREFIX}/art/{moment.year}/{moment.month}/{moment.day}"
                f"/art_{column.key}_{art_id}.html"
            )
            self._add_column_article(
                HANWEB, column, art_id, path, text, blocks, images, published, ("minute", "minute"),
                source=source, author=None, url_day=moment.date(),
            )  # fmt: skip

    # -- shared pieces --

    def _column_draws(
        self, site: ColumnSite, art_id: int, gap_min: int, gap_max: int
    ) -> Iterator[tuple[int, datetime, Column]]:
        """(id, moment, column) of each article of a column site, in id order: ids grow by a
        random gap, as a CMS's do when other columns publish in between."""
        columns = [col for col in site.columns for _ in range(col.article_count)]
        self.rng.shuffle(columns)
        for moment, column in zip(self._moments(len(columns)), columns, strict=True):
            art_id += self.rng.randint(gap_min, gap_max)
            yield art_id, moment, column

    def _add_column_article(
        self,
        site: ColumnSite,
        column: Column,
        art_id: int,
        path: str,
        text: _Text,
        blocks: list[Block],
        images: tuple[DemoImage, ...],
        published: datetime,
        styles: tuple[str, str],
        *,
        source: str,
        author: str | None,
        url_day: date,
    ) -> None:
        """An article of a column site (TRS, Hanweb) in its column; `styles` is its
        published_precision and its layout's date_style. Its editor is drawn last."""
        precision, date_style = styles
        self._add(
            DemoArticle(
                id=art_id,
                site=site.site,
                family=site.family,
                path=path,
                title=text.title,
                published_at=published.isoformat(),
                published_precision=precision,
                source=source,
                editor=_person(self.rng),
                author=author,
                district=site.district,
                category=column.category,
                city=CITY,
                paragraphs=_paragraphs(blocks),
                images=images,
            ),
            ArticleLayout(tuple(blocks), date_style, column.key, column.name, url_day),
        )

    def _add(self, article: DemoArticle, layout: ArticleLayout) -> None:
        self.articles.append(article)
        self.layouts[article.path] = layout
        self.titles.add(article.title)

    def _compose(self, category: str, district: str, moment: datetime) -> _Text:
        rng = self.rng
        slots = self._slots(district, moment)
        # Retry a few times so titles stay unique: lists and dedup tests read better that way.
        for _ in range(40):
            title_t, opening_t = rng.choice(_TOPICS[category])
            title = title_t.format(**slots)
            if title not in self.titles:
                break
            slots = self._slots(district, moment)
        pool = list(_CATEGORY_SENTENCES[category] + _COMMON_SENTENCES)
        rng.shuffle(pool)
        count = rng.randint(3, 8)
        paragraphs = [opening_t.format(**slots)]

        def sentence(template: str) -> str:
            # Fresh figures per sentence (the title and opening share theirs), so one article
            # does not report 669 trainees and 669 leaflets.
            return template.format(**{**slots, **self._numbers()})

        if rng.random() < 0.5 and pool:
            paragraphs[0] += sentence(pool.pop())
        for _ in range(count - 2):
            take = min(rng.randint(1, 3), len(pool))
            if take == 0:
                break
            paragraphs.append("".join(sentence(pool.pop()) for _ in range(take)))
        paragraphs.append(sentence(rng.choice(_CLOSINGS)))
        subheads: dict[int, str] = {}
        if len(paragraphs) >= 5 and rng.random() < 0.2:
            heads = rng.sample(_SUBHEADINGS, 2)
            subheads = {1: heads[0], len(paragraphs) // 2 + 1: heads[1]}
        return _Text(title, tuple(paragraphs), subheads)

    def _slots(self, district: str, moment: datetime) -> dict[str, object]:
        rng = self.rng
        towns = _TOWNS[district]
        town = rng.choice(towns)
        month = moment.month
        festival_by_month = {
            1: "春节", 2: "元宵节", 4: "清明节", 5: "端午节", 6: "端午节",
            8: "七夕", 9: "中秋节", 10: "重阳节",
        }  # fmt: skip
        festival = festival_by_month.get(month) or rng.choice(("春节", "中秋节", "重阳节"))
        season = ("冬季", "春季", "春季", "春季", "夏季", "夏季", "夏季", "秋季", "秋季", "秋季",
                  "冬季", "冬季")[month - 1]  # fmt: skip
        short = DISTRICT_SHORT[district]
        return {
            "d": district,
            "ds": short,
            "town": town,
            "venue": rng.choice(
                (
                    f"{district}文化馆",
                    f"{district}图书馆",
                    f"{town}综合文化站",
                    f"{district}文化艺术中心",
                    f"{short}市民广场",
                )
            ),
            "org": f"{district}文化广电和旅游局",
            "lvl": "区级" if district.endswith("区") else "县级",
            "date": f"{month}月{moment.day}日",
            "year": moment.year,
            "month": month,
            "month2": month % 12 + 1,
            "day2": rng.randint(10, 28),
            "festival": festival,
            "heritage": rng.choice(_HERITAGE),
            "theme": rng.choice(_THEMES),
            "troupe": rng.choice(
                (
                    f"{district}评剧团",
                    f"{town}秧歌队",
                    f"{district}文化馆艺术团",
                    "文化志愿者小分队",
                )
            ),
            "school": rng.choice((f"{district}实验小学", f"{short}第一中学", f"{town}中心小学")),
            "piece": rng.choice(_PIECES),
            "opera": rng.choice(_OPERAS),
            "season": season,
            "founded": rng.randint(1985, 2015),
            "nth": rng.choice(_NTH),
            "name": _person(rng),
            **self._numbers(),
        }

    def _numbers(self) -> dict[str, int]:
        rng = self.rng
        return {
            "n1": rng.randint(3, 15),
            "n1b": rng.randint(40, 70),
            "n2": rng.randint(20, 150),
            "n2b": rng.randint(10, 80),
            "n3": rng.randint(1000, 20000),
            "n3b": rng.randint(100, 900),
            "n4": rng.randint(100, 600),
        }

    def _body_blocks(self, text: _Text) -> list[Block]:
        blocks: list[Block] = []
        for i, para in enumerate(text.paragraphs):
            if i in text.subheads:
                blocks.append(Block("h", text.subheads[i]))
            blocks.append(Block("p", para))
        return blocks

    def _place_images(
        self,
        blocks: list[Block],
        family: str,
        folder: str,
        stamp: str,
        title: str,
        key: str,
        leak_rate: float = 0.0,
    ) -> tuple[DemoImage, ...]:
        """Insert 0-4 images after random paragraphs (never before the first), in place.

        File names follow the family: the culture cloud numbers them 1.jpg, 2.jpg…; TRS and
        Hanweb print ``stamp`` (a date) followed by random digits.
        """
        rng = self.rng
        count = rng.choices((0, 1, 2, 3, 4), (2, 3, 3, 2, 1))[0]
        slots = sorted(rng.sample(range(1, len(blocks) + 1), min(count, len(blocks))))
        leak_at = rng.randrange(len(slots)) if slots and rng.random() < leak_rate else -1
        images: list[DemoImage] = []
        for n in range(1, len(slots) + 1):
            if self.shareable and rng.random() < 0.03:
                # A photo reprinted by another article: same bytes, a URL of its own.
                spec = rng.choice(self.shareable)
            else:
                fmt = "PNG" if rng.random() < 0.1 else "JPEG"
                width, height = rng.choice(((480, 320), (600, 400), (400, 300), (320, 480)))
                spec = ImageSpec(f"{key}:{n}", fmt, width, height)
                self.shareable.append(spec)
            ext = "png" if spec.format == "PNG" else "jpg"
            if family == FAMILY_CULTURE_CLOUD:
                name = f"{n}.{ext}"
            else:
                digits = 12 if family == FAMILY_TRS else 9
                name = f"{stamp}{rng.randrange(10 ** (digits - 1), 10**digits)}.{ext}"
            path = f"{folder}/{name}"
            self.images[path] = spec
            caption = None
            if rng.random() < 0.3:
                caption = rng.choice(
                    ("（记者 {} 摄）", "（{} 摄）", "{} 摄", "（通讯员 {} 供图）")
                ).format(_person(rng))
            if family == FAMILY_CULTURE_CLOUD:
                alt = name  # the platform copies the file name into alt and title
            elif family == FAMILY_HANWEB and rng.random() < 0.3:
                alt = title  # Hanweb's editor fills alt with the title when asked to
            else:
                alt = ""
            images.append(DemoImage(path, alt, caption))
        # Insert from the end so earlier slot positions stay valid.
        for index in reversed(range(len(slots))):
            extra: list[Block] = [Block("img", image=index)]
            if images[index].caption:
                extra.append(Block("caption", images[index].caption or ""))
            if index == leak_at:
                extra.append(Block("leak", self._leaked_name()))
            blocks[slots[index] : slots[index]] = extra
        return tuple(images)

    def _leaked_name(self) -> str:
        rng = self.rng
        stamp = f"{rng.randint(2019, 2024)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        clock = f"{rng.randint(8, 20):02d}{rng.randrange(60):02d}{rng.randrange(60):02d}"
        return rng.choice(
            (
                f"微信图片_{stamp}{clock}.jpg",
                f"IMG_{stamp}_{clock}.jpg",
                f"{rng.getrandbits(128):032x}.jpg",
                f"DSC0{rng.randint(1000, 9999)}.JPG",
            )
        )


@dataclass(frozen=True)
class _Text:
    title: str
    paragraphs: tuple[str, ...]
    subheads: Mapping[int, str]  # paragraph index -> subheading printed before it


def _paragraphs(blocks: list[Block]) -> tuple[str, ...]:
    return tuple(b.text for b in blocks if b.kind in ("p", "h", "credit"))


def _with_spacers(blocks: list[Block]) -> list[Block]:
    out: list[Block] = []
    for block in blocks:
        out.append(block)
        if block.kind in ("img", "caption", "leak"):
            continue
        if out[-2:-1] and out[-2].kind in ("img", "caption", "leak"):
            out.insert(len(out) - 1, Block("blank"))
    return out


def _lists(
    articles: tuple[DemoArticle, ...], layouts: Mapping[str, ArticleLayout]
) -> tuple[DemoList, ...]:
    def newest_first(items: list[DemoArticle]) -> tuple[DemoArticle, ...]:
        return tuple(sorted(items, key=lambda a: (a.published_at, a.id), reverse=True))

    out: list[DemoList] = []
    cc = [a for a in articles if a.family == FAMILY_CULTURE_CLOUD]
    # The culture cloud answers every (category, district) pair, empty or not, plus a
    # city-wide list per category ("all") that its home-page navigation points to.
    for category, cat_slug in CC_CATEGORIES:
        for district, dist_slug in [("", "all"), *((d, s) for d, s, _ in DISTRICTS)]:
            members = [a for a in cc if a.category == category and district in ("", a.district)]
            out.append(
                DemoList(
                    site=SITE_CULTURE_CLOUD,
                    family=FAMILY_CULTURE_CLOUD,
                    key=f"{cat_slug}-{dist_slug}",
                    name=category,
                    category=category,
                    district=district,
                    articles=newest_first(members),
                    page_size=CC_PAGE_SIZE,
                )
            )
    for site in (TRS, HANWEB):
        for key, name, category, _ in site.columns:
            members = [a for a in articles if a.site == site.site and layouts[a.path].column == key]
            out.append(
                DemoList(
                    site.site,
                    site.family,
                    key,
                    name,
                    category,
                    site.district,
                    newest_first(members),
                    site.page_size,
                )
            )
    return tuple(out)
