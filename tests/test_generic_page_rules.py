"""The generic extractor's body, source and editor rules, each on the smallest page that
needs it (the real pages that showed each rule are named in crawler/extract/generic.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.extract.body import clean_body
from crawler.extract.metadata import parse_meta
from crawler.extract.normalize import normalize
from crawler.extract.rules import extract_raw

FETCHED = datetime(2025, 1, 1, tzinfo=UTC)
PROSE = "".join(f"第{n}句话讲的是本地文化节的安排和市民参与的情况。" for n in range(1, 40))


def record(html: str) -> dict[str, object]:
    raw = extract_raw(html, "https://example.cn/a.html", None)
    return normalize(raw, site=None, fetched_at=FETCHED).record


def page(inner: str, title: str = "文化节开幕") -> str:
    return (
        f"<html><head><title>{title}_某某网</title></head><body>"
        f"<h1>{title}</h1>{inner}</body></html>"
    )


def test_a_hidden_block_is_never_the_body() -> None:
    spam = "".join(f"<a>关键词{n}号</a> 热门下载第{n}集，" for n in range(400))
    html = page(f'<div style="display:none">{spam}</div><div class="text"><p>{PROSE}</p></div>')
    body = str(record(html)["body_text"])
    assert body.startswith("第1句话") and "关键词" not in body


def test_a_chrome_named_container_holding_the_prose_is_the_article() -> None:
    # "share" names chrome, but the element holds the page's prose in many sentences.
    html = page(f'<div class="nav">首页 新闻</div><div class="img_share_area"><p>{PROSE}</p></div>')
    assert "第39句话" in str(record(html)["body_text"])


def test_a_comment_box_stays_chrome_however_long() -> None:
    comments = f'<div class="comment-list"><p>{PROSE.replace("本地", "网友说")}</p></div>'
    html = page(f'<div class="content"><p>{PROSE[:400]}</p></div>{comments}')
    assert "网友说" not in str(record(html)["body_text"])


def test_a_related_list_does_not_take_the_article_column_with_it() -> None:
    # The column holds the article and a longer related list; a second column keeps the
    # choice at their parent, so the column is judged as a block of the body.
    related = "".join(
        f'<li><a href="/{n}">相关新闻标题第{n}条很长很长的标题</a></li>' for n in range(60)
    )
    column = f'<div class="left"><div><p>{PROSE[:300]}</p></div><ul>{related}</ul></div>'
    other = f'<div class="right"><p>{PROSE[300:550].replace("本地", "外地")}</p></div>'
    body = str(record(page(f'<div class="wrap">{column}{other}</div>'))["body_text"])
    assert "第1句话" in body and "相关新闻标题" not in body


def test_a_source_beside_the_date_without_a_label() -> None:
    info = '<div class="info">2019-09-26 10:56:28 证券时报网</div>'
    html = page(f'{info}<div class="text"><p>{PROSE}</p></div>')
    assert record(html)["source"] == "证券时报网"


def test_a_name_beside_the_date_is_no_source() -> None:
    html = page(
        f'<div class="info">2019-09-26 10:56:28 张三</div><div class="text"><p>{PROSE}</p></div>'
    )
    assert record(html)["source"] is None


def test_reporter_slash_outlet_above_the_date() -> None:
    info = "<div>石佳/中国青年报</div><div>2019-09-24 09:10</div>"
    rec = record(page(f'{info}<div class="text"><p>{PROSE}</p></div>'))
    assert (rec["source"], rec["author"]) == ("中国青年报", "石佳")


def test_an_editor_value_stops_at_boilerplate() -> None:
    tip = "责任编辑：张珺 澎湃新闻报料：4009-20-4009 澎湃新闻，未经授权不得转载"
    assert parse_meta(tip).editor == "张珺"
    assert parse_meta("[责任编辑：韩保林 PK155]推荐0").editor == "韩保林"
    assert parse_meta("（责任编辑： HN666）").editor == "HN666"


def test_a_site_notice_leaves_the_body() -> None:
    html = f"<div><p>{PROSE[:60]}</p><p>免责声明：本文仅代表作者本人观点，与本站无关。</p></div>"
    assert "免责声明" not in clean_body(html, "https://example.cn/").text


def test_a_sidebar_opening_with_a_furniture_heading_counts_as_nothing() -> None:
    hot = "".join(
        f"<div><p>网友{n}号说：这篇文章写得很好，我很赞同作者的看法。</p></div>" for n in range(9)
    )
    sidebar = f'<div class="r2"><h3>热门评论</h3>{hot}</div>'
    article = f'<div class="l2"><p>{PROSE[:420]}</p></div>'
    body = str(record(page(f'<div class="box">{article}{sidebar}</div>'))["body_text"])
    assert "第1句话" in body and "网友" not in body


def test_a_republication_note_of_the_first_headline_leaves_the_body() -> None:
    html = (
        "<div><p>（原标题：多地项目连环爆雷）</p><p>本文原标题：《定了！母港即将开通》</p>"
        f"<p>{PROSE[:60]}</p><p>原标题不变的情况下，本报继续跟进。</p>"
        "<p>（原题为《是“收割韭菜”还是“回归理性”》）</p></div>"
    )
    lines = clean_body(html, "https://example.cn/").text.split("\n")
    # A sentence that only starts with the word stays: no colon or 《 follows it.
    assert lines == [PROSE[:60], "原标题不变的情况下，本报继续跟进。"]


def test_lost_characters_and_an_app_promotion_leave_the_body() -> None:
    html = (
        f"<div><p>{PROSE[:30]}</p><p>\ufffd\ufffd\ufffd</p><p>{PROSE[30:60]}</p>"
        "<p>(本文来自澎湃新闻，更多原创资讯请下载“澎湃新闻”APP)</p></div>"
    )
    assert clean_body(html, "https://example.cn/").text.split("\n") == [PROSE[:30], PROSE[30:60]]


def test_the_title_repeated_over_the_first_lines_leaves_the_body() -> None:
    title = "全国人民代表大会常务委员会关于批准发行特别国债的决议"
    heading = "<p>全国人民代表大会常务委员会<br>关于批准发行特别国债的决议</p>"
    html = f"<div>{heading}<p>{PROSE[:60]}</p></div>"
    assert clean_body(html, "https://example.cn/", title=title).text == PROSE[:60]
    # A first sentence that merely opens with the title's words is the article's.
    opening = f"<div><p>{title}已经通过，全文如下。</p><p>{PROSE[:60]}</p></div>"
    assert clean_body(opening, "https://example.cn/", title=title).text.startswith(title)


def test_a_short_article_beside_a_right_bar_is_the_body_not_the_wrapper() -> None:
    article = (
        '<div id="main"><div class="title-text">联合国报告：全球经济增长率降至2.3%</div>'
        '<div class="title-meta">发布时间：2019-09-26 10:09:11</div>'
        f'<div class="page_art_content">{PROSE[:120]}</div></div>'
    )
    bar = (
        '<div id="article-rightbar"><div>明日大盘行情实时播报栏目为广大股民提供及时行情资讯'
        "（请注意：行情实时播报内容均来自于网络采集，请广大股民甄别消息是否可靠！）。</div></div>"
    )
    html = (
        "<html><head><title>联合国报告：全球经济增长率降至2.3%_明日大盘</title></head><body>"
        f'<div id="article-wrapper">{article}{bar}</div></body></html>'
    )
    rec = record(html)
    assert rec["body_text"] == PROSE[:120]
    assert rec["title"] == "联合国报告：全球经济增长率降至2.3%"
    assert rec["published_at"] == "2019-09-26T10:09:11+08:00"


def test_links_out_of_the_article_and_tool_links_leave_the_body() -> None:
    html = (
        '<div><p><a href="/wyx/"><strong>点击进入“文艺星青年”</strong><strong>&gt;&gt;</strong>'
        f'</a></p><p>{PROSE[:60]}<a href="/"><img src="/f.ico">返回腾讯网首页&gt;&gt;</a></p>'
        f'<p>{PROSE[60:90]}<a href="#">【纠错】</a></p><div>+1</div>'
        f'<p>市民在<a href="/z">中</a>心广场观看演出。</p></div>'
    )
    lines = clean_body(html, "https://example.cn/").text.split("\n")
    # A one-character link inside a sentence is the sentence's word, not a tool.
    assert lines == [PROSE[:60], PROSE[60:90], "市民在中心广场观看演出。"]
