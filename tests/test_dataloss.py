"""crawler.dataloss: a body cut short is kept only when its encoded stream proves it whole
(#16; the case the blind portal showed: gzip sent with the uncompressed Content-Length)."""

from __future__ import annotations

import gzip
import zlib

import pytest

from crawler.dataloss import stream_is_whole

PAGE = b"<html><body>" + "县文化馆举办非遗展演。".encode() * 2000 + b"</body></html>"
LIMIT = 32 * 1024 * 1024


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        (gzip.compress(PAGE), "gzip"),
        (gzip.compress(PAGE[:5000]) + gzip.compress(PAGE[5000:]), "x-gzip"),  # two members
        (zlib.compress(PAGE), "deflate"),
        (zlib.compress(PAGE)[2:-4], "deflate"),  # raw deflate, as IIS sends it
    ],
)
def test_a_whole_stream_is_kept(body: bytes, encoding: str) -> None:
    assert stream_is_whole(body, encoding, LIMIT)


@pytest.mark.parametrize("cut", [1, 8, 100, 1000])
def test_a_stream_cut_anywhere_is_not_whole(cut: int) -> None:
    body = gzip.compress(PAGE)
    assert not stream_is_whole(body[:-cut], "gzip", LIMIT)


def test_identity_brotli_and_a_stream_past_the_limit_are_not_whole() -> None:
    assert not stream_is_whole(PAGE, "", LIMIT)
    assert not stream_is_whole(PAGE, "br", LIMIT)
    assert not stream_is_whole(gzip.compress(PAGE), "gzip", len(PAGE) - 1)
