"""`dss-iac tui`: the terminal app. Textual is imported only when the command runs, never for `--help`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from . import exit_codes
from .console import Console


def register(sub: Any) -> None:
    p = sub.add_parser(
        "tui", help="browse drift, review, approve and apply plans in a terminal app",
        description="Open the terminal app: environments x projects at a glance, plan review with include /\n"
                    "exclude, typed approval and live apply, the drift browser (revert or adopt), history.\n"
                    "Press ? in the app for every key.",
        epilog="example:\n  dss-iac tui -e dev", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-e", "--env", metavar="ENV", help="show only this environment (as named in dss-iac.yaml; "
                                                       "an unknown name opens a picker)")
    p.set_defaults(func=cmd_tui)


def cmd_tui(args: argparse.Namespace, console: Console) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        console.error("dss-iac tui needs a terminal (use plan, apply and drift in scripts and CI)")
        return exit_codes.USAGE
    from ..tui.app import run

    return run(Path(args.directory), args.env)
