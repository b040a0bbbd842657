"""Decode page bytes the way Chinese portals need.

w3lib (Scrapy's own) does the standard order: BOM, HTTP header, <meta>, then detection,
and already reads GB2312/GBK labels as GB18030. Portals also lie: a <meta> that says UTF-8
on GBK bytes, or no charset anywhere. When the declared encoding produces replacement
characters but the bytes are valid UTF-8 or GB18030, the valid reading wins.
"""

from __future__ import annotations

from w3lib.encoding import html_body_declared_encoding, html_to_unicode


def _strict_guess(body: bytes) -> str | None:
    for codec in ("utf-8", "gb18030"):
        try:
            body.decode(codec)
        except UnicodeDecodeError:
            continue
        return codec
    return None


def decode_html(
    body: bytes, content_type: str | None = None, hint: str | None = None
) -> tuple[str, str]:
    """Return (text, encoding used)."""

    def detect(raw: bytes) -> str | None:
        return _strict_guess(raw) or hint

    header = content_type or ""
    # An HTTP client's ISO-8859-1 default is not a declaration; let <meta>/detection decide.
    if "charset" not in header.lower():
        header = ""
    encoding, text = html_to_unicode(
        header, body, default_encoding=hint or "utf-8", auto_detect_fun=detect
    )
    if "\ufffd" in text:
        guess = _strict_guess(body)
        if guess and guess != encoding:
            return body.decode(guess), guess
    return text, encoding


def declared_encoding(body: bytes) -> str | None:
    return html_body_declared_encoding(body)
