"""docs/cli.md stays true to the parser: every command and every option is documented."""

from __future__ import annotations

import argparse
from pathlib import Path

from dataiku_iac.cli import exit_codes
from dataiku_iac.cli.main import build_parser

DOC = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[tuple[str, argparse.ArgumentParser]]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.append((f"{prefix}{name}", sub))
                out.extend(_commands(sub, f"{prefix}{name} "))
    return out


def test_every_command_and_option_is_in_the_cli_reference() -> None:
    for name, sub in _commands(build_parser()):
        assert f"`{name}" in DOC or f"dss-iac {name}" in DOC, name
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in DOC, f"{name} {flag}"


def test_every_exit_code_is_documented() -> None:
    for name, value in vars(exit_codes).items():
        if name.isupper():
            assert f"| {value} |" in DOC, name


def test_every_command_has_an_example_in_its_help() -> None:
    for name, sub in _commands(build_parser()):
        assert sub.epilog and "example" in sub.epilog, name
