"""Alembic environment: run against the connection `archive.db.upgrade` hands over."""

from __future__ import annotations

from alembic import context

from archive.models import Base
from archive.search import include_name

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "run migrations through `wenhua db upgrade`, which supplies the connection"
        )
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,  # the search index is raw DDL, outside the models
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
