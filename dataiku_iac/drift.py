"""Drift: what changed in DSS outside dss-iac since it last applied."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .plan.diff import FieldChange
from .plan.model import ActionType, Plan


@dataclass(frozen=True)
class DriftItem:
    address: str
    kind: str
    status: str  # changed | deleted
    changes: tuple[FieldChange, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "kind": self.kind, "status": self.status,
                "changes": [c.to_dict() for c in self.changes]}


@dataclass(frozen=True)
class DriftReport:
    environment: str
    items: tuple[DriftItem, ...]
    checked: int

    @property
    def has_drift(self) -> bool:
        return bool(self.items)

    def to_dict(self) -> dict[str, Any]:
        return {"format_version": 1, "environment": self.environment, "checked": self.checked,
                "drifted": len(self.items), "items": [i.to_dict() for i in self.items]}

    @classmethod
    def from_plan(cls, plan: Plan) -> DriftReport:
        items = []
        for a in plan.actions:
            gone = (a.action is ActionType.CREATE and a.reason == "deleted outside dss-iac") or (
                a.action is ActionType.DELETE and a.reason.startswith("already gone"))
            if gone:
                items.append(DriftItem(a.address, a.kind, "deleted"))
            elif a.drift:
                items.append(DriftItem(a.address, a.kind, "changed", a.drift))
        return cls(plan.environment, tuple(items), len(plan.actions))
