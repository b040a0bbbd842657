from __future__ import annotations

import re

import pytest

from crawler.extract.urls import BadUrl, OriginMap, canonical_url, checked_url, on_site


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://WWW.Example.GOV.cn:80/a/b.html#top", "http://www.example.gov.cn/a/b.html"),
        ("https://example.gov.cn:443/x?b=2&a=1", "https://example.gov.cn/x?a=1&b=2"),
        ("http://example.gov.cn:8080/x", "http://example.gov.cn:8080/x"),
        ("http://example.gov.cn/x?id=5&utm_source=wx&spm=1.2", "http://example.gov.cn/x?id=5"),
        ("http://example.gov.cn", "http://example.gov.cn/"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_origin_map_round_trip() -> None:
    origins = OriginMap("http://demo.wenhua.local", "http://127.0.0.1:43210")
    served = "http://127.0.0.1:43210/new-1.html?x=1"
    assert origins.to_canonical(served) == "http://demo.wenhua.local/new-1.html?x=1"
    assert origins.to_serving(origins.to_canonical(served)) == served
    # Other hosts and look-alike prefixes are left alone.
    assert origins.to_canonical("http://127.0.0.1:432100/x") == "http://127.0.0.1:432100/x"
    assert origins.to_canonical("http://other.example/x") == "http://other.example/x"


@pytest.mark.parametrize(
    ("href", "reason"),
    [
        ("javascript:void(0)", "javascript: link"),
        ("mailto:office@example.gov.cn", "mailto: link"),
        ("C:\\Users\\ADMINI~1\\AppData\\Local\\Temp\\msohtmlclip1\\01\\clip_image002.jpg", "local"),
        ("file:///C:/x.jpg", "file: link"),
        ("http://[", "Invalid IPv6 URL"),
        ("http://example.gov.cn:99999/a.html", "Port out of range"),
        ("http://example.gov.cn:abc/a.html", "Port could not be cast"),
        ("", "empty"),
    ],
)
def test_unfetchable_addresses_say_why(href: str, reason: str) -> None:
    with pytest.raises(BadUrl, match=re.escape(reason)):
        checked_url(href, "http://example.gov.cn/list/index.html")


def test_fetchable_addresses_are_made_absolute() -> None:
    base = "http://example.gov.cn/list/index.html"
    assert checked_url(" ../art/1.html ", base) == "http://example.gov.cn/art/1.html"
    assert checked_url("//cdn.example.gov.cn/a.jpg", base) == "http://cdn.example.gov.cn/a.jpg"
    assert checked_url("HTTPS://Example.gov.cn:8443/x", None) == "HTTPS://Example.gov.cn:8443/x"


def test_on_site_follows_scrapys_offsite_rule() -> None:
    assert on_site("http://www.example.gov.cn/a", ["www.example.gov.cn"])
    assert on_site("http://bob.www.example.gov.cn/a", ["www.example.gov.cn"])
    assert not on_site("http://example.gov.cn/a", ["www.example.gov.cn"])
    assert not on_site("http://[", ["www.example.gov.cn"])
    assert on_site("http://anything.example/", [])
