"""Body cleaning: article text kept, page chrome and leaked file names dropped, images
with captions, nothing executable left in body_html."""

from __future__ import annotations

from crawler.extract.body import clean_body

PAGE = "http://demo.wenhua.local/news/new-1.html"


def test_boilerplate_blocks_are_not_body() -> None:
    html = """<div class="content">
      <p>【字体：大 中 小】</p>
      <p>　　路南区文化馆举办非遗展演活动，吸引市民三百余人。</p>
      <p>1.jpg</p>
      <p>活动现场气氛热烈，大中小学生踊跃参与。</p>
      <p>【打印本页】【关闭窗口】</p>
      <div>分享到：</div>
      <div>“扫一扫” 获得更多 意想不到</div>
      <p>上一篇：路北区开展送戏下乡</p>
      <p>冀ICP备12345678号</p>
    </div>"""
    body = clean_body(html, PAGE)
    assert body.text.split("\n") == [
        "路南区文化馆举办非遗展演活动，吸引市民三百余人。",
        "活动现场气氛热烈，大中小学生踊跃参与。",
    ]
    for chrome in ("字体", "1.jpg", "打印", "分享", "扫一扫", "上一篇", "ICP"):
        assert chrome not in body.html


def test_images_absolute_in_order_with_captions() -> None:
    html = """<div><p>第一段文字。</p>
      <p style="text-align:center"><img src="../upload/a.jpg" alt="1.jpg"></p>
      <p>（记者 张三 摄）</p>
      <figure><img data-src="//cdn.example.gov.cn/b.png">
        <figcaption>图为演出现场</figcaption></figure>
      <p>第二段文字。</p></div>"""
    body = clean_body(html, PAGE, rewrite_url=lambda u: u.replace("cdn.", "img."))
    assert [(i.url, i.alt, i.caption) for i in body.images] == [
        ("http://demo.wenhua.local/upload/a.jpg", "1.jpg", "（记者 张三 摄）"),
        ("http://img.example.gov.cn/b.png", None, "图为演出现场"),
    ]
    assert body.text == "第一段文字。\n第二段文字。"
    assert 'src="http://demo.wenhua.local/upload/a.jpg"' in body.html


def test_remove_selectors_and_nothing_executable() -> None:
    html = """<div><p onclick="steal()">正文<a href="javascript:alert(1)">链接</a></p>
      <script>alert(1)</script><iframe src="http://evil.example/"></iframe>
      <img src="x.jpg" onerror="alert(2)"><div class="share">分享给朋友吧朋友</div></div>"""
    body = clean_body(html, PAGE, remove=(".share",))
    lowered = body.html.lower()
    for bad in ("script", "onclick", "onerror", "javascript:", "iframe", "分享给朋友"):
        assert bad not in lowered
    assert "正文" in body.text and "链接" in body.text
