"""Shared fixtures: archives on SQLite and on a real PostgreSQL server.

PostgreSQL tests read the server from WENHUA_TEST_PG_URL (default: the local trust-auth
server at 127.0.0.1:5432). When it is unreachable they skip with the reason, unless
WENHUA_REQUIRE_SERVICES=1 (set by .ci/run), which turns the skip into a failure so CI
can never pass by skipping them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL = os.environ.get("WENHUA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("WENHUA_REQUIRE_SERVICES") == "1"
FIXTURES = Path(__file__).parent / "fixtures"


def _pg_admin_conninfo() -> str:
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _need_service(name: str, reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{name} is required (WENHUA_REQUIRE_SERVICES=1) but {reason}")
    pytest.skip(f"{name} not available: {reason}")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    try:
        import psycopg
    except ImportError:
        _need_service("PostgreSQL", "psycopg is not installed (pip install -e '.[test]')")
    from sqlalchemy.engine import make_url

    name = f"wenhua_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(_pg_admin_conninfo(), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        _need_service("PostgreSQL", f"cannot connect to {PG_URL}: {exc}".splitlines()[0])
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_pg_admin_conninfo(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'archive.sqlite'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real `wenhua demo` crawl (in a subprocess) shared by the tests that only read
    its data directory; a test that changes files works on a copy."""
    data = tmp_path_factory.mktemp("demo-archive")
    result = subprocess.run(
        [sys.executable, "-c", "from archive.cli import main; main()", "demo",
         "--data-dir", str(data), "--no-progress"],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "failures:   0" in result.stdout, result.stdout
    return data
