"""Migrations: an empty database reaches head, and head matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from archive.db import Archive, current_revision, head_revision
from archive.models import Base
from archive.search import include_name


def test_empty_database_migrates_to_head_without_drift(db_url: str) -> None:
    archive = Archive(db_url)
    assert current_revision(archive.engine) == head_revision()
    with archive.engine.connect() as conn:
        # The search index is raw DDL outside the models (archive.search.include_name).
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name}
        )
        assert compare_metadata(context, Base.metadata) == []
    # Opening again is a no-op.
    Archive(db_url).close()
    archive.close()
