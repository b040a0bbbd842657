from __future__ import annotations

import pytest

from crawler.extract.urls import OriginMap, canonical_url


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
