"""URL identity: canonical forms, and the mapping between a site's canonical origin and
the address it is actually served from (the demo portal on a random loopback port, a
mirror), so an article's identity never depends on where it was fetched."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

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
