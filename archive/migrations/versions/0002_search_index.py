"""search index

The key index of archive.search (see its docstring): `search_docs` on both backends
(article id -> indexed version id and its published_at; on PostgreSQL also the keys,
GIN-indexed), and on SQLite the contentless FTS5 table `search_fts`. Raw DDL, not in the
ORM models: tests and autogenerate leave these tables out through
`archive.search.include_name`. Backfilled from the current versions with the library's
`document_keys`, the one function every later index update uses too.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from archive.search import document_keys

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BATCH = 500
COLUMNS = " article_id INTEGER NOT NULL, version_id INTEGER NOT NULL, published_at VARCHAR(25),"
CONSTRAINTS = (
    " CONSTRAINT pk_search_docs PRIMARY KEY (article_id),"
    " CONSTRAINT fk_search_docs_article_id_articles"
    "  FOREIGN KEY (article_id) REFERENCES articles (id),"
    " CONSTRAINT fk_search_docs_version_id_article_versions"
    "  FOREIGN KEY (version_id) REFERENCES article_versions (id)"
)


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "sqlite":
        op.execute(f"CREATE TABLE search_docs ({COLUMNS}{CONSTRAINTS})")
        try:
            # Keys are [0-9a-z] words: any tokenizer keeps each one whole.
            op.execute(
                "CREATE VIRTUAL TABLE search_fts USING fts5("
                "keys, content='', detail='none', columnsize=0, tokenize='ascii')"
            )
        except sa.exc.OperationalError as exc:
            raise RuntimeError(
                f"this SQLite library has no FTS5, which search needs: {exc.orig}"
            ) from exc
    elif dialect == "postgresql":
        op.execute(f"CREATE TABLE search_docs ({COLUMNS} keys TEXT[] NOT NULL,{CONSTRAINTS})")
        # Without element statistics the planner keeps using the GIN index even for keys
        # most rows have, instead of a scan that would unpack every row's keys.
        op.execute("ALTER TABLE search_docs ALTER COLUMN keys SET STATISTICS 0")
    else:
        raise RuntimeError(f"search index: unsupported database {dialect}")
    _backfill(bind, dialect)
    op.execute("CREATE INDEX ix_search_docs_published_at ON search_docs (published_at)")
    if dialect == "postgresql":
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")
        # A small pending list: with GIN's default 4 MB every lookup scans thousands of
        # not yet merged entries and searches take seconds.
        op.execute(
            "CREATE INDEX ix_search_docs_keys ON search_docs USING gin (keys)"
            " WITH (gin_pending_list_limit = 256)"
        )
    else:
        op.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")


def _backfill(bind: Any, dialect: str) -> None:
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
        docs = []
        for row in rows:
            keys = document_keys(
                row.title,
                row.body_text,
                site_id=row.site_id,
                district=row.district,
                source=row.source,
                editor=row.editor,
                category=row.category,
            )
            docs.append(
                {
                    "id": row.id,
                    "version_id": row.version_id,
                    "published_at": row.published_at,
                    "keys": " ".join(keys),
                }
            )
        if dialect == "sqlite":
            bind.execute(insert_fts, [{"id": d["id"], "keys": d["keys"]} for d in docs])
            bind.execute(insert_doc, [{k: v for k, v in d.items() if k != "keys"} for d in docs])
        else:
            bind.execute(insert_doc, docs)
        after = rows[-1].id


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts")
    op.execute("DROP TABLE search_docs")
