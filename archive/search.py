"""Chinese full-text search over the archive's current versions.

What a query means, on SQLite and PostgreSQL alike: the query is split on whitespace into
terms, and an article matches when, for every term, its title or its body text contains
the term as an exact (case-sensitive) substring — what `term in title or term in body`
answers in Python. Every article with a current version is searched; withdrawn ones too,
flagged by `gone_at`. Every matching article is found, on some page.

Order and total. Up to EXACT_MATCHES matches are counted exactly and ranked: more terms
found in the title first, then more occurrences (non-overlapping, title and body), then
newer `published_at`, then lower id. Past that bound (common words in a large archive)
the matches are listed newest first (then lower id), the order the index is kept in, and
the total is a lower bound (`SearchPage.total_exact` False; "至少 N" in the UI, "at least
N" in the CLI): counting or ranking a word found in most of a million articles means
reading all of them, which no first page should wait for.

The index. Most Chinese words have two characters, so word tokenizers are wrong here, and
FTS5's trigram tokenizer finds nothing under three characters. Each article is indexed
under keys (`document_keys`), all made of [0-9a-z] so no tokenizer can alter them:

- `p<chars>`: every character and every pair of neighbouring characters of the title and
  of the body (pairs with whitespace left out: query terms never contain any), the
  characters spelled as four base-36 digits each. A 1- or 2-character term occurs exactly
  when its key is there, so such terms need no reading of the text to match;
- `f…`: the site, district, source, editor and category, so filters are intersections
  inside the index.

A term of 3 or more characters is looked up by the keys of its character pairs, which
every article containing it has; candidates are then confirmed on the text with
instr()/strpos(), newest first, until enough are confirmed. Ranking counts come from the
text of the (at most EXACT_MATCHES) matches, read once and counted with str.count (the
non-overlapping count SQL replace() gives `matches`), so results stay exact.

Newest first in the index: `sort_key` packs the publication second and the reversed id
into one integer. SQLite — `search_fts`, a contentless FTS5 table (detail=none, only
rowids) whose rowid is the sort key and whose one column holds the keys separated by
spaces; the MATCH is `"k1" AND "k2"` with ORDER BY rowid DESC LIMIT n, which FTS5 answers
by walking the postings backwards and stopping. PostgreSQL — `search_docs.keys`, a text[]
with a GIN index queried with `@>` and a bound array (no text-search parser, nothing
depends on the locale); GIN has no order, so each row also carries its publication month
(`km<YYYYMM>`) and matches are read in windows of 1, 2, 4 … months, newest first, with
`keys && months`. `search_docs` (article id → indexed version id, `published_at` and sort
key) exists on both. `index_article` replaces an article's entry when its current version
changes — search reads the index, so it must be called then (the store does it). The
FTS5 table keeps no copy of its text: replacing an entry recomputes the old keys from the
old, immutable version, so changing `document_keys` needs a migration that calls
`reindex_all`.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypedDict, Unpack

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive.models import Article, ArticleVersion, Site
from archive.timefmt import iso

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
SNIPPET_WIDTH = 120
# Characters of context kept before the first match (when the body goes on long enough).
SNIPPET_LEAD = 30
# Up to this many matches are counted exactly and ranked; past it the matches are listed
# newest first and the total is a lower bound (`SearchPage.total_exact` False). Ranking
# reads each match's text, so the bound is what keeps a common word's first page fast.
EXACT_MATCHES = 500
# A long term is looked up by at most this many of its character pairs (the exact check
# still uses the whole term); more keys cost index reads and hardly narrow the candidates.
MAX_TERM_PAIRS = 8
# Filter values longer than this (UTF-8 bytes) are keyed by a 128-bit hash.
MAX_PLAIN_FILTER = 120
INDEX_BATCH = 500

# Tables this module owns, created by migration 0002 with raw DDL and kept out of the
# ORM models; FTS5 adds shadow tables named search_fts_*.
SEARCH_TABLES = frozenset({"search_docs", "search_fts"})
GIN_INDEX = "ix_search_docs_keys"
# A small pending list: GIN's default (4 MB of not yet merged entries, scanned by every
# lookup) made searches take seconds after a few hundred articles were stored.
GIN_INDEX_DDL = (
    f"CREATE INDEX {GIN_INDEX} ON search_docs USING gin (keys) WITH (gin_pending_list_limit = 256)"
)

_index_metadata = MetaData()
search_docs = Table(
    "search_docs",
    _index_metadata,
    Column("article_id", Integer, primary_key=True),
    Column("version_id", Integer, nullable=False),
    Column("published_at", String(25)),
    Column("sort_key", BigInteger, nullable=False),
    Column("keys", ARRAY(Text)),  # PostgreSQL only
)

_FTS_INSERT = text("INSERT INTO search_fts (rowid, keys) VALUES (:id, :keys)")
_FTS_DELETE = text("INSERT INTO search_fts (search_fts, rowid, keys) VALUES ('delete', :id, :keys)")
_FTS_DELETE_ALL = text("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
_FTS_OPTIMIZE = text("INSERT INTO search_fts (search_fts) VALUES ('optimize')")


class SearchError(ValueError):
    """A search request that cannot be answered as asked (bad date, limit out of range)."""


# Each word is one more condition of one SQL statement (SQLite refuses some 500), so the
# bound lives here, where every caller (CLI, API, UI, export) passes.
MAX_QUERY_TERMS = 100


@dataclass(frozen=True)
class SearchHit:
    id: int
    url: str
    title: str
    published_at: str | None
    published_precision: str | None  # second, minute, hour or day: what the page stated
    district: str | None
    source: str | None
    site: str
    snippet: str
    snippet_html: str
    score: float  # terms in the title + occurrences / (occurrences + 1): the rank order
    gone_at: str | None  # ISO time the page was found withdrawn; None while it is online

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SearchPage:
    total: int  # matching articles, not only those on this page
    items: list[SearchHit]
    # False when more than EXACT_MATCHES articles match: `total` is then a lower bound
    total_exact: bool = True


# --- index keys ----------------------------------------------------------------------


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _spell_char(char: str) -> str:
    """A character as four base-36 digits (36**4 > the largest code point)."""
    code = ord(char)
    return (
        _DIGITS[code // 46656]
        + _DIGITS[code // 1296 % 36]
        + _DIGITS[code // 36 % 36]
        + _DIGITS[code % 36]
    )


def _spell(chars: str) -> str:
    return "".join(map(_spell_char, chars))


def _grams(text: str) -> set[str]:
    """Every character and every pair of neighbouring characters of `text`, those
    containing whitespace left out."""
    grams = set(text)
    grams.update(map(str.__add__, text, text[1:]))
    spaces = {char for char in grams if len(char) == 1 and char.isspace()}
    if spaces:
        grams = {gram for gram in grams if gram[0] not in spaces and gram[-1] not in spaces}
    return grams


def filter_key(field: str, value: str | int) -> str:
    """Index key of one filter value (field: site_id, district, source, editor, category)."""
    prefix = {"site_id": "fs", "district": "fd", "source": "fo", "editor": "fe", "category": "fc"}[
        field
    ]
    if isinstance(value, int):
        return f"{prefix}{value}"
    raw = value.encode("utf-8")
    if len(raw) > MAX_PLAIN_FILTER:
        return f"{prefix}h{hashlib.blake2b(raw, digest_size=16).hexdigest()}"
    return prefix + raw.hex()


def document_keys(
    title: str,
    body: str,
    *,
    site_id: int,
    district: str | None = None,
    source: str | None = None,
    editor: str | None = None,
    category: str | None = None,
) -> list[str]:
    """Every index key of one article version (sorted)."""
    digits = {char: _spell_char(char) for char in {*title, *body}}
    keys = [
        "p" + (digits[gram] if len(gram) == 1 else digits[gram[0]] + digits[gram[1]])
        for gram in _grams(title) | _grams(body)
    ]
    keys.append(filter_key("site_id", site_id))
    for field, value in (
        ("district", district),
        ("source", source),
        ("editor", editor),
        ("category", category),
    ):
        if value is not None:
            keys.append(filter_key(field, value))
    keys.sort()
    return keys


def term_keys(term: str) -> list[str]:
    """Keys every article containing `term` has (for 1 or 2 characters: exactly those)."""
    if len(term) <= 2:
        return [f"p{_spell(term)}"]
    pairs = list(dict.fromkeys(map(str.__add__, term, term[1:])))
    if len(pairs) > MAX_TERM_PAIRS:
        step = (len(pairs) - 1) / (MAX_TERM_PAIRS - 1)
        pairs = [pairs[round(i * step)] for i in range(MAX_TERM_PAIRS)]
    return [f"p{_spell(pair)}" for pair in pairs]


_PUBLISHED = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?)?")
_EPOCH = datetime(1900, 1, 1)
ID_BITS = 30  # article ids below 2**30 fit the sort key beside the publication second


def published_second(published_at: str | None) -> int:
    """Seconds from 1900-01-01 to the publication time as written (every stored time is at
    +08:00, so this orders them as their text does); 0 when there is none, 1 before 1900."""
    found = _PUBLISHED.match(published_at or "")
    if found is None:
        return 0
    year, month, day, hour, minute, second = (int(part or 0) for part in found.groups())
    try:
        when = datetime(year, month, max(day, 1), hour, minute, second)
    except ValueError:
        return 0
    return max(1, int((when - _EPOCH).total_seconds()))


def sort_key(published_at: str | None, article_id: int) -> int:
    """The article's place in newest-first order as one integer, larger = listed earlier:
    the publication second, then the id reversed (lower ids first among equals); undated
    articles last. The SQLite index's rowid, so its postings are in this order."""
    if not 0 < article_id < 1 << ID_BITS:
        raise SearchError(f"article id {article_id} is beyond what the search index orders")
    return published_second(published_at) << ID_BITS | ((1 << ID_BITS) - 1 - article_id)


def article_of(key: int) -> int:
    return (1 << ID_BITS) - 1 - (key & ((1 << ID_BITS) - 1))


def month_key(key: int) -> str:
    """PostgreSQL's time-bucket key of a sort key: `km` and the publication month (YYYYMM),
    or `km0` for undated articles. GIN keeps no order, so newest-first reads go month by
    month, newest first."""
    second = key >> ID_BITS
    if second == 0:
        return "km0"
    when = _EPOCH + timedelta(seconds=second)
    return f"km{when.year:04d}{when.month:02d}"


def split_query(query: str) -> list[str]:
    """Whitespace-separated terms (ideographic space included), each once, in order."""
    return list(dict.fromkeys(query.split()))


def fts_query(keys: Sequence[str]) -> str:
    """An FTS5 MATCH expression requiring every key, each one a quoted string (keys are
    [0-9a-z] only, so no character of user text ever reaches FTS5 syntax)."""
    return " AND ".join('"' + key.replace('"', '""') + '"' for key in keys)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic `include_name` hook: leave the search index tables out of autogenerate and
    of model/database comparison (migration 0002 creates them with raw DDL)."""
    return not (type_ == "table" and name is not None and is_search_table(name))


def is_search_table(name: str) -> bool:
    return name in SEARCH_TABLES or name.startswith("search_fts_")


# --- keeping the index up to date ----------------------------------------------------


def _dialect(session: Session) -> str:
    name = session.get_bind().dialect.name
    if name not in ("sqlite", "postgresql"):
        raise SearchError(f"search supports SQLite and PostgreSQL, not {name}")
    return name


def _version_rows(session: Session, version_ids: Iterable[int]) -> dict[int, Any]:
    version = ArticleVersion
    rows = session.execute(
        select(
            version.id,
            version.title,
            version.body_text,
            version.published_at,
            version.district,
            version.source,
            version.editor,
            version.category,
            Article.site_id,
        )
        .join(Article, Article.id == version.article_id)
        .where(version.id.in_(list(version_ids)))
    ).all()
    return {row.id: row for row in rows}


def version_keys(row: Any) -> list[str]:
    """`document_keys` of a row holding a version's indexed columns (title, body_text,
    district, source, editor, category) and its article's site_id."""
    return document_keys(
        row.title,
        row.body_text,
        site_id=row.site_id,
        district=row.district,
        source=row.source,
        editor=row.editor,
        category=row.category,
    )


def _document(
    row: Any, article_id: int, version_id: int, dialect: str
) -> tuple[dict[str, Any], list[str]]:
    """The search_docs values of an article's version, and its keys (on PostgreSQL with the
    publication month's)."""
    key = sort_key(row.published_at, article_id)
    keys = version_keys(row)
    if dialect == "postgresql":
        keys.append(month_key(key))
    values = {
        "article_id": article_id,
        "version_id": version_id,
        "published_at": row.published_at,
        "sort_key": key,
    }
    return values, keys


def index_article(session: Session, article_id: int) -> None:
    """Make the index hold the article's current version; call it after that changes.

    Idempotent and cheap when the index is already up to date; an article without a
    current version is taken out of the index.
    """
    dialect = _dialect(session)
    session.flush()
    current = session.execute(
        select(Article.current_version_id).where(Article.id == article_id)
    ).scalar_one_or_none()
    indexed = session.execute(
        select(search_docs.c.version_id, search_docs.c.sort_key).where(
            search_docs.c.article_id == article_id
        )
    ).first()
    if indexed is not None and indexed.version_id == current:
        return
    wanted = [v for v in (current, indexed.version_id if indexed else None) if v is not None]
    versions = _version_rows(session, wanted)
    if dialect == "sqlite" and indexed is not None:
        old = version_keys(versions[indexed.version_id])
        session.execute(_FTS_DELETE, {"id": indexed.sort_key, "keys": " ".join(old)})
    if current is None:
        session.execute(delete(search_docs).where(search_docs.c.article_id == article_id))
        return
    values, keys = _document(versions[current], article_id, current, dialect)
    upsert: Any
    if dialect == "sqlite":
        session.execute(_FTS_INSERT, {"id": values["sort_key"], "keys": " ".join(keys)})
        upsert = sqlite_insert(search_docs).values(values)
    else:
        values["keys"] = _as_array(" ".join(keys))
        upsert = pg_insert(search_docs).values(values)
    changed = {name: upsert.excluded[name] for name in values if name != "article_id"}
    session.execute(upsert.on_conflict_do_update(index_elements=["article_id"], set_=changed))


def _as_array(spaced: Any) -> Any:
    """text[] from keys joined by spaces: one string parameter is much cheaper to send than
    a list of a thousand (psycopg quotes array elements one by one)."""
    return func.string_to_array(spaced, " ", type_=ARRAY(Text))


def reindex_all(session: Session, *, build_memory: str = "256MB") -> int:
    """Rebuild the whole index from the current versions; returns the articles indexed.

    On PostgreSQL the GIN index is dropped during the load and built again at the end
    (much faster than maintaining it row by row), with `build_memory` as the session's
    maintenance_work_mem (a PostgreSQL size such as "4GB": the more, the fewer passes
    over the entries); searches wait for the rebuild.
    """
    if not _MEMORY.fullmatch(build_memory):
        raise SearchError(
            f"build_memory {build_memory!r} is not a PostgreSQL size: write e.g. 256MB or 4GB"
        )
    dialect = _dialect(session)
    session.flush()
    if dialect == "sqlite":
        session.execute(_FTS_DELETE_ALL)
        session.execute(delete(search_docs))
    else:  # no dead rows left behind, and no index to maintain during the load
        session.execute(text("TRUNCATE search_docs"))
        session.execute(text(f"DROP INDEX IF EXISTS {GIN_INDEX}"))
    indexed = 0
    last_id = 0
    while True:
        batch = session.execute(
            select(Article.id, Article.current_version_id)
            .where(Article.id > last_id, Article.current_version_id.is_not(None))
            .order_by(Article.id)
            .limit(INDEX_BATCH)
        ).all()
        if not batch:
            break
        versions = _version_rows(session, [row.current_version_id for row in batch])
        docs: list[dict[str, Any]] = []
        fts: list[dict[str, Any]] = []
        for article_id, version_id in batch:
            assert version_id is not None  # selected so
            doc, keys = _document(versions[version_id], article_id, version_id, dialect)
            if dialect == "sqlite":
                fts.append({"id": doc["sort_key"], "keys": " ".join(keys)})
            else:
                doc["keys_text"] = " ".join(keys)
            docs.append(doc)
        if fts:
            session.execute(_FTS_INSERT, fts)
        if dialect == "sqlite":
            session.execute(search_docs.insert(), docs)
        else:
            keys_from_text = {"keys": _as_array(bindparam("keys_text"))}
            session.execute(search_docs.insert().values(keys_from_text), docs)
        indexed += len(batch)
        last_id = batch[-1].id
    if dialect == "sqlite":
        session.execute(_FTS_OPTIMIZE)  # one segment: fewest reads per query
    else:
        session.execute(text(f"SET LOCAL maintenance_work_mem = '{build_memory}'"))
        session.execute(text(GIN_INDEX_DDL))
    return indexed


_MEMORY = re.compile(r"[1-9][0-9]{0,6}(kB|MB|GB)")


def refresh_index(session: Session) -> int:
    """Index the articles whose current version is not (yet) the indexed one; returns how
    many were (re)indexed. A safety net for archives written without `index_article`."""
    _dialect(session)
    session.flush()
    stale = session.scalars(
        select(Article.id)
        .outerjoin(search_docs, search_docs.c.article_id == Article.id)
        .where(
            or_(
                and_(search_docs.c.article_id.is_(None), Article.current_version_id.is_not(None)),
                search_docs.c.version_id.is_distinct_from(Article.current_version_id),
            )
        )
        .order_by(Article.id)
    ).all()
    for article_id in stale:
        index_article(session, article_id)
    return len(stale)


# --- searching -----------------------------------------------------------------------

# Administrative suffixes a district filter may leave out: 路南 is 路南区, 迁安 迁安市.
DISTRICT_SUFFIXES = ("区", "县", "市", "旗")

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_day(value: str | date | None, label: str = "date") -> date | None:
    """A YYYY-MM-DD filter bound (None or "" for none); SearchError names `label`."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise SearchError(f"{label} {value!r} is not a date (YYYY-MM-DD)")


def district_names(session: Session, name: str) -> list[str]:
    """The stored districts a district filter means: the name itself and the name plus one
    administrative suffix (路南 → 路南区), never a longer or shorter match."""
    wanted = name.strip()
    if not wanted:
        return []
    found = []
    for candidate in (wanted, *(wanted + suffix for suffix in DISTRICT_SUFFIXES)):
        stored = select(ArticleVersion.id).where(ArticleVersion.district == candidate).limit(1)
        if session.scalar(stored) is not None:
            found.append(candidate)
    return found


def _storable(term: str) -> bool:
    """Whether a term could occur in stored text at all (no NUL, no lone surrogate)."""
    if "\x00" in term:
        return False
    try:
        term.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _Statement:
    """The SQL of one search for one backend: text with numbered bound parameters (no
    user text is ever part of the SQL string)."""

    def __init__(self, dialect: str, filters: list[str] | None = None) -> None:
        self.dialect = dialect
        self.filters = filters or []
        self.params: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def _wanted(self, keys: Sequence[str]) -> list[str]:
        return list(dict.fromkeys([*keys, *self.filters]))

    def having_keys(self, keys: Sequence[str], extra: str = "") -> str:
        """SELECT of the ids (and `extra` columns) of articles indexed under every key
        and every filter key."""
        wanted = self._wanted(keys)
        if self.dialect == "sqlite":
            return (
                f"SELECT rowid AS id{extra} FROM search_fts"
                f" WHERE search_fts MATCH {self.bind(fts_query(wanted))}"
            )
        return (
            f"SELECT article_id AS id{extra} FROM search_docs"
            f" WHERE keys @> CAST({self.bind(wanted)} AS TEXT[])"
        )

    def indexed_under(self, keys: Sequence[str]) -> str:
        """Condition on `d` (search_docs): the article has every key and filter key."""
        if self.dialect == "sqlite":
            return f"d.sort_key IN ({self.having_keys(keys)})"
        return f"d.keys @> CAST({self.bind(self._wanted(keys))} AS TEXT[])"

    def occurrences(self, haystack: str, term: str) -> str:
        """Non-overlapping occurrences of `term`: bytes replace() removes / its bytes."""
        needle, size = self.bind(term), self.bind(len(term.encode("utf-8")))
        if self.dialect == "sqlite":  # CAST AS BLOB: bytes are counted, not characters
            return (
                f"((length(CAST({haystack} AS BLOB))"
                f" - length(CAST(replace({haystack}, {needle}, '') AS BLOB))) / {size})"
            )
        return (
            f"((octet_length({haystack})"
            f" - octet_length(replace({haystack}, {needle}, ''))) / {size})"
        )


# How a result list may be ordered: by rank (as documented above), or by publication
# time either way; articles without a publication time come last in both directions.
ORDERS = {
    "relevance": "ORDER BY title_terms DESC, hits DESC, published_at DESC NULLS LAST, id",
    "newest": "ORDER BY published_at DESC NULLS LAST, id",
    "oldest": "ORDER BY published_at ASC NULLS LAST, id",
}
_TOTAL = "/* total */"  # where the page query adds count(*) OVER () to the select list


@dataclass(frozen=True)
class Matches:
    """Every article a search matches, as SQL: a SELECT of id, published_at, title_terms
    and hits (the columns ORDERS sort by), with its bound parameters."""

    sql: str
    params: dict[str, Any]
    terms: list[str]


@dataclass(frozen=True)
class _Request:
    """A search's terms and filters as the index knows them."""

    terms: list[str]
    filters: list[str]  # filter keys
    districts: list[str]  # stored district names when a short name means several
    first_day: date | None
    last_day: date | None


class SearchFilters(TypedDict, total=False):
    """What a search may be narrowed by (keyword arguments of `search` and `matches`)."""

    site: str | None
    district: str | None
    source: str | None
    editor: str | None
    category: str | None
    date_from: str | date | None
    date_to: str | date | None


def _request(session: Session, query: str, given: SearchFilters) -> _Request | None:
    """None when nothing can match."""
    site, district = given.get("site"), given.get("district")
    source, editor, category = given.get("source"), given.get("editor"), given.get("category")
    date_from, date_to = given.get("date_from"), given.get("date_to")
    first_day = parse_day(date_from, "date_from")
    last_day = parse_day(date_to, "date_to")
    _dialect(session)
    terms = split_query(query)
    if len(terms) > MAX_QUERY_TERMS:
        raise SearchError(f"the query has more than {MAX_QUERY_TERMS} words: search for fewer")
    if not all(_storable(term) for term in terms):
        return None

    filters: list[str] = []
    if site is not None:
        site_id = session.scalar(select(Site.id).where(Site.name == site))
        if site_id is None:
            return None
        filters.append(filter_key("site_id", site_id))
    districts = district_names(session, district) if district is not None else []
    if district is not None and not districts:
        return None
    for field, wanted in (
        ("district", districts[0] if len(districts) == 1 else None),
        ("source", source),
        ("editor", editor),
        ("category", category),
    ):
        if wanted is not None:
            filters.append(filter_key(field, wanted))
    return _Request(terms, filters, districts if len(districts) > 1 else [], first_day, last_day)


def matches(session: Session, query: str, **filters: Unpack[SearchFilters]) -> Matches | None:
    """The whole result set of a search (what `search` pages through), for callers that
    count or read all of it; None when nothing can match. Every match is counted on its
    text, so this reads all of them: `search` itself stops at EXACT_MATCHES."""
    request = _request(session, query, filters)
    if request is None:
        return None
    sql = _Statement(_dialect(session), request.filters)
    where = []
    terms = request.terms
    must = [key for term in terms for key in term_keys(term)]
    if must or request.filters:
        where.append(sql.indexed_under(must))
    if request.districts:  # 路南 when both 路南区 and 路南县 are stored: either
        named = ", ".join(sql.bind(name) for name in request.districts)
        where.append(
            "d.version_id IN (SELECT dv.id FROM article_versions AS dv"
            f" WHERE dv.district IN ({named}))"
        )
    if request.first_day is not None:
        where.append(f"d.published_at >= {sql.bind(request.first_day.isoformat())}")
    last_day = request.last_day
    if last_day is not None and last_day < date.max:
        where.append(f"d.published_at < {sql.bind((last_day + timedelta(days=1)).isoformat())}")
    if terms:
        selected = _ranked_from_text(sql, terms, where)
    else:
        where_clause = f" WHERE {' AND '.join(where)}" if where else ""
        selected = (
            f"SELECT {_TOTAL} d.article_id AS id, d.published_at AS published_at,"
            f" 0 AS title_terms, 0 AS hits FROM search_docs AS d{where_clause}"
        )
    return Matches(sql=selected, params=sql.params, terms=terms)


def search(
    session: Session,
    query: str,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    order: str = "relevance",
    **filters: Unpack[SearchFilters],
) -> SearchPage:
    """Articles whose current title or body contains every whitespace-separated term.

    Up to EXACT_MATCHES matches: an exact total, ranked — more terms in the title first,
    then more occurrences (title and body), then newer `published_at`, then lower id.
    More: newest first, and `total` is a lower bound (`total_exact` False); paging still
    brings every match. An empty query lists the articles the filters select, newest
    first. Filters compare exactly (a district also without its 区, 县, 市 or 旗:
    `district_names`); dates are YYYY-MM-DD, inclusive, on `published_at` (publication
    time at +08:00). `order` (a key of ORDERS) sorts by publication time instead of rank;
    "oldest", and a short district name that means several, read every match (exact
    total, no bound).
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if offset < 0:
        raise SearchError(f"offset must not be negative, not {offset}")
    if order not in ORDERS:
        raise SearchError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
    request = _request(session, query, filters)
    if request is None:
        return SearchPage(total=0, items=[])
    if order == "oldest" or request.districts:
        return _search_all(session, matches(session, query, **filters), limit, offset, order)
    dialect = _dialect(session)
    terms = request.terms
    low = high = None
    if request.first_day is not None:
        low = published_second(request.first_day.isoformat()) << ID_BITS
    last_day = request.last_day
    if last_day is not None and last_day < date.max:
        high = published_second((last_day + timedelta(days=1)).isoformat()) << ID_BITS
        low = low or 1 << ID_BITS  # a date bound leaves undated articles out
    matcher = _Matcher(session, dialect, terms, request.filters, low, high)
    newest = matcher.newest(EXACT_MATCHES + 1)
    if len(newest) <= EXACT_MATCHES:
        ranked = _counted(session, dialect, terms, newest)
        if order == "relevance":
            ranked.sort(key=lambda row: (-row.title_terms, -row.hits, -row.key))
        return SearchPage(
            total=len(newest), items=_hits(session, ranked[offset : offset + limit], terms)
        )
    if offset + limit > len(newest):
        newest = matcher.newest(offset + limit)
    ranked = _counted(session, dialect, terms, newest[offset : offset + limit])
    return SearchPage(
        total=max(EXACT_MATCHES, offset + len(ranked)),
        items=_hits(session, ranked, terms),
        total_exact=False,
    )


def _search_all(
    session: Session, found: Matches | None, limit: int, offset: int, order: str
) -> SearchPage:
    """A page of the whole result set in `order`, with its exact total."""
    if found is None:
        return SearchPage(total=0, items=[])
    params = dict(found.params)
    limit_at, offset_at = f"p{len(params)}", f"p{len(params) + 1}"
    params |= {limit_at: limit, offset_at: offset}
    page = (
        f"{found.sql.replace(_TOTAL, 'count(*) OVER () AS total,')}"
        f" {ORDERS[order]} LIMIT :{limit_at} OFFSET :{offset_at}"
    )
    ranked = session.execute(text(page), params).all()
    if ranked:
        total = int(ranked[0].total)
    else:
        counting = text(f"SELECT count(*) FROM ({found.sql}) AS m")
        total = int(session.scalar(counting, found.params) or 0)
    return SearchPage(total=total, items=_hits(session, ranked, found.terms))


def iter_hits(
    session: Session, found: Matches | None, *, order: str = "relevance", offset: int = 0
) -> Iterator[SearchHit]:
    """Every hit of a result set (`matches`) in `order`, from `offset` on: what `search`
    pages through, with no limit, read in batches."""
    if found is None:
        return
    if order not in ORDERS:
        raise SearchError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
    rows = session.execute(text(f"{found.sql} {ORDERS[order]}"), found.params).all()
    for start in range(offset, len(rows), MAX_LIMIT):
        yield from _hits(session, rows[start : start + MAX_LIMIT], found.terms)


@dataclass(frozen=True)
class _Counted:
    key: int  # sort key
    id: int
    title_terms: int
    hits: int


class _Matcher:
    """The matching articles' sort keys, newest first, as many as asked for: the index is
    read in that order, so a common word costs about as much as the page it fills."""

    def __init__(
        self,
        session: Session,
        dialect: str,
        terms: list[str],
        filters: list[str],
        low: int | None,
        high: int | None,
    ) -> None:
        self.session = session
        self.dialect = dialect
        self.keys = list(dict.fromkeys([k for t in terms for k in term_keys(t)] + filters))
        self.long_terms = [term for term in terms if len(term) > 2]  # the text decides
        self.low = low
        self.high = high

    def _range(self, column: str, params: dict[str, Any]) -> str:
        conditions = []
        if self.low is not None:
            conditions.append(f" AND {column} >= :low")
            params["low"] = self.low
        if self.high is not None:
            conditions.append(f" AND {column} < :high")
            params["high"] = self.high
        return "".join(conditions)

    def _in_text(self, params: dict[str, Any]) -> str:
        find = "instr" if self.dialect == "sqlite" else "strpos"
        conditions = []
        for number, term in enumerate(self.long_terms):
            params[f"t{number}"] = term
            conditions.append(
                f" AND ({find}(v.title, :t{number}) > 0 OR {find}(v.body_text, :t{number}) > 0)"
            )
        return "".join(conditions)

    def newest(self, wanted: int) -> list[int]:
        params: dict[str, Any] = {"wanted": wanted}
        if not self.keys:  # no terms, no filters: every article
            where = self._range("sort_key", params).replace(" AND ", " WHERE ", 1)
            return list(
                self.session.scalars(
                    text(
                        f"SELECT sort_key FROM search_docs{where}"
                        " ORDER BY sort_key DESC LIMIT :wanted"
                    ),
                    params,
                )
            )
        if self.dialect == "sqlite":
            return self._newest_sqlite(wanted, params)
        return self._newest_postgresql(wanted)

    def _newest_sqlite(self, wanted: int, params: dict[str, Any]) -> list[int]:
        # FTS5 walks the postings of every key together in rowid (= sort key) order,
        # backwards, and stops at the LIMIT.
        params["match"] = fts_query(self.keys)
        where = f"search_fts MATCH :match{self._range('f.rowid', params)}"
        if self.long_terms:
            source = (
                "search_fts AS f CROSS JOIN search_docs AS d ON d.sort_key = f.rowid"
                " CROSS JOIN article_versions AS v ON v.id = d.version_id"
            )
            where += self._in_text(params)
        else:
            source = "search_fts AS f"
        statement = (
            f"SELECT f.rowid FROM {source} WHERE {where} ORDER BY f.rowid DESC LIMIT :wanted"
        )
        return list(self.session.scalars(text(statement), params))

    def _newest_postgresql(self, wanted: int) -> list[int]:
        # GIN keeps no order: read month by month, newest first, in windows of 1, 2, 4 …
        # months (rare words need few queries, common ones few rows).
        params: dict[str, Any] = {}
        span = (
            f"SELECT max(sort_key) AS top, min(sort_key) AS bottom FROM search_docs"
            f" WHERE sort_key >= {1 << ID_BITS}{self._range('sort_key', params)}"
        )
        top, bottom = self.session.execute(text(span), params).one()
        months = _months(top, bottom) if top is not None else []
        if self.low is None:
            months.append("km0")
        found: list[int] = []
        start, size = 0, 1
        while start < len(months) and len(found) < wanted:
            params = {"keys": self.keys, "window": months[start : start + size]}
            statement = (
                "SELECT sort_key FROM search_docs WHERE keys @> CAST(:keys AS TEXT[])"
                f" AND keys && CAST(:window AS TEXT[]){self._range('sort_key', params)}"
            )
            if not self.long_terms:  # the server keeps the newest of the window only
                statement += " ORDER BY sort_key DESC LIMIT :still"
                params["still"] = wanted - len(found)
            candidates = sorted(self.session.scalars(text(statement), params), reverse=True)
            if self.long_terms:
                candidates = self._confirmed(candidates, wanted - len(found))
            found += candidates
            start += size
            size *= 2
        return found[:wanted]

    def _confirmed(self, candidates: list[int], wanted: int) -> list[int]:
        """The candidates (newest first) whose text holds every long term, checked in
        chunks until `wanted` are confirmed."""
        confirmed: list[int] = []
        start = 0
        while start < len(candidates) and len(confirmed) < wanted:
            # as many as still wanted: all of them when every candidate holds the terms
            chunk = candidates[start : start + max(100, wanted - len(confirmed))]
            params: dict[str, Any] = {"chunk": chunk}
            statement = (
                "SELECT d.sort_key FROM search_docs AS d"
                " JOIN article_versions AS v ON v.id = d.version_id"
                f" WHERE d.sort_key = ANY(CAST(:chunk AS BIGINT[])){self._in_text(params)}"
            )
            confirmed += sorted(self.session.scalars(text(statement), params), reverse=True)
            start += len(chunk)
        return confirmed


def _months(top: int, bottom: int) -> list[str]:
    """Month keys from the month of sort key `top` down to that of `bottom`."""
    first, last = month_key(top), month_key(bottom)
    year, month = int(first[2:6]), int(first[6:8])
    months = []
    while True:
        months.append(f"km{year:04d}{month:02d}")
        if months[-1] <= last:
            return months
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)


def _count(key: int, terms: list[str], title: str, body: str) -> _Counted:
    """Terms found in the title, and occurrences (non-overlapping, as str.count and SQL
    replace() count them) in title and body."""
    return _Counted(
        key,
        article_of(key),
        sum(1 for term in terms if term in title),
        sum(title.count(term) + body.count(term) for term in terms),
    )


def _counted(
    session: Session,
    dialect: str,
    terms: list[str],
    keys: list[int],
    known: dict[int, _Counted] | None = None,
) -> list[_Counted]:
    """Per sort key, in the given order: terms found in the title and occurrences in title
    and body, counted on the indexed version's text (`known`: already counted)."""
    if not terms or not keys:
        return [_Counted(key, article_of(key), 0, 0) for key in keys]
    known = known or {}
    missing = [key for key in keys if key not in known]
    by_key = {key: known[key] for key in keys if key in known}
    if missing:
        if dialect == "sqlite":
            chosen = "d.sort_key IN (SELECT value FROM json_each(:keys))"
            chosen_keys: Any = json.dumps(missing)
        else:
            chosen = "d.sort_key = ANY(CAST(:keys AS BIGINT[]))"
            chosen_keys = missing
        rows = session.execute(
            text(
                "SELECT d.sort_key, v.title, v.body_text FROM search_docs AS d"
                f" JOIN article_versions AS v ON v.id = d.version_id WHERE {chosen}"
            ),
            {"keys": chosen_keys},
        ).all()
        for key, title, body in rows:
            by_key[key] = _count(key, terms, title, body)
    return [by_key[key] for key in keys if key in by_key]


def _ranked_from_text(sql: _Statement, terms: list[str], where: list[str]) -> str:
    """A term of 3 or more characters: the keys narrow the candidates, the text decides.
    Materialized, so each count is computed once, for both the match and the rank."""
    counts = []
    for number, term in enumerate(terms):
        counts.append(f"{sql.occurrences('v.title', term)} AS title_{number}")
        counts.append(f"{sql.occurrences('v.body_text', term)} AS body_{number}")
    numbers = range(len(terms))
    title_terms = " + ".join(f"(CASE WHEN title_{n} > 0 THEN 1 ELSE 0 END)" for n in numbers)
    hits = " + ".join(f"title_{n} + body_{n}" for n in numbers)
    found = " AND ".join(f"title_{n} + body_{n} > 0" for n in numbers)
    return (
        f"WITH candidates AS MATERIALIZED (SELECT d.article_id AS id,"
        f" d.published_at AS published_at, {', '.join(counts)}"
        f" FROM search_docs AS d JOIN article_versions AS v ON v.id = d.version_id"
        f" WHERE {' AND '.join(where)})"
        f" SELECT {_TOTAL} id, published_at, {title_terms} AS title_terms, {hits} AS hits"
        f" FROM candidates WHERE {found}"
    )


def _hits(session: Session, ranked: Sequence[Any], terms: list[str]) -> list[SearchHit]:
    if not ranked:
        return []
    version = ArticleVersion
    rows = session.execute(
        select(
            Article.id,
            Article.url,
            Article.gone_at,
            version.title,
            version.published_at,
            version.published_precision,
            version.district,
            version.source,
            version.body_text,
            Site.name.label("site"),
        )
        .join(search_docs, search_docs.c.article_id == Article.id)
        .join(version, version.id == search_docs.c.version_id)
        .join(Site, Site.id == Article.site_id)
        .where(Article.id.in_([row.id for row in ranked]))
    ).all()
    by_id = {row.id: row for row in rows}
    items = []
    for rank in ranked:
        row = by_id[rank.id]
        snippet, snippet_html = make_snippet(row.body_text, terms)
        occurrences = int(rank.hits)
        items.append(
            SearchHit(
                id=row.id,
                url=row.url,
                title=row.title,
                published_at=row.published_at,
                published_precision=row.published_precision,
                district=row.district,
                source=row.source,
                site=row.site,
                snippet=snippet,
                snippet_html=snippet_html,
                score=int(rank.title_terms) + occurrences / (occurrences + 1),
                gone_at=iso(row.gone_at),
            )
        )
    return items


# --- snippets ------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def match_spans(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Where the terms occur in `text`: sorted [start, end) spans, overlapping ones merged."""
    found: list[tuple[int, int]] = []
    for term in terms:
        start = text.find(term)
        while start >= 0 and term:
            found.append((start, start + len(term)))
            start = text.find(term, start + len(term))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def make_snippet(body: str, terms: Sequence[str], width: int = SNIPPET_WIDTH) -> tuple[str, str]:
    """About `width` characters of `body` around its first match: plain text with matches
    in 【】, and HTML-escaped text with matches in <mark>. Whitespace runs become one space;
    a body without a match gives its beginning."""
    spans = match_spans(body, terms)
    if spans:
        first_start, first_end = spans[0]
        start = max(0, first_start - SNIPPET_LEAD)
        end = min(len(body), max(start + width, first_end))
        start = max(0, min(start, end - width))
    else:
        start, end = 0, min(len(body), width)
    for span_start, span_end in spans:  # never cut a match in two
        if span_start < end < span_end:
            end = span_end
    plain: list[str] = ["…"] if start > 0 else []
    marked: list[str] = list(plain)
    cursor = start
    for span_start, span_end in itertools.takewhile(lambda span: span[0] < end, spans):
        between = _SPACES.sub(" ", body[cursor:span_start])
        match = body[span_start:span_end]
        plain += [between, "【", match, "】"]
        marked += [html.escape(between), "<mark>", html.escape(match), "</mark>"]
        cursor = span_end
    tail = _SPACES.sub(" ", body[cursor:end])
    plain.append(tail)
    marked.append(html.escape(tail))
    if end < len(body):
        plain.append("…")
        marked.append("…")
    return "".join(plain).strip(), "".join(marked).strip()
