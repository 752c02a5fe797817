"""`%load_ext dataiku_iac.notebook` adds `%dss_iac`, the command line inside a notebook:

    %dss_iac validate
    %dss_iac plan -e dev
    %dss_iac apply -e dev --yes

The arguments go to the CLI's own `main()`, so commands, options, output and exit codes are the CLI's. The
output has no colour codes (a notebook is not a terminal) and a failing command says its exit code. In a
Jupyter kernel, `plan` and `drift` show their result rendered (the plan as a coloured diff); in a terminal
IPython, as the CLI's text.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from typing import Any

MAGIC = "dss_iac"


def run(line: str, display: Callable[[Any], None] | None = None) -> int:
    """Run `dss-iac` with the arguments of a magic line; its exit code. Plans and drift reports go to `display`
    (default: the notebook's, in a Jupyter kernel; none elsewhere, so they print as text)."""
    from dataiku_iac import cli_main as main

    try:
        argv = shlex.split(line)
    except ValueError as e:
        print(f"dss-iac: cannot read the arguments: {e}", file=sys.stderr)
        return 64
    try:
        code = main(["--no-color", *argv], display=display or _kernel_display())
    except SystemExit as e:  # argparse ends with SystemExit on usage errors and --help
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    sys.stdout.flush()
    if code not in (0, None):
        print(f"(dss-iac exited with code {code})", file=sys.stderr)
    return int(code or 0)


def _kernel_display() -> Callable[[Any], None] | None:
    """IPython's display() in a Jupyter kernel, where a front end renders HTML; None in a terminal IPython."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    shell = get_ipython()
    return display if shell is not None and getattr(shell, "kernel", None) is not None else None


def _magic(line: str) -> None:
    run(line)


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magic_function(_magic, magic_kind="line", magic_name=MAGIC)


def unload_ipython_extension(ipython: Any) -> None:
    ipython.magics_manager.magics["line"].pop(MAGIC, None)
