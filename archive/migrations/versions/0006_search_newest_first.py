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

from alembic import op
from sqlalchemy.orm import Session

from archive.migrations.search_tables import create_tables, fill_by_article_id
from archive.search import reindex_all

revision = "0006_search_newest_first"
down_revision = "0005"
branch_labels = None
depends_on = None


def _recreate(dialect: str, sort_column: str) -> None:
    if dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.execute("DROP TABLE search_docs")
    create_tables(dialect, sort_column)


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    _recreate(dialect, " sort_key BIGINT NOT NULL,")
    reindex_all(Session(bind=bind))
    op.execute("CREATE UNIQUE INDEX ix_search_docs_sort_key ON search_docs (sort_key)")
    op.execute("CREATE INDEX ix_search_docs_published_at ON search_docs (published_at)")


def downgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    _recreate(dialect, "")
    fill_by_article_id(bind, dialect)
    if dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_search_docs_keys ON search_docs USING gin (keys)"
            " WITH (gin_pending_list_limit = 256)"
        )
    op.execute("CREATE INDEX ix_search_docs_published_at ON search_docs (published_at)")
