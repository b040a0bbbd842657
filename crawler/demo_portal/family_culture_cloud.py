"""Templates of the Tangshan culture cloud (the seed's JSP platform), served as UTF-8 at ``/``.

URL scheme: ``/`` (city home), ``/area-<district>.html`` (district home),
``/list-<category>-<district>-<page>.html`` (15 per page; ``all`` = city-wide),
``/new-<id>.html`` (article), ``/upload/YYYY/MM/new-<id>/<n>.jpg`` (images).
"""

from __future__ import annotations

from crawler.demo_portal.corpus import (
    CC_CATEGORIES,
    CITY,
    DISTRICT_SLUG,
    DISTRICTS,
    FAMILY_CULTURE_CLOUD,
    ArticleLayout,
    DemoArticle,
    DemoList,
    java_date,
)
from crawler.demo_portal.render import body_html, html

CONTENT_TYPE = "text/html;charset=UTF-8"  # as Tomcat prints it

_BLOCKS = {
    "p": '<p style="text-indent: 2em;">{text}</p>',
    "h": '<p style="text-align: center;"><strong>{text}</strong></p>',
    "img": '<p style="text-align: center;"><img src="{src}" alt="{alt}" title="{alt}"/></p>',
    "caption": '<p style="text-align: center;">{text}</p>',
    "leak": "<p>{text}</p>",
    "blank": "<p>&nbsp;</p>",
    "credit": '<p style="text-align: right;">{text}</p>',
}


def _page(title: str, district: str, channel: str, main: str) -> str:
    """The platform chrome: city and district selectors, the 13-item navigation, footer."""
    dist_slug = DISTRICT_SLUG.get(district, "all")
    on = ' class="on"'
    areas = "\n".join(
        f'<a href="/area-{slug}.html"{on if name == district else ""}>{name}</a>'
        for name, slug, _ in DISTRICTS
    )
    nav = "\n".join(
        f"<li{on if name == channel else ''}>"
        f'<a href="/list-{slug}-{dist_slug}-1.html">{name}</a></li>'
        for name, slug in CC_CATEGORIES
    )
    channel_html = f'<div class="channel-name">{html(channel)}</div>\n' if channel else ""
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html(title)}</title>
</head>
<body>
<div class="header">
<div class="wrap">
<a class="logo" href="/">唐山文化云</a>
<div class="city-select">
<span class="city-name">{CITY}</span>
<ul class="select-tabs"><li class="on">市/州选择</li><li>区/县选择</li></ul>
<div class="select-panel city-panel"><a href="/" class="on">{CITY}</a></div>
<div class="select-panel area-panel">
{areas}
</div>
</div>
</div>
{channel_html}<div class="nav"><ul>
{nav}
</ul></div>
</div>
<div class="main wrap">
{main}
</div>
<div class="footer">
<p>主办：唐山市文化广电和旅游局&nbsp;&nbsp;承办：唐山市群众艺术馆</p>
<p>冀ICP备17020486号-1&nbsp;&nbsp;网站标识码：1302000041</p>
<p>离线演示副本（wenhua demo），文章由程序生成，仅供测试。</p>
</div>
</body>
</html>
"""


def _news_items(articles: tuple[DemoArticle, ...], css: str) -> str:
    items = "\n".join(
        f'<li><a class="news-link" href="{a.path}" title="{html(a.title)}">{html(a.title)}</a>'
        f'<span class="news-date">{a.published_at[:10]}</span></li>'
        for a in articles
    )
    return f'<ul class="{css}">\n{items}\n</ul>'


def render_home(articles: tuple[DemoArticle, ...], district: str = "") -> str:
    """City home (``district`` empty) or a district home: the latest ten articles."""
    mine = [
        a for a in articles if a.family == FAMILY_CULTURE_CLOUD and district in ("", a.district)
    ]
    latest = tuple(sorted(mine, key=lambda a: (a.published_at, a.id), reverse=True)[:10])
    body = (
        f'<div class="home-block"><div class="box-title">最新资讯</div>\n'
        f"{_news_items(latest, 'home-news')}\n</div>\n"
        '<div class="home-block"><div class="box-title">区县文化网站</div><ul class="links">'
        '<li><a href="/lubei/">路北区文化广电和旅游局</a></li>'
        '<li><a href="/fengrun/">丰润区文化广电和旅游局</a></li></ul></div>'
    )
    name = f"{district}-唐山文化云" if district else "唐山文化云"
    return _page(name, district, "", body)


def _pager(lst: DemoList, page: int) -> str:
    last = lst.page_count
    parts = [f'<a class="first" href="{lst.page_path(1)}">首页</a>']
    if page > 1:
        parts.append(f'<a class="prev" href="{lst.page_path(page - 1)}">上一页</a>')
    else:
        parts.append('<span class="disabled">上一页</span>')
    numbers = range(1, last + 1)
    if lst.pager_window:
        low = max(1, min(page - lst.pager_window // 2, last - lst.pager_window + 1))
        numbers = range(low, min(last, low + lst.pager_window - 1) + 1)
    for n in numbers:
        if n == page:
            parts.append(f'<span class="current">{n}</span>')
        else:
            parts.append(f'<a class="num" href="{lst.page_path(n)}">{n}</a>')
    if page < last:
        parts.append(f'<a class="next" href="{lst.page_path(page + 1)}">下一页</a>')
    else:
        parts.append('<span class="disabled">下一页</span>')
    parts.append(f'<a class="last" href="{lst.page_path(last)}">尾页</a>')
    parts.append(f'<span class="total">共{last}页 {len(lst.articles)}条</span>')
    return '<div class="pages">' + "".join(parts) + "</div>"


def render_list(lst: DemoList, page: int) -> str:
    where = lst.district or CITY
    items = _news_items(lst.page_articles(page), "news-list")
    if not lst.articles:
        items += '\n<p class="empty">暂无相关内容</p>'
    main = (
        f'<div class="crumb"><a href="/">首页</a> &gt; {html(where)} &gt; {html(lst.name)}</div>\n'
        f"{items}\n{_pager(lst, page)}"
    )
    return _page(f"{lst.name}-{where}-唐山文化云", lst.district, lst.name, main)


def meta_line(article: DemoArticle, layout: ArticleLayout) -> str:
    """The glued line a JSP prints from a ``java.util.Date``: no separators between fields."""
    zone = "CST" if layout.date_style == "java-cst" else "GMT+08:00"
    return (
        f"发布时间:<span>{java_date(article.published, zone)}</span>"
        f"来源:<span>{html(article.source or '')}</span>"
        f"编辑:<span>{html(article.editor or '')}</span>"
    )


def render_article(article: DemoArticle, layout: ArticleLayout) -> str:
    venues = "".join(
        f'<li><a href="/area-{DISTRICT_SLUG[article.district]}.html">{article.district}{kind}</a>'
        "<span>开放时间：周二至周日 9:00-17:00</span></li>"
        for kind in ("文化馆", "图书馆")
    )
    main = f"""<div class="news-detail">
<h1 class="news-title">{html(article.title)}</h1>
<div class="news-info">{meta_line(article, layout)}</div>
<div class="news-content">
{body_html(article, layout, _BLOCKS)}
</div>
</div>
<div class="comment-box"><div class="box-title">全部评论</div>
<div class="comment-list"><p class="empty">暂无评论</p></div></div>
<div class="venue-box"><div class="box-title">相关场馆</div><ul>{venues}</ul></div>
<div class="qrcode-box"><p>“扫一扫”</p><p>获得更多</p><p>意想不到</p></div>"""
    return _page(f"{article.title}-唐山文化云", article.district, article.category, main)
