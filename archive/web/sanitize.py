"""Archived HTML is untrusted: sanitize it again whenever it leaves the archive.

The crawler already cleans bodies with nh3, but what is rendered or returned is cleaned
once more at output time, so a body stored by an older or buggier pipeline cannot carry
script into a reader's browser. Images are rewritten to the archive's copy
(`/images/<sha256>`); an image the archive does not hold becomes a placeholder, never a
hot link to the portal.
"""

from __future__ import annotations

from collections.abc import Mapping

import lxml.html
import nh3

TAGS = {
    "a", "b", "blockquote", "br", "caption", "div", "em", "figcaption", "figure", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "section", "small",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "u", "ul",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
PLACEHOLDER_CLASS = "img-missing"


def _clean(html: str, extra: Mapping[str, set[str]] | None = None) -> str:
    attributes = {key: set(value) for key, value in ATTRIBUTES.items()}
    for key, value in (extra or {}).items():
        attributes.setdefault(key, set()).update(value)
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=attributes,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def safe_body_html(html: str, archived: Mapping[str, str | None]) -> str:
    """Sanitized body with each <img> pointing at the archive (archived: url -> sha256)."""
    cleaned = _clean(html)
    if not cleaned.strip():
        return ""
    root = lxml.html.fragment_fromstring(cleaned, create_parent="div")
    for img in list(root.iter("img")):
        sha = archived.get(img.get("src") or "")
        if sha:
            img.set("src", f"/images/{sha}")
            img.set("loading", "lazy")
            continue
        placeholder = lxml.html.Element("span")
        placeholder.set("class", PLACEHOLDER_CLASS)
        placeholder.text = "［图片未存档" + (f"：{img.get('alt')}" if img.get("alt") else "") + "］"
        placeholder.tail = img.tail
        img.getparent().replace(img, placeholder)
    inner = (root.text or "") + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in root
    )
    # Once more, so nothing the rewrite did can reintroduce markup the sanitizer refuses.
    return _clean(inner, {"img": {"loading"}, "span": {"class"}})


def safe_snippet_html(snippet_html: str) -> str:
    """A search snippet: text with <mark> only."""
    return nh3.clean(snippet_html, tags={"mark"}, attributes={})
