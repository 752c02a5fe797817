"""dataiku-iac: Git-native, declarative infrastructure-as-code for Dataiku DSS.

The public API, what the CLI, the terminal app, the notebook workbench and users' own code import:

    from dataiku_iac import Workspace
    with Workspace.load("path/to/repo") as ws:
        plan = ws.plan("dev")
        ws.apply(plan, progress=print)

Everything in `__all__` is kept stable; modules below `dataiku_iac.` are internals and may change.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .adopt import AdoptError
    from .adopt import Edit as AdoptEdit
    from .apply.applier import ApplyResult, ProgressEvent, StepResult
    from .drift import DriftItem, DriftReport
    from .errors import (
        ApplyError,
        ApprovalError,
        ConfigError,
        ConfigErrors,
        DSSApiError,
        DssIacError,
        LockError,
        PlanError,
        Position,
        StalePlanError,
        StateError,
    )
    from .plan.diff import FieldChange
    from .plan.model import Action, ActionType, Plan, Unmanaged
    from .resources import KINDS, Address, Kind
    from .resources import registry as kinds
    from .workspace import Workspace

# Public name -> (module, name there). Loaded on first use, so that `dss-iac --help` and `import dataiku_iac.sim`
# stay fast.
_EXPORTS: dict[str, tuple[str, str]] = {
    "Workspace": (".workspace", "Workspace"),
    "Plan": (".plan.model", "Plan"),
    "Action": (".plan.model", "Action"),
    "ActionType": (".plan.model", "ActionType"),
    "Unmanaged": (".plan.model", "Unmanaged"),
    "FieldChange": (".plan.diff", "FieldChange"),
    "ApplyResult": (".apply.applier", "ApplyResult"),
    "StepResult": (".apply.applier", "StepResult"),
    "ProgressEvent": (".apply.applier", "ProgressEvent"),
    "DriftReport": (".drift", "DriftReport"),
    "DriftItem": (".drift", "DriftItem"),
    "Address": (".resources", "Address"),
    "Kind": (".resources", "Kind"),
    "KINDS": (".resources", "KINDS"),
    "kinds": (".resources", "registry"),
    "AdoptEdit": (".adopt", "Edit"),
    "AdoptError": (".adopt", "AdoptError"),
    **{name: (".errors", name) for name in ("DssIacError", "ConfigError", "ConfigErrors", "Position", "StateError",
                                            "LockError", "PlanError", "StalePlanError", "ApplyError", "DSSApiError",
                                            "ApprovalError")},
}

__all__ = [
    "KINDS",
    "Action",
    "ActionType",
    "Address",
    "AdoptEdit",
    "AdoptError",
    "ApplyError",
    "ApplyResult",
    "ApprovalError",
    "ConfigError",
    "ConfigErrors",
    "DSSApiError",
    "DriftItem",
    "DriftReport",
    "DssIacError",
    "FieldChange",
    "Kind",
    "LockError",
    "Plan",
    "PlanError",
    "Position",
    "ProgressEvent",
    "StalePlanError",
    "StateError",
    "StepResult",
    "Unmanaged",
    "Workspace",
    "__version__",
    "kinds",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'dataiku_iac' has no attribute '{name}'")
    module, attr = _EXPORTS[name]
    value = getattr(importlib.import_module(module, __name__), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
