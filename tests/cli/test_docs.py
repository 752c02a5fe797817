"""docs/cli.md stays true to the parser: every command and every option is documented."""

from __future__ import annotations

import argparse
from pathlib import Path

from dataiku_iac import ActionReason
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


def test_every_action_reason_code_is_documented() -> None:
    # Tools match on these keys of `plan --json`: each has its line in the reference.
    for reason in ActionReason:
        assert f"`{reason.value}`" in DOC, reason


def test_every_exit_code_is_documented() -> None:
    for name, value in vars(exit_codes).items():
        if name.isupper():
            assert f"| {value} |" in DOC, name


def test_every_command_has_an_example_in_its_help() -> None:
    for name, sub in _commands(build_parser()):
        assert sub.epilog and "example" in sub.epilog, name


def test_the_limits_table_says_what_the_code_enforces() -> None:
    from dataiku_iac.config.files import MAX_FILE_BYTES
    from dataiku_iac.config.loader import MAX_WORKSPACE_BYTES, MAX_WORKSPACE_VALUES
    from dataiku_iac.config.models import MAX_KEY_LENGTH, MAX_NAME_LENGTH
    from dataiku_iac.config.yamlio import MAX_DEPTH, MAX_VALUES

    table = DOC.split("### Limits: a configuration is untrusted input", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].strip(): line.split("|")[2] for line in table.splitlines() if line.startswith("| ")}
    files = rows["files read (`dss-iac.yaml`, project files, recipe `code`)"]
    assert f"at most {MAX_FILE_BYTES >> 20} MiB each" in files
    assert rows["nesting in a YAML file"].strip().startswith(f"{MAX_DEPTH} levels")
    assert rows["values in a YAML file"].strip().startswith(f"{MAX_VALUES:,},")
    assert rows["a whole workspace"].strip().startswith(f"{MAX_WORKSPACE_BYTES >> 20} MiB of files and "
                                                       f"{MAX_WORKSPACE_VALUES:,} values")
    assert rows["project keys"].strip().startswith(f"{MAX_KEY_LENGTH} characters")
    assert rows["names of datasets, folders, recipes, scenarios, zones"].strip().startswith(f"{MAX_NAME_LENGTH} ")
    assert rows["environment and `node` names"].strip().startswith(f"{MAX_KEY_LENGTH} characters")
