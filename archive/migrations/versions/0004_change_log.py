"""change log for the incremental export feed

Revision ID: 0004
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import archive.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_at", archive.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_changes_article_id_articles"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["article_versions.id"],
            name=op.f("fk_article_changes_version_id_article_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_changes")),
    )
    with op.batch_alter_table("article_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_article_changes_article_id"), ["article_id"], unique=False
        )
    # An archive that predates the log: every version it holds, then every withdrawal,
    # becomes a change, so the first `export --since` cursor covers the whole archive.
    op.execute(
        "INSERT INTO article_changes (article_id, version_id, kind, created_at) "
        "SELECT v.article_id, v.id, CASE WHEN v.id = (SELECT min(w.id) FROM article_versions w "
        "WHERE w.article_id = v.article_id) THEN 'new' ELSE 'changed' END, v.fetched_at "
        "FROM article_versions v ORDER BY v.id"
    )
    op.execute(
        "INSERT INTO article_changes (article_id, version_id, kind, created_at) "
        "SELECT a.id, a.current_version_id, 'gone', a.gone_at FROM articles a "
        "WHERE a.gone_at IS NOT NULL ORDER BY a.gone_at, a.id"
    )


def downgrade() -> None:
    with op.batch_alter_table("article_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_changes_article_id"))
    op.drop_table("article_changes")
