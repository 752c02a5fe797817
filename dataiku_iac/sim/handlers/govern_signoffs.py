"""Govern sign-offs: the review of one workflow step of an artifact, with feedback and a final approval.

Status machine (update-status; unverified, see docs/simulator.md):
  NOT_STARTED -> WAITING_FOR_FEEDBACK | WAITING_FOR_APPROVAL
  WAITING_FOR_FEEDBACK <-> WAITING_FOR_APPROVAL, and both -> ABANDONED
  APPROVED | REJECTED -> NOT_STARTED (a new review) | ABANDONED;  ABANDONED -> NOT_STARTED
APPROVED and REJECTED are reached only by recording a final approval, and only while WAITING_FOR_APPROVAL.
Feedback is given while the sign-off waits (for feedback or approval), one per user and group.
Only members of a feedback group (or of the approvers) may give its feedback (or the approval).
"""

from __future__ import annotations

import uuid
from typing import Any

from ..context import Ctx
from ..errors import bad_request, forbidden
from ..routing import route
from ._common import already_exists, copy_doc
from .govern_model import (
    artifact_record,
    artifact_version,
    caller_groups,
    check_container,
    container_includes,
    forbidden_reviewer,
    members_of,
    step_ids,
)

GOVERN = ("GOVERN",)
STEP = "/artifact/{artifact_id}/workflow/step/{step_id}/signoff"

WAITING = ("WAITING_FOR_FEEDBACK", "WAITING_FOR_APPROVAL")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "NOT_STARTED": WAITING,
    "WAITING_FOR_FEEDBACK": ("WAITING_FOR_APPROVAL", "ABANDONED"),
    "WAITING_FOR_APPROVAL": ("WAITING_FOR_FEEDBACK", "ABANDONED"),
    "APPROVED": ("NOT_STARTED", "ABANDONED"),
    "REJECTED": ("NOT_STARTED", "ABANDONED"),
    "ABANDONED": ("NOT_STARTED",),
}
FEEDBACK_STATUSES = ("APPROVED", "MINOR_ISSUE", "MAJOR_ISSUE")
APPROVAL_STATUSES = ("APPROVED", "REJECTED", "ABANDONED")
RECURRENCE_UNITS = ("days", "weeks", "months", "years")


def new_signoff(artifact_id: str, step_id: str, configuration: dict[str, Any]) -> dict[str, Any]:
    return {
        "signoffId": {"artifactId": artifact_id, "stepId": step_id},
        "status": "NOT_STARTED",
        "configuration": copy_doc(configuration),
        "feedbackResponses": [],
        "approverResponse": None,
        "history": [],
    }


def _definition(signoff: dict[str, Any]) -> dict[str, Any]:
    return copy_doc({k: v for k, v in signoff.items() if k != "history"})


def _signoff(ctx: Ctx, artifact_id: str, step_id: str) -> dict[str, Any]:
    signoff = artifact_record(ctx, artifact_id)["signoffs"].get(step_id)
    if signoff is None:
        raise ctx.not_found(f"No sign-off on step {step_id} of artifact {artifact_id}")
    return signoff


def _log(ctx: Ctx, signoff: dict[str, Any], action: str, **details: Any) -> None:
    signoff["history"].append({"action": action, "user": ctx.key.login, "time": ctx.now_ms(), **details})
    ctx.store.mark()


def _set_status(ctx: Ctx, signoff: dict[str, Any], status: str) -> None:
    _log(ctx, signoff, "STATUS_CHANGE", fromStatus=signoff["status"], toStatus=status)
    signoff["status"] = status


def _comment(body: dict[str, Any]) -> str | None:
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise bad_request("'comment' must be a string")
    return comment


def _choice(value: Any, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise bad_request(f"Invalid {what} {value!r}: use one of {', '.join(allowed)}")
    return value


def _require_status(signoff: dict[str, Any], allowed: tuple[str, ...], action: str) -> None:
    if signoff["status"] not in allowed:
        raise bad_request(f"Cannot {action}: the sign-off of step {signoff['signoffId']['stepId']} is "
                          f"{signoff['status']} (needs {' or '.join(allowed)})")


def _feedback_group(signoff: dict[str, Any], group_id: str | None) -> dict[str, Any]:
    groups = signoff["configuration"].get("feedbackUsersGroups", [])
    group = next((g for g in groups if g.get("id") == group_id), None)
    if group is None:
        known = ", ".join(g.get("id", "?") for g in groups) or "none"
        raise bad_request(f"Unknown feedback group {group_id!r} (groups: {known})")
    return group


def _require_member(ctx: Ctx, containers: list[Any], what: str) -> None:
    groups = caller_groups(ctx)
    if not any(container_includes(c, ctx.key.login, groups) for c in containers):
        raise forbidden_reviewer(ctx, what)


# -- listing, creation, reading ----------------------------------------------------------------------

@route("GET", "/artifact/{artifact_id}/signoffs", nodes=GOVERN)
def list_signoffs(ctx: Ctx, artifact_id: str) -> list[dict[str, Any]]:
    record = artifact_record(ctx, artifact_id)
    version = artifact_version(ctx.store, record["artifact"])
    order = step_ids(version) if version is not None else []
    ranked = sorted(record["signoffs"], key=lambda s: (order.index(s) if s in order else len(order), s))
    return [_definition(record["signoffs"][sid]) for sid in ranked]


@route("POST", STEP + "/create", nodes=GOVERN)
def create_signoff(ctx: Ctx, artifact_id: str, step_id: str) -> dict[str, Any]:
    record = artifact_record(ctx, artifact_id)
    artifact = record["artifact"]
    step = artifact["workflow"]["steps"].get(step_id)
    if step is None:
        raise bad_request(f"Artifact {artifact_id} has no workflow step '{step_id}'")
    if step_id in record["signoffs"]:
        raise already_exists(f"Sign-off of step {step_id} on artifact", artifact_id)
    if step["status"] != "ONGOING":
        raise bad_request(f"Step {step_id} of artifact {artifact_id} is {step['status']}: "
                          "a sign-off can only be created on the ONGOING step")
    version = artifact_version(ctx.store, artifact)
    conf = None if version is None else version["signoffs"].get(step_id)
    if conf is None:
        raise bad_request(f"Blueprint version {artifact['blueprintVersionId']['versionId']} has no sign-off "
                          f"configuration on step {step_id}")
    record["signoffs"][step_id] = new_signoff(artifact_id, step_id, conf)
    ctx.store.mark()
    return _definition(record["signoffs"][step_id])


@route("GET", STEP, nodes=GOVERN)
def get_signoff(ctx: Ctx, artifact_id: str, step_id: str) -> dict[str, Any]:
    return _definition(_signoff(ctx, artifact_id, step_id))


@route("GET", STEP + "/details", nodes=GOVERN)
def signoff_details(ctx: Ctx, artifact_id: str, step_id: str) -> dict[str, Any]:
    """Who may review (users computed from the configuration), who did, and the history of the sign-off."""
    signoff = _signoff(ctx, artifact_id, step_id)
    conf = signoff["configuration"]
    given = {(f["groupId"], f["user"]) for f in signoff["feedbackResponses"]}
    groups = []
    for group in conf.get("feedbackUsersGroups", []):
        users = members_of(ctx, group.get("users", []))
        groups.append({"id": group["id"], "title": group.get("title", ""), "users": users,
                       "usersWhoGaveFeedback": sorted(u for g, u in given if g == group["id"])})
    return copy_doc({
        "signoffId": signoff["signoffId"],
        "status": signoff["status"],
        "feedbackGroups": groups,
        "approvers": members_of(ctx, conf.get("approvers", [])),
        "feedbackResponses": signoff["feedbackResponses"],
        "approverResponse": signoff["approverResponse"],
        "history": signoff["history"],
    })


# -- status ------------------------------------------------------------------------------------------

@route("POST", STEP + "/update-status", nodes=GOVERN)
def update_status(ctx: Ctx, artifact_id: str, step_id: str) -> dict[str, Any]:
    signoff = _signoff(ctx, artifact_id, step_id)
    body = ctx.req.json_object()
    target = _choice(body.get("targetStatus"), tuple(TRANSITIONS), "sign-off status")
    if target in ("APPROVED", "REJECTED"):
        raise bad_request(f"A sign-off becomes {target} by its final approval, not by a status change: "
                          "add the approval instead")
    if target not in TRANSITIONS[signoff["status"]]:
        raise bad_request(f"Cannot change the sign-off of step {step_id} from {signoff['status']} to {target} "
                          f"(allowed: {', '.join(TRANSITIONS[signoff['status']])})")
    notify = body.get("usersToSendEmailTo")
    if notify is not None and not (isinstance(notify, list) and all(isinstance(u, dict) for u in notify)):
        raise bad_request("'usersToSendEmailTo' must be a list of {\"userLogin\", \"groupId\"}")
    if target == "NOT_STARTED":
        # A new review: the previous answers stay only in the history.
        signoff["feedbackResponses"] = []
        signoff["approverResponse"] = None
        if body.get("reloadConfForReset"):
            version = artifact_version(ctx.store, artifact_record(ctx, artifact_id)["artifact"])
            conf = None if version is None else version["signoffs"].get(step_id)
            if conf is not None:
                signoff["configuration"] = copy_doc(conf)
    _set_status(ctx, signoff, target)
    return _definition(signoff)


@route("POST", STEP + "/schedule-reset", nodes=GOVERN)
def schedule_reset(ctx: Ctx, artifact_id: str, step_id: str) -> dict[str, Any]:
    signoff = _signoff(ctx, artifact_id, step_id)
    body = ctx.req.json_object()
    if not isinstance(body.get("activated"), bool) or not isinstance(body.get("reloadConf", False), bool):
        raise bad_request("'activated' (and 'reloadConf') of a recurrence configuration must be booleans")
    amounts = {u: body.get(u, 0) for u in RECURRENCE_UNITS}
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in amounts.values()):
        raise bad_request(f"{', '.join(RECURRENCE_UNITS)} of a recurrence must be non-negative integers")
    if body["activated"] and not any(amounts.values()):
        raise bad_request("An activated recurrence needs a positive interval (days, weeks, months or years)")
    signoff["configuration"]["recurrenceConfiguration"] = {**body, **amounts,
                                                           "reloadConf": body.get("reloadConf", False)}
    _log(ctx, signoff, "RECURRENCE_CHANGE")
    return _definition(signoff)


# -- feedback ----------------------------------------------------------------------------------------

def _feedback(signoff: dict[str, Any], feedback_id: str, ctx: Ctx) -> dict[str, Any]:
    feedback = next((f for f in signoff["feedbackResponses"] if f["id"] == feedback_id), None)
    if feedback is None:
        raise ctx.not_found(f"Feedback {feedback_id} not found on the sign-off of step "
                            f"{signoff['signoffId']['stepId']}")
    if feedback["user"] != ctx.key.login:
        raise forbidden(f"Feedback {feedback_id} was given by {feedback['user']}: only they can change it")
    return feedback


@route("POST", STEP + "/feedback", nodes=GOVERN)
def add_feedback(ctx: Ctx, artifact_id: str, step_id: str) -> dict[str, Any]:
    signoff = _signoff(ctx, artifact_id, step_id)
    body = ctx.req.json_object()
    status = _choice(body.get("status"), FEEDBACK_STATUSES, "feedback status")
    comment = _comment(body)
    group_id = ctx.req.param("groupId")
    group = _feedback_group(signoff, group_id)
    _require_status(signoff, WAITING, "give feedback")
    _require_member(ctx, group.get("users", []), f"feedback of group {group_id}")
    if any(f["groupId"] == group_id and f["user"] == ctx.key.login for f in signoff["feedbackResponses"]):
        raise already_exists(f"Feedback of {ctx.key.login} for group", str(group_id))
    feedback = {"id": uuid.uuid4().hex[:12], "groupId": group_id, "status": status, "comment": comment or "",
                "user": ctx.key.login, "lastUpdateTime": ctx.now_ms()}
    signoff["feedbackResponses"].append(feedback)
    _log(ctx, signoff, "FEEDBACK", feedbackId=feedback["id"], groupId=group_id, feedbackStatus=status)
    return copy_doc(feedback)


@route("PUT", STEP + "/feedback/{feedback_id}", nodes=GOVERN)
def save_feedback(ctx: Ctx, artifact_id: str, step_id: str, feedback_id: str) -> dict[str, Any]:
    signoff = _signoff(ctx, artifact_id, step_id)
    feedback = _feedback(signoff, feedback_id, ctx)
    body = ctx.req.json_object()
    status = _choice(body.get("status"), FEEDBACK_STATUSES, "feedback status")
    comment = _comment(body)
    _require_status(signoff, WAITING, "change feedback")
    feedback.update(status=status, lastUpdateTime=ctx.now_ms())
    if comment is not None:
        feedback["comment"] = comment
    _log(ctx, signoff, "FEEDBACK_CHANGE", feedbackId=feedback_id, feedbackStatus=status)
    return copy_doc(feedback)


@route("DELETE", STEP + "/feedback/{feedback_id}", nodes=GOVERN)
def delete_feedback(ctx: Ctx, artifact_id: str, step_id: str, feedback_id: str) -> dict[str, Any]:
    signoff = _signoff(ctx, artifact_id, step_id)
    feedback = _feedback(signoff, feedback_id, ctx)
    signoff["feedbackResponses"].remove(feedback)
    _log(ctx, signoff, "FEEDBACK_DELETE", feedbackId=feedback_id)
    return {}


@route("POST", STEP + "/delegate-feedback", nodes=GOVERN)
def delegate_feedback(ctx: Ctx, artifact_id: str, step_id: str) -> dict[str, Any]:
    signoff = _signoff(ctx, artifact_id, step_id)
    group_id = ctx.req.param("groupId")
    group = _feedback_group(signoff, group_id)
    container = check_container(ctx.req.json_object())
    if not ctx.key.admin:  # a reviewer hands over their own review; admins may reassign any
        _require_member(ctx, group.get("users", []), f"feedback of group {group_id}")
    group.setdefault("users", []).append(container)
    _log(ctx, signoff, "FEEDBACK_DELEGATION", groupId=group_id, to=container)
    return _definition(signoff)


# -- final approval --------------------------------------------------------------------------------

def _approval_body(ctx: Ctx, signoff: dict[str, Any]) -> tuple[str, str | None]:
    body = ctx.req.json_object()
    status = _choice(body.get("status"), APPROVAL_STATUSES, "approval status")
    comment = _comment(body)
    _require_member(ctx, signoff["configuration"].get("approvers", []), "final approval")
    return status, comment


@route("POST", STEP + "/approval", nodes=GOVERN)
def add_approval(ctx: Ctx, artifact_id: str, step_id: str) -> dict[str, Any]:
    signoff = _signoff(ctx, artifact_id, step_id)
    status, comment = _approval_body(ctx, signoff)
    _require_status(signoff, ("WAITING_FOR_APPROVAL",), "give the final approval")
    signoff["approverResponse"] = {"status": status, "comment": comment or "", "user": ctx.key.login,
                                   "lastUpdateTime": ctx.now_ms()}
    _log(ctx, signoff, "APPROVAL", approvalStatus=status)
    _set_status(ctx, signoff, status)
    return copy_doc(signoff["approverResponse"])


@route("PUT", STEP + "/approval", nodes=GOVERN)
def save_approval(ctx: Ctx, artifact_id: str, step_id: str) -> dict[str, Any]:
    signoff = _signoff(ctx, artifact_id, step_id)
    response = signoff["approverResponse"]
    if response is None:
        raise ctx.not_found(f"The sign-off of step {step_id} has no final approval yet")
    # The approval can be revised while it still decides the sign-off, not after a status change.
    _require_status(signoff, (response["status"],), "change the final approval")
    status, comment = _approval_body(ctx, signoff)
    response.update(status=status, user=ctx.key.login, lastUpdateTime=ctx.now_ms())
    if comment is not None:
        response["comment"] = comment
    _log(ctx, signoff, "APPROVAL_CHANGE", approvalStatus=status)
    if signoff["status"] != status:
        _set_status(ctx, signoff, status)
    return copy_doc(response)


@route("DELETE", STEP + "/approval", nodes=GOVERN)
def delete_approval(ctx: Ctx, artifact_id: str, step_id: str) -> dict[str, Any]:
    signoff = _signoff(ctx, artifact_id, step_id)
    if signoff["approverResponse"] is None:
        raise ctx.not_found(f"The sign-off of step {step_id} has no final approval")
    _require_member(ctx, signoff["configuration"].get("approvers", []), "final approval")
    signoff["approverResponse"] = None
    _log(ctx, signoff, "APPROVAL_DELETE")
    _set_status(ctx, signoff, "WAITING_FOR_APPROVAL")
    return {}


@route("POST", STEP + "/delegate-approval", nodes=GOVERN)
def delegate_approval(ctx: Ctx, artifact_id: str, step_id: str) -> dict[str, Any]:
    signoff = _signoff(ctx, artifact_id, step_id)
    container = check_container(ctx.req.json_object())
    if not ctx.key.admin:
        _require_member(ctx, signoff["configuration"].get("approvers", []), "final approval")
    signoff["configuration"].setdefault("approvers", []).append(container)
    _log(ctx, signoff, "APPROVAL_DELEGATION", to=container)
    return _definition(signoff)
