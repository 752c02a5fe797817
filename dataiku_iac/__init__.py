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
    from ._text import brief
    from .adopt import AdoptError, set_path
    from .adopt import Edit as AdoptEdit
    from .apply.applier import ApplyResult, ProgressEvent, ProgressEventType, StepPhase, StepResult, StepStatus
    from .cli.main import main as cli_main
    from .config.edit import changes_between
    from .config.errors_map import to_config_errors
    from .config.loader import WorkspaceConfig
    from .config.yamledit import Layout, flow_text, same
    from .config.yamlio import locate, parse_yaml
    from .deploy import render_promotion
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
        SignOffError,
        StalePlanError,
        StateError,
    )
    from .govern import Approval, Gate
    from .plan.diff import FieldChange
    from .plan.model import Action, ActionReason, ActionType, Plan, Unmanaged
    from .plan.render_html import drift_html, error_html, plan_html
    from .plan.render_text import action_block, field_lines, fmt
    from .resources import KINDS, Address, Kind
    from .resources import registry as kinds
    from .secrets import MASK, is_secret_key, mask, redact, redact_url
    from .testing.results import TestResult, TestRun
    from .testing.rules import lint_rule
    from .workspace import Workspace
    from .workspace_settings import WorkspaceSettings

# Public name -> (module, name there). Loaded on first use, so that `dss-iac --help` and `import dataiku_iac.sim`
# stay fast.
_EXPORTS: dict[str, tuple[str, str]] = {
    # The workspace and what it gives: plans, apply results, drift, adoption, the edit API.
    "Workspace": (".workspace", "Workspace"),
    "WorkspaceConfig": (".config.loader", "WorkspaceConfig"),
    "WorkspaceSettings": (".workspace_settings", "WorkspaceSettings"),
    "Plan": (".plan.model", "Plan"),
    "Action": (".plan.model", "Action"),
    "ActionReason": (".plan.model", "ActionReason"),
    "ActionType": (".plan.model", "ActionType"),
    "Unmanaged": (".plan.model", "Unmanaged"),
    "FieldChange": (".plan.diff", "FieldChange"),
    "ApplyResult": (".apply.applier", "ApplyResult"),
    "StepResult": (".apply.applier", "StepResult"),
    "ProgressEvent": (".apply.applier", "ProgressEvent"),
    "ProgressEventType": (".apply.applier", "ProgressEventType"),
    "StepPhase": (".apply.applier", "StepPhase"),
    "StepStatus": (".apply.applier", "StepStatus"),
    "DriftReport": (".drift", "DriftReport"),
    "DriftItem": (".drift", "DriftItem"),
    "AdoptEdit": (".adopt", "Edit"),
    "AdoptError": (".adopt", "AdoptError"),
    "set_path": (".adopt", "set_path"),
    "changes_between": (".config.edit", "changes_between"),
    # Resource kinds: the registry (`kinds.register(...)`), the kinds registered, their addresses.
    "Address": (".resources", "Address"),
    "Kind": (".resources", "Kind"),
    "KINDS": (".resources", "KINDS"),
    "kinds": (".resources", "registry"),
    # Errors: one root, DssIacError.
    "DssIacError": (".errors", "DssIacError"),
    "ConfigError": (".errors", "ConfigError"),
    "ConfigErrors": (".errors", "ConfigErrors"),
    "Position": (".errors", "Position"),
    "StateError": (".errors", "StateError"),
    "LockError": (".errors", "LockError"),
    "PlanError": (".errors", "PlanError"),
    "StalePlanError": (".errors", "StalePlanError"),
    "ApplyError": (".errors", "ApplyError"),
    "DSSApiError": (".errors", "DSSApiError"),
    "ApprovalError": (".errors", "ApprovalError"),
    "SignOffError": (".errors", "SignOffError"),
    # Govern sign-offs (`approval: govern`): the gate of a change and each approval in it.
    "Gate": (".govern", "Gate"),
    "Approval": (".govern", "Approval"),
    # Showing things: plans, drift and errors as text or HTML, secrets kept out of what is shown.
    "brief": ("._text", "brief"),
    "fmt": (".plan.render_text", "fmt"),
    "action_block": (".plan.render_text", "action_block"),
    "field_lines": (".plan.render_text", "field_lines"),
    "plan_html": (".plan.render_html", "plan_html"),
    "drift_html": (".plan.render_html", "drift_html"),
    "error_html": (".plan.render_html", "error_html"),
    "render_promotion": (".deploy", "render_promotion"),
    "MASK": (".secrets", "MASK"),
    "mask": (".secrets", "mask"),
    "redact": (".secrets", "redact"),
    "redact_url": (".secrets", "redact_url"),
    "is_secret_key": (".secrets", "is_secret_key"),
    # YAML as users write it: parsed with positions, located, compared and written back in the file's style.
    "parse_yaml": (".config.yamlio", "parse_yaml"),
    "locate": (".config.yamlio", "locate"),
    "to_config_errors": (".config.errors_map", "to_config_errors"),
    "flow_text": (".config.yamledit", "flow_text"),
    "same": (".config.yamledit", "same"),
    "Layout": (".config.yamledit", "Layout"),
    # Tests (`dss-iac test`): the static rules' linter and the results of a run.
    "lint_rule": (".testing.rules", "lint_rule"),
    "TestRun": (".testing.results", "TestRun"),
    "TestResult": (".testing.results", "TestResult"),
    # The command line, as `dss-iac` runs it (the notebook's %dss_iac magic).
    "cli_main": (".cli.main", "main"),
}

__all__ = [
    "KINDS",
    "MASK",
    "Action",
    "ActionReason",
    "ActionType",
    "Address",
    "AdoptEdit",
    "AdoptError",
    "ApplyError",
    "ApplyResult",
    "Approval",
    "ApprovalError",
    "ConfigError",
    "ConfigErrors",
    "DSSApiError",
    "DriftItem",
    "DriftReport",
    "DssIacError",
    "FieldChange",
    "Gate",
    "Kind",
    "Layout",
    "LockError",
    "Plan",
    "PlanError",
    "Position",
    "ProgressEvent",
    "ProgressEventType",
    "SignOffError",
    "StalePlanError",
    "StateError",
    "StepPhase",
    "StepResult",
    "StepStatus",
    "TestResult",
    "TestRun",
    "Unmanaged",
    "Workspace",
    "WorkspaceConfig",
    "WorkspaceSettings",
    "__version__",
    "action_block",
    "brief",
    "changes_between",
    "cli_main",
    "drift_html",
    "error_html",
    "field_lines",
    "flow_text",
    "fmt",
    "is_secret_key",
    "kinds",
    "lint_rule",
    "locate",
    "mask",
    "parse_yaml",
    "plan_html",
    "redact",
    "redact_url",
    "render_promotion",
    "same",
    "set_path",
    "to_config_errors",
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
