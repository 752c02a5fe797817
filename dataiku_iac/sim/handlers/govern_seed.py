"""What a fresh Govern install holds: the standard blueprints, their default versions and sign-offs.

Blueprint ids, the `bv.system.default` version id and the govern project's workflow steps are those of a
real Govern; the bundle and model version workflows (development, review, deployment, production) follow
Dataiku's workflow documentation. Field lists are trimmed. Reviewers are simulator conventions: every
feedback group and the final approval resolve to the `administrators` group (see govern_model).
"""

from __future__ import annotations

import copy
from typing import Any

from ..store import Store
from .govern_model import ADMIN_GROUP, blueprints

DEFAULT_VERSION = "bv.system.default"
GOVERN_BUNDLE = "bp.system.govern_bundle"
REVIEW_STEP = "review"

RECURRENCE_OFF: dict[str, Any] = {
    "activated": False, "days": 0, "weeks": 0, "months": 0, "years": 0, "reloadConf": False,
}


def _field(label: str, field_type: str = "TEXT", **extra: Any) -> dict[str, Any]:
    return {"label": label, "description": "", "fieldType": field_type, "sourceType": "STORE",
            "required": False, **extra}


def _steps(*names: str) -> list[dict[str, Any]]:
    return [{"id": n.lower(), "name": n, "description": ""} for n in names]


def version_definition(blueprint_id: str, version_id: str, name: str,
                       fields: dict[str, Any] | None = None, steps: list[dict[str, Any]] | None = None,
                       ) -> dict[str, Any]:
    """A blueprint version definition, with every key Govern returns even when empty."""
    return {
        "id": {"blueprintId": blueprint_id, "versionId": version_id},
        "name": name,
        "instanceName": "",
        "description": "",
        "fieldDefinitions": fields or {},
        "workflowDefinition": {"stepDefinitions": steps or []},
        "logicalHookList": [],
        "actions": {},
        "uiDefinition": {"views": {}, "uiStepDefinitions": {}},
        "iconMode": "INHERIT",
    }


def version_trace(blueprint_id: str, version_id: str, status: str, origin: str | None = None) -> dict[str, Any]:
    return {"blueprintVersionId": {"blueprintId": blueprint_id, "versionId": version_id},
            "status": status, "originVersionId": origin}


def signoff_configuration(blueprint_id: str, version_id: str, step_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A sign-off configuration as stored: the server derives `id` from the version and step."""
    conf = {k: v for k, v in body.items() if k != "id"}
    conf.setdefault("mandatory", False)
    conf.setdefault("feedbackUsersGroups", [])
    conf.setdefault("approvers", [])
    conf.setdefault("recurrenceConfiguration", dict(RECURRENCE_OFF))
    conf["id"] = {"blueprintVersionId": {"blueprintId": blueprint_id, "versionId": version_id}, "stepId": step_id}
    return conf


def _review_signoff(blueprint_id: str) -> dict[str, Any]:
    admins = {"type": "group", "groupName": ADMIN_GROUP}
    groups = [("it_operations", "IT & Operations reviewers"), ("risk_compliance", "Risk & Compliance reviewers"),
              ("business", "Business reviewers")]
    return signoff_configuration(blueprint_id, DEFAULT_VERSION, REVIEW_STEP, {
        "title": "Review",
        "description": "",
        "mandatory": True,
        "feedbackUsersGroups": [{"id": gid, "title": title, "users": [admins]} for gid, title in groups],
        "approvers": [admins],
    })


_DELIVERY_STEPS = _steps("Development", "Review", "Deployment", "Production")

# id -> (name, icon, color, fields, steps, sign-off on the review step)
_STANDARD: dict[str, tuple[str, str, str, dict[str, Any], list[dict[str, Any]], bool]] = {
    "bp.system.business_initiative": (
        "Business initiative", "business_center", "#6b4d9f",
        {"description": _field("Description"), "value_rating": _field("Value rating", "CATEGORY"),
         "risk_rating": _field("Risk rating", "CATEGORY"), "start_date": _field("Start date", "DATE")},
        [], False),
    "bp.system.govern_project": (
        "Govern project", "account_balance_wallet", "#1e75b3",
        {"description": _field("Description"),
         "business_initiative": _field("Business initiative", "REFERENCE",
                                       allowedBlueprints=["bp.system.business_initiative"]),
         "qualification_risk_rating": _field("Risk rating", "CATEGORY"),
         "start_date": _field("Start date", "DATE")},
        _steps("Exploration", "Qualification", "Progress", "Rollout", "Delivery"), False),
    "bp.system.govern_model": (
        "Govern model", "model_training", "#2a7f62",
        {"description": _field("Description"),
         "govern_project": _field("Govern project", "REFERENCE", allowedBlueprints=["bp.system.govern_project"])},
        [], False),
    "bp.system.govern_model_version": (
        "Govern model version", "model_training", "#2a7f62",
        {"description": _field("Description"),
         "govern_model": _field("Govern model", "REFERENCE", allowedBlueprints=["bp.system.govern_model"])},
        _DELIVERY_STEPS, True),
    GOVERN_BUNDLE: (
        "Govern bundle", "inventory_2", "#c46f1a",
        # The simulator tracks a Deployer bundle by these two fields (see govern.bundle_signoff_status).
        {"description": _field("Description"),
         "govern_project": _field("Govern project", "REFERENCE", allowedBlueprints=["bp.system.govern_project"]),
         "published_project_key": _field("Published project key"),
         "bundle_id": _field("Bundle id")},
        _DELIVERY_STEPS, True),
}


def seed_blueprints(store: Store) -> None:
    coll = blueprints(store)
    # Deep copies: the store must never share structure with these module constants (or across blueprints).
    for bp_id, (name, icon, color, fields, steps, review) in copy.deepcopy(_STANDARD).items():
        version = {
            "definition": version_definition(bp_id, DEFAULT_VERSION, "Default", fields, copy.deepcopy(steps)),
            "trace": version_trace(bp_id, DEFAULT_VERSION, "ACTIVE"),
            "signoffs": {REVIEW_STEP: _review_signoff(bp_id)} if review else {},
        }
        coll[bp_id] = {
            "blueprint": {"id": bp_id, "name": name, "icon": icon, "color": color, "backgroundColor": "#ffffff"},
            "versions": {DEFAULT_VERSION: version},
        }
    store.mark()
