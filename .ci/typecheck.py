"""mypy over the packages as they install: `tui/` and `notebook/` as `dataiku_iac.tui` and `dataiku_iac.notebook`.

Plain `mypy` names a file by its folder (`tui.app`), so it cannot resolve the core's `from ..tui.app import run`,
and the editable install's import hook is invisible to it. This runs mypy with pyproject's `[tool.mypy]` settings,
renaming each source module by setuptools' `package-dir` before the build. Arguments are mypy's own.
"""

from __future__ import annotations

import sys
import time
import tomllib
from pathlib import Path

from mypy.fscache import FileSystemCache
from mypy.main import process_options, run_build
from mypy.modulefinder import BuildSource
from mypy.util import FancyFormatter, count_stats

ROOT = Path(__file__).resolve().parent.parent


def installed_name(module: str, package_dir: dict[str, str]) -> str:
    """`tui.app` -> `dataiku_iac.tui.app` when package-dir installs folder `tui` as package `dataiku_iac.tui`."""
    for package, folder in package_dir.items():
        folder_module = folder.replace("/", ".")
        if folder_module != package and (module == folder_module or module.startswith(folder_module + ".")):
            return package + module[len(folder_module) :]
    return module


def main(args: list[str]) -> int:
    started = time.time()
    package_dir = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    fscache = FileSystemCache()
    sources, options = process_options(args, fscache=fscache)
    renamed = [
        BuildSource(s.path, installed_name(s.module, package_dir), s.text, s.base_dir, s.followed) for s in sources
    ]
    _, messages, blockers = run_build(renamed, options, fscache, started, sys.stdout, sys.stderr)
    n_errors, _notes, n_files = count_stats(messages)
    formatter = FancyFormatter(sys.stdout, sys.stderr, options.hide_error_codes)
    if n_errors:
        print(formatter.format_error(n_errors, n_files, len(renamed), blockers=blockers, use_color=False))
        return 2 if blockers else 1
    print(formatter.format_success(len(renamed), use_color=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
