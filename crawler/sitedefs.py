"""Site definitions: one TOML file per portal, validated into typed objects.

The schema is documented in docs/site-definitions.md. Validation happens once, at load
time, and every error names the file and the key, because the person who fixes it is
editing that file, not reading our code.

A definition names its CMS family (``family = "trs"``); the family's file in
``crawler/families/`` gives defaults that the definition overrides key by key. The same
family files hold the URL shapes of article pages that zero-configuration discovery uses.

The dataclasses below are both the public types and the schema: pydantic validates a file
against their annotations, and the validators attached to those annotations carry the
messages a person editing the file reads.
"""

from __future__ import annotations

import math
import os
import re
import re._constants as sre
import re._parser as sre_parse
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urljoin, urlsplit

import tomli_w
from parsel import Selector
from parsel.csstranslator import HTMLTranslator
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    with_config,
)
from pydantic_core import ErrorDetails

BUNDLED_DIR = Path(__file__).with_name("sites")
FAMILIES_DIR = Path(__file__).with_name("families")
# Dots too: a zero-configuration site is named after its host (auto-www.example.gov.cn).
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
# Where a data directory keeps the definitions `wenhua crawl --start-url` inferred.
DATA_SITES = "sites"


class SiteDefinitionError(Exception):
    """A site definition that cannot be used; the message names the file and the key."""


class UnknownSiteError(Exception):
    """No definition file for the requested site name."""


# ---------------------------------------------------------------------------------------------
# Value checks, attached to the annotations of the types below
# ---------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    return value


def _optional_text(value: Any) -> str | None:
    # An empty string means "not given", as an omitted key does.
    if value is None:
        return None
    return _text(value) or None


_PROBE = Selector(text="<html></html>")
_CSS = HTMLTranslator()
_XPATH_STRINGS = re.compile(r"\"[^\"]*\"|'[^']*'")
_XPATH_VARIABLE = re.compile(r"\$\s*([A-Za-z_][\w.-]*)")
_XPATH_PREFIX = re.compile(r"(?<![\w.:-])([A-Za-z_][\w.-]*):(?!:)")
_XPATH_CALL = re.compile(r"(?<![\w.:$-])([A-Za-z_][\w.-]*)\s*\(")
# What a selector may use: XPath 1.0's functions and node tests, parsel's has-class and the
# EXSLT regular-expression and set extensions parsel registers (prefixes re, set).
_XPATH_FUNCTIONS = frozenset(
    [
        "last",
        "position",
        "count",
        "id",
        "local-name",
        "namespace-uri",
        "name",
        "string",
        "concat",
        "starts-with",
        "contains",
        "substring-before",
        "substring-after",
        "substring",
        "string-length",
        "normalize-space",
        "translate",
        "boolean",
        "not",
        "true",
        "false",
        "lang",
        "number",
        "sum",
        "floor",
        "ceiling",
        "round",
        "node",
        "text",
        "comment",
        "processing-instruction",
        "has-class",
        "and",
        "or",
        "div",
        "mod",
    ]
)
_XPATH_PREFIXES = frozenset({"re", "set", "xml"})
# EXSLT's re:test / re:match / re:replace: their pattern (the second argument, a string
# literal) runs through Python's re inside lxml, so it gets the URL patterns' checks.
_XPATH_REGEX_CALL = re.compile(r"re:(?:test|match|replace)\s*\(")


def _xpath_regexes(xpath: str) -> list[str]:
    """The string-literal patterns given to EXSLT regular-expression calls."""
    found = []
    for call in _XPATH_REGEX_CALL.finditer(xpath):
        args, depth, quote, current = [], 0, "", ""
        for char in xpath[call.end() :]:
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "(":
                depth += 1
            elif char == ")":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                args.append(current)
                current = ""
                continue
            current += char
        args.append(current)
        if len(args) > 1:
            pattern = args[1].strip()
            if len(pattern) >= 2 and pattern[0] == pattern[-1] and pattern[0] in "'\"":
                found.append(pattern[1:-1])
    return found


def _check_xpath(xpath: str) -> None:
    """Refuse what compiles but breaks on the first page it meets: lxml evaluates a
    variable, a namespace prefix or an unknown function only when a node reaches it."""
    bare = _XPATH_STRINGS.sub('""', xpath)
    variable = _XPATH_VARIABLE.search(bare)
    if variable:
        raise ValueError(f"uses the variable ${variable.group(1)}, which nothing defines")
    for prefix in _XPATH_PREFIX.findall(bare):
        if prefix not in _XPATH_PREFIXES:
            raise ValueError(f"uses the namespace prefix {prefix!r}, which nothing defines")
    for name in _XPATH_CALL.findall(bare):
        if name not in _XPATH_FUNCTIONS:
            raise ValueError(f"calls {name}(), which is not an XPath 1.0 function")
    for pattern in _xpath_regexes(xpath):
        _pattern(pattern)


def _check_selector(selector: str) -> None:
    try:
        if selector.startswith("xpath:"):
            xpath = selector[len("xpath:") :]
            _PROBE.xpath(xpath)
        else:
            _PROBE.css(selector)
            xpath = _CSS.css_to_xpath(selector)
        _check_xpath(xpath)
    except Exception as exc:  # parsel raises several types for bad expressions
        raise ValueError(f"invalid selector {selector!r}: {exc}") from exc


def _selectors(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        raise ValueError("expected a list of selectors (non-empty strings)")
    for selector in value:
        _check_selector(selector)
    return tuple(value)


def _pattern(value: Any) -> re.Pattern[str] | None:
    if value is None or isinstance(value, re.Pattern):
        return value
    if not _text(value):
        return None
    try:
        compiled = re.compile(value)
        tree = sre_parse.parse(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from exc
    danger = _nested_repeat(list(tree))
    if danger:
        raise ValueError(
            f"regular expression {value!r} repeats a repetition ({danger}): it can take "
            "exponential time on a long URL or text; write it without the nested quantifier"
        )
    return compiled


_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)
_CATEGORY_TESTS: dict[Any, Callable[[str], bool]] = {
    sre.CATEGORY_DIGIT: str.isdigit,
    sre.CATEGORY_NOT_DIGIT: lambda c: not c.isdigit(),
    sre.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
    sre.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_"),
    sre.CATEGORY_SPACE: str.isspace,
    sre.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
}


def _can_match(items: list[Any], char: str) -> bool:
    """Whether a repeated element (sre items) may match `char`; True when unsure."""
    if len(items) != 1:
        return True
    op, av = items[0]
    if op is sre.LITERAL:
        return bool(av == ord(char))
    if op is sre.NOT_LITERAL:
        return bool(av != ord(char))
    if op is not sre.IN:
        return True
    negate, found = False, False
    for kind, value in av:
        if kind is sre.NEGATE:
            negate = True
        elif kind is sre.LITERAL:
            found = found or value == ord(char)
        elif kind is sre.RANGE:
            found = found or value[0] <= ord(char) <= value[1]
        elif kind is sre.CATEGORY and value in _CATEGORY_TESTS:
            found = found or _CATEGORY_TESTS[value](char)
        else:
            return True
    return found != negate


def _inner_repeats(items: list[Any]) -> list[list[Any]]:
    """The elements repeated more than once anywhere inside `items`."""
    found: list[list[Any]] = []
    for op, av in items:
        if op in _REPEATS:
            if av[1] > 1:
                found.append(list(av[2]))
            found += _inner_repeats(list(av[2]))
        elif op is sre.SUBPATTERN:
            found += _inner_repeats(list(av[3]))
        elif op is sre.BRANCH:
            for branch in av[1]:
                found += _inner_repeats(list(branch))
    return found


def _nested_repeat(items: list[Any]) -> str | None:
    """A repetition inside a repetition, the shape that backtracks exponentially
    (`(/?\\w+)+`). Allowed when each round starts with a literal character that the
    inner repetition cannot match (`(/\\d+)+`): then the rounds cannot trade characters."""
    for op, av in items:
        if op in _REPEATS:
            body = list(av[2])
            if av[1] > 1:
                inner = _inner_repeats(body)
                flat = body
                while flat and flat[0][0] is sre.SUBPATTERN:
                    flat = list(flat[0][1][3]) + flat[1:]
                lead = chr(flat[0][1]) if flat and flat[0][0] is sre.LITERAL else None
                if inner and (lead is None or any(_can_match(i, lead) for i in inner)):
                    return "a quantifier inside a quantified group"
            found = _nested_repeat(body)
        elif op is sre.SUBPATTERN:
            found = _nested_repeat(list(av[3]))
        elif op is sre.BRANCH:
            found = next((f for b in av[1] if (f := _nested_repeat(list(b)))), None)
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            found = _nested_repeat(list(av[1]))
        else:
            found = None
        if found:
            return found
    return None


def _patterns(value: Any) -> tuple[re.Pattern[str], ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        raise ValueError("expected a list of regular expressions")
    return tuple(p for p in map(_pattern, value) if p is not None)


def _domains(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, str) and v.strip() and "/" not in v for v in value
    ):
        raise ValueError("expected a list of host names, e.g. ['www.example.gov.cn']")
    return tuple(v.strip().lower() for v in value)


def _scope(value: Any) -> str:
    path = _text(value)
    if not path.startswith("/"):
        raise ValueError(f"{path!r} is not a path: give a prefix such as '/' or '/wlj/'")
    return path


def _days(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a number of days, e.g. 7")
    if not math.isfinite(value):
        raise ValueError(f"{value} is not a finite number of days; use e.g. 7")
    if value < 0:
        raise ValueError(f"{value} is negative; use 0 or more days")
    return float(value)


def _http_url(value: str) -> str:
    value = value.rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


def _site_name(value: str, info: ValidationInfo) -> str:
    path = (info.context or {}).get("path")
    if isinstance(path, Path) and value != path.stem:
        raise ValueError(f"{value!r} must equal the file name {path.stem!r}")
    if not NAME_RE.match(value):
        raise ValueError("use lower-case letters, digits, '.', '-' and '_'")
    return value


def _table(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("expected a table")
    return value


def _start_pages(value: Any) -> Any:
    if not isinstance(value, list | tuple) or not value:
        raise ValueError("expected at least one [[start]] entry with a url")
    return value


Text = Annotated[str, BeforeValidator(_text)]
OptionalText = Annotated[str | None, BeforeValidator(_optional_text)]
Selectors = Annotated[tuple[str, ...], BeforeValidator(_selectors)]
UrlPattern = Annotated[re.Pattern[str] | None, BeforeValidator(_pattern)]
UrlPatterns = Annotated[tuple[re.Pattern[str], ...], BeforeValidator(_patterns)]
Days = Annotated[float, BeforeValidator(_days)]
Domains = Annotated[tuple[str, ...], BeforeValidator(_domains)]
Scope = Annotated[str, BeforeValidator(_scope)]
SiteName = Annotated[str, BeforeValidator(_text), AfterValidator(_site_name)]
HttpUrl = Annotated[str, BeforeValidator(_text), AfterValidator(_http_url)]


# ---------------------------------------------------------------------------------------------
# Types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartPage:
    url: Text
    category: OptionalText = None
    district: OptionalText = None


@dataclass(frozen=True)
class ListRules:
    article_links: Selectors = ()
    next_page: Selectors = ()
    article_url_pattern: UrlPattern = None
    # Link discovery, for portals whose lists have no selector worth writing (the
    # definitions `wenhua crawl --start-url` infers): every in-scope link of every page is
    # an article, a list page or a page to look at, by its URL shape.
    article_url_patterns: UrlPatterns = ()
    list_url_patterns: UrlPatterns = ()
    skip_url_patterns: UrlPatterns = ()
    # The text of a link to another page of the same list (下一页, 2, »): followed only
    # while the page lists an unknown article, as next_page is.
    page_link_text: UrlPattern = None
    scope: Scope = "/"  # path prefix on the site's host that the crawl stays under
    allow_domains: Domains = ()  # further hosts the crawl may visit (any path)
    follow_unknown: StrictBool = False  # fetch links of no known shape; store articles

    @property
    def discovers(self) -> bool:
        return bool(self.article_url_patterns)


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True)
class FieldRules:
    title: Selectors = ()
    meta: Selectors = ()
    published_at: Selectors = ()
    source: Selectors = ()
    editor: Selectors = ()
    author: Selectors = ()
    district: Selectors = ()
    body: Selectors = ()
    remove: Selectors = ()


@dataclass(frozen=True)
class Region:
    province: OptionalText = None
    city: OptionalText = None
    district: OptionalText = None


@dataclass(frozen=True)
class SiteDefinition:
    name: SiteName
    path: Path
    title: Text
    family: Text
    base_url: HttpUrl
    checked: StrictBool
    region: Region
    start: Annotated[tuple[StartPage, ...], BeforeValidator(_start_pages)]
    list: ListRules
    fields: FieldRules
    encoding: OptionalText = None
    revisit_days: Days = 7.0  # how often a recrawl re-checks a known article

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def absolute(self, url: str) -> str:
        return urljoin(self.base_url + "/", url)


@dataclass(frozen=True)
class FamilyDefaults:
    """What a family may preset for the definitions that name it."""

    list: ListRules | None = None
    fields: FieldRules | None = None
    encoding: OptionalText = None
    revisit_days: Days | None = None


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True)
class Family:
    """A CMS family: the URL shapes of its article pages and its definition defaults."""

    name: str
    path: Path
    title: Text
    article_urls: UrlPatterns = ()
    # URL shapes shared by many systems (date paths, detail.aspx?id=): tried after every
    # other family's, so a more specific family names a page first.
    catch_all: StrictBool = False
    # The raw tables, merged under a definition's own before the definition is validated
    # (and checked on their own as FamilyDefaults when the family is loaded).
    defaults: Annotated[dict[str, Any], BeforeValidator(_table)] = field(default_factory=dict)


_SITE = TypeAdapter(SiteDefinition)
_FAMILY = TypeAdapter(Family)
_FAMILY_DEFAULTS = TypeAdapter(FamilyDefaults)
_FILE_DEFAULTS: dict[str, Any] = {
    "title": "",
    "family": "",
    "checked": True,
    "region": {},
    "list": {},
    "fields": {},
}
_REQUIRED_SELECTORS = (("list", "article_links"), ("fields", "title"), ("fields", "body"))


# ---------------------------------------------------------------------------------------------
# Errors: pydantic's report turned into one line naming the file and the key
# ---------------------------------------------------------------------------------------------


def _key(loc: Iterable[int | str], prefix: str = "") -> str:
    key = prefix
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else part)
    return key


def _problem(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if kind == "missing":
        return "missing (required)"
    if kind == "string_type":
        return f"expected a string, got {type(error['input']).__name__}"
    if kind == "bool_type":
        return "expected true or false"
    if kind in ("dataclass_type", "dict_type", "dataclass_exact_type"):
        return "expected a table"
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        return "unknown key"
    return str(error["msg"])


def _failure(path: Path, exc: ValidationError, prefix: str = "") -> SiteDefinitionError:
    error = exc.errors(include_url=False)[0]
    key = _key(error["loc"], prefix)
    problem = _problem(error)
    if problem == "unknown key" and key.startswith(("fields.", "defaults.fields.")):
        known = ", ".join(sorted(f.name for f in fields(FieldRules)))
        problem = f"unknown field (known: {known})"
    return SiteDefinitionError(f"{path}: key '{key}': {problem}")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SiteDefinitionError(f"{path}: file not found") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SiteDefinitionError(f"{path}: not valid TOML: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# CMS families
# ---------------------------------------------------------------------------------------------


def available_families() -> dict[str, Path]:
    """Every family name (the file stem) to its file."""
    return {path.stem: path for path in sorted(FAMILIES_DIR.glob("*.toml"))}


def load_family_file(path: Path) -> Family:
    raw = _read_toml(path)
    try:
        family = _FAMILY.validate_python({**raw, "name": path.stem, "path": path})
    except ValidationError as exc:
        raise _failure(path, exc) from exc
    try:
        _FAMILY_DEFAULTS.validate_python(family.defaults)
    except ValidationError as exc:
        raise _failure(path, exc, "defaults") from exc
    return family


def load_families() -> list[Family]:
    """Every family, the catch-all ones last (in file-name order otherwise)."""
    families = [load_family_file(path) for path in available_families().values()]
    return sorted(families, key=lambda f: f.catch_all)


def article_patterns() -> tuple[re.Pattern[str], ...]:
    """The article URL shapes (matched against path plus query) of every family, in the
    order they are tried."""
    return tuple(p for family in load_families() for p in family.article_urls)


def _merged(defaults: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """``own`` over ``defaults``; tables are merged key by key, everything else replaced."""
    merged = dict(defaults)
    for key, value in own.items():
        base = merged.get(key)
        if isinstance(value, dict) and isinstance(base, dict):
            merged[key] = {**base, **value}
        else:
            merged[key] = value
    return merged


# ---------------------------------------------------------------------------------------------
# Site definitions
# ---------------------------------------------------------------------------------------------


def search_dirs(data_dir: Path | str | None = None) -> list[Path]:
    """WENHUA_SITES, then the data directory's inferred definitions, then the bundled ones."""
    dirs = [Path(p) for p in os.environ.get("WENHUA_SITES", "").split(os.pathsep) if p]
    if data_dir is not None:
        dirs.append(Path(data_dir) / DATA_SITES)
    return [*dirs, BUNDLED_DIR]


def available_sites(data_dir: Path | str | None = None) -> dict[str, Path]:
    """Every site name to its file; an earlier search directory wins."""
    found: dict[str, Path] = {}
    for directory in reversed(search_dirs(data_dir)):
        for path in sorted(directory.glob("*.toml")):
            found[path.stem] = path
    return dict(sorted(found.items()))


def load_site(name: str, data_dir: Path | str | None = None) -> SiteDefinition:
    sites = available_sites(data_dir)
    if name not in sites:
        known = ", ".join(sites) or "none"
        where = ", ".join(map(str, search_dirs(data_dir)))
        raise UnknownSiteError(
            f"unknown site {name!r}: no {name}.toml in {where} (known sites: {known})"
        )
    return load_site_file(sites[name])


def load_all_sites(data_dir: Path | str | None = None) -> list[SiteDefinition]:
    return [load_site_file(path) for path in available_sites(data_dir).values()]


def load_site_file(path: Path) -> SiteDefinition:
    raw = _read_toml(path)
    family = raw.get("family")
    family_path = available_families().get(family) if isinstance(family, str) else None
    # A family without a file presets nothing: the name stays informational.
    defaults = load_family_file(family_path).defaults if family_path else {}
    merged = _merged(_merged(_FILE_DEFAULTS, defaults), raw)
    try:
        site = _SITE.validate_python({**merged, "path": path}, context={"path": path})
    except ValidationError as exc:
        raise _failure(path, exc) from exc
    # Link discovery finds the articles without selectors, and the generic extractor
    # their fields: such a definition needs none.
    for table, key in () if site.list.discovers else _REQUIRED_SELECTORS:
        if not getattr(getattr(site, table), key):
            raise SiteDefinitionError(f"{path}: key '{table}.{key}': missing (required)")
    return replace(site, title=site.title or site.name)


def site_for_url(url: str, data_dir: Path | str | None = None) -> SiteDefinition | None:
    """The definition whose origin and article pattern match a page address, if any (the
    data directory's own definitions, e.g. inferred `auto-<host>` ones, included)."""
    parts = urlsplit(url)
    for site in load_all_sites(data_dir):
        if (parts.hostname or "") != site.domain:
            continue
        pattern = site.list.article_url_pattern
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        if pattern is None or pattern.search(target):
            return site
    return None


# ---------------------------------------------------------------------------------------------
# Writing a definition for a person to review
# ---------------------------------------------------------------------------------------------


def _entry(key: str, value: Any, notes: list[str]) -> list[str]:
    """One `key = value` line written by tomli-w, then its review comments."""
    comments = ["# " + " ".join(note.split()) for note in notes]
    return [tomli_w.dumps({key: value}).rstrip("\n"), *comments]


def render_definition(
    header: list[str], doc: dict[str, Any], notes: dict[str, list[str]] | None = None
) -> str:
    """TOML for `doc` (top-level values first, then one [table] per dict) with the
    comments in `notes` (keyed 'key', 'table' or 'table.key') right after what they explain."""
    notes = notes or {}
    lines = [f"# {line}" for line in header]
    tables = {name: value for name, value in doc.items() if isinstance(value, dict)}
    for key, value in doc.items():
        if key not in tables:
            lines += _entry(key, value, notes.get(key, []))
    for name, table in tables.items():
        lines += ["", tomli_w.dumps({name: {}}).rstrip("\n")]
        lines += ["# " + " ".join(note.split()) for note in notes.get(name, [])]
        for key, value in table.items():
            lines += _entry(key, value, notes.get(f"{name}.{key}", []))
    return "\n".join(lines) + "\n"
