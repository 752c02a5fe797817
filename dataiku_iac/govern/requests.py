"""Approval requests as Govern artifacts, through dataikuapi's GovernClient.

A request is an artifact of the environment's blueprint whose sign-off (on the configured step, else the first
step that has one) decides. dss-iac finds its requests again by a tag in the artifact's name (a plan:
`[dss-iac:ENV:FINGERPRINT]`) or by the artifact's fields (a bundle: `published_project_key` and `bundle_id`,
which Govern's own Project Deployer check reads too), so asking twice for the same change opens one artifact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..dss.connect import call, read_with_retry
from ..errors import DSSApiError
from .link import GovernLink
from .model import Approval, Review, Status

if TYPE_CHECKING:
    from dataikuapi.govern.artifact_search import GovernArtifactFilter

PROJECT_FIELD, BUNDLE_FIELD, DESCRIPTION_FIELD = "published_project_key", "bundle_id", "description"
PAGE = 100
# Where a request waits once opened: reviewers may still give feedback, and the approvers decide.
OPENED = "WAITING_FOR_APPROVAL"


@dataclass(frozen=True)
class Subject:
    """What one request asks to approve, and how to find its artifact again."""

    environment: str
    words: str  # "the plan 1a2b... of prod" / "bundle git-... of project ORDERS"
    fingerprint: str  # what the approval is bound to
    name: str  # the artifact's name
    tag: str = ""  # a plan: the tag in the artifact's name that finds it
    fields: Mapping[str, str] | None = None  # a bundle: the fields that find it

    def matches(self, artifact: Mapping[str, Any]) -> bool:
        if self.fields is not None:
            have = artifact.get("fields") or {}
            return all(have.get(k) == v for k, v in self.fields.items())
        return self.tag in str(artifact.get("name", ""))


def search(link: GovernLink, *filters: GovernArtifactFilter) -> list[dict[str, Any]]:
    """Every artifact of the environment's blueprint that the filters keep, oldest first (archived ones left out)."""
    from dataikuapi.govern.artifact_search import GovernArtifactFilterBlueprints, GovernArtifactSearchQuery

    query = GovernArtifactSearchQuery(artifact_filters=[GovernArtifactFilterBlueprints([link.settings.blueprint]),
                                                        *filters])
    request = link.client.new_artifact_search_request(query)
    found: list[dict[str, Any]] = []
    while True:
        hits = read_with_retry(link, lambda: request.fetch_next_batch(page_size=PAGE).get_response_hits())
        if not hits:
            return sorted(found, key=lambda a: _rank(str(a["id"])))
        found += [dict(h.get_raw()["artifact"]) for h in hits]


def find(link: GovernLink, subject: Subject) -> dict[str, Any] | None:
    """The request for `subject`: the oldest artifact that matches it (the one every later ask reuses)."""
    hits = [a for a in search(link, *_filters(subject)) if subject.matches(a)]
    return hits[0] if hits else None


def _filters(subject: Subject) -> list[GovernArtifactFilter]:
    from dataikuapi.govern.artifact_search import GovernArtifactFilterFieldValue

    if subject.fields is not None:
        return [GovernArtifactFilterFieldValue("EQUALS", v, k, case_sensitive=True) for k, v in subject.fields.items()]
    return [GovernArtifactFilterFieldValue("CONTAINS", subject.tag, case_sensitive=True)]


def approval_of(link: GovernLink, subject: Subject, artifact: Mapping[str, Any] | None) -> Approval:
    """What Govern says of `subject`, read from its artifact's sign-off (no artifact: not requested)."""
    if artifact is None:
        return Approval(subject.environment, subject.words, subject.fingerprint, Status.NOT_REQUESTED)
    handle = link.client.get_artifact(str(artifact["id"]))
    step = _decisive_step(link, handle)
    base = Approval(subject.environment, subject.words, subject.fingerprint, Status.NOT_REQUESTED, None, step,
                    str(artifact["id"]), str(artifact.get("name", "")), link.page(str(artifact["id"])))
    if step is None:
        return base  # a blueprint without a sign-off: nothing will ever approve it (request says so)
    signoff = handle.get_signoff(step)
    details = read_with_retry(link, lambda: signoff.get_details().get_raw())
    conf = read_with_retry(link, lambda: signoff.get_definition().get_raw()).get("configuration") or {}
    groups = tuple(sorted({c.get("groupName") or c.get("usersContainer", {}).get("groupName", "")
                           for c in conf.get("approvers") or [] if isinstance(c, dict)} - {""}))
    feedback = tuple(Review(str(f.get("user", "")), str(f.get("status", "")), str(f.get("comment") or ""),
                            str(f.get("groupId", "")), _when(f.get("lastUpdateTime")))
                     for f in details.get("feedbackResponses") or [])
    answer = details.get("approverResponse")
    decision = None if not answer else Review(str(answer.get("user", "")), str(answer.get("status", "")),
                                              str(answer.get("comment") or ""), "", _when(answer.get("lastUpdateTime")))
    status = str(details.get("status"))
    return Approval(subject.environment, subject.words, subject.fingerprint, Status.of(status), status, step,
                    base.artifact_id, base.artifact_name, base.url, tuple(details.get("approvers") or []), groups,
                    feedback, decision)


def open_request(link: GovernLink, subject: Subject, description: str) -> Approval:
    """The request for `subject`, opened if there is none: an artifact holding `description`, moved to the sign-off's
    step, its sign-off waiting for approval. Asking again for the same subject returns the same request."""
    existing = find(link, subject)
    if existing is None:
        existing = _create(link, subject, description)
    approval = approval_of(link, subject, existing)
    if approval.step is None:
        raise DSSApiError(f"blueprint {link.settings.blueprint} has no sign-off on any step (artifact "
                          f"{approval.artifact_id}): set approval.step, or use a blueprint with a sign-off")
    if approval.signoff_status == "NOT_STARTED":
        signoff = link.client.get_artifact(str(approval.artifact_id)).get_signoff(approval.step)
        call(link, lambda: signoff.update_status(OPENED))
        approval = approval_of(link, subject, existing)
    return approval


def _create(link: GovernLink, subject: Subject, description: str) -> dict[str, Any]:
    from dataikuapi.govern.blueprint import GovernBlueprintVersionId

    settings = link.settings
    version = settings.blueprint_version or _active_version(link)
    fields = {DESCRIPTION_FIELD: description, **(subject.fields or {})}
    body = {"blueprintVersionId": GovernBlueprintVersionId(settings.blueprint, version).build(),
            "name": subject.name, "fields": fields}
    artifact = call(link, lambda: link.client.create_artifact(body))
    step = settings.step or _first_signoff(link, artifact)
    if step is not None:
        _move_to(link, artifact, step)
        if step not in _signoff_steps(link, artifact):  # configured after the artifact's creation
            call(link, lambda: artifact.create_signoff(step))
    # Two runs asking at once may both have created one: the oldest is the request, the other goes.
    first = find(link, subject)
    if first is not None and first["id"] != artifact.artifact_id:
        call(link, artifact.delete)
        return first
    return dict(read_with_retry(link, lambda: artifact.get_definition().get_raw()))


def _active_version(link: GovernLink) -> str:
    blueprint = link.client.get_blueprint(link.settings.blueprint)
    items = read_with_retry(link, blueprint.list_versions)
    active = [i.get_raw() for i in items if (i.get_raw().get("blueprintVersionTrace") or {}).get("status") == "ACTIVE"]
    if not active:
        raise DSSApiError(f"blueprint {link.settings.blueprint} has no active version in Govern: set "
                          "approval.blueprint_version")
    return str(active[0]["blueprintVersion"]["id"]["versionId"])


def _signoff_steps(link: GovernLink, artifact: Any) -> list[str]:
    """The steps of the artifact's sign-offs, in workflow order."""
    return [str(s.get_raw()["signoffId"]["stepId"]) for s in read_with_retry(link, artifact.list_signoffs)]


def _first_signoff(link: GovernLink, artifact: Any) -> str | None:
    steps = _signoff_steps(link, artifact)
    return steps[0] if steps else None


def _decisive_step(link: GovernLink, artifact: Any) -> str | None:
    configured = link.settings.step
    steps = _signoff_steps(link, artifact)
    if configured is not None:
        return configured if configured in steps else None
    return steps[0] if steps else None


def _move_to(link: GovernLink, artifact: Any, step: str) -> None:
    """Put the artifact on `step` of its workflow (earlier steps finished): where its reviewers look for it."""
    definition = read_with_retry(link, artifact.get_definition)
    version = read_with_retry(link, lambda: definition.get_blueprint_version().get_definition().get_raw())
    order = [str(s["id"]) for s in (version.get("workflowDefinition") or {}).get("stepDefinitions") or []]
    steps = definition.get_raw().get("workflow", {}).get("steps", {})
    if step not in steps or step not in order:
        raise DSSApiError(f"blueprint {link.settings.blueprint} has no workflow step '{step}' (steps: "
                          f"{', '.join(order) or 'none'}): fix approval.step")
    for sid in order[:order.index(step)]:
        steps[sid]["status"] = "FINISHED"
    steps[step]["status"] = "ONGOING"
    call(link, definition.save)


def _rank(artifact_id: str) -> tuple[int, str]:
    number = artifact_id.rpartition(".")[2]
    return (int(number) if number.isdigit() else 0, artifact_id)


def _when(millis: Any) -> str:
    if not isinstance(millis, (int, float)) or isinstance(millis, bool):
        return ""
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="seconds")
