"""`dss-iac promote`: promotion by bundle, from a design environment to a `deploy: bundle` environment."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import exit_codes
from .approvals_cmd import pass_gate, wait_option
from .console import Console


def register(sub: Any) -> None:
    p = sub.add_parser(
        "promote", help="promote projects by bundle through the Project Deployer",
        description="Export a bundle of each project from the --from environment's design node (its id from the\n"
                    "Git commit), publish it to the Project Deployer and deploy it to the --to environment\n"
                    "(deploy: bundle) with its remapping and variables, after showing the promotion plan.",
        epilog="example:\n  dss-iac promote --from dev --to prod\n"
               "  dss-iac promote --from dev --to prod --verify --yes   # test prod afterwards, roll back on failure\n"
               "  dss-iac promote --from dev --to prod --bundle git-0123456789ab --yes   # rollback",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--from", dest="from_env", required=True, metavar="ENV",
                   help="the environment on the design node the bundle is exported from")
    p.add_argument("--to", dest="to_env", required=True, metavar="ENV", help="the environment to deploy to "
                                                                               "(deploy: bundle)")
    p.add_argument("--project", action="append", default=[], metavar="KEY",
                   help="promote only this project; repeatable (default: every project of the workspace)")
    p.add_argument("--bundle", metavar="ID", help="redeploy this bundle, already published (rollback)")
    p.add_argument("--verify", action="store_true",
                   help="after the update, run the target's tests (data tests, test scenarios); if one fails, roll "
                        "each project back to the bundle it ran before (exit 7)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--allow-delete", action="store_true",
                   help="let the promotion delete or replace objects in a protected environment")
    p.add_argument("--json", action="store_true",
                   help="print the plan and the result as JSON (without --yes: the plan only, exit 6)")
    wait_option(p, "promotion")
    p.set_defaults(func=cmd_promote)


def cmd_promote(args: argparse.Namespace, console: Console) -> int:
    from ..deploy import PromotionError, plan_promotion, promote, render_promotion
    from ..deploy.promote import check_protected
    from ..errors import ApprovalError
    from .workspace_cmds import load

    with load(args) as ws:
        if console.interactive:
            console.note(f"Reading DSS for environments {args.from_env} and {args.to_env}...")
        plan = plan_promotion(ws, args.from_env, args.to_env, args.project, args.bundle, args.verify)
        report: dict[str, Any] = {"format_version": 1, "plan": plan.to_dict(), "result": None}
        if not args.json:
            console.plan_text(render_promotion(plan))
        if not plan.has_changes:
            if args.json:
                console.json(report)
            return exit_codes.OK
        check_protected(ws, plan, args.allow_delete)  # refuse before asking, not after
        pass_gate(lambda: ws.promotion_gate(plan), lambda: ws.request_promotion_approval(plan), "promote",
                  args.wait_approval, console)
        if not args.yes:
            if args.json:
                console.json(report)
            if args.json or not sys.stdin.isatty():
                raise ApprovalError("refusing to promote without confirmation: not a terminal; review the promotion "
                                    "plan and pass --yes")
            if not console.confirm(f"Do you want to deploy these bundles to environment {plan.to_env}?"):
                console.note("Promotion cancelled.")
                return exit_codes.ERROR
        try:
            result = promote(ws, plan, progress=console.note, allow_delete=args.allow_delete)
        except PromotionError as e:
            if args.json and e.result is not None:
                console.json({**report, "result": e.result.to_dict()})
            elif e.result is not None and e.result.tests is not None:
                _show_tests(e.result, console)
            raise
    if args.json:
        console.json({**report, "result": result.to_dict()})
    else:
        _show_tests(result, console)
        deployed = len(result.deployed)
        console.out(f"Promotion complete! {deployed} project(s) deployed to {plan.to_env} with bundle "
                    f"{plan.bundle_id}, {len(result.projects) - deployed} unchanged.")
    return exit_codes.OK


def _show_tests(result: Any, console: Console) -> None:
    from ..testing.report import render_text

    if result.tests is not None:
        console.out(render_text(result.tests))
