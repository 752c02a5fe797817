"""Govern artifacts: create, get, save (whole document), delete."""

from __future__ import annotations

from typing import Any

from ..context import Ctx
from ..errors import bad_request
from ..routing import route
from ._common import copy_doc
from .govern_model import (
    artifact_record,
    artifacts,
    build_workflow,
    ongoing_step,
    step_ids,
    version_ref,
)
from .govern_signoffs import new_signoff

GOVERN = ("GOVERN",)


def _checked_document(ctx: Ctx, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """Validate an artifact document sent by the client and complete it as Govern stores it."""
    blueprint_id, version_id, version = version_ref(ctx, body.get("blueprintVersionId"))
    if current is not None and blueprint_id != current["blueprintVersionId"]["blueprintId"]:
        raise bad_request(f"An artifact cannot change blueprint ({current['blueprintVersionId']['blueprintId']} "
                          f"-> {blueprint_id}): create a new artifact instead")
    moving = current is None or version_id != current["blueprintVersionId"]["versionId"]
    if moving and version["trace"]["status"] != "ACTIVE":
        raise bad_request(f"Blueprint version {version_id} of {blueprint_id} is {version['trace']['status']}: "
                          "only ACTIVE versions can be applied to artifacts")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("An artifact needs a non-empty 'name'")
    fields = body.get("fields", {})
    if not isinstance(fields, dict):
        raise bad_request("'fields' must be a JSON object mapping field ids to values")
    status = body.get("status", {})
    if not isinstance(status, dict) or not isinstance(status.get("archived", False), bool):
        raise bad_request("'status' must be an object whose 'archived' is a boolean")
    ids = step_ids(version)
    # Keep what a moved artifact had on the steps both versions share.
    kept = None if current is None else {"steps": {k: v for k, v in current["workflow"]["steps"].items() if k in ids}}
    workflow = build_workflow(ids, kept, body.get("workflow"))
    # Whole-document save: unknown keys are kept, server-owned ones win.
    doc = {**body, "name": name, "fields": fields, "workflow": workflow,
           "blueprintVersionId": {"blueprintId": blueprint_id, "versionId": version_id},
           "status": {**status, "archived": bool(status.get("archived", False)),
                      "stepId": ongoing_step(ids, workflow)}}
    return doc


@route("POST", "/artifacts", nodes=GOVERN)
def create_artifact(ctx: Ctx) -> dict[str, Any]:
    doc = _checked_document(ctx, ctx.req.json_object(), None)
    artifact_id = f"ar.{ctx.store.counter('govern_artifact')}"
    doc["id"] = artifact_id
    _, _, version = version_ref(ctx, doc["blueprintVersionId"])
    # Govern creates the sign-offs of every configured step with the artifact (dataikuapi artifact.py).
    signoffs = {sid: new_signoff(artifact_id, sid, conf) for sid, conf in version["signoffs"].items()}
    artifacts(ctx.store)[artifact_id] = {"artifact": doc, "signoffs": signoffs}
    ctx.store.mark()
    return {"artifactId": artifact_id}


@route("GET", "/artifact/{artifact_id}", nodes=GOVERN)
def get_artifact(ctx: Ctx, artifact_id: str) -> dict[str, Any]:
    return {"artifact": copy_doc(artifact_record(ctx, artifact_id)["artifact"])}


@route("PUT", "/artifact/{artifact_id}", nodes=GOVERN)
def save_artifact(ctx: Ctx, artifact_id: str) -> dict[str, Any]:
    record = artifact_record(ctx, artifact_id)
    body = ctx.req.json_object()
    if body.get("id", artifact_id) != artifact_id:
        raise bad_request(f"Artifact id mismatch: saving {body.get('id')} to {artifact_id}")
    current = record["artifact"]
    doc = _checked_document(ctx, body, current)
    doc["id"] = artifact_id
    if doc["blueprintVersionId"] != current["blueprintVersionId"]:
        # A version change drops the sign-offs of steps the new version does not configure.
        _, _, version = version_ref(ctx, doc["blueprintVersionId"])
        record["signoffs"] = {sid: s for sid, s in record["signoffs"].items() if sid in version["signoffs"]}
    record["artifact"] = doc
    ctx.store.mark()
    return {"artifact": copy_doc(doc)}


@route("DELETE", "/artifact/{artifact_id}", nodes=GOVERN)
def delete_artifact(ctx: Ctx, artifact_id: str) -> dict[str, Any]:
    artifact_record(ctx, artifact_id)
    del artifacts(ctx.store)[artifact_id]
    ctx.store.mark()
    return {}
