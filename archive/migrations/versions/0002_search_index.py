"""search index

The key index of archive.search (see its docstring): `search_docs` on both backends
(article id -> indexed version id and its published_at; on PostgreSQL also the keys,
GIN-indexed), and on SQLite the contentless FTS5 table `search_fts`. Raw DDL, not in the
ORM models: tests and autogenerate leave these tables out through
`archive.search.include_name`. Tables and backfill from `archive.migrations.search_tables`
(0006's downgrade rebuilds this layout with them), keys from the library's `version_keys`,
the one function every later index update uses too.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:00:00
"""

from __future__ import annotations

from alembic import op

from archive.migrations.search_tables import create_tables, fill_by_article_id

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise RuntimeError(f"search index: unsupported database {dialect}")
    create_tables(dialect, "")
    fill_by_article_id(bind, dialect)
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


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts")
    op.execute("DROP TABLE search_docs")
