"""The plan: plain data, ordered actions with field-level changes, saved and reloaded as versioned JSON."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..errors import PlanError
from ..resources.address import Address
from ..secrets import UNKEYED, Fingerprints
from .diff import FieldChange

PLAN_FORMAT_VERSION = 1


class ActionType(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"
    NOOP = "no-op"


# In the reason of a delete that calls nothing in DSS: the object is already gone, or is kept there.
ONLY_FORGOTTEN = "only forgotten"


class ActionReason(StrEnum):
    """Why an action is planned, as a stable key for machines (`reason_code` in plan JSON), like Terraform's
    action reasons; `text` gives the sentence shown to people."""

    NOT_IN_DSS = "not_in_dss"  # create: new in the configuration
    DELETED_OUTSIDE = "deleted_outside"  # create: managed, but deleted in DSS by hand
    UP_TO_DATE = "up_to_date"  # no-op
    RECORD_EXISTING = "record_existing"  # no-op: in DSS as configured, not in state; apply records it
    CONFIG_CHANGED = "config_changed"  # update
    CHANGED_OUTSIDE = "changed_outside"  # update: DSS edited by hand, the configuration unchanged
    CONFIG_AND_DSS_CHANGED = "config_and_dss_changed"  # update
    ADOPTED = "adopted"  # update: in DSS, not in state, differing from the configuration
    ITEM_REPLACED = "item_replaced"  # update: a zone whose item is replaced takes it back
    CANNOT_UPDATE = "cannot_update"  # replace: fields DSS cannot change in place
    DEPENDENCY_REPLACED = "dependency_replaced"  # replace: DSS drops it with a replaced input or output
    REMOVED_FROM_CONFIG = "removed_from_config"  # delete
    DELETED_WITH_PROJECT = "deleted_with_project"  # delete: nothing to call, its project goes
    ALREADY_GONE = "already_gone"  # delete: gone from DSS already, only forgotten
    KEPT_IN_DSS = "kept_in_dss"  # delete: a project holding unmanaged objects is kept, only forgotten
    BUNDLE_ADDS = "bundle_adds"  # promotion content: the bundle brings it
    BUNDLE_CHANGES = "bundle_changes"
    BUNDLE_SAME = "bundle_same"
    BUNDLE_REMOVES = "bundle_removes"
    UNKNOWN = "unknown"  # a plan saved before reasons had codes, whose text says none of the above

    def text(self, detail: str = "") -> str:
        """The sentence for people; `detail` fills it where it names something (fields, a project...)."""
        return _REASON_TEXT[self].format(detail)

    @classmethod
    def of_text(cls, text: str) -> ActionReason:
        """The code behind a reason sentence: plans saved before codes carry only the sentence."""
        return next(r for r, pattern in _REASON_PATTERNS.items() if pattern.fullmatch(text))


_REASON_TEXT = {
    ActionReason.NOT_IN_DSS: "not in DSS",
    ActionReason.DELETED_OUTSIDE: "deleted outside dss-iac",
    ActionReason.UP_TO_DATE: "up to date",
    ActionReason.RECORD_EXISTING: "in DSS as configured, not in state: apply records it",
    ActionReason.CONFIG_CHANGED: "config changed",
    ActionReason.CHANGED_OUTSIDE: "changed outside dss-iac",
    ActionReason.CONFIG_AND_DSS_CHANGED: "config changed, and DSS changed outside dss-iac",
    ActionReason.ADOPTED: "exists in DSS but not in state: adopted",
    ActionReason.ITEM_REPLACED: "an item is replaced: DSS puts the new one in the default zone",
    ActionReason.CANNOT_UPDATE: "{} cannot change in place",
    ActionReason.DEPENDENCY_REPLACED: "an input or output is replaced",
    ActionReason.REMOVED_FROM_CONFIG: "removed from the config",
    ActionReason.DELETED_WITH_PROJECT: "deleted with project {}",
    ActionReason.ALREADY_GONE: f"already gone from DSS: {ONLY_FORGOTTEN}",
    ActionReason.KEPT_IN_DSS: f"kept in DSS, {ONLY_FORGOTTEN}: it holds what dss-iac does not manage ({{}})",
    ActionReason.BUNDLE_ADDS: "in the bundle, not yet in {}",
    ActionReason.BUNDLE_CHANGES: "the bundle changes it",
    ActionReason.BUNDLE_SAME: "same",
    ActionReason.BUNDLE_REMOVES: "not in the bundle: activation removes it",
    ActionReason.UNKNOWN: "{}",  # last: matches any sentence
}
_REASON_PATTERNS = {r: re.compile(".*".join(map(re.escape, t.split("{}"))), re.DOTALL) for r, t in _REASON_TEXT.items()}
SYMBOLS = {ActionType.CREATE: "+", ActionType.UPDATE: "~", ActionType.DELETE: "-", ActionType.REPLACE: "-/+",
           ActionType.NOOP: " "}


@dataclass(frozen=True)
class Action:
    address: Address
    kind: str
    action: ActionType
    reason: str = ""  # for people; `reason_code` says it for machines
    changes: tuple[FieldChange, ...] = ()
    # Out-of-band edits: how DSS differs from what dss-iac last applied.
    drift: tuple[FieldChange, ...] = ()
    remote_id: str | None = None
    # What to write (create, update, replace): the desired managed fields, secrets excluded.
    fields: Mapping[str, Any] | None = None
    depends_on: tuple[Address, ...] = ()
    # Deleted along with its project: nothing to call, only state to forget.
    with_project: bool = False
    # Plan-time notes for display, such as the logical name behind a remapped connection.
    notes: Mapping[str, str] = field(default_factory=dict)
    # A no-op on an object found in DSS as configured but missing from state (state lost, or `state rm`):
    # apply records it, so it is managed (and destroyed) like the rest, never left an orphan.
    record_only: bool = False
    # A delete that only drops the object from state: it is gone from DSS already, or kept there.
    forgotten_only: bool = False
    reason_code: ActionReason = ActionReason.UNKNOWN

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.action]

    def to_dict(self, fingerprints: Fingerprints = UNKEYED) -> dict[str, Any]:
        return {
            "address": str(self.address), "kind": self.kind, "action": self.action.value, "reason": self.reason,
            "reason_code": self.reason_code.value,
            "changes": [c.to_dict() for c in self.changes], "drift": [c.to_dict() for c in self.drift],
            # Sensitive values never leave memory: apply takes them from the (unchanged) configuration again.
            "remote_id": self.remote_id,
            "fields": None if self.fields is None else fingerprints.scrub(dict(self.fields)),
            "depends_on": [str(d) for d in self.depends_on],
            "with_project": self.with_project, "notes": dict(self.notes), "record_only": self.record_only,
            "forgotten_only": self.forgotten_only,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Action:
        if d.get("record_only") and not d.get("remote_id"):
            raise ValueError(f"remote_id of {d.get('address')}: apply records what DSS holds under its id")
        action, reason = ActionType(d["action"]), d.get("reason", "")
        # Plans saved before the field said so only in their reason.
        forgotten = d.get("forgotten_only", action is ActionType.DELETE and ONLY_FORGOTTEN in reason)
        code = ActionReason(d["reason_code"]) if "reason_code" in d else ActionReason.of_text(reason)
        return cls(
            address=Address.parse(d["address"]), kind=d["kind"], action=action, reason=reason, reason_code=code,
            changes=tuple(FieldChange.from_dict(c) for c in d.get("changes", [])),
            drift=tuple(FieldChange.from_dict(c) for c in d.get("drift", [])),
            remote_id=d.get("remote_id"), fields=d.get("fields"),
            depends_on=tuple(map(Address.parse, d.get("depends_on", []))),
            with_project=bool(d.get("with_project", False)), notes=dict(d.get("notes", {})),
            record_only=bool(d.get("record_only", False)), forgotten_only=bool(forgotten),
        )


@dataclass(frozen=True)
class Unmanaged:
    """An object DSS holds in a project of the configuration that is neither in the configuration nor in state:
    made by hand (or by another tool). dss-iac reports it and never deletes it."""

    kind: str
    project: str  # the DSS project key
    name: str  # the key it gets in the project file when imported
    remote_id: str  # DSS's own id (server-made for folders, scenarios and zones)
    # How to bring it under management: the `dss-iac import` command that adds it to the project file, or why
    # there is none (set by the workspace, which knows the files).
    hint: str = ""

    @property
    def address(self) -> str:
        return f"{self.kind}.{self.project}.{self.name}"

    @property
    def label(self) -> str:
        return f"{self.kind.replace('_', ' ')} {self.name}"

    @property
    def import_command(self) -> str | None:
        return self.hint if self.hint.startswith("dss-iac import ") else None

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "kind": self.kind, "project": self.project, "name": self.name,
                "id": self.remote_id, "import": self.import_command, "hint": self.hint}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Unmanaged:
        return cls(d["kind"], d["project"], d["name"], d["id"], d.get("hint") or "")


@dataclass(frozen=True)
class Summary:
    add: int
    change: int
    destroy: int

    @property
    def total(self) -> int:
        return self.add + self.change + self.destroy


@dataclass(frozen=True)
class Plan:
    environment: str
    actions: tuple[Action, ...]
    config_digest: str
    state_lineage: str | None
    state_serial: int | None
    remote_fingerprint: str
    created_at: str
    targets: tuple[str, ...] = ()
    destroy: bool = False
    format_version: int = PLAN_FORMAT_VERSION
    at: str | None = None  # the Git commit the configuration was read from (`plan --at`)
    # Objects found in the configuration's projects that dss-iac does not manage: reported, never deleted.
    unmanaged: tuple[Unmanaged, ...] = ()
    # What sensitive values are sealed with when the plan is saved (the state's key; never saved itself).
    fingerprints: Fingerprints = field(default=UNKEYED, repr=False, compare=False)

    @property
    def changes(self) -> list[Action]:
        return [a for a in self.actions if a.action is not ActionType.NOOP]

    @property
    def drifted(self) -> list[Action]:
        return [a for a in self.actions if a.drift]

    def summary(self) -> Summary:
        counts = {t: 0 for t in ActionType}
        for a in self.actions:
            counts[a.action] += 1
        replace = counts[ActionType.REPLACE]
        return Summary(counts[ActionType.CREATE] + replace, counts[ActionType.UPDATE],
                       counts[ActionType.DELETE] + replace)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def destructive(self) -> list[Action]:
        """Deletes and replaces that remove something from DSS: what a protected environment guards."""
        return [a for a in self.changes if a.action in (ActionType.DELETE, ActionType.REPLACE)
                and not a.forgotten_only]

    @property
    def to_record(self) -> list[Action]:
        """Objects already in DSS as configured that apply only records in state."""
        return [a for a in self.actions if a.record_only]

    @property
    def fingerprint(self) -> str:
        """What the plan would do, as reviewed: its actions (field changes, values to write, sensitive ones sealed),
        what it read in DSS, its environment and targets; not when it was made. An approval is bound to it: a plan
        that differs in any of these needs a new one."""
        # The reason code says what the reason says: left out, so that sign-offs given before codes still hold.
        actions = [{k: v for k, v in a.to_dict(self.fingerprints).items() if k != "reason_code"}
                   for a in self.actions]
        body = {"environment": self.environment, "destroy": self.destroy, "targets": list(self.targets),
                "remote": self.remote_fingerprint, "actions": actions}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    def _repr_html_(self) -> str:
        """Notebooks render a plan as a coloured diff (`ws.plan("dev")` alone in a cell)."""
        from .render_html import plan_html

        return plan_html(self)

    def to_dict(self) -> dict[str, Any]:
        s = self.summary()
        return {
            "format_version": self.format_version, "environment": self.environment, "created_at": self.created_at,
            "destroy": self.destroy, "targets": list(self.targets), "at": self.at,
            "config_digest": self.config_digest,
            "state": {"lineage": self.state_lineage, "serial": self.state_serial},
            "remote_fingerprint": self.remote_fingerprint,
            "summary": {"add": s.add, "change": s.change, "destroy": s.destroy},
            "actions": [a.to_dict(self.fingerprints) for a in self.actions],
            "unmanaged": [u.to_dict() for u in self.unmanaged],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, default=str) + "\n"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Plan:
        version = d.get("format_version")
        if version != PLAN_FORMAT_VERSION:
            raise PlanError(f"plan format_version {version!r} is not supported (this dss-iac reads "
                            f"{PLAN_FORMAT_VERSION}); make the plan again with this version")
        try:
            return cls(
                environment=d["environment"], actions=tuple(Action.from_dict(a) for a in d["actions"]),
                config_digest=d["config_digest"], state_lineage=d["state"]["lineage"],
                state_serial=d["state"]["serial"], remote_fingerprint=d["remote_fingerprint"],
                created_at=d["created_at"], targets=tuple(d.get("targets", [])), destroy=bool(d.get("destroy")),
                at=d.get("at"), unmanaged=tuple(Unmanaged.from_dict(u) for u in d.get("unmanaged", [])),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise PlanError(f"not a dss-iac plan file (missing or invalid {e})") from None
