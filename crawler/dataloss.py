"""Bodies cut short: a retryable failure, unless the content encoding proves them whole.

Portals behind a compressing proxy often send the Content-Length of the page before it
was compressed, so every gzip response looks cut short (Twisted's data loss) although its
gzip stream is complete: the gzip trailer carries a CRC-32 and the length of the whole
page. Scrapy either fails all of them (DOWNLOAD_FAIL_ON_DATALOSS, the default) or keeps
all of them, truncated HTML included. With the setting off, `WholeStreamMiddleware` (before
HttpCompressionMiddleware decodes the body) marks a flagged response whose encoded stream
ends with a valid trailer, and `BackoffRetryMiddleware` (crawler.middlewares) treats every
other flagged response as the ResponseDataLossError it would have been: retried, then a
failure with that reason.
"""

from __future__ import annotations

import zlib
from typing import Any

from scrapy import Request
from scrapy.http import Response

# A response flag: the body was shorter than announced, yet its encoded stream is whole.
WHOLE_STREAM = "dataloss-whole-stream"
DATALOSS = "dataloss"  # Scrapy's flag for a body shorter than announced
CHUNK = 1 << 20


def stream_is_whole(body: bytes, encoding: str, limit: int) -> bool:
    """Whether `body`, encoded with `encoding` (gzip or deflate), decodes to the end of its
    stream (every gzip member's CRC and length checked by zlib), within `limit` bytes of
    output. Anything else (brotli, zstd, identity) cannot prove itself whole."""
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        wbits = [16 + zlib.MAX_WBITS]
    elif encoding == "deflate":
        wbits = [zlib.MAX_WBITS, -zlib.MAX_WBITS]  # zlib-wrapped, or raw as IIS sends it
    else:
        return False
    return any(_decodes_whole(body, bits, limit) for bits in wbits)


def _decodes_whole(body: bytes, wbits: int, limit: int) -> bool:
    data, produced = body, 0
    try:
        while True:
            inflater = zlib.decompressobj(wbits)
            pending = data
            while pending and not inflater.eof:
                produced += len(inflater.decompress(pending, CHUNK))
                if produced > limit:
                    return False
                pending = inflater.unconsumed_tail
            if not inflater.eof:
                return False
            data = inflater.unused_data
            # gzip allows further members (and some servers pad with zeros); zlib does not
            if not data.strip(b"\0") or wbits != 16 + zlib.MAX_WBITS:
                return not data.strip(b"\0")
    except zlib.error:
        return False


class WholeStreamMiddleware:
    """Marks a response flagged `dataloss` whose gzip/deflate stream is whole (see above)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    @classmethod
    def from_crawler(cls, crawler: Any) -> WholeStreamMiddleware:
        middleware = cls(crawler.settings.getint("DOWNLOAD_MAXSIZE") or 1 << 30)
        middleware.stats = crawler.stats
        return middleware

    stats: Any = None

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Response:
        if DATALOSS not in response.flags:
            return response
        encoding = (response.headers.get(b"Content-Encoding") or b"").decode("latin-1")
        if not stream_is_whole(response.body, encoding, self.limit):
            return response
        if self.stats is not None:
            self.stats.inc_value("wenhua/dataloss_whole_stream")
        return response.replace(flags=[*response.flags, WHOLE_STREAM])


def cut_short(response: Response) -> bool:
    """A body shorter than announced that nothing proves whole."""
    return DATALOSS in response.flags and WHOLE_STREAM not in response.flags
