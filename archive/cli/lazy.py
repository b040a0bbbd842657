"""A click group whose commands are imported only when one is run.

`wenhua --help` and `wenhua search …` should not pay for importing Scrapy, FastAPI and the
crawler: each command is named here by "module:attribute" with its one-line help, and its
module is imported when click asks for that command.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import click


class LazyGroup(click.Group):
    def __init__(
        self, *args: object, lazy: Mapping[str, tuple[str, str]] | None = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # command name -> ("package.module:attribute", one-line help)
        self.lazy: dict[str, tuple[str, str]] = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            self.add_command(self.load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def load(self, cmd_name: str) -> click.Command:
        target, _ = self.lazy[cmd_name]
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the registered help lines, importing nothing."""
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy and name not in self.commands:
                text = self.lazy[name][1]
            else:
                command = self.commands[name]
                if command.hidden:
                    continue
                text = command.get_short_help_str(limit=10**6)
            rows.append((name, text))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            shorten = click.utils.make_default_short_help
            shown = [(name, shorten(text, limit)) for name, text in rows]
            with formatter.section("Commands"):
                formatter.write_dl(shown)
