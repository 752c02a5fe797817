"""`init`, `schema` and `version`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .. import __version__
from . import exit_codes
from .console import Console

EXAMPLES = ("simple-project", "ml-pipeline", "python-dsl", "multi-env")


def register_init(sub: Any) -> None:
    p = sub.add_parser("init", help="create a workspace from an example",
                       description="Create a workspace (dss-iac.yaml, project files, recipe code) from an example.",
                       epilog="example:\n  dss-iac init my-dss-repo --example ml-pipeline\n"
                              "  dss-iac init --ci github --ci gitlab   # the pipelines of an existing workspace",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", nargs="?", default=".", metavar="DIR", help="where to create it (default: here)")
    p.add_argument("--example", choices=EXAMPLES, help="which example to start from (default: simple-project)")
    p.add_argument("--ci", action="append", default=[], choices=("github", "gitlab"),
                   help="also write the CI/CD pipeline for GitHub Actions or GitLab CI (repeatable); in a folder that "
                        "holds a workspace already, write only the pipeline (docs/ci-cd.md)")
    p.set_defaults(func=cmd_init)


def register(sub: Any) -> None:
    p = sub.add_parser("import", help="write the project file of a project, or the instance file, from DSS",
                       description="Write the project file (and recipe code) of a project that exists in DSS, and "
                                   "record it in the state, so that the next plan is empty. For a project the "
                                   "workspace declares already, add to its file what DSS holds there that dss-iac "
                                   "does not manage (what `plan` and `drift` list as not managed). With --instance, "
                                   "write the environment's instance file instead: its connections, code envs, "
                                   "groups, users and global variables, secrets as ${env:NAME} references.",
                       epilog="examples:\n  dss-iac import -e dev --project CHURN\n  dss-iac import -e prod --instance",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-e", "--env", required=True, metavar="ENV", help="environment to read the project from")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--project", metavar="KEY",
                      help="DSS project key (of a declared project: its key in the files or in this environment)")
    what.add_argument("--instance", action="store_true",
                      help="the instance file of the environment (its `instance:` path, else --out, else "
                           "instance/<env>.yaml, added to dss-iac.yaml)")
    p.add_argument("--file", "--out", dest="file", metavar="PATH",
                   help="file to write (default: projects/<key>.yaml, or instance/<env>.yaml with --instance)")
    p.add_argument("--json", action="store_true", help="print which objects were written typed, kept as DSS "
                                                       "documents (passthrough) or left out (not managed), as JSON")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("schema", help="print the JSON Schema of the configuration files, for editors",
                       description="Print the JSON Schema of dss-iac.yaml and of project files.",
                       epilog="example:\n  dss-iac schema --file project > schemas/dss-iac.project.schema.json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--file", choices=("all", "workspace", "project", "instance"), default="all",
                   help="which file's schema: dss-iac.yaml, project files, instance files, or any of them "
                        "(default)")
    p.set_defaults(func=cmd_schema)
    p = sub.add_parser("version", help="print the version", description="Print the version.",
                       epilog="example:\n  dss-iac version", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=cmd_version)


def cmd_import(args: argparse.Namespace, console: Console) -> int:
    from ..importer import import_project
    from .workspace_cmds import load

    if args.instance:
        return _import_instance(args, console)
    with load(args) as ws:
        file = Path(args.directory, args.file) if args.file else None
        result = import_project(ws, args.env, args.project, file)
    if args.json:
        console.json(result.to_dict())
        return exit_codes.OK
    if result.added:
        _report_added(args, result, console)
        return exit_codes.OK
    console.out(f"Imported {args.project}: {len(result.resources)} resources recorded in the state of {args.env}.")
    console.out(f"Wrote {result.project_file}" + (f" and {len(result.code_files)} code file(s)"
                                                   if result.code_files else "") + ".")
    _report_kept(result, console)
    _report_secrets(result, console)
    console.out(f"Check it: dss-iac plan -e {args.env}   (expected: No changes.)")
    return exit_codes.OK


def _report_kept(result: Any, console: Console) -> None:
    """The objects kept as DSS documents (no typed form for them yet), and those left out (not managed)."""
    if result.passthrough:
        console.out(f"Kept as DSS documents (passthrough: the configuration has no typed form for them, or theirs "
                    f"names what the workspace lacks; dss-iac plans, applies and drifts them whole): "
                    f"{len(result.passthrough)}")
        for address in result.passthrough:
            why = result.reasons.get(address)
            console.out(f"  {address}" + (f": {why}" if why else ""))
    if result.skipped:
        console.out(f"Not managed (left out of the file): {len(result.skipped)}")
        for reason in result.skipped:
            console.out(f"  {reason}")


def _import_instance(args: argparse.Namespace, console: Console) -> int:
    from .._text import brief
    from ..instance_import import import_instance
    from .workspace_cmds import load

    with load(args) as ws:
        file = Path(args.directory, args.file) if args.file else None
        result = import_instance(ws, args.env, file)
    console.out(f"Imported the instance of {args.env}: {len(result.resources)} resources recorded in its state"
                + (f" ({brief(result.resources)})" if result.resources else "") + ".")
    console.out(f"Wrote {result.project_file}.")
    for reason in result.skipped:
        console.note(f"left out: {reason}")
    _report_secrets(result, console)
    console.out(f"Check it: dss-iac plan -e {args.env}   (expected: No changes.)")
    return exit_codes.OK


def _report_secrets(result: Any, console: Console) -> None:
    """The environment variables the written file references instead of secret values (never the values)."""
    if not result.secrets:
        return
    console.out(f"Secrets are written as ${{env:NAME}} references, never as values. Before planning, set these "
                f"{len(result.secrets)} environment variable(s) to the values DSS holds:")
    width = max(len(r.name) for r in result.secrets)
    for ref in result.secrets:
        hidden = "" if ref.shown else "  (DSS does not show it: the next apply writes the value you set)"
        console.out(f"  {ref.name:<{width}}  {ref.where}{hidden}")


def _report_added(args: argparse.Namespace, result: Any, console: Console) -> None:
    from .._text import brief

    if not result.resources:
        _report_kept(result, console)
        console.out(f"Nothing to import: dss-iac manages everything project {args.project} holds in DSS"
                    + (" that import can write." if result.skipped else "."))
        return
    console.out(f"Added {len(result.resources)} object(s) of {args.project} to {result.project_file}"
                + (f" and wrote {len(result.code_files)} code file(s)" if result.code_files else "")
                + f"; recorded in the state of {args.env}: {brief(result.resources)}.")
    _report_kept(result, console)
    _report_secrets(result, console)
    console.out(f"Check it: dss-iac plan -e {args.env}   (expected: No changes.)")


def cmd_version(args: argparse.Namespace, console: Console) -> int:
    if args.json:
        console.json({"version": __version__})
    else:
        console.out(f"dss-iac {__version__}")
    return exit_codes.OK


def cmd_schema(args: argparse.Namespace, console: Console) -> int:
    from ..config.reference import json_schema

    console.out(json.dumps(json_schema(args.file), indent=2))
    return exit_codes.OK


def cmd_init(args: argparse.Namespace, console: Console) -> int:
    from ..errors import DssIacError

    target = Path(args.directory, args.folder)
    if (target / "dss-iac.yaml").exists():
        if not args.ci:
            raise DssIacError(f"{target / 'dss-iac.yaml'} already exists: refusing to overwrite a workspace (to add "
                              "a pipeline to it: dss-iac init --ci github|gitlab)")
        if args.example:
            raise DssIacError(f"{target / 'dss-iac.yaml'} already exists: --example is for a new workspace")
    else:
        _create_workspace(target, args.example or "simple-project", console)
    if args.ci:
        _write_pipelines(target, list(dict.fromkeys(args.ci)), console)
    return exit_codes.OK


def _create_workspace(target: Path, example: str, console: Console) -> None:
    from importlib.resources import files

    source = files("dataiku_iac.examples").joinpath(example)
    copied = _copy(source, target)
    gitignore = target / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("# The embedded DSS simulator and local state of dss-iac\n.dss-iac/\n")
        copied += 1
    console.out(f"Created a workspace in {target} from the {example} example ({copied} files).")
    console.out("Next:\n  dss-iac validate\n  dss-iac plan -e dev\n  dss-iac apply -e dev")


def _write_pipelines(root: Path, providers: list[str], console: Console) -> None:
    from ..ci.pipeline_files import write_pipelines
    from ..workspace import Workspace

    with Workspace.load(root) as ws:
        ws.validate()  # a pipeline of an invalid workspace would only fail on the platform
        written, warnings = write_pipelines(ws.config, providers)
    for path in written:
        console.out(f"Wrote {path}.")
    for warning in warnings:
        console.note(f"warning: {warning}")
    console.out("Next: set up what the header of each file lists (environments, secrets), commit, push, and open a "
                "pull request: its comment shows the plans (docs/ci-cd.md).")


def _copy(source: Any, target: Path) -> int:
    count = 0
    for item in source.iterdir():
        if item.name in (".dss-iac", "__pycache__", "__init__.py"):
            continue
        dest = target / item.name
        if item.is_dir():
            count += _copy(item, dest)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(item.read_bytes())
            count += 1
    return count
