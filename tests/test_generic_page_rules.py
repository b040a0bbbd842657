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


def test_an_interaction_counter_after_the_source_is_no_part_of_it() -> None:
    line = '2012年07月10日 22:13　来源：新华网　<a href="/c">参与互动(<span>0</span>)</a>'
    html = page(f'<div class="left-t">{line}</div><div class="text"><p>{PROSE}</p></div>')
    assert record(html)["source"] == "新华网"
    assert parse_meta("来源：新华网 参与互动(12)").source == "新华网"
    # Only the counter's shape is cut: the word inside a name stays.
    assert parse_meta("来源：参与互动网").source == "参与互动网"
    # A comment counter with 条 (130-ent-163-2005's div#subjection).
    line = '2005-08-01 09:46:42　来源: 京华时报　　　<a href="#0">网友评论 <span>0</span> 条</a>'
    html = page(f'<div id="subjection">{line}</div><div class="text"><p>{PROSE}</p></div>')
    assert record(html)["source"] == "京华时报"
    assert parse_meta("来源：网友评论网").source == "网友评论网"


def test_an_outlet_beside_the_date_after_the_site_address_or_with_a_latin_brand() -> None:
    # The site's address before the date is no label (132-ent-qq-2008's div#ArtFrom).
    line = (
        '<a href="http://ent.qq.com">http://ent.QQ.com</a>　2008年05月12日08:53 　'
        '<a href="http://www.jinghua.cn/">京华时报</a>　　<a href="/c">评论<span>0</span>条</a>'
    )
    html = page(f'<div id="ArtFrom">{line}</div><div class="text"><p>{PROSE}</p></div>')
    assert record(html)["source"] == "京华时报"
    # An outlet's name may open with a Latin brand (131-et-21cn-2008's channel link).
    line = '2008-12-11 09:51:57　<a href="http://et.21cn.com">21CN娱乐</a>'
    html = page(f'<td class="info">{line}</td><div class="text"><p>{PROSE}</p></div>')
    assert record(html)["source"] == "21CN娱乐"
    # Other words before the date still say nothing of a source.
    line = "张三 发表于 2008-12-11 09:51:57 21CN娱乐"
    html = page(f'<div class="info">{line}</div><div class="text"><p>{PROSE}</p></div>')
    assert record(html)["source"] is None


def test_a_self_media_account_beside_the_date_is_the_author() -> None:
    account = '<p class="n-i-source">心理咨询师熊玲 <span class="wemedia"></span></p>'
    info = f'<div class="n-infor">{account}<p class="n-i-time">2018/03/05 09:53</p></div>'
    rec = record(page(f'{info}<div class="text"><p>{PROSE}</p></div>'))
    assert (rec["source"], rec["author"]) == (None, "心理咨询师熊玲")
    # Without the mark the name above the date is read as the outlet it looks like.
    plain = '<div><p class="n-i-source">心理咨询师熊玲</p><p>2018/03/05 09:53</p></div>'
    rec = record(page(f'{plain}<div class="text"><p>{PROSE}</p></div>'))
    assert (rec["source"], rec["author"]) == ("心理咨询师熊玲", None)


def test_a_declared_source_or_author_that_is_the_site_itself_is_none() -> None:
    head = (
        '<meta property="og:site_name" content="蘋果日報">'
        '<script type="application/ld+json">{"@type":"NewsArticle",'
        '"author":{"name":"蘋果日報"},"publisher":{"name":"蘋果日報"}}</script>'
    )
    html = page(f'<div class="info">2016/05/21 11:44</div><div class="text"><p>{PROSE}</p></div>')
    rec = record(html.replace("<head>", f"<head>{head}"))
    assert (rec["source"], rec["author"]) == (None, None)
    # A publisher that is not the site, beside a person as author, stays the source.
    other = head.replace('"author":{"name":"蘋果日報"}', '"author":{"name":"高雅"}').replace(
        '"publisher":{"name":"蘋果日報"}', '"publisher":{"name":"唐山新闻网"}'
    )
    rec = record(html.replace("<head>", f"<head>{other}"))
    assert (rec["source"], rec["author"]) == ("唐山新闻网", "高雅")


def test_a_dateline_is_no_declared_author() -> None:
    head = '<script type="application/ld+json">{"author":{"name":"澎湖縣28日電"}}</script>'
    html = page(f'<div class="info">2018-02-28 14:31</div><div class="text"><p>{PROSE}</p></div>')
    assert record(html.replace("<head>", f"<head>{head}"))["author"] is None


def test_a_printed_author_wins_over_the_declared_one() -> None:
    head = '<script type="application/ld+json">{"author":{"name":"陳昱光"}}</script>'
    author = '<div class="author"><a href="/r/899">謝明俊</a></div>'
    info = f'<div class="meta">15:31 2018/09/16{author}</div>'
    rec = record(
        page(f'{info}<div class="text"><p>{PROSE}</p></div>').replace("<head>", f"<head>{head}")
    )
    assert rec["author"] == "謝明俊"
    assert rec["published_at"] == "2018-09-16T15:31:00+08:00"


def test_the_meta_line_opening_the_body_container() -> None:
    info = (
        '<div class="article_info"><time>2018年09月16日 15:31</time> <a href="/c/11">中時</a>'
        '<div class="rp_name"><a rel="author">謝明俊</a></div></div>'
    )
    html = page(
        f'<article class="arttext">{info}<p>{PROSE}</p></article>',
    ).replace("<head>", '<head><meta property="og:site_name" content="中時電子報">')
    rec = record(html)
    assert (rec["published_at"], rec["source"], rec["author"]) == (
        "2018-09-16T15:31:00+08:00",
        "中時",
        "謝明俊",
    )
    assert "15:31" not in str(rec["body_text"]) and str(rec["body_text"]).startswith("第1句话")


def test_a_traditional_reporter_dateline() -> None:
    # 香港文匯報訊（記者  鄭治祖）opening the text (140-wenweipo), as 本报讯（记者 X）.
    lead = f'<p class="content_p">香港文匯報訊（記者  鄭治祖）{PROSE}</p>'
    assert record(page(f'<div class="text">{lead}</div>'))["author"] == "鄭治祖"


def test_a_lead_paragraph_after_the_headline_opens_the_body() -> None:
    # 142-orientaldaily: the bold lead in div.leadin beside the <h1>, above the ads, outside
    # the container that holds the rest of the text.
    lead = "公共屋邨相繼淪為老鼠樂園！葵芳邨鼠患嚴重，居民怒斥房屋署懶理。"
    html = (
        "<html><head><title>公屋爆鼠患_東方日報</title></head><body>"
        f'<div id="leadin"><h1>公屋爆鼠患</h1><div class="leadin"><p>{lead}</p></div></div>'
        f'<div class="ads">廣告</div><div id="content"><p>{PROSE}</p></div></body></html>'
    )
    body = str(record(html)["body_text"])
    assert body.startswith(lead) and "第39句话" in body
    # A summary the body repeats is not its opening (064-ednchina's div.art-lead).
    summary = f'<div class="art-lead">{PROSE[:48]}</div>'
    html = page(f'{summary}<div class="text"><p>{PROSE}</p></div>')
    assert str(record(html)["body_text"]).count(PROSE[:48]) == 1


def test_a_headline_longer_than_the_title_tag() -> None:
    # 143-ttv: <title> keeps two parts of the headline; div#Heading prints a third.
    head = "年終平均1.38月 羨慕!科技業最高30個月　尾牙最期待藝人五月天 三成企業加碼辦"
    printed = f"{head}　年終比去年多1.8天 獎金太低54%擬離職"
    menu = f'<dl class="nav-sub"><dd class="PostTitle"><a href="/a">{head}</a></dd></dl>'
    html = (
        f"<html><head><title>{head} - 台視新聞</title></head><body>{menu}"
        f'<div id="Heading">{printed}</div><span>2014/12/12</span>'
        f'<div class="text"><p>{PROSE}</p></div></body></html>'
    )
    assert str(record(html)["title"]) == " ".join(printed.replace("\u3000", " ").split())
    # A heading that prints a meta line after the title is not a longer title.
    html = page(f'<div class="text"><p>{PROSE}</p></div>').replace(
        "<h1>文化节开幕</h1>", '<div class="title">文化节开幕 2019-09-26 来源：某某网</div>'
    )
    assert record(html)["title"] == "文化节开幕"


def test_taiwanese_bylines() -> None:
    lead = f"<p>記者林悅／南市報導</p><p>{PROSE}</p>"
    assert record(page(f'<div class="text">{lead}</div>'))["author"] == "林悅"
    desk = f"<p>社會中心／綜合報導</p><p>{PROSE}</p>"
    assert record(page(f'<div class="text">{desk}</div>'))["author"] is None
    closing = f"<p>{PROSE}警方將進一步釐清死因。（王煌忠／台中報導）<br>《蘋果》關心你</p>"
    assert record(page(f'<div class="text">{closing}</div>'))["author"] == "王煌忠"
    wire = f"<p>（中央社記者邱俊欽桃園19日電）{PROSE}</p>"
    assert record(page(f'<div class="text">{wire}</div>'))["author"] == "邱俊欽"
    byline = "聯合報 記者<a>陳嘉寧</a>／桃園機場報導"
    line = f'<div class="info"><span>2019-03-18 23:59</span>{byline}</div>'
    rec = record(page(f'{line}<div class="text"><p>{PROSE}</p></div>'))
    assert (rec["source"], rec["author"]) == ("聯合報", "陳嘉寧")


def test_a_standing_notice_and_promotions_leave_the_body() -> None:
    notice = (
        "<p><strong>《蘋果》關心你</strong><br>自殺解決不了問題，卻留給家人無比悲痛。請珍惜生命。<br>"
        "再給自己一次機會<br>自殺防治諮詢安心專線：0800-788995（24小時）<br>張老師專線：1980</p>"
        "<p>>>加入蘋果日報粉絲團94即時94狂！</p>"
        '<div class="tags"><span>#<a href="/s/1">上吊</a></span>'
        '<span>#<a href="/s/2">北市</a></span></div>'
    )
    body = clean_body(f"<div><p>{PROSE[:60]}</p>{notice}</div>", "https://example.cn/").text
    assert body == PROSE[:60]
    # The words alone, without a hotline after them, are the article's.
    kept = "<p>警方提醒您注意安全</p><p>不要輕信陌生電話。</p>"
    assert "警方提醒您" in clean_body(f"<div>{kept}</div>", "https://example.cn/").text


def test_a_picture_caption_inside_the_image_block_or_marked() -> None:
    photo = (
        '<div class="photo"><a href="#"><img src="/1.jpg"></a>'
        "<p>下月將法拍的房子位在萬大路一帶。（圖翻攝自google map）</p></div>"
    )
    cleaned = clean_body(f"<div>{photo}<p>{PROSE[:60]}</p></div>", "https://example.cn/")
    assert cleaned.text == PROSE[:60]
    assert cleaned.images[0].caption == "下月將法拍的房子位在萬大路一帶。（圖翻攝自google map）"
    marked = "▲" + "台南市永康分局報請台南地檢署檢察官相驗，" * 4 + "（圖／記者林悅翻攝）"
    html = (
        f'<div><p><img src="/1.jpg"></p><p><strong>{marked}</strong></p><p>{PROSE[:60]}</p></div>'
    )
    assert clean_body(html, "https://example.cn/").text == PROSE[:60]


def test_a_block_repeating_the_image_alt_is_its_caption_and_a_paywall_notice_goes() -> None:
    alt = (
        "桃園市平鎮區一家輪胎行19日清晨發生大火，7人從火場中疏散，一名62歲女子逃生不及，"
        "命喪火窟。（消防局提供） 中央社記者邱俊欽桃園傳真"
    )
    image = f'<div class="wrap"><img src="/1.jpg" alt="{alt}"></div>'
    photo = f'<div class="pic">{image}<div class="picinfo">{alt}</div></div>'
    paywall = (
        "<div>您所瀏覽的新聞已過查詢時效。建議您加入中央社<a>付費會員</a>找尋您要的新聞。</div>"
    )
    cleaned = clean_body(f"<div>{photo}<p>{PROSE[:60]}</p>{paywall}</div>", "https://example.cn/")
    assert cleaned.text == PROSE[:60]
    assert cleaned.images[0].caption == alt


def test_the_meta_line_under_a_title_inside_the_body_leaves_the_body() -> None:
    # The container holds the headline, its update line and the text (073-cna).
    html = (
        "<html><head><title>平鎮輪胎行惡火 | 社會 | 中央社</title></head><body>"
        '<div class="central"><h1>平鎮輪胎行惡火</h1><div class="updatetime">最新更新：'
        f"<span>2016/03/19 10:48</span></div><p>{PROSE}</p></div></body></html>"
    )
    rec = record(html)
    assert rec["published_at"] == "2016-03-19T10:48:00+08:00"
    assert str(rec["body_text"]).startswith("第1句话")


def _topic(replies: int) -> str:
    """A V2EX topic page (161-v2ex-topic): the first post under a box header, then the box of
    replies, each a cell with its floor, member link, relative time and div.reply_content."""
    cells = "".join(
        f'<div id="r_{n}" class="cell"><table><tr><td><img src="/a{n}.png" alt="m{n}"></td>'
        f'<td><div class="fr"><span class="no">{n}</span></div>'
        f'<strong><a href="/member/m{n}">m{n}</a></strong>'
        f' <span class="ago">{n} 小时 7 分钟前</span>'
        f'<div class="reply_content">第{n}楼的网友回复说这件事情早就该处理了</div>'
        "</td></tr></table></div>"
        for n in range(1, replies + 1)
    )
    return (
        "<html><head><title>百度网盘道歉 - V2EX</title>"
        '<meta property="og:title" content="百度网盘道歉 - V2EX">'
        '<meta property="article:published_time" content="2020-04-21T02:39:21Z"></head><body>'
        '<div id="Main"><div class="box"><div class="header"><a href="/">V2EX</a> › '
        '<a href="/go/share">分享发现</a><h1>百度网盘道歉</h1>'
        '<small class="gray"><a href="/member/alphadog619">alphadog619</a> · 5 小时 15 分钟前'
        ' · 2989 次点击</small></div><div class="cell"><div class="topic_content">'
        "4 月 20 日晚间，百度网盘做出回应，深表歉意。4 月 21 日发布新版本，将对全部用户做取消处理。"
        "</div></div></div>"
        f'<div class="box"><div class="cell"><a href="/tag/网盘" class="tag">网盘</a>'
        f'<span class="gray">{replies} 条回复 • 2020-04-21 15:38:14 +08:00</span></div>{cells}'
        "</div></div></body></html>"
    )


def test_a_thread_s_replies_are_no_body_and_the_poster_is_the_author() -> None:
    # 161-v2ex-topic: the replies' headers (floor, member, 5 小时 7 分钟前) outweighed the short
    # first post; a reply's frame goes with its comment-named content.
    rec = record(_topic(24))
    body = str(rec["body_text"])
    assert body.startswith("4 月 20 日晚间") and body.endswith("做取消处理。")
    assert "条回复" not in body and "分钟前" not in body and "m3" not in body
    # The poster is printed as a link to its member page beside the relative time.
    assert rec["author"] == "alphadog619"
    # The relative time is read against the fetch; the declared publish time is exact.
    assert rec["published_at"] == "2020-04-21T10:39:21+08:00"


def test_a_member_link_names_the_author_only_by_its_own_name() -> None:
    # A tag link (/tag/网盘) or a link whose text is not the member in its address is no author.
    for link in ('<a href="/tag/网盘">网盘</a>', '<a href="/u/840042896107">某某</a>'):
        html = page(
            f'<div class="info">{link} 2019-09-26</div><div class="text"><p>{PROSE}</p></div>'
        )
        assert record(html)["author"] is None
    link = '<a href="https://bbs.example.cn/user/%E5%BC%A0%E4%B8%89">张三</a>'
    html = page(f'<div class="info">{link} 2019-09-26</div><div class="text"><p>{PROSE}</p></div>')
    assert record(html)["author"] == "张三"


def test_a_title_cell_named_tit_under_a_site_name_title_tag() -> None:
    # 151-changzhou-zfcg: <title> is only the site's name, no heading tag; the title is
    # td.news_tit over the date cell and the text.
    html = (
        "<html><head><title>常州市政府采购网</title></head><body><table>"
        '<tr><td>您当前的位置：<a href="/">首页</a> >> 正文</td></tr>'
        '<tr><td class="news_tit">常州市肿瘤医院医用液氧供应成交结果公告</td></tr>'
        "<tr><td>发布日期：2022-10-13</td></tr>"
        f'<tr><td id="czfxfontzoom"><p>{PROSE}</p></td></tr></table></body></html>'
    )
    assert record(html)["title"] == "常州市肿瘤医院医用液氧供应成交结果公告"


def test_a_repost_credit_opening_the_body_is_its_source() -> None:
    # 162-jianshu-blog: a blockquote opening div.show-content names where the post was copied
    # from, only as an address; it is the source, and leaves the body.
    credit = (
        '<blockquote><p>本文转载自<a href="https://link.jianshu.com?t=http://blog.jobbole.com/24006/">'
        "http://blog.jobbole.com/24006/</a></p></blockquote>"
    )
    rec = record(page(f'<div class="show-content">{credit}<p>{PROSE}</p></div>'))
    assert rec["source"] == "http://blog.jobbole.com/24006/"
    assert str(rec["body_text"]).startswith("第1句话")
    # A site named after 转自 is kept as printed.
    rec = record(page(f'<div class="text"><p>（转自新华网）</p><p>{PROSE}</p></div>'))
    assert rec["source"] == "新华网" and "转自" not in str(rec["body_text"])
    # A notice saying other works were reprinted is no credit (160-sxrb-news's footer).
    notice = "凡本网未注明来源的作品，均转载自其它媒体，转载目的在于传递更多信息。"
    rec = record(page(f'<div class="text"><p>{PROSE}</p><p>{notice}</p></div>'))
    assert rec["source"] is None


def test_a_desk_word_beside_the_date_is_no_source() -> None:
    # 173-cts: div.timebar prints 2014/11/11 12:07 綜合報導 (a compiled report, no outlet).
    timebar = (
        '<div class="timebar">2014/11/11 12:07 綜合報導 &nbsp;&nbsp;&nbsp;地區：台北市報導</div>'
    )
    rec = record(page(f'{timebar}<div id="article"><p>{PROSE}</p></div>'))
    assert rec["source"] is None and rec["published_at"] == "2014-11-11T12:07:00+08:00"


def test_a_date_printed_in_parts_as_archive_links() -> None:
    # 177-nownews: div#reporter_info prints 2014年 / 12月 / 05日 as three links, then the time.
    info = (
        '<div id="reporter_info"><h2>NOWnews.com 今日新聞網</h2><p>'
        '<a href="/n/2014">2014年</a>\n<a href="/n/2014/12">12月</a>\n'
        '<a href="/n/2014/12/05">05日</a>&nbsp;\n    19:21\n</p></div>'
    )
    rec = record(page(f'{info}<div class="story_content"><p>{PROSE}</p></div>'))
    assert rec["published_at"] == "2014-12-05T19:21:00+08:00"


def test_an_opening_line_of_outlet_date_and_byline_and_a_caption_above_it() -> None:
    # 174-newtalk: the text opens with 新頭殼newtalk2014.10.24 金名/高雄報導 (the outlet run
    # into the date, the reporter and place); the photo caption above it ends 。圖：X提供.
    caption = (
        '<div class="news_ctxt_area_rt1"><div>2014高雄電影節今(24)日開幕，導演大森、日星瑛太'
        "及女主角黃姵嘉等受邀出席，與影迷相見歡，現場氣氛熱烈。圖：高雄市政府提供</div></div>"
    )
    text = (
        '<div class="news_ctxt_area_word">新頭殼newtalk2014.10.24 金名/高雄報導<br /><br />'
        f"{PROSE}</div>"
    )
    rec = record(page(f"{caption}{text}"))
    assert rec["published_at"] == "2014-10-24T00:00:00+08:00"
    assert rec["author"] == "金名"
    # A desk compiling the story names no one.
    assert parse_meta("2014.10.24 社會中心／綜合報導").author is None


def test_the_place_after_the_reporters_is_no_name() -> None:
    # 171-pts closes its text with 記者賴淑敏 蔣龍祥 台北報導.
    assert parse_meta("記者賴淑敏 蔣龍祥 台北報導").author == "賴淑敏、蔣龍祥"


def test_a_heading_printing_a_part_of_the_declared_title_and_its_time() -> None:
    # 172-tvb: og:title puts the site and section first; the h4 prints the headline and
    # span.time; the header's date bar above it is the day the page was saved.
    html = (
        "<html><head><title>無綫新聞 - 財經 - 市料美零售銷售與消費者信心續升 - tvb.com</title>"
        '<meta property="og:title" content="無綫新聞 - 財經 - 市料美零售銷售與消費者信心續升">'
        '</head><body><label class="today_date">2014年12月13日(六)</label>'
        '<h4 class="">市料美零售銷售與消費者信心續升'
        '<span class="time">　2014-12-08 06:49</span></h4>'
        f'<div id="c1_afterplayer"><pre>{PROSE}</pre></div></body></html>'
    )
    rec = record(html)
    assert rec["title"] == "市料美零售銷售與消費者信心續升"
    assert rec["published_at"] == "2014-12-08T06:49:00+08:00"


def test_a_declared_title_wrapping_the_headline_in_brackets() -> None:
    # 175-singpao: og:title 成報新聞(T), <title> only the site's name, T in td.news_title.
    headline = "輕鐵屯門泳池站月台沉降 驚見石屎躉「離地」60毫米"
    html = (
        "<html><head><title>成報 SING PAO DAILY NEWS</title>"
        f'<meta property="og:title" content="成報新聞({headline})">'
        f"</head><body><table><tr><td class='news_title'>{headline}"
        f"</td></tr><tr><td class='date'>發佈日期 : 2018-08-02</td></tr><tr><td><p>{PROSE}</p>"
        "</td></tr></table></body></html>"
    )
    assert record(html)["title"] == headline


def test_a_headline_cell_under_titles_naming_only_the_site_and_a_closing_date() -> None:
    # 171-pts: og:title -公視新聞網 and <title> 公共電視台 新聞網 name no headline; the headline
    # is a plain td under the breadcrumb; the date is printed in brackets after the text.
    html = (
        '<html><head><meta property="og:title" content="-公視新聞網"/>'
        "<title>公共電視台 新聞網</title></head><body><table><tr><td>"
        "<b><a href='/'>公視新聞網</a>&nbsp;/&nbsp;<a href='more.php'>醫療</a></b></td></tr>"
        "<tr><td align='left'>中風年輕化 劉泰英14歲孫子腦溢血</td></tr>"
        f"<tr><td><p class='Page'>{PROSE}</p><div class='shareaholic-canvas'></div>"
        "<p class='Page'>(2014-12-12&nbsp;12:00)&nbsp; 中晝新聞</p></td></tr></table></body></html>"
    )
    rec = record(html)
    assert rec["title"] == "中風年輕化 劉泰英14歲孫子腦溢血"
    assert rec["published_at"] == "2014-12-12T12:00:00+08:00"


def test_a_printed_minute_takes_its_seconds_from_a_declared_time_of_that_minute() -> None:
    # 031-baijiahao: 发布时间：18-03-08 printed with 23:16; <meta itemprop="dateUpdate">
    # 2018-03-08 23:16:24 names the same minute to the second.
    head = '<meta itemprop="dateUpdate" content="2018-03-08 23:16:24">'
    meta = '<div class="info"><span>发布时间：18-03-08</span><span>23:16</span></div>'
    html = f"<html><head>{head}</head><body><h1>文化节开幕</h1>{meta}<p>{PROSE}</p></body></html>"
    rec = record(html)
    assert rec["published_at"] == "2018-03-08T23:16:24+08:00"
    assert rec["published_precision"] == "second"
    # A declared time of another minute (an update an hour later) is not this one's seconds.
    later = html.replace("23:16:24", "00:16:24").replace("2018-03-08 00", "2018-03-09 00")
    rec = record(later)
    assert rec["published_at"] == "2018-03-08T23:16:00+08:00"
    assert rec["published_precision"] == "minute"
