"""Workspace commands: validate, plan, apply, destroy, drift."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._text import brief
from . import exit_codes
from .arg_types import duration, positive_duration, positive_int
from .console import Console

if TYPE_CHECKING:
    from ..apply.applier import ApplyResult, ProgressEvent
    from ..errors import ConfigError
    from ..plan.model import Plan
    from ..workspace import Workspace


def _parser(sub: Any, name: str, help_: str, example: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_, description=help_[0].upper() + help_[1:] + ".",
                       epilog=f"example:\n  {example}", formatter_class=argparse.RawDescriptionHelpFormatter)
    return p


def _env(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("-e", "--env", required=required, metavar="ENV", help="environment, as named in dss-iac.yaml")


def _parallelism(p: argparse.ArgumentParser) -> None:
    p.add_argument("--parallelism", type=positive_int, default=8, metavar="N",
                   help="DSS calls in flight at once (default 8)")


def _at(p: argparse.ArgumentParser) -> None:
    p.add_argument("--at", metavar="REV", help="use the configuration as it was at this Git revision (rollback)")


def lock_timeout_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lock-timeout", type=duration, default=0.0, metavar="DURATION",
                   help="wait this long for another run's state lock: 30s, 5m, 1h (default: fail at once)")


def register(sub: Any) -> None:
    p = _parser(sub, "validate", "check the workspace configuration (and, with -e, the environment's DSS)",
                "dss-iac validate -e prod")
    _env(p, required=False)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_validate)

    p = _parser(sub, "plan", "show what apply would change in an environment",
                "dss-iac plan -e dev --out dev.plan --detailed-exitcode")
    _env(p)
    p.add_argument("--out", metavar="FILE", help="save the plan for `dss-iac apply FILE`")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.add_argument("--markdown", action="store_true", help="print the plan as Markdown (pull-request comments)")
    p.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when there are changes, 0 when none")
    p.add_argument("--target", action="append", default=[], metavar="ADDR",
                   help="plan only this resource (and what it needs); repeatable; a project address takes it all")
    p.add_argument("--destroy", action="store_true", help="plan the destruction of everything managed")
    _at(p)
    _parallelism(p)
    p.set_defaults(func=cmd_plan)

    p = _parser(sub, "apply", "make DSS match the configuration (or a saved plan)",
                "dss-iac apply -e dev --yes        # or: dss-iac apply dev.plan")
    _env(p, required=False)
    p.add_argument("plan_file", nargs="?", metavar="PLAN_FILE", help="a plan saved by `plan --out`")
    _write_options(p, "apply", "let the plan delete or replace resources in a protected environment")
    _at(p)
    p.set_defaults(func=cmd_apply)

    p = _parser(sub, "destroy", "delete everything dss-iac manages in an environment (data is kept)",
                "dss-iac destroy -e dev --yes")
    _env(p)
    _write_options(p, "destroy", "needed to destroy in a protected environment")
    p.set_defaults(func=cmd_destroy)

    p = _parser(sub, "drift", "show what changed in DSS outside dss-iac since the last apply",
                "dss-iac drift -e prod --detailed-exitcode")
    _env(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when there is drift, 0 when none")
    p.add_argument("--watch", type=positive_duration, metavar="DURATION",
                   help="check again every DURATION (30s, 5m...) until interrupted")
    _parallelism(p)
    p.set_defaults(func=cmd_drift)


def _write_options(p: argparse.ArgumentParser, verb: str, allow_delete_help: str) -> None:
    """What every command that changes DSS takes."""
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--json", action="store_true", help="print the result as JSON (implies no prompt: needs --yes)")
    p.add_argument("--target", action="append", default=[], metavar="ADDR", help=f"{verb} only this resource")
    p.add_argument("--allow-delete", action="store_true", help=allow_delete_help)
    _parallelism(p)
    lock_timeout_option(p)
    from .approvals_cmd import wait_option

    wait_option(p, verb)


def load(args: argparse.Namespace) -> Workspace:
    from ..workspace import Workspace

    return Workspace.load(Path(args.directory), at=getattr(args, "at", None))


def cmd_validate(args: argparse.Namespace, console: Console) -> int:
    from ..errors import ConfigError, ConfigErrors

    try:
        ws = load(args)
        with ws:
            ws.validate(args.env)
            _static_rules(ws, console)
            if args.env:
                checked = ws.check_instance(args.env)
                for what in checked.unchecked:
                    console.note(f"not checked on {args.env}: {what}")
                checked.refuse()
            _report_valid(ws, args, console)
    except ConfigError as e:
        if args.json:  # the verdict on stdout too, for tools; the errors still go to stderr
            found = e.errors if isinstance(e, ConfigErrors) else [e]
            console.json({"valid": False, "errors": [_error_json(one) for one in found]})
        raise
    return exit_codes.OK


def _static_rules(ws: Workspace, console: Console) -> None:
    """The static tests (docs/testing.md) are part of validation: a broken rule is an error at its place, a
    warning is shown and passes."""
    from ..errors import ConfigError, ConfigErrors, Position
    from ..testing.results import ERROR, FAILED, WARNING

    def position(location: str | None) -> Position | None:
        if not location:
            return None
        file, line, col = location.rsplit(":", 2)
        return Position(file, int(line), int(col))

    run = ws.static_findings()
    for r in run.results:
        if r.status == WARNING:
            console.note(f"warning: {r.location + ': ' if r.location else ''}[{r.rule}] {r.message}")
    errors = [ConfigError(f"[{r.rule}] {r.message}", position(r.location), file=None if r.location else r.target)
              for r in run.results if r.status in (FAILED, ERROR)]
    if errors:
        raise errors[0] if len(errors) == 1 else ConfigErrors(errors)


def _error_json(e: ConfigError) -> dict[str, Any]:
    where = e.position
    return {"file": where.file if where else e.file, "line": where.line if where else None,
            "col": where.col if where else None, "message": e.message}


def _report_valid(ws: Workspace, args: argparse.Namespace, console: Console) -> None:
    projects = ws.config.projects
    from ..resources import registry
    from ..resources.passthrough import entries

    # Each project and the objects of its collections, typed or passthrough (variables and permissions are
    # settings of the project).
    resources = sum(1 + sum(len(k.declared(p.spec)) + len(entries(p.spec, k)) for k in registry.project_kinds()
                            if not k.project_level) for p in projects.values())
    # And the instance resources of the environments' instance files (each file once).
    instance = sum(len(k.declared_in(src.spec)) for src in ws.config.instances.values()
                   for k in registry.instance_kinds())
    if args.json:
        console.json({"valid": True, "projects": sorted(projects), "objects": resources,
                      "instance_objects": instance})
    else:
        extra = f", {instance} instance resource(s)" if instance else ""
        console.out(f"The configuration is valid: {len(projects)} project(s), {resources} object(s){extra}.")


def _render(plan: Plan, console: Console) -> None:
    from ..plan.render_text import render_plan
    from ..resources import KINDS

    console.plan_text(render_plan(plan, kinds_replace_on={k: v.replace_on for k, v in KINDS.items()}))


def _make_plan(ws: Workspace, args: argparse.Namespace, console: Console, *, destroy: bool = False,
               for_apply: bool = False) -> Plan:
    if console.interactive:
        console.note(f"Reading DSS for environment {args.env}...")
    targets = args.target
    if for_apply and not targets and ws.environment(args.env).deploy == "bundle":
        # Projects arrive there by bundle (promote): apply writes the environment's instance resources only.
        targets = ws.instance_addresses(args.env) or targets
    return ws.plan(args.env, targets=targets, destroy=destroy, parallelism=args.parallelism)


def cmd_plan(args: argparse.Namespace, console: Console) -> int:
    from .._fs import atomic_write
    from ..plan.render_md import render_markdown

    with load(args) as ws:
        plan = _make_plan(ws, args, console, destroy=args.destroy)
    if args.out:
        atomic_write(Path(args.directory, args.out), plan.to_json().encode())
    if args.json:
        console.out(plan.to_json())
    elif args.markdown:
        console.out(render_markdown(plan))
    else:
        if not console.show(plan):  # a notebook renders it
            _render(plan, console)
        if args.out:
            console.out(f"Saved the plan to {args.out}. To perform exactly these actions: dss-iac apply {args.out}")
    return exit_codes.CHANGES if args.detailed_exitcode and plan.has_changes else exit_codes.OK


def cmd_apply(args: argparse.Namespace, console: Console) -> int:
    from ..errors import DssIacError
    from ..plan.model import Plan
    from ..workspace import Workspace

    if args.plan_file:
        path = Path(args.directory, args.plan_file)
        try:
            plan = Plan.from_dict(_read_json(path))
        except OSError as e:
            raise DssIacError(f"cannot read plan file {args.plan_file}: {e.strerror}") from None
        if args.env and args.env != plan.environment:
            raise DssIacError(f"the plan is for environment {plan.environment}, not {args.env}")
        # A plan made with --at is checked against the configuration of the same revision.
        with Workspace.load(Path(args.directory), at=plan.at or getattr(args, "at", None)) as ws:
            if not args.json:
                _render(plan, console)
            if plan.has_changes:
                _govern_gate(ws, plan, args, console)
            # A saved plan was reviewed already: applying it is the approval; it must still be what DSS is.
            return _run_apply(ws, plan, args, console, verify_remote=True)
    with load(args) as ws:
        if not args.env:
            raise _usage("apply needs -e ENV or a PLAN_FILE")
        _recover(ws, args, console)
        plan = _make_plan(ws, args, console, for_apply=True)
        return _confirm_and_apply(ws, plan, args, console)


def _recover(ws: Workspace, args: argparse.Namespace, console: Console) -> None:
    for line in ws.recover(args.env, args.lock_timeout):
        console.note(f"recovered an interrupted apply: {line}")


def cmd_destroy(args: argparse.Namespace, console: Console) -> int:
    with load(args) as ws:
        _recover(ws, args, console)
        plan = _make_plan(ws, args, console, destroy=True)
        return _confirm_and_apply(ws, plan, args, console)


def _confirm_and_apply(ws: Workspace, plan: Plan, args: argparse.Namespace, console: Console) -> int:
    from ..errors import ApprovalError

    if not args.json:
        _render(plan, console)
    if not plan.has_changes:
        if plan.to_record:  # nothing to ask: DSS is not called, the state only learns what is there
            return _run_apply(ws, plan, args, console)
        if args.json:
            console.json(_result_json(plan, None))
        return exit_codes.OK
    ws.check_protected(plan, args.allow_delete)  # refuse before asking, not after
    _govern_gate(ws, plan, args, console)
    if not args.yes:
        import sys

        if args.json or not sys.stdin.isatty():
            raise ApprovalError("refusing to apply without confirmation: not a terminal; review the plan and "
                                "pass --yes (or apply a saved plan file)")
        if not console.confirm(f"Do you want to perform these actions in environment {plan.environment}?"):
            console.note("Apply cancelled.")
            return exit_codes.ERROR
    return _run_apply(ws, plan, args, console)


def _govern_gate(ws: Workspace, plan: Plan, args: argparse.Namespace, console: Console) -> None:
    """Where Govern must sign the plan off: approved already, or waited for (--wait-approval), or refused (exit 8)."""
    from .approvals_cmd import pass_gate

    pass_gate(lambda: ws.approval_gate(plan), lambda: ws.request_approval(plan), "apply", args.wait_approval, console)


def _run_apply(ws: Workspace, plan: Plan, args: argparse.Namespace, console: Console,
               verify_remote: bool = False) -> int:
    from ..apply.applier import ProgressEventType

    total = sum(2 if a.action.value == "replace" else 1 for a in plan.changes)
    with console.progress(f"Applying to {plan.environment}", total) as advance:
        def progress(e: ProgressEvent) -> None:
            if args.json:
                console.event(progress_json(e))
            if e.event is ProgressEventType.END:
                advance(f"{e.address} {e.status}")
            elif e.event is ProgressEventType.PROGRESS:  # a long step (a code env's build) says where it is
                count = f" ({e.detail_done}/{e.detail_total})" if e.detail_total else ""
                advance(f"{e.address}: {e.detail}{count}", 0)

        result = ws.apply(plan, progress=progress, parallelism=args.parallelism, allow_delete=args.allow_delete,
                          lock_timeout=args.lock_timeout, verify_remote=verify_remote)
    for line in ws.recovered:
        console.note(f"recovered an interrupted apply: {line}")
    if args.json:
        console.json(_result_json(plan, result))
    else:
        _summarise(result, console)
    return exit_codes.OK if result.ok else exit_codes.ERROR


def progress_json(e: ProgressEvent) -> dict[str, Any]:
    """An apply's progress event as `--json` prints it on stderr, one line each (keys without a value left out)."""
    return {"event": str(e.event), "address": e.address, "action": str(e.action) if e.action else None,
            "status": str(e.status) if e.status else None, "error": e.error, "done": e.done, "total": e.total,
            "detail": e.detail, "detail_done": e.detail_done, "detail_total": e.detail_total}


def _counts(result: ApplyResult) -> tuple[int, int, int]:
    from ..apply.applier import StepPhase

    ok = result.succeeded
    return (sum(r.action is StepPhase.CREATE for r in ok), sum(r.action is StepPhase.UPDATE for r in ok),
            sum(r.action in (StepPhase.DELETE, StepPhase.FORGET) for r in ok))


def _summarise(result: ApplyResult, console: Console) -> None:
    from ..apply.applier import StepPhase

    added, changed, destroyed = _counts(result)
    recorded = sum(r.action is StepPhase.RECORD for r in result.succeeded)
    if recorded:
        console.note(f"{recorded} resource(s) found in DSS as configured were recorded in state")
    if result.ok:
        console.out(f"Apply complete! Resources: {added} added, {changed} changed, {destroyed} destroyed.")
        return
    for r in result.failed:
        console.error(f"{r.address}: {r.action} failed: {r.error}")
    # Grouped by reason: a project DSS would not delete keeps every object in it, which may be hundreds.
    skipped: dict[str, list[str]] = {}
    for r in result.skipped:
        skipped.setdefault(r.error or "", []).append(r.address)
    for why, addresses in skipped.items():
        console.note(f"skipped: {brief(addresses, 5)} ({why})")
    console.out(f"Apply failed: {len(result.succeeded)} succeeded ({added} added, {changed} changed, "
                f"{destroyed} destroyed), {len(result.failed)} failed, {len(result.skipped)} skipped. "
                "The state records what succeeded; run the command again to finish.")


def _result_json(plan: Plan, result: ApplyResult | None) -> dict[str, Any]:
    results = [] if result is None else [r.__dict__ for r in result.results]
    added, changed, destroyed = (0, 0, 0) if result is None else _counts(result)
    return {"format_version": 1, "environment": plan.environment, "ok": result is None or result.ok,
            "summary": {"added": added, "changed": changed, "destroyed": destroyed,
                        "failed": 0 if result is None else len(result.failed),
                        "skipped": 0 if result is None else len(result.skipped)},
            "results": results}


def cmd_drift(args: argparse.Namespace, console: Console) -> int:
    with load(args) as ws:
        while True:
            report = ws.drift(args.env, parallelism=args.parallelism)
            if args.json:
                console.json(report.to_dict())
            else:
                _render_drift(report, console)
            if not args.watch:
                break
            time.sleep(args.watch)
    return exit_codes.CHANGES if args.detailed_exitcode and report.has_drift else exit_codes.OK


def _render_drift(report: Any, console: Console) -> None:
    if console.show(report):  # a notebook renders it
        return
    if not report.has_drift:
        console.out(f"No drift: the {report.checked} resources of environment {report.environment} are as "
                    "dss-iac last applied them.")
        return
    lines = [f"Drift in environment {report.environment}: {report.summary()}.", "", *report.lines()]
    if report.items:
        lines += ["", f"Run `dss-iac plan -e {report.environment}` to see how apply would restore the configuration."]
    console.plan_text("\n".join(lines))


def _read_json(path: Path) -> Any:
    import json

    from ..errors import PlanError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise PlanError(f"{path.name} is not a dss-iac plan file (invalid JSON: {e})") from None


def _usage(message: str) -> Exception:
    from ..errors import DssIacError

    err = DssIacError(message)
    err.exit_code = exit_codes.USAGE
    return err
