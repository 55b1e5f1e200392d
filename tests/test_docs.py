"""The README and the public API stay in step with the code.

A command added to ``reviewkit/cli.py`` fails here until the README shows it; a name added to or
dropped from ``reviewkit.__all__`` fails here until this file's list changes with it, so the
public API only moves on purpose.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import reviewkit
from reviewkit.cli import build_parser

README = Path(__file__).resolve().parent.parent / "README.md"

PUBLIC_API = [
    "DuplicateImportError",
    "FormatError",
    "NotFoundError",
    "Record",
    "ReviewkitError",
    "Store",
    "detect_format",
    "export_records",
    "import_file",
    "preview_file",
    "read_records",
    "write_records",
]


def _commands() -> list[str]:
    parser = build_parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(sub.choices)


def _shown_in_readme() -> set[str]:
    text = README.read_text(encoding="utf-8")
    return set(re.findall(r"python -m reviewkit ([a-z][a-z-]*)(?![\w-])", text))


def test_the_parser_has_commands_to_check():
    # Guards the two tests below against an empty walk (a renamed argparse internal, say).
    assert {"import", "export", "dedup", "demo"} <= set(_commands())


def test_every_cli_command_is_shown_in_the_readme():
    missing = [name for name in _commands() if name not in _shown_in_readme()]
    assert missing == [], (
        f"README.md does not show these commands: {missing}; add a 'python -m reviewkit NAME "
        "...' line for each under 'The command line'")


def test_the_readme_shows_no_command_the_cli_lacks():
    unknown = sorted(_shown_in_readme() - set(_commands()))
    assert unknown == [], f"README.md shows commands that python -m reviewkit does not have: {unknown}"


def test_public_api_is_exactly_the_declared_list():
    assert len(reviewkit.__all__) == len(set(reviewkit.__all__)), "a name is listed twice"
    assert sorted(reviewkit.__all__) == PUBLIC_API


def test_star_import_gives_exactly_the_public_api():
    namespace: dict = {}
    exec("from reviewkit import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == PUBLIC_API
