"""`dss-iac preview`: the workspace's projects applied under keys suffixed by a branch, for reviewers to open in DSS;
`--destroy` removes them, `--list` lists the previews (see dataiku_iac/preview.py)."""

from __future__ import annotations

import argparse
import io
import json
import sys
from typing import TYPE_CHECKING, Any

from . import exit_codes
from .arg_types import positive_int
from .console import Console
from .workspace_cmds import _confirm_and_apply, _make_plan, _recover, _usage, load, lock_timeout_option

if TYPE_CHECKING:
    from ..preview import Preview
    from ..workspace import Workspace

EXAMPLES = """\
examples:
  dss-iac preview -e dev --name feature/orders-v2 --yes          # create or update the preview
  dss-iac preview -e dev --name feature/orders-v2 --var min_amount=0 --yes
  dss-iac preview -e dev --name feature/orders-v2 --destroy --yes
  dss-iac preview --list"""


def register(sub: Any) -> None:
    p = sub.add_parser("preview", help="apply the projects under keys suffixed by a branch, for review in DSS",
                       description="Apply the workspace's projects to an environment's DSS under keys suffixed by a\n"
                                   "branch ({key}_DEV -> {key}_DEV_FEATURE_X), remapped as the environment is, so\n"
                                   "that reviewers open the flow of a pull request in DSS. A preview has its own\n"
                                   "state: it never touches the environment's projects.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-e", "--env", metavar="ENV", help="the direct environment the preview copies (its instance, "
                                                      "remapping and overrides)")
    p.add_argument("--name", metavar="BRANCH", help="the branch (or any name) the preview is kept under")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                   help="a value of a standard variable in the preview; repeatable")
    p.add_argument("--destroy", action="store_true", help="delete the preview's projects and forget its state")
    p.add_argument("--list", action="store_true", help="list the previews (of -e ENV only, when given)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--json", action="store_true", help="print the result as JSON (implies no prompt: needs --yes)")
    p.add_argument("--markdown", action="store_true",
                   help="print only the preview's links, as Markdown (for a pull-request comment); the plan and "
                        "progress go to standard error")
    p.add_argument("--parallelism", type=positive_int, default=8, metavar="N",
                   help="DSS calls in flight at once (default 8)")
    lock_timeout_option(p)
    p.set_defaults(func=cmd_preview, target=[], allow_delete=True, wait_approval=None)


def cmd_preview(args: argparse.Namespace, console: Console) -> int:
    with load(args) as ws:
        if args.list:
            return _list(ws, args, console)
        if not args.env or not args.name:
            raise _usage("preview needs -e ENV and --name BRANCH (or --list)")
        preview = ws.branch_preview(args.env, args.name, _variables(args.var))
        # --markdown: only the links on standard output; --json: one document, the apply's result inside it.
        captured = io.StringIO()
        work = Console(no_color=True, stdout=sys.stderr if args.markdown else captured, stderr=console.stderr) \
            if args.markdown or args.json else console
        args.env = preview.env_name
        _recover(ws, args, work)
        exists = ws.state_store(preview.env_name).read() is not None
        if args.destroy and not exists:
            console.out(f"No preview {preview.name} of {preview.environment}: nothing to destroy.")
            return exit_codes.OK
        plan = _make_plan(ws, args, work, destroy=args.destroy)
        code = _confirm_and_apply(ws, plan, args, work)
        if code != exit_codes.OK:
            return code
        result = json.loads(captured.getvalue()) if args.json else None
        if args.destroy:
            ws.forget_preview(preview)
            if args.json:
                console.json({"preview": preview.name, "environment": preview.environment, "destroyed": True,
                              "result": result})
            else:
                console.out(f"Preview {preview.name} of {preview.environment} destroyed; the projects of "
                            f"{preview.environment} were not touched.")
            return code
        _report(ws, preview, args, console, result)
    return exit_codes.OK


def _variables(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise _usage(f"--var {pair!r}: expected NAME=VALUE")
        out[name.strip()] = value
    return out


def _links(ws: Workspace, preview: Preview) -> dict[str, tuple[str, str]]:
    """Project key in the files -> (its key in the preview, the page of its flow in DSS)."""
    host = str(ws.connection(preview.env_name).client.host).rstrip("/")
    return {key: (copy, f"{host}/projects/{copy}/flow/") for key, copy in ws.preview_projects(preview).items()}


def _report(ws: Workspace, preview: Preview, args: argparse.Namespace, console: Console, result: Any) -> None:
    links = _links(ws, preview)
    if args.markdown:
        lines = [f"### 🔍 Preview `{preview.name}` on `{preview.environment}`", "",
                 "| project | preview in DSS |", "|---|---|"]
        lines += [f"| `{key}` | [{copy}]({url}) |" for key, (copy, url) in links.items()]
        lines += ["", "Updated at each push; destroyed when the pull request is closed or merged."]
        console.out("\n".join(lines))
    elif args.json:
        console.json({"preview": preview.name, "environment": preview.environment,
                      "projects": {key: {"key": copy, "url": url} for key, (copy, url) in links.items()},
                      "result": result})
    else:
        console.out(f"Preview {preview.name} of {preview.environment}: open the flows in DSS:")
        width = max((len(k) for k in links), default=0)
        for key, (copy, url) in links.items():
            console.out(f"  {key.ljust(width)} -> {copy}  {url}")


def _list(ws: Workspace, args: argparse.Namespace, console: Console) -> int:
    found = ws.previews(args.env)
    if args.json:
        console.json({"previews": [p.to_dict() for p in found]})
        return exit_codes.OK
    if not found:
        console.out("No previews." if not args.env else f"No previews of environment {args.env}.")
        return exit_codes.OK
    rows = [("ENVIRONMENT", "PREVIEW", "PROJECTS", "RESOURCES", "LAST APPLY")]
    rows += [(p.preview.environment, p.preview.name, ", ".join(p.projects), str(p.resources),
              f"#{p.serial} by {p.updated_by} at {p.updated_at}") for p in found]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    console.out("\n".join("  ".join([*(c.ljust(w) for c, w in zip(r, widths, strict=False)), r[-1]]).rstrip()
                          for r in rows))
    return exit_codes.OK
