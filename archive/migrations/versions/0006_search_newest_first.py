"""search index in newest-first order

Rebuilds the key index of archive.search so that its postings come newest first and a
common word's first page is found without reading all of them: `search_docs` gains
`sort_key` (publication second, then the id reversed; see `archive.search.sort_key`),
the SQLite FTS5 table uses it as its rowid, and on PostgreSQL each row's keys include
its publication month (`km<YYYYMM>`). The keys are matching keys only now (characters,
pairs, filters): ranking counts are read from the text of at most EXACT_MATCHES
articles. Filled by `archive.search.reindex_all`, the function later rebuilds use too.

Downgrade rebuilds the 0002 layout (rowid = article id) with today's keys: matches stay
exact, but the older code's occurrence ranking then sees every count as one.

Revision ID: 0006_search_newest_first
Revises: 0005
Create Date: 2026-12-02 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from archive.search import document_keys, reindex_all

revision = "0006_search_newest_first"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = " article_id INTEGER NOT NULL, version_id INTEGER NOT NULL, published_at VARCHAR(25),"
CONSTRAINTS = (
    " CONSTRAINT pk_search_docs PRIMARY KEY (article_id),"
    " CONSTRAINT fk_search_docs_article_id_articles"
    "  FOREIGN KEY (article_id) REFERENCES articles (id),"
    " CONSTRAINT fk_search_docs_version_id_article_versions"
    "  FOREIGN KEY (version_id) REFERENCES article_versions (id)"
)
FTS = (
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    "keys, content='', detail='none', columnsize=0, tokenize='ascii')"
)


def _create(dialect: str, sort_column: str) -> None:
    if dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_fts")
        op.execute("DROP TABLE search_docs")
        op.execute(f"CREATE TABLE search_docs ({COLUMNS}{sort_column}{CONSTRAINTS})")
        op.execute(FTS)
    else:
        op.execute("DROP TABLE search_docs")
        op.execute(
            f"CREATE TABLE search_docs ({COLUMNS}{sort_column} keys TEXT[] NOT NULL,{CONSTRAINTS})"
        )
        # As in 0002: no element statistics, so the planner keeps to the GIN index.
        op.execute("ALTER TABLE search_docs ALTER COLUMN keys SET STATISTICS 0")


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    _create(dialect, " sort_key BIGINT NOT NULL,")
    reindex_all(Session(bind=bind))
    op.execute("CREATE UNIQUE INDEX ix_search_docs_sort_key ON search_docs (sort_key)")
    op.execute("CREATE INDEX ix_search_docs_published_at ON search_docs (published_at)")


def downgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    _create(dialect, "")
    rows = bind.execute(
        sa.text(
            "SELECT a.id, a.site_id, v.id AS version_id, v.title, v.body_text, v.published_at,"
            " v.district, v.source, v.editor, v.category FROM articles a"
            " JOIN article_versions v ON v.id = a.current_version_id ORDER BY a.id"
        )
    ).all()
    docs = [
        {
            "id": row.id,
            "version_id": row.version_id,
            "published_at": row.published_at,
            "keys": " ".join(
                document_keys(
                    row.title,
                    row.body_text,
                    site_id=row.site_id,
                    district=row.district,
                    source=row.source,
                    editor=row.editor,
                    category=row.category,
                )
            ),
        }
        for row in rows
    ]
    if dialect == "sqlite":
        if docs:
            bind.execute(
                sa.text("INSERT INTO search_fts (rowid, keys) VALUES (:id, :keys)"),
                [{"id": d["id"], "keys": d["keys"]} for d in docs],
            )
            bind.execute(
                sa.text(
                    "INSERT INTO search_docs (article_id, version_id, published_at)"
                    " VALUES (:id, :version_id, :published_at)"
                ),
                [{k: v for k, v in d.items() if k != "keys"} for d in docs],
            )
    else:
        if docs:
            bind.execute(
                sa.text(
                    "INSERT INTO search_docs (article_id, version_id, published_at, keys)"
                    " VALUES (:id, :version_id, :published_at, string_to_array(:keys, ' '))"
                ),
                docs,
            )
        op.execute(
            "CREATE INDEX ix_search_docs_keys ON search_docs USING gin (keys)"
            " WITH (gin_pending_list_limit = 256)"
        )
    op.execute("CREATE INDEX ix_search_docs_published_at ON search_docs (published_at)")
