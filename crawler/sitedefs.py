"""Site definitions: one TOML file per portal, validated into typed objects.

The schema is documented in docs/site-definitions.md. Validation happens once, at load
time, and every error names the file and the key, because the person who fixes it is
editing that file, not reading our code.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

BUNDLED_DIR = Path(__file__).with_name("sites")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
TEXT_FIELDS = ("title", "meta", "published_at", "source", "editor", "author", "district")


class SiteDefinitionError(Exception):
    """A site definition that cannot be used; the message names the file and the key."""


class UnknownSiteError(Exception):
    """No definition file for the requested site name."""


@dataclass(frozen=True)
class StartPage:
    url: str
    category: str | None = None
    district: str | None = None


@dataclass(frozen=True)
class ListRules:
    article_links: tuple[str, ...]
    next_page: tuple[str, ...] = ()
    article_url_pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class FieldRules:
    title: tuple[str, ...] = ()
    meta: tuple[str, ...] = ()
    published_at: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    editor: tuple[str, ...] = ()
    author: tuple[str, ...] = ()
    district: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


@dataclass(frozen=True)
class Region:
    province: str | None = None
    city: str | None = None
    district: str | None = None


@dataclass(frozen=True)
class SiteDefinition:
    name: str
    path: Path
    title: str
    family: str
    base_url: str
    checked: bool
    region: Region
    start: tuple[StartPage, ...]
    list: ListRules
    fields: FieldRules
    encoding: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    revisit_days: float = 7.0  # how often a recrawl re-checks a known article (#7)

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def absolute(self, url: str) -> str:
        return urljoin(self.base_url + "/", url)


def search_dirs() -> list[Path]:
    dirs = [Path(p) for p in os.environ.get("WENHUA_SITES", "").split(os.pathsep) if p]
    return [*dirs, BUNDLED_DIR]


def available_sites() -> dict[str, Path]:
    """Every site name to its file; an earlier search directory wins."""
    found: dict[str, Path] = {}
    for directory in reversed(search_dirs()):
        for path in sorted(directory.glob("*.toml")):
            found[path.stem] = path
    return dict(sorted(found.items()))


def load_site(name: str) -> SiteDefinition:
    sites = available_sites()
    if name not in sites:
        known = ", ".join(sites) or "none"
        raise UnknownSiteError(
            f"unknown site {name!r}: no {name}.toml in {', '.join(map(str, search_dirs()))} "
            f"(known sites: {known})"
        )
    return load_site_file(sites[name])


def load_all_sites() -> list[SiteDefinition]:
    return [load_site_file(path) for path in available_sites().values()]


def load_site_file(path: Path) -> SiteDefinition:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SiteDefinitionError(f"{path}: file not found") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SiteDefinitionError(f"{path}: not valid TOML: {exc}") from exc
    return _Validator(path, raw).build()


class _Validator:
    def __init__(self, path: Path, raw: dict[str, Any]) -> None:
        self.path = path
        self.raw = raw

    def fail(self, key: str, problem: str) -> SiteDefinitionError:
        return SiteDefinitionError(f"{self.path}: key '{key}': {problem}")

    def string(
        self, table: dict[str, Any], key: str, prefix: str = "", *, required: bool = False
    ) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                raise self.fail(prefix + key, "missing (required)")
            return None
        if not isinstance(value, str):
            raise self.fail(prefix + key, f"expected a string, got {type(value).__name__}")
        return value

    def selectors(self, table: dict[str, Any], key: str, prefix: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(prefix + key, "expected a list of selectors (non-empty strings)")
        for selector in value:
            self.check_selector(selector, prefix + key)
        return tuple(value)

    def check_selector(self, selector: str, key: str) -> None:
        from parsel import Selector

        probe = Selector(text="<html></html>")
        try:
            if selector.startswith("xpath:"):
                probe.xpath(selector[len("xpath:") :])
            else:
                probe.css(selector)
        except Exception as exc:  # parsel raises several types for bad expressions
            raise self.fail(key, f"invalid selector {selector!r}: {exc}") from exc

    def table(self, key: str) -> dict[str, Any]:
        value = self.raw.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "expected a table")
        return value

    def build(self) -> SiteDefinition:
        raw = self.raw
        name = self.string(raw, "name", required=True) or ""
        if name != self.path.stem:
            raise self.fail("name", f"{name!r} must equal the file name {self.path.stem!r}")
        if not NAME_RE.match(name):
            raise self.fail("name", "use lower-case letters, digits, '-' and '_'")
        base_url = (self.string(raw, "base_url", required=True) or "").rstrip("/")
        if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).hostname:
            raise self.fail("base_url", f"{base_url!r} is not an http(s) URL")
        checked = raw.get("checked", True)
        if not isinstance(checked, bool):
            raise self.fail("checked", "expected true or false")

        region_raw = self.table("region")
        region = Region(
            province=self.string(region_raw, "province", "region.") or None,
            city=self.string(region_raw, "city", "region.") or None,
            district=self.string(region_raw, "district", "region.") or None,
        )

        start_raw = raw.get("start")
        if not isinstance(start_raw, list) or not start_raw:
            raise self.fail("start", "expected at least one [[start]] entry with a url")
        starts = []
        for i, entry in enumerate(start_raw):
            prefix = f"start[{i}]."
            if not isinstance(entry, dict):
                raise self.fail(f"start[{i}]", "expected a table with a url")
            starts.append(
                StartPage(
                    url=self.string(entry, "url", prefix, required=True) or "",
                    category=self.string(entry, "category", prefix) or None,
                    district=self.string(entry, "district", prefix) or None,
                )
            )

        list_raw = self.table("list")
        article_links = self.selectors(list_raw, "article_links", "list.")
        if not article_links:
            raise self.fail("list.article_links", "missing (required)")
        pattern_text = self.string(list_raw, "article_url_pattern", "list.")
        try:
            pattern = re.compile(pattern_text) if pattern_text else None
        except re.error as exc:
            raise self.fail(
                "list.article_url_pattern", f"invalid regular expression: {exc}"
            ) from exc
        rules = ListRules(
            article_links=article_links,
            next_page=self.selectors(list_raw, "next_page", "list."),
            article_url_pattern=pattern,
        )

        fields_raw = self.table("fields")
        known = {*TEXT_FIELDS, "body", "remove"}
        for key in fields_raw:
            if key not in known:
                raise self.fail(
                    f"fields.{key}", f"unknown field (known: {', '.join(sorted(known))})"
                )
        fields = FieldRules(**{key: self.selectors(fields_raw, key, "fields.") for key in known})
        if not fields.title:
            raise self.fail("fields.title", "missing (required)")
        if not fields.body:
            raise self.fail("fields.body", "missing (required)")

        revisit_days = raw.get("revisit_days", 7)
        if isinstance(revisit_days, bool) or not isinstance(revisit_days, int | float):
            raise self.fail("revisit_days", "expected a number of days, e.g. 7")
        if revisit_days < 0:
            raise self.fail("revisit_days", f"{revisit_days} is negative; use 0 or more days")

        return SiteDefinition(
            revisit_days=float(revisit_days),
            name=name,
            path=self.path,
            title=self.string(raw, "title") or name,
            family=self.string(raw, "family") or "",
            base_url=base_url,
            checked=checked,
            region=region,
            start=tuple(starts),
            list=rules,
            fields=fields,
            encoding=self.string(raw, "encoding") or None,
        )


def site_for_url(url: str) -> SiteDefinition | None:
    """The definition whose origin and article pattern match a page address, if any."""
    parts = urlsplit(url)
    for site in load_all_sites():
        if (parts.hostname or "") != site.domain:
            continue
        pattern = site.list.article_url_pattern
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        if pattern is None or pattern.search(target):
            return site
    return None
