"""Entry point: parse arguments, dispatch to a command, map errors to exit codes (no tracebacks)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import (
    approvals_cmd,
    ci_cmd,
    exit_codes,
    misc_cmds,
    preview_cmd,
    promote_cmd,
    sim_cmd,
    state_cmd,
    test_cmd,
    tui_cmd,
    workspace_cmds,
)
from .console import Console


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(exit_codes.USAGE)


EPILOG = """\
examples:
  dss-iac init my-dss-repo && cd my-dss-repo
  dss-iac validate
  dss-iac plan -e dev
  dss-iac apply -e dev --yes
  dss-iac test -e dev --junit-xml report.xml
  dss-iac drift -e dev

exit codes: 0 ok, 1 error, 2 changes present (--detailed-exitcode), 3 invalid configuration,
4 state locked, 5 stale plan, 6 approval missing, 7 tests failed, 8 Govern sign-off missing, 64 usage error
(see docs/cli.md)"""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dss-iac", description="Git-native, declarative infrastructure-as-code for Dataiku DSS.",
                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _global_options(parser, default=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    misc_cmds.register_init(sub)
    workspace_cmds.register(sub)
    state_cmd.register(sub)
    misc_cmds.register(sub)
    sim_cmd.register(sub)
    promote_cmd.register(sub)
    test_cmd.register(sub)
    approvals_cmd.register(sub)
    preview_cmd.register(sub)
    ci_cmd.register(sub)
    tui_cmd.register(sub)
    for command in _subcommands(parser):
        _global_options(command.add_argument_group("global options"), default=False)
    return parser


def _global_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup, *, default: bool) -> None:
    """`-C` and `--no-color`, before the command (`default`: where their defaults are set) or after it, as
    Terraform takes them. After the command they have no default, so they never undo one given before it."""
    keep: dict[str, Any] = {} if default else {"default": argparse.SUPPRESS}
    parser.add_argument("-C", dest="directory", metavar="DIR", help="run as if started in DIR",
                        **({"default": "."} if default else keep))
    parser.add_argument("--no-color", action="store_true", help="plain output (NO_COLOR is respected too)",
                        **keep)


def _subcommands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every command parser under `parser`, nested ones (`state list`, `sim serve`) too."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in dict.fromkeys(action.choices.values()):  # aliases map to the same parser
                found += [command, *_subcommands(command)]
    return found


def main(argv: Sequence[str] | None = None, *, display: Callable[[Any], None] | None = None) -> int:
    """Run a command; `display` (a notebook's) receives plans and drift reports to render instead of text."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return exit_codes.USAGE
    console = Console(no_color=args.no_color, display=display)
    from ..errors import DssIacError
    from ..secrets import forget_all

    forget_all()  # values an earlier command of this process read from its environment are not this one's

    try:
        return int(args.func(args, console) or exit_codes.OK)
    except DssIacError as e:
        console.error(str(e))
        return e.exit_code
    except KeyboardInterrupt:
        console.note("interrupted")
        return exit_codes.INTERRUPTED
    except BrokenPipeError:
        return exit_codes.ERROR
    except OSError as e:  # the file system said no (permissions, a missing folder, a full disk)
        if os.environ.get("DSS_IAC_DEBUG"):
            raise
        where = f": {e.filename}" if e.filename else ""
        console.error(f"{e.strerror}{where}" if e.strerror else f"{type(e).__name__}: {e}")
        return exit_codes.ERROR
    except Exception as e:  # a bug: say so in one line; the traceback only on request
        if os.environ.get("DSS_IAC_DEBUG"):
            raise
        console.error(f"internal error: {type(e).__name__}: {e} (set DSS_IAC_DEBUG=1 for the traceback, and "
                      "please report it)")
        return exit_codes.ERROR


if __name__ == "__main__":
    sys.exit(main())
