"""`dss-iac test`: static tests (no DSS call), and with -e the build, data tests and test scenarios on an
environment; reports as text, JSON, Markdown and JUnit XML; exit 7 when a test fails."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import exit_codes
from .arg_types import positive_duration
from .console import Console

_MARK_COLOURS = {"FAIL": "\x1b[31m", "ERROR": "\x1b[31m", "WARN": "\x1b[33m", "PASS": "\x1b[32m", "SKIP": "\x1b[36m"}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "test", help="run the workspace's tests: static rules, and with -e data tests and test scenarios",
        description="Run the tests of the workspace. Static tests (flow lint, the team's naming, tagging and\n"
                    "description rules, its Python rules) never call DSS. With -e ENV, then: the build of the\n"
                    "flow (--build), the data tests of every dataset (computed by DSS as data quality rules)\n"
                    "and the test scenarios (`test: true`, or listed under tests.scenarios). See docs/testing.md.",
        epilog="examples:\n  dss-iac test --static\n  dss-iac test -e dev --junit-xml test-report.xml\n"
               "  dss-iac test -e staging --build              # build the whole flow first\n"
               "  dss-iac test -e dev --build CHURN.customers_clean\n\n"
               "exit codes: 0 every test passed (warnings allowed), 7 a test failed or could not run,\n"
               "3 invalid configuration, 1 other errors",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-e", "--env", metavar="ENV", help="also run the live tests on this environment's DSS")
    p.add_argument("--static", action="store_true", help="static tests only: no DSS call (the default without -e)")
    p.add_argument("--build", nargs="*", metavar="OUTPUT",
                   help="with -e: build the flow first through a DSS job (or only these datasets or folders, as "
                        "name or PROJECT.name); a failed job fails the run")
    p.add_argument("--junit-xml", metavar="FILE", help="also write the results as JUnit XML to FILE")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--markdown", action="store_true", help="print the results as Markdown (pull-request comments)")
    p.add_argument("-v", "--verbose", action="store_true", help="list the tests that passed too")
    p.add_argument("--timeout", type=positive_duration, metavar="DURATION",
                   help="how long the live tests may take in all (default: tests.timeout, 1h)")
    p.set_defaults(func=cmd_test)


def cmd_test(args: argparse.Namespace, console: Console) -> int:
    from .._fs import atomic_write
    from ..testing.junit import render_junit
    from ..testing.report import render_markdown, render_text
    from .workspace_cmds import load

    if args.static and (args.env or args.build is not None):
        raise usage_error("--static runs no live test: leave out -e and --build")
    if args.build is not None and not args.env:
        raise usage_error("--build needs -e ENV: the environment whose DSS builds the flow")
    with load(args) as ws:
        say = console.note if console.interactive else (lambda text: None)
        run = ws.test(None if args.static else args.env, build=args.build, progress=say, timeout=args.timeout)
    if args.junit_xml:
        atomic_write(Path(args.directory, args.junit_xml), render_junit(run).encode())
    if args.json:
        console.out(run.to_json())
    elif args.markdown:
        console.out(render_markdown(run))
    else:
        text = render_text(run, verbose=args.verbose)
        console.out(_coloured(text) if console.color else text)
    return exit_codes.OK if run.ok else exit_codes.TESTS_FAILED


def usage_error(message: str) -> Exception:
    from ..errors import DssIacError

    err = DssIacError(message)
    err.exit_code = exit_codes.USAGE
    return err


def _coloured(text: str) -> str:
    out = []
    for line in text.splitlines():
        mark = line.strip().split(" ", 1)[0]
        colour = _MARK_COLOURS.get(mark) if line.startswith("  ") and not line.startswith("        ") else None
        out.append(f"{colour}{line}\x1b[0m" if colour else line)
    return "\n".join(out)
