"""Drift: what changed in DSS outside dss-iac since it last applied, and what was added there by hand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .plan.diff import FieldChange
from .plan.model import ActionReason, Plan, Unmanaged


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
    # Objects of the configuration's projects found in DSS that dss-iac does not manage (made by hand).
    unmanaged: tuple[Unmanaged, ...] = ()

    @property
    def has_drift(self) -> bool:
        return bool(self.items or self.unmanaged)

    def summary(self) -> str:
        """`2 of 14 resources changed outside dss-iac, 3 objects not managed`, as the headings say it."""
        parts = [f"{len(self.items)} of {self.checked} resources changed outside dss-iac"] if self.items else []
        if self.unmanaged:
            parts.append(f"{len(self.unmanaged)} object(s) not managed")
        return ", ".join(parts)

    def lines(self) -> list[str]:
        """One line per deleted resource, a header and field lines per changed one, then the objects not managed
        with how to import them, as the CLI prints them."""
        from .plan.render_text import field_lines, unmanaged_section

        out: list[str] = []
        for item in self.items:
            if item.status == "deleted":
                out.append(f"  - {item.address}: deleted outside dss-iac")
            else:
                out.append(f"  ~ {item.address}:")
                out.extend(field_lines(item.changes, "~"))
        section = unmanaged_section(self.unmanaged)
        return out + (section[1:] if not out else section)

    def _repr_html_(self) -> str:
        from .plan.render_html import drift_html

        return drift_html(self)

    def to_dict(self) -> dict[str, Any]:
        return {"format_version": 1, "environment": self.environment, "checked": self.checked,
                "drifted": len(self.items), "items": [i.to_dict() for i in self.items],
                "unmanaged": [u.to_dict() for u in self.unmanaged]}

    @classmethod
    def from_plan(cls, plan: Plan) -> DriftReport:
        items = []
        for a in plan.actions:
            if a.reason_code in (ActionReason.DELETED_OUTSIDE, ActionReason.ALREADY_GONE):
                items.append(DriftItem(str(a.address), a.kind, "deleted"))
            elif a.drift:
                items.append(DriftItem(str(a.address), a.kind, "changed", a.drift))
        return cls(plan.environment, tuple(items), len(plan.actions), plan.unmanaged)
