"""URL identity: canonical forms, and the mapping between a site's canonical origin and
the address it is actually served from (the demo portal on a random loopback port, a
mirror), so an article's identity never depends on where it was fetched."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

# Query parameters that only track a visit; they never select different content.
TRACKING_PARAMS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "spm",
    "from",
    "isappinstalled",
    "share_token",
    "wfr",
    "scene",
)


class BadUrl(ValueError):
    """A link, image or refresh target that is not a fetchable web address; the message
    says why, for the problem recorded against the page."""


WEB_SCHEMES = ("http", "https")


def checked_url(href: str, base: str | None = None) -> str:
    """The absolute http(s) URL `href` points to from `base`, or BadUrl naming what is
    wrong: `javascript:` and `mailto:` links, Word-pasted local paths
    (`C:\\Users\\…\\clip_image002.jpg`), `http://[`, a port out of range or not a number.
    Pages carry such values everywhere; one of them must never cost the page."""
    raw = href.strip()
    if not raw:
        raise BadUrl("empty address")
    if (len(raw) >= 2 and raw[1] == ":" and raw[0].isalpha()) or raw.startswith("\\\\"):
        raise BadUrl("a local file path (pasted from a word processor), not a web address")
    try:
        url = urljoin(base, raw) if base else raw
        parts = urlsplit(url)
        port = parts.port  # raises for a port out of range or not a number
    except ValueError as exc:
        raise BadUrl(f"malformed address: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in WEB_SCHEMES:
        what = f"a {scheme}: link" if scheme else "no scheme"
        raise BadUrl(f"not a web address ({what})")
    if not parts.hostname:
        raise BadUrl("no host name")
    if port == 0:
        raise BadUrl("port 0")
    return url


def url_problem(href: str, base: str | None = None) -> str | None:
    """Why `href` is not a fetchable address (None when it is)."""
    try:
        checked_url(href, base)
    except BadUrl as exc:
        return str(exc)
    return None


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters,
    sorted query."""
    cleaned = url_query_cleaner(url, TRACKING_PARAMS, remove=True, keep_fragments=False)
    parts = urlsplit(canonicalize_url(cleaned))
    host = (parts.hostname or "").lower()
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    netloc = host if port in (None, default) else f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class OriginMap:
    """Maps URLs between the canonical origin and the serving origin (identity when equal)."""

    def __init__(self, canonical: str, serving: str | None = None) -> None:
        self.canonical = origin(canonical)
        self.serving = origin(serving) if serving else self.canonical

    def _swap(self, url: str, old: str, new: str) -> str:
        if old == new or not url.startswith(old):
            return url
        rest = url[len(old) :]
        return new + rest if rest[:1] in ("", "/", "?", "#") else url

    def to_canonical(self, url: str) -> str:
        return self._swap(url, self.serving, self.canonical)

    def to_serving(self, url: str) -> str:
        return self._swap(url, self.canonical, self.serving)


def on_site(url: str, domains: list[str]) -> bool:
    """Whether `url`'s host is one of `domains` or under one (Scrapy's offsite rule); every
    host is when no domain is given."""
    if not domains:
        return True
    host = host_of(url)
    return any(host == d or host.endswith("." + d) for d in (d.lower() for d in domains))
