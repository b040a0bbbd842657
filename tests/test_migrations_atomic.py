"""`wenhua db upgrade` is atomic: a SIGKILL at any step of a migration (before any SQL
statement or the commit) leaves the archive at the revision it had or at head, with
exactly that revision's schema — never between. Real processes, real SIGKILL, on SQLite
and PostgreSQL."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from archive.db import (
    _transactional_ddl,
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
)

ROOT = Path(__file__).resolve().parent.parent
HELPER = ROOT / "tests" / "kill_during_upgrade.py"
KILLS = 25  # kill points spread over every step of the upgrade, first and last included


def schema(engine: Engine) -> dict[str, list[str]]:
    """Tables and their columns and indexes: what a revision's migrations build."""
    found = inspect(engine)
    return {
        table: sorted(c["name"] for c in found.get_columns(table))
        + sorted(f"index {i['name']}" for i in found.get_indexes(table))
        for table in sorted(found.get_table_names())
        if table != "alembic_version"
    }


def migrate_to(url: str, revision: str) -> None:
    engine = make_engine(url)
    migrating = _transactional_ddl(engine) if engine.dialect.name == "sqlite" else engine
    cfg = alembic_config()
    with migrating.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    migrating.dispose()
    engine.dispose()


def state(url: str) -> tuple[str | None, dict[str, list[str]]]:
    engine = make_engine(url)
    try:
        return current_revision(engine), schema(engine)
    finally:
        engine.dispose()


def run_helper(url: str, kill_at: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HELPER), url, str(kill_at)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def kill_at_every_step(fresh_url: object, start: str | None) -> int:
    """Kill upgrades at steps spread over the whole upgrade; check each leftover."""
    head = head_revision()
    reference: dict[str | None, dict[str, list[str]]] = {}
    url = fresh_url()  # type: ignore[operator]
    if start is not None:
        migrate_to(url, start)
    reference[start] = state(url)[1]
    whole = run_helper(url, 0)  # never killed: counts the steps
    assert whole.returncode == 0, whole.stderr[-2000:]
    steps = int(whole.stdout.split()[-1])
    assert state(url)[0] == head
    reference[head] = state(url)[1]
    kill_points = sorted({1 + (steps - 1) * k // (KILLS - 1) for k in range(KILLS)})
    for kill_at in kill_points:
        url = fresh_url()  # type: ignore[operator]
        if start is not None:
            migrate_to(url, start)
        run = run_helper(url, kill_at)
        assert run.returncode == -signal.SIGKILL, (kill_at, run.stderr[-2000:])
        revision, found = state(url)
        assert revision in (start, head), (kill_at, revision)
        assert found == reference[revision], f"schema between revisions after kill {kill_at}"
    return steps


@pytest.mark.slow
@pytest.mark.parametrize("start", [None, "0003"])
def test_sqlite_upgrade_killed_at_any_step(tmp_path: Path, start: str | None) -> None:
    counter = iter(range(10_000))

    def fresh() -> str:
        return f"sqlite:///{tmp_path / f'archive-{next(counter)}.sqlite'}"

    steps = kill_at_every_step(fresh, start)
    assert steps > 10  # the kill points fell inside the migrations, not only around them


@pytest.mark.slow
@pytest.mark.pg
def test_postgresql_upgrade_killed_at_any_step(pg_url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    from tests.conftest import _pg_admin_conninfo

    base = make_url(pg_url)
    counter = iter(range(10_000))
    made: list[str] = []

    def fresh() -> str:
        name = f"{base.database}_{next(counter)}"
        with psycopg.connect(_pg_admin_conninfo(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return base.set(database=name).render_as_string(hide_password=False)

    try:
        steps = kill_at_every_step(fresh, "0003")
        assert steps > 10
    finally:
        with psycopg.connect(_pg_admin_conninfo(), autocommit=True) as admin:
            for name in made:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
