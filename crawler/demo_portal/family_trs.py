"""Templates of a TRS WCM district site (路北区) published as static GBK files under ``/lubei/``.

URL scheme: ``/lubei/`` (home), ``/lubei/<col>/index.html`` then ``index_1.html`` (= page 2),
``/lubei/<col>/YYYYMM/tYYYYMMDD_<id>.html`` (article; the URL date is the draft's creation
date), images next to the article as ``W0<date><digits>.jpg`` linked relatively (``./W0…``).
Links between pages are relative, as WCM writes them.
"""

from __future__ import annotations

from crawler.demo_portal.corpus import (
    TRS,
    TRS_PREFIX,
    ArticleLayout,
    DemoArticle,
    DemoList,
)
from crawler.demo_portal.render import body_html, html, neighbours, pager_links, relative

CONTENT_TYPE = "text/html; charset=GBK"
# The server sends GBK and the page declares gb2312; the bytes are GB18030 (a superset) so
# that any character a client decodes as GB18030 round-trips.
ENCODING = "gb18030"

HOME = f"{TRS_PREFIX}/index.html"
SITE_NAME = "唐山市路北区文化广电和旅游局"

_BLOCKS = {
    "p": '<p style="text-indent: 2em;">{text}</p>',
    "h": '<p style="text-indent: 2em;"><strong>{text}</strong></p>',
    "img": '<p align="center"><img src="{src}" OLDSRC="{name}" alt="{alt}" border="0" /></p>',
    "caption": '<p align="center">{text}</p>',
    "leak": "<p>{text}</p>",
    "blank": "<p>&nbsp;</p>",
    "credit": '<p align="right">{text}</p>',
}

# WCM pastes the editor's stylesheet into the body container: its text is not article text.
_EDITOR_STYLE = (
    '<style type="text/css">\n'
    ".TRS_Editor P{margin-top:0px;margin-bottom:12px;line-height:1.8;font-family:宋体;"
    "font-size:12pt;}.TRS_Editor DIV{margin-top:0px;margin-bottom:12px;line-height:1.8;"
    "font-family:宋体;font-size:12pt;}.TRS_Editor TD{line-height:1.8;font-size:12pt;}\n"
    "</style>"
)

_TOOLS = (
    '【<a href="javascript:window.print()">打印本页</a>】'
    '【<a href="javascript:window.close()">关闭窗口</a>】'
)

# The pager script WCM templates include; the static links below it are what a crawler
# (which runs no JavaScript) follows, so the script stands aside when they are present.
_PAGER_SCRIPT = """<script type="text/javascript">
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
  if(document.getElementById("pagelinks")) return;
  if(_nPageCount == null || _nPageCount <= 1) return;
  var nNext = _nCurrIndex + 1;
  document.write("<a href=\\"" + _sPageName + "_" + nNext + "." + _sPageExt + "\\">下一页</a>");
}
</script>"""


def _page(title: str, here: str, crumb: str, main: str) -> str:
    nav = "".join(
        f'<a href="{relative(here, f"{TRS_PREFIX}/{key}/index.html")}">{name}</a>'
        for key, name, _, _ in TRS.columns
    )
    home = relative(here, HOME)
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />
<title>{html(title)}</title>
<meta name="keywords" content="路北区,文化,旅游" />
{_PAGER_SCRIPT}
<script type="text/javascript">
function doZoom(size){{ document.getElementById("zoom").style.fontSize = size + "px"; }}
</script>
</head>
<body>
<div class="top"><div class="logo">{SITE_NAME}</div></div>
<div class="nav"><a href="{home}">首页</a>{nav}</div>
<div class="position">当前位置：<a href="{home}">首页</a>{crumb}</div>
{main}
<div class="footer">
主办：{SITE_NAME}&nbsp;&nbsp;承办：路北区融媒体中心<br />
地址：唐山市路北区文化路&nbsp;&nbsp;网站标识码：1302030012&nbsp;&nbsp;
<a href="https://beian.miit.gov.cn/">冀ICP备05021873号</a><br />
离线演示副本（wenhua demo），文章由程序生成，仅供测试。
</div>
</body>
</html>
"""


def _items(here: str, articles: tuple[DemoArticle, ...]) -> str:
    return "\n".join(
        f'<li><span class="date">{a.published_at[:10]}</span>'
        f'<a href="{relative(here, a.path)}" target="_blank" title="{html(a.title)}">'
        f"{html(a.title)}</a></li>"
        for a in articles
    )


def render_home(lists: tuple[DemoList, ...]) -> str:
    blocks = "\n".join(
        f'<div class="home-col"><h2><a href="./{lst.key}/index.html">{lst.name}</a></h2>'
        f"<ul>\n{_items(HOME, lst.articles[:6])}\n</ul></div>"
        for lst in lists
    )
    return _page(SITE_NAME, HOME, "", blocks)


def render_list(lst: DemoList, page: int) -> str:
    here = lst.page_path(page)
    last = lst.page_count

    def link(n: int, label: str) -> str:
        return f'<a href="{lst.page_path(n).rsplit("/", 1)[1]}">{label}</a>'

    static = [f"共{last}页", *pager_links(page, last, link)]
    main = f"""<div class="list-box">
<h2 class="list-title">{lst.name}</h2>
<ul class="list">
{_items(here, lst.page_articles(page))}
</ul>
<div class="fenye">
<script type="text/javascript">createPageHTML({last}, {page - 1}, "index", "html");</script>
<span id="pagelinks">{"&nbsp;".join(static)}</span>
</div>
</div>"""
    return _page(f"{lst.name}_{SITE_NAME}", here, f"&nbsp;&gt;&nbsp;{lst.name}", main)


def meta_line(article: DemoArticle, layout: ArticleLayout) -> str:
    when = article.published_at[:10]
    if layout.date_style != "day":
        when += " " + article.published_at[11:19]
    gap = "&nbsp;&nbsp;&nbsp;&nbsp;"
    return (
        f"发布日期：{when}{gap}来源：{html(article.source or '')}{gap}"
        f"作者：{html(article.author or '')}{gap}"
        '<span class="font-size">【字体：<a href="javascript:doZoom(16)">大</a> '
        '<a href="javascript:doZoom(14)">中</a> <a href="javascript:doZoom(12)">小</a>】</span>'
    )


def related(lst: DemoList, article: DemoArticle) -> tuple[DemoArticle, ...]:
    return neighbours(lst, article, 5)


def render_article(article: DemoArticle, layout: ArticleLayout, lst: DemoList) -> str:
    here = article.path
    srcs = {image.path: relative(here, image.path) for image in article.images}
    body = body_html(article, layout, _BLOCKS, srcs)
    more = "\n".join(
        f'<li><a href="{relative(here, a.path)}" title="{html(a.title)}">{html(a.title)}</a>'
        f'<span class="date">（{a.published_at[:10]}）</span></li>'
        for a in related(lst, article)
    )
    col = relative(here, lst.page_path(1))
    main = f"""<div class="article">
<h1 class="article-title">{html(article.title)}</h1>
<div class="article-info">{meta_line(article, layout)}</div>
<div class="article-content" id="zoom">
<div class="TRS_Editor">{_EDITOR_STYLE}
<div class="Custom_UnionStyle">
{body}
</div></div>
</div>
<div class="zrbj">责任编辑：<span>{html(article.editor or "")}</span></div>
<div class="article-tools">{_TOOLS}</div>
<div class="related"><h3>相关阅读</h3>
<ul>
{more}
</ul></div>
</div>"""
    crumb = f'&nbsp;&gt;&nbsp;<a href="{col}">{lst.name}</a>&nbsp;&gt;&nbsp;正文'
    return _page(f"{article.title}_{SITE_NAME}", here, crumb, main)
