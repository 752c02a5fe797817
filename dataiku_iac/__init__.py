"""dataiku-iac: Git-native, declarative infrastructure-as-code for Dataiku DSS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = ["Workspace", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `dss-iac --help` and `import dataiku_iac.sim` stay fast.
    if name == "Workspace":
        from .workspace import Workspace

        return Workspace
    raise AttributeError(name)
