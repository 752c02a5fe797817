"""Entry point: parse arguments, dispatch to a command module, map errors to exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from . import sim_cmd

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 64  # never 2: with --detailed-exitcode, 2 means "changes present"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dss-iac",
        description="Git-native, declarative infrastructure-as-code for Dataiku DSS.",
        epilog="example:\n  dss-iac sim serve --port 11200 --api-key secret",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-C", dest="directory", default=".", help="run as if started in DIR")
    parser.add_argument("--no-color", action="store_true", help="plain output (NO_COLOR is respected too)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    version = sub.add_parser("version", help="print the version", description="Print the version.",
                             epilog="example:\n  dss-iac version", formatter_class=argparse.RawDescriptionHelpFormatter)
    version.set_defaults(func=lambda args: print(f"dss-iac {__version__}") or EXIT_OK)
    sim_cmd.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or EXIT_OK)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
