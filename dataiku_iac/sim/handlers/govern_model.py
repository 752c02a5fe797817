"""Govern node data: where blueprints, versions, artifacts and sign-offs live, and lookups on them.

Instance collections of the govern node's store (all plain JSON):
- `govern_blueprints`: blueprint id -> {"blueprint": {...}, "versions": {version id -> VERSION}}, where
  VERSION = {"definition": {...}, "trace": {...}, "signoffs": {step id -> sign-off configuration}}.
- `govern_artifacts`: artifact id -> {"artifact": {...}, "signoffs": {step id -> SIGNOFF}}, where SIGNOFF is
  the runtime sign-off: {signoffId, status, configuration, feedbackResponses, approverResponse, history}.
"""

from __future__ import annotations

import re
from typing import Any

from ..context import Ctx
from ..errors import SimError, bad_request
from ..store import Store

BLUEPRINTS = "govern_blueprints"
ARTIFACTS = "govern_artifacts"

# Blueprint and version identifiers: "Allowed characters are letters, digits, hyphen, and underscore"
# (dataikuapi admin_blueprint_designer.py); the server adds the "bp." / "bv." prefix.
IDENTIFIER_RE = re.compile(r"^[A-Za-z0-9_-]+$")

VERSION_STATUSES = ("DRAFT", "ACTIVE", "ARCHIVED")
STEP_STATUSES = ("NOT_STARTED", "ONGOING", "FINISHED", "SKIPPED")
# Group that every admin API key belongs to when resolving reviewers (simulator convention).
ADMIN_GROUP = "administrators"


def blueprints(store: Store) -> dict[str, Any]:
    return store.coll(BLUEPRINTS)


def artifacts(store: Store) -> dict[str, Any]:
    return store.coll(ARTIFACTS)


def blueprint_record(ctx: Ctx, blueprint_id: str) -> dict[str, Any]:
    record = blueprints(ctx.store).get(blueprint_id)
    if record is None:
        raise ctx.not_found(f"Blueprint {blueprint_id} not found")
    return record


def version_record(ctx: Ctx, blueprint_id: str, version_id: str) -> dict[str, Any]:
    version = blueprint_record(ctx, blueprint_id)["versions"].get(version_id)
    if version is None:
        raise ctx.not_found(f"Blueprint version {version_id} of blueprint {blueprint_id} not found")
    return version


def version_ref(ctx: Ctx, ref: Any) -> tuple[str, str, dict[str, Any]]:
    """Resolve a `blueprintVersionId` {blueprintId, versionId} sent by the client."""
    if not isinstance(ref, dict) or not isinstance(ref.get("blueprintId"), str) \
            or not isinstance(ref.get("versionId"), str):
        raise bad_request("'blueprintVersionId' must be {\"blueprintId\": ..., \"versionId\": ...}")
    return ref["blueprintId"], ref["versionId"], version_record(ctx, ref["blueprintId"], ref["versionId"])


def artifact_record(ctx: Ctx, artifact_id: str) -> dict[str, Any]:
    record = artifacts(ctx.store).get(artifact_id)
    if record is None:
        raise ctx.not_found(f"Artifact {artifact_id} not found")
    return record


def step_ids(version: dict[str, Any]) -> list[str]:
    """Workflow step ids of a blueprint version, in workflow order."""
    steps = version["definition"].get("workflowDefinition", {}).get("stepDefinitions", [])
    return [s["id"] for s in steps if isinstance(s, dict) and isinstance(s.get("id"), str)]


def artifact_version(store: Store, artifact: dict[str, Any]) -> dict[str, Any] | None:
    ref = artifact["blueprintVersionId"]
    record = blueprints(store).get(ref["blueprintId"])
    return None if record is None else record["versions"].get(ref["versionId"])


def check_identifier(value: Any, what: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER_RE.match(value):
        raise bad_request(f"Invalid {what} identifier '{value}': use only letters, digits, hyphens and underscores")
    return value


# -- users containers ----------------------------------------------------------------------------
# A users container names who may review: {"type": "user", "login": ...} (dataikuapi users_container.py)
# or {"type": "group", "groupName": ...}. Configurations may wrap one as {"usersContainer": {...}}.

def _unwrap(container: Any) -> dict[str, Any]:
    if isinstance(container, dict) and isinstance(container.get("usersContainer"), dict):
        return container["usersContainer"]
    return container if isinstance(container, dict) else {}


def check_container(container: Any) -> dict[str, Any]:
    inner = _unwrap(container)
    kind = inner.get("type")
    if kind == "user" and isinstance(inner.get("login"), str) and inner["login"]:
        return container
    if kind == "group" and isinstance(inner.get("groupName"), str) and inner["groupName"]:
        return container
    raise bad_request("A users container must be {\"type\": \"user\", \"login\": ...} or "
                      "{\"type\": \"group\", \"groupName\": ...}")


def caller_groups(ctx: Ctx) -> set[str]:
    groups = set(ctx.store.coll("users").get(ctx.key.login, {}).get("groups", []))
    if ctx.key.admin:
        groups.add(ADMIN_GROUP)
    return groups


def container_includes(container: Any, login: str, groups: set[str]) -> bool:
    inner = _unwrap(container)
    if inner.get("type") == "user":
        return inner.get("login") == login
    if inner.get("type") == "group":
        return inner.get("groupName") in groups
    return False


def container_members(ctx: Ctx, container: Any) -> list[str]:
    """The logins a users container stands for: known users of the node and the server's API keys."""
    inner = _unwrap(container)
    if inner.get("type") == "user":
        return [inner["login"]]
    if inner.get("type") != "group":
        return []
    group = inner.get("groupName")
    members = {login for login, user in ctx.store.coll("users").items() if group in user.get("groups", [])}
    if group == ADMIN_GROUP:
        members |= {key.login for key in ctx.server.keys.values() if key.admin}
    return sorted(members)


def members_of(ctx: Ctx, containers: list[Any]) -> list[str]:
    return sorted({login for c in containers for login in container_members(ctx, c)})


def forbidden_reviewer(ctx: Ctx, what: str) -> SimError:
    return SimError(403, "exceptions.UnauthorizedException",
                    f"User {ctx.key.login} is not allowed to give the {what} of this sign-off")


# -- artifact workflow -----------------------------------------------------------------------------
# Since Govern 13.5 an artifact carries `workflow.steps[stepId] = {status, visible}`; `status.stepId` is the
# deprecated ongoing step (developer.dataiku.com, "Govern Artifact Workflow").

def build_workflow(ids: list[str], current: dict[str, Any] | None, sent: Any) -> dict[str, Any]:
    """The workflow of an artifact over steps `ids`: what it had, overlaid by what the client sent.

    A new artifact (no `current`) starts on its first step; steps a version gains start NOT_STARTED.
    """
    known = (current or {}).get("steps", {})
    steps: dict[str, Any] = {}
    for i, sid in enumerate(ids):
        fresh = {"status": "ONGOING" if current is None and i == 0 else "NOT_STARTED", "visible": True}
        steps[sid] = {**fresh, **known.get(sid, {})}
    if sent is None:
        return {"steps": steps}
    if not isinstance(sent, dict) or not isinstance(sent.get("steps", {}), dict):
        raise bad_request("'workflow' must be {\"steps\": {stepId: {\"status\": ..., \"visible\": ...}}}")
    for sid, step in sent.get("steps", {}).items():
        if sid not in steps:
            raise bad_request(f"Unknown workflow step '{sid}' (steps: {', '.join(ids) or 'none'})")
        if not isinstance(step, dict) or step.get("status", steps[sid]["status"]) not in STEP_STATUSES:
            raise bad_request(f"Invalid status for workflow step '{sid}': use one of {', '.join(STEP_STATUSES)}")
        if not isinstance(step.get("visible", True), bool):
            raise bad_request(f"'visible' of workflow step '{sid}' must be a boolean")
        steps[sid] = {**steps[sid], **step}
    return {"steps": steps}


def ongoing_step(ids: list[str], workflow: dict[str, Any]) -> str | None:
    return next((sid for sid in ids if workflow["steps"][sid]["status"] == "ONGOING"), None)
