"""Templates of a Hanweb (大汉) JCMS district site (丰润区), UTF-8 table layout under ``/fengrun/``.

URL scheme: ``/fengrun/`` (home), ``/fengrun/col/col<colid>/index.html`` then
``index.html?pageNum=N`` (12 per page, a static table: the real JCMS fills it through
``dataproxy.jsp``, which a crawler would not run), ``/fengrun/art/YYYY/M/D/art_<col>_<id>.html``
(unpadded date), images under ``/fengrun/picture/0/``.
"""

from __future__ import annotations

from crawler.demo_portal.corpus import (
    CANONICAL_BASE,
    HANWEB,
    HANWEB_PREFIX,
    ArticleLayout,
    DemoArticle,
    DemoList,
)
from crawler.demo_portal.render import body_html, html, neighbours, pager_links

CONTENT_TYPE = "text/html; charset=UTF-8"
HOME = f"{HANWEB_PREFIX}/index.html"
SITE_NAME = "唐山市丰润区文化广电和旅游局"

_TABLE = 'width="1000" border="0" align="center" cellpadding="0" cellspacing="0"'
_FONT_SIZE = (
    '<span class="zh">字号：[ <a href="javascript:doZoom(18)">大</a> '
    '<a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(14)">小</a> ]</span>'
)
_TOOLS = (
    "扫一扫在手机打开当前页&nbsp;&nbsp;"
    '<a href="javascript:window.print()">[打印本页]</a>&nbsp;'
    '<a href="javascript:window.close()">[关闭窗口]</a>'
)

_BLOCKS = {
    "p": '<p style="text-indent:2em;">{text}</p>',
    "h": '<p style="text-indent:2em;"><strong>{text}</strong></p>',
    "img": '<p style="text-align:center;"><img src="{src}" alt="{alt}" border="0" /></p>',
    "caption": '<p style="text-align:center;">{text}</p>',
    "leak": '<p style="text-indent:2em;">{text}</p>',
    "blank": "<p>&nbsp;</p>",
    "credit": '<p style="text-align:right;">{text}</p>',
}


def _page(title: str, head_meta: str, crumb: str, main: str) -> str:
    nav = "".join(
        f'<td class="nav-item"><a href="{HANWEB_PREFIX}/col/col{key}/index.html">{name}</a></td>'
        for key, name, _, _ in HANWEB.columns
    )
    return f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{html(title)}</title>
<meta name="SiteName" content="{SITE_NAME}">
<meta name="SiteDomain" content="demo.wenhua.local">
<meta name="SiteIDCode" content="1302080027">
{head_meta}<script type="text/javascript">
function doZoom(size){{ document.getElementById("zoom").style.fontSize = size + "px"; }}
</script>
</head>
<body>
<table {_TABLE} class="top">
<tr><td class="logo">{SITE_NAME}</td></tr>
</table>
<table {_TABLE} class="nav">
<tr><td class="nav-item"><a href="{HOME}">首页</a></td>{nav}</tr>
</table>
<table {_TABLE} class="position">
<tr><td>您当前的位置：<a href="{HOME}">首页</a>{crumb}</td></tr>
</table>
{main}
<table {_TABLE} class="footer">
<tr><td align="center">主办单位：{SITE_NAME}&nbsp;&nbsp;网站标识码：1302080027<br>
<a href="https://beian.miit.gov.cn/">冀ICP备12003958号</a>&nbsp;&nbsp;
冀公网安备 13020802000371号<br>
离线演示副本（wenhua demo），文章由程序生成，仅供测试。</td></tr>
</table>
</body>
</html>
"""


def _rows(articles: tuple[DemoArticle, ...]) -> str:
    return "\n".join(
        f'<tr><td class="list-icon">·</td><td class="list-title"><a href="{a.path}" '
        f'target="_blank" title="{html(a.title)}">{html(a.title)}</a></td>'
        f'<td class="list-date">[{a.published_at[:10]}]</td></tr>'
        for a in articles
    )


def render_home(lists: tuple[DemoList, ...]) -> str:
    cols = "\n".join(
        f'<td valign="top" class="home-col"><table width="100%">'
        f'<tr><td colspan="3" class="col-name">'
        f'<a href="{lst.page_path(1)}">{lst.name}</a></td></tr>\n'
        f"{_rows(lst.articles[:6])}\n</table></td>"
        for lst in lists
    )
    main = f'<table width="1000" align="center" class="home"><tr>\n{cols}\n</tr></table>'
    return _page(SITE_NAME, "", "", main)


def render_list(lst: DemoList, page: int) -> str:
    last = lst.page_count

    def link(n: int, label: str) -> str:
        # Page 1 is the bare index.html; later pages are relative query-only hrefs.
        return f'<a href="{"index.html" if n == 1 else f"?pageNum={n}"}">{label}</a>'

    pager = [f"共{len(lst.articles)}条&nbsp;第{page}/{last}页", *pager_links(page, last, link)]
    main = f"""<table {_TABLE} class="list-box">
<tr><td class="col-name">{lst.name}</td></tr>
<tr><td>
<table width="100%" border="0" cellpadding="0" cellspacing="0" class="list-table">
{_rows(lst.page_articles(page))}
</table>
</td></tr>
<tr><td class="pager" align="center">{"&nbsp;".join(pager)}</td></tr>
</table>"""
    head = f'<meta name="ColumnName" content="{lst.name}">\n'
    crumb = f" &gt;&gt; {lst.name}"
    return _page(f"{lst.name} - {SITE_NAME}", head, crumb, main)


def meta_line(article: DemoArticle) -> str:
    when = article.published
    return (
        f'<span class="pubdate">发布时间：{when:%Y年%m月%d日 %H:%M}</span>&nbsp;&nbsp;&nbsp;'
        f'<span class="pubsource">信息来源：{html(article.source or "")}</span>'
    )


def render_article(article: DemoArticle, layout: ArticleLayout, lst: DemoList) -> str:
    description = html(article.paragraphs[0][:60]) if article.paragraphs else ""
    head = f"""<meta name="ColumnName" content="{lst.name}">
<meta name="ColumnType" content="{lst.name}">
<meta name="ArticleTitle" content="{html(article.title)}">
<meta name="PubDate" content="{article.published:%Y-%m-%d %H:%M}">
<meta name="ContentSource" content="{html(article.source or "")}">
<meta name="Keywords" content="{lst.name}">
<meta name="Description" content="{description}">
<meta name="Url" content="{CANONICAL_BASE}{article.path}">
"""
    index = lst.articles.index(article)
    older = lst.articles[index + 1] if index + 1 < len(lst.articles) else None
    newer = lst.articles[index - 1] if index > 0 else None
    prev_link = f'<a href="{older.path}">{html(older.title)}</a>' if older else "没有了"
    next_link = f'<a href="{newer.path}">{html(newer.title)}</a>' if newer else "没有了"
    more = "".join(
        f'<li><a href="{a.path}">{html(a.title)}</a></li>' for a in neighbours(lst, article, 3)
    )
    editor = html(article.editor or "")
    main = f"""<table {_TABLE} class="article">
<tr><td class="art-title" align="center">{html(article.title)}</td></tr>
<tr><td class="art-info" align="center">{meta_line(article)}&nbsp;&nbsp;&nbsp;{_FONT_SIZE}</td></tr>
<tr><td class="art-body"><div id="zoom"><!--<$[信息内容]>begin-->
{body_html(article, layout, _BLOCKS)}
<!--<$[信息内容]>end--></div></td></tr>
<tr><td align="right" class="art-editor">责任编辑：<span class="zrbj">{editor}</span></td></tr>
<tr><td class="art-tools">{_TOOLS}</td></tr>
<tr><td class="art-prevnext">上一篇：{prev_link}<br>下一篇：{next_link}</td></tr>
<tr><td class="art-more">相关信息：<ul>{more}</ul></td></tr>
</table>"""
    crumb = f' &gt;&gt; <a href="{lst.page_path(1)}">{lst.name}</a>'
    return _page(f"{article.title} - {SITE_NAME}", head, crumb, main)
