"""dataiku-iac: Git-native, declarative infrastructure-as-code for Dataiku DSS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .testing.results import TestResult, TestRun
    from .testing.rules import lint_rule
    from .workspace import Workspace

__all__ = ["TestResult", "TestRun", "Workspace", "__version__", "lint_rule"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `dss-iac --help` and `import dataiku_iac.sim` stay fast.
    if name == "Workspace":
        from .workspace import Workspace

        return Workspace
    if name == "lint_rule":
        from .testing.rules import lint_rule

        return lint_rule
    if name in ("TestResult", "TestRun"):
        from .testing import results

        return getattr(results, name)
    raise AttributeError(name)
