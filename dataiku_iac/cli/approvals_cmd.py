"""`dss-iac approvals [request] -e ENV`: Govern sign-offs of an environment's changes; and the gate that `apply` and
`promote` pass (or wait at, with `--wait-approval`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import exit_codes
from .arg_types import duration
from .console import Console
from .workspace_cmds import _usage, load

if TYPE_CHECKING:
    from ..govern import Approval, Gate
    from ..workspace import Workspace

EXAMPLES = """\
examples:
  dss-iac approvals -e prod                       # every request: pending, approved, rejected, with comments
  dss-iac approvals request -e prod               # open the request for the current plan (or promotion)
  dss-iac apply -e prod --wait-approval 30m       # open it if needed, then wait for the sign-off"""


def register(sub: Any) -> None:
    p = sub.add_parser("approvals", help="list the Govern sign-offs of an environment's changes, or request one",
                       description="List the approval requests of an environment in Dataiku Govern (pending, approved\n"
                                   "and rejected, with their reviewers and comments), or open one with `request`.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-e", "--env", metavar="ENV", help="environment, as named in dss-iac.yaml")
    p.add_argument("--json", action="store_true", help="print the requests as JSON")
    p.set_defaults(func=cmd_list)
    asub = p.add_subparsers(dest="approvals_command", metavar="SUBCOMMAND", parser_class=sub._parser_class)
    r = asub.add_parser("request", help="open the approval request of the environment's current plan or promotion",
                        description="Open the Govern approval request of what `apply -e ENV` (a direct environment)\n"
                                    "or `promote --to ENV` (a bundle environment) would do now: one artifact per\n"
                                    "plan, or per bundle. Asking again for the same plan or bundle opens nothing new.",
                        epilog="example:\n  dss-iac approvals request -e prod",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("-e", "--env", required=True, metavar="ENV", help="environment, as named in dss-iac.yaml")
    r.add_argument("--from", dest="from_env", metavar="ENV",
                   help="bundle environments: the environment bundles are made in (default: the first direct one)")
    r.add_argument("--json", action="store_true", help="print the requests as JSON")
    r.set_defaults(func=cmd_request)


def wait_option(p: argparse.ArgumentParser, verb: str) -> None:
    p.add_argument("--wait-approval", type=duration, metavar="DURATION",
                   help=f"where Govern must approve: open the request if there is none, then wait this long (30m, "
                        f"1h; 0: look once) for the sign-off before the {verb}, instead of refusing at once")


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    if not args.env:
        raise _usage("approvals needs -e ENV")
    with load(args) as ws:
        found = ws.approvals(args.env)
        if args.json:
            console.json({"environment": args.env, "approvals": [a.to_dict() for a in found]})
            return exit_codes.OK
        host = ws.govern(args.env).host
        if not found:
            console.out(f"No approval requests for environment {args.env} in Govern ({host}).")
            return exit_codes.OK
        lines = [f"Approval requests of environment {args.env} in Govern ({host}), oldest first:", ""]
        for a in found:
            lines += [*a.lines(), ""]
        counts = {s: sum(a.status.value == s for a in found) for s in ("pending", "approved", "rejected")}
        lines.append(f"{counts['pending']} pending, {counts['approved']} approved, {counts['rejected']} rejected.")
        console.out("\n".join(lines))
    return exit_codes.OK


def cmd_request(args: argparse.Namespace, console: Console) -> int:
    with load(args) as ws:
        gate = _request(ws, args, console)
        if args.json:
            console.json({"environment": args.env, "gate": None if gate is None else gate.to_dict()})
            return exit_codes.OK
        if gate is None:
            console.out(f"No changes: environment {args.env} has nothing to approve.")
            return exit_codes.OK
        for a in gate.approvals:
            console.out(_requested_line(a))
    return exit_codes.OK


def _request(ws: Workspace, args: argparse.Namespace, console: Console) -> Gate | None:
    env = ws.environment(args.env)
    if env.deploy == "bundle":
        source = args.from_env or ws.config.bundle_source(args.env)
        if source is None:
            raise _usage(f"environment {args.env} receives bundles: name the environment they are made in with --from")
        if console.interactive:
            console.note(f"Reading DSS for environments {source} and {args.env}...")
        return ws.request_promotion_approval(ws.plan_promotion(source, args.env))
    if env.approval is None:
        from ..errors import DssIacError

        raise DssIacError(f"environment {args.env} asks for no Govern sign-off: set `approval: govern` on it in "
                          "dss-iac.yaml")
    if console.interactive:
        console.note(f"Reading DSS for environment {args.env}...")
    return ws.request_approval(ws.plan(args.env))


def _requested_line(a: Approval, opened_now: bool = False) -> str:
    if a.approved and not opened_now:
        return f"Already approved: {a.summary()}"
    return f"Requested: {a.summary()}"


def pass_gate(read: Callable[[], Gate | None], request: Callable[[], Gate | None], command: str,
              wait_for: float | None, console: Console) -> Gate | None:
    """The Govern gate of a change, passed: approved already, or (`wait_for` seconds) requested and waited for.
    Raises SignOffError (exit code 8) otherwise, saying who must approve what, and where."""
    from ..errors import SignOffError
    from ..govern import pending_words, wait

    gate = read()
    if gate is None or gate.open:
        if gate is not None:
            console.note(gate.summary())
        return gate
    if wait_for is None or gate.rejected:
        raise SignOffError(gate.refusal(command), gate)
    if gate.unrequested:
        # Opened by this run: a reviewer quick enough to approve it before it is read back does not make it "already"
        asked = {a.subject for a in gate.unrequested}
        gate = request() or gate
        for a in gate.approvals:
            console.note(_requested_line(a, a.subject in asked))
    limit = _words(wait_for)
    with console.status(f"Waiting for Govern: {pending_words(gate)}") as update:
        def progress(now: Gate, elapsed: float) -> None:
            update(f"Waiting for Govern ({_words(elapsed)} of {limit}): {pending_words(now)}")

        seen = gate  # what a look that finds no gate falls back on
        gate = wait(lambda: read() or seen, wait_for, progress)
    if not gate.open:
        still = "" if gate.rejected else f"still not approved after {limit}: "
        raise SignOffError(still + gate.refusal(command), gate)
    console.note(gate.summary())
    return gate


def _words(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{seconds}s" if seconds else "")
