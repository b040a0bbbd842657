"""The search index's tables as the migrations create them (0002, and 0006 both ways).

Raw DDL, outside the ORM models (see archive.search). `create_tables` makes `search_docs`
and, on SQLite, the FTS5 table `search_fts`; `fill_by_article_id` fills them in the 0002
layout, whose FTS rowid is the article id, from the current versions.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from archive.search import version_keys

BATCH = 500
COLUMNS = " article_id INTEGER NOT NULL, version_id INTEGER NOT NULL, published_at VARCHAR(25),"
CONSTRAINTS = (
    " CONSTRAINT pk_search_docs PRIMARY KEY (article_id),"
    " CONSTRAINT fk_search_docs_article_id_articles"
    "  FOREIGN KEY (article_id) REFERENCES articles (id),"
    " CONSTRAINT fk_search_docs_version_id_article_versions"
    "  FOREIGN KEY (version_id) REFERENCES article_versions (id)"
)
# Keys are [0-9a-z] words: any tokenizer keeps each one whole.
FTS = (
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    "keys, content='', detail='none', columnsize=0, tokenize='ascii')"
)


def create_tables(dialect: str, sort_column: str) -> None:
    """`search_docs` with `sort_column` (DDL such as " sort_key BIGINT NOT NULL," or "")
    after the published_at column, and on SQLite `search_fts`."""
    if dialect == "sqlite":
        op.execute(f"CREATE TABLE search_docs ({COLUMNS}{sort_column}{CONSTRAINTS})")
        try:
            op.execute(FTS)
        except sa.exc.OperationalError as exc:
            raise RuntimeError(
                f"this SQLite library has no FTS5, which search needs: {exc.orig}"
            ) from exc
    else:
        op.execute(
            f"CREATE TABLE search_docs ({COLUMNS}{sort_column} keys TEXT[] NOT NULL,{CONSTRAINTS})"
        )
        # Without element statistics the planner keeps using the GIN index even for keys
        # most rows have, instead of a scan that would unpack every row's keys.
        op.execute("ALTER TABLE search_docs ALTER COLUMN keys SET STATISTICS 0")


def fill_by_article_id(bind: Any, dialect: str) -> None:
    """Index every current version in the 0002 layout (no sort key; the FTS rowid and the
    search_docs key are the article id), in batches of BATCH articles."""
    select_batch = sa.text(
        "SELECT a.id, a.site_id, v.id AS version_id, v.title, v.body_text, v.published_at,"
        " v.district, v.source, v.editor, v.category FROM articles a"
        " JOIN article_versions v ON v.id = a.current_version_id"
        " WHERE a.id > :after ORDER BY a.id LIMIT :batch"
    )
    insert_fts = sa.text("INSERT INTO search_fts (rowid, keys) VALUES (:id, :keys)")
    insert_doc = sa.text(
        "INSERT INTO search_docs (article_id, version_id, published_at"
        + (", keys" if dialect == "postgresql" else "")
        + ") VALUES (:id, :version_id, :published_at"
        + (", string_to_array(:keys, ' ')" if dialect == "postgresql" else "")
        + ")"
    )
    after = 0
    while True:
        rows = bind.execute(select_batch, {"after": after, "batch": BATCH}).all()
        if not rows:
            break
        docs = [
            {
                "id": row.id,
                "version_id": row.version_id,
                "published_at": row.published_at,
                "keys": " ".join(version_keys(row)),
            }
            for row in rows
        ]
        if dialect == "sqlite":
            bind.execute(insert_fts, [{"id": d["id"], "keys": d["keys"]} for d in docs])
            bind.execute(insert_doc, [{k: v for k, v in d.items() if k != "keys"} for d in docs])
        else:
            bind.execute(insert_doc, docs)
        after = rows[-1].id
