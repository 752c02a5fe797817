"""`dss-iac state list|show|rm|unlock`: read and repair the state without touching DSS."""

from __future__ import annotations

import argparse
import json
from typing import Any

from . import exit_codes
from .console import Console
from .workspace_cmds import load


def register(sub: Any) -> None:
    state = sub.add_parser("state", help="inspect and repair the state",
                           description="Inspect and repair the state (what dss-iac manages in each environment).",
                           epilog="examples:\n  dss-iac state list -e dev\n  dss-iac state show -e dev "
                                  "dataset.CHURN.customers_raw\n  dss-iac state rm -e dev recipe.CHURN.old_recipe",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    ssub = state.add_subparsers(dest="state_command", metavar="SUBCOMMAND", parser_class=sub._parser_class)
    for name, help_, fn in (("list", "list the managed resources", cmd_list),
                            ("show", "show one resource's recorded fields", cmd_show),
                            ("rm", "forget resources (they stay in DSS, unmanaged)", cmd_rm),
                            ("unlock", "release a lock left by a run that died", cmd_unlock)):
        p = ssub.add_parser(name, help=help_, description=help_[0].upper() + help_[1:] + ".",
                            epilog=f"example:\n  dss-iac state {name} -e dev" + {
                                "show": " project.CHURN", "rm": " recipe.CHURN.old_recipe",
                                "unlock": " 3f2a9c1b7e44"}.get(name, ""),
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("-e", "--env", required=True, metavar="ENV", help="environment")
        if name in ("show", "rm"):
            p.add_argument("addresses", nargs="+" if name == "rm" else 1, metavar="ADDR")
        if name == "unlock":
            p.add_argument("lock_id", metavar="LOCK_ID", help="the id shown in the 'locked' error")
        if name in ("list", "show"):
            p.add_argument("--json", action="store_true", help="print as JSON")
        p.set_defaults(func=fn)
    state.set_defaults(func=lambda args, console: (state.print_help(), exit_codes.USAGE)[1])


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    with load(args) as ws:
        state = ws.state(args.env)
    if args.json:
        console.json({"environment": args.env, "serial": state.serial, "lineage": state.lineage,
                      "resources": [{"address": a, "kind": r.kind, "remote_id": r.remote_id}
                                    for a, r in sorted(state.resources.items())]})
        return exit_codes.OK
    for address in sorted(state.resources):
        console.out(address)
    if console.interactive:
        console.note(f"{len(state.resources)} resources, state serial {state.serial}"
                     + (f", last written by {state.updated_by} at {state.updated_at}" if state.updated_by else ""))
    return exit_codes.OK


def cmd_show(args: argparse.Namespace, console: Console) -> int:
    from ..errors import StateError

    address = args.addresses[0]
    with load(args) as ws:
        entry = ws.state(args.env).resources.get(address)
    if entry is None:
        raise StateError(f"{address} is not in the state of environment {args.env} (see `dss-iac state list`)")
    body = {"address": address, **entry.to_dict()}
    if args.json:
        console.json(body)
    else:
        console.out(f"# {address}\nkind      = {entry.kind}\nremote_id = {entry.remote_id}")
        for key, value in sorted(entry.fields.items()):
            console.out(f"{key} = {json.dumps(value, ensure_ascii=False, sort_keys=True)}")
    return exit_codes.OK


def cmd_rm(args: argparse.Namespace, console: Console) -> int:
    from ..errors import StateError
    from ..state.local import whoami

    with load(args) as ws:
        backend = ws.backend
        lock = backend.lock(args.env, "state rm")
        try:
            state = backend.load(args.env)
            missing = [a for a in args.addresses if a not in state.resources]
            if missing:
                raise StateError(f"not in the state of {args.env}: {', '.join(missing)}")
            for a in args.addresses:
                del state.resources[a]
            state.stamp(whoami())
            backend.write(state)
        finally:
            backend.unlock(args.env, lock.id)
    console.out(f"Forgot {len(args.addresses)} resource(s); they remain in DSS, no longer managed.")
    return exit_codes.OK


def cmd_unlock(args: argparse.Namespace, console: Console) -> int:
    with load(args) as ws:
        ws.backend.unlock(args.env, args.lock_id)
    console.out(f"Released the state lock of {args.env}.")
    return exit_codes.OK
