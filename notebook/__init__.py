"""Jupyter front end, installed as `dataiku_iac.notebook`.

- `Workbench(path, env="dev")`: widgets to edit resources, preview the plan, save, diff, commit and apply
  (needs the `notebook` extra: `pip install 'dataiku-iac[notebook]'`).
- `%load_ext dataiku_iac.notebook`, then `%dss_iac plan -e dev` and every other `dss-iac` command.

Plans, drift reports and configuration errors render as HTML by themselves (`_repr_html_` in the core).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .magics import load_ipython_extension, unload_ipython_extension

if TYPE_CHECKING:
    from .workbench import Workbench

__all__ = ["Workbench", "load_ipython_extension", "unload_ipython_extension"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the magics work without ipywidgets, and a missing extra is a one-line error.
    if name == "Workbench":
        from .workbench import Workbench

        return Workbench
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
