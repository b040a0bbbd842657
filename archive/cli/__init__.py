"""The `wenhua` command line."""

from archive.cli.main import main

__all__ = ["main"]
