"""The command registry: every command is reachable, its listed help is its own, and
`wenhua --help` imports no command module (so it answers at once)."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from archive.cli import COMMANDS, SITES_COMMANDS, cli, sites
from archive.cli.lazy import LazyGroup

REGISTRIES = [(cli, name) for name in COMMANDS] + [(sites, name) for name in SITES_COMMANDS]


@pytest.mark.parametrize(("group", "name"), REGISTRIES, ids=lambda v: getattr(v, "name", v))
def test_each_registered_command_loads_with_the_help_it_is_listed_with(
    group: LazyGroup, name: str
) -> None:
    command = group.load(name)
    assert isinstance(command, click.Command)
    assert command.name == name
    assert command.get_short_help_str(limit=10**6) == group.lazy[name][1]


def test_help_lists_every_command_and_imports_none_of_them() -> None:
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from archive.cli import cli\n"
        "result = CliRunner().invoke(cli, ['--help'])\n"
        "print(result.output)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('scrapy', 'sqlalchemy', 'fastapi', 'crawler', 'pipelines') "
        "or m.startswith('archive.cli.') and m != 'archive.cli.lazy')\n"
        "print('IMPORTED', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert "IMPORTED []" in result.stdout
    for name in COMMANDS:
        assert f"  {name} " in result.stdout
    assert "  sites " in result.stdout


def test_a_command_runs_through_the_lazy_group() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from archive.cli import main; main()", "sites", "new", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Propose a site definition" in result.stdout
