"""Govern node: blueprints, artifacts, artifact search and sign-offs, through dataikuapi's GovernClient."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from dataikuapi import GovernClient
from dataikuapi.govern.artifact import GovernArtifact
from dataikuapi.govern.artifact_search import (
    GovernArtifactFilter,
    GovernArtifactFilterArchivedStatus,
    GovernArtifactFilterArtifacts,
    GovernArtifactFilterBlueprints,
    GovernArtifactFilterBlueprintVersions,
    GovernArtifactFilterFieldValue,
    GovernArtifactSearchQuery,
    GovernArtifactSearchSortField,
    GovernArtifactSearchSortFieldDefinition,
    GovernArtifactSearchSortName,
    GovernArtifactSearchSortWorkflow,
)
from dataikuapi.govern.blueprint import GovernBlueprintVersionId
from dataikuapi.govern.users_container import GovernUserUsersContainer
from dataikuapi.utils import DataikuException

from dataiku_iac.sim import Simulator
from dataiku_iac.sim.handlers.govern import bundle_signoff_status
from tests.conftest import NON_ADMIN_KEY

pytestmark = pytest.mark.multinode

BUNDLE = "bp.system.govern_bundle"
PROJECT = "bp.system.govern_project"
DEFAULT = "bv.system.default"


@pytest.fixture
def gov(sim: Simulator) -> GovernClient:
    return sim.govern_client()


@pytest.fixture
def alice(sim: Simulator) -> GovernClient:
    return sim.govern_client(NON_ADMIN_KEY)


def unique(prefix: str = "art") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def new_artifact(gov: GovernClient, blueprint: str = BUNDLE, name: str | None = None,
                 fields: dict[str, Any] | None = None, version: str = DEFAULT) -> GovernArtifact:
    return gov.create_artifact({"blueprintVersionId": GovernBlueprintVersionId(blueprint, version).build(),
                                "name": name or unique(), "fields": fields or {}})


def search(gov: GovernClient, *filters: GovernArtifactFilter, sort: Any = None, page_size: int = 20) -> list[str]:
    """Every page of a search, as artifact ids in result order."""
    request = gov.new_artifact_search_request(GovernArtifactSearchQuery(artifact_filters=list(filters),
                                                                        artifact_search_sort=sort))
    ids: list[str] = []
    while hits := request.fetch_next_batch(page_size=page_size).get_response_hits():
        assert len(hits) <= page_size
        ids += [h.get_raw()["artifact"]["id"] for h in hits]
    return ids


def move_to(signoff: Any, *statuses: str) -> None:
    for status in statuses:
        signoff.update_status(status, users_to_notify=[])


# -- instance, blueprints ---------------------------------------------------------------------------

def test_the_node_is_a_govern_node(gov: GovernClient) -> None:
    assert gov.get_instance_info().node_type == "GOVERN"
    assert gov.get_auth_info()["authIdentifier"] == "admin"


def test_standard_blueprints_and_versions(gov: GovernClient) -> None:
    ids = {item.get_raw()["blueprint"]["id"] for item in gov.list_blueprints()}
    assert {PROJECT, BUNDLE, "bp.system.business_initiative", "bp.system.govern_model_version"} <= ids
    blueprint = gov.get_blueprint(BUNDLE)
    assert blueprint.get_definition().get_raw()["name"] == "Govern bundle"
    versions = blueprint.list_versions()
    assert [v.to_blueprint_version().version_id for v in versions] == [DEFAULT]
    version = blueprint.get_version(DEFAULT)
    steps = version.get_definition().get_raw()["workflowDefinition"]["stepDefinitions"]
    assert [s["id"] for s in steps] == ["development", "review", "deployment", "production"]
    assert version.get_trace().status == "ACTIVE"
    project_steps = gov.get_blueprint(PROJECT).get_version(DEFAULT).get_definition().get_raw()
    assert project_steps["workflowDefinition"]["stepDefinitions"][0]["id"] == "exploration"


def test_unknown_blueprint_or_version_is_an_error(gov: GovernClient) -> None:
    with pytest.raises(DataikuException, match=r"bp\.nope"):
        gov.get_blueprint("bp.nope").get_definition()
    with pytest.raises(DataikuException, match=r"bp\.nope"):
        gov.get_blueprint("bp.nope").list_versions()
    with pytest.raises(DataikuException, match=r"bv\.nope"):
        gov.get_blueprint(BUNDLE).get_version("bv.nope").get_definition()


# -- artifacts -------------------------------------------------------------------------------------

def test_artifact_create_get_save_delete(gov: GovernClient) -> None:
    name = unique()
    artifact = new_artifact(gov, name=name, fields={"description": "first"})
    assert artifact.artifact_id.startswith("ar.")
    definition = artifact.get_definition()
    raw = definition.get_raw()
    assert (raw["id"], raw["name"], raw["fields"]) == (artifact.artifact_id, name, {"description": "first"})
    assert definition.get_blueprint_version().blueprint_id == BUNDLE
    # A new artifact starts on the first step of its workflow.
    assert raw["workflow"]["steps"]["development"] == {"status": "ONGOING", "visible": True}
    assert raw["workflow"]["steps"]["review"]["status"] == "NOT_STARTED"
    assert raw["status"] == {"archived": False, "stepId": "development"}

    raw["fields"] = {"description": "second", "bundle_id": "v2"}
    raw["iacSentinel"] = {"kept": True}
    raw["workflow"]["steps"]["development"]["status"] = "FINISHED"
    raw["workflow"]["steps"]["review"]["status"] = "ONGOING"
    definition.save()
    assert definition.get_raw()["status"]["stepId"] == "review"  # save() reloads the server's answer
    again = artifact.get_definition().get_raw()
    assert again["fields"] == {"description": "second", "bundle_id": "v2"}
    assert again["iacSentinel"] == {"kept": True}
    assert again["workflow"]["steps"]["review"]["status"] == "ONGOING"

    artifact.delete()
    with pytest.raises(DataikuException, match=artifact.artifact_id):
        artifact.get_definition()
    with pytest.raises(DataikuException, match=artifact.artifact_id):
        artifact.delete()


def test_artifacts_get_distinct_server_ids(gov: GovernClient) -> None:
    first, second = new_artifact(gov), new_artifact(gov)
    assert first.artifact_id != second.artifact_id


@pytest.mark.parametrize(("body", "error"), [
    ({"blueprintVersionId": {"blueprintId": BUNDLE, "versionId": "bv.nope"}, "name": "x"}, r"bv\.nope"),
    ({"blueprintVersionId": {"blueprintId": "bp.nope", "versionId": DEFAULT}, "name": "x"}, r"bp\.nope"),
    ({"name": "x"}, "blueprintVersionId"),
    ({"blueprintVersionId": {"blueprintId": BUNDLE, "versionId": DEFAULT}}, "name"),
    ({"blueprintVersionId": {"blueprintId": BUNDLE, "versionId": DEFAULT}, "name": "x", "fields": []}, "fields"),
    ({"blueprintVersionId": {"blueprintId": BUNDLE, "versionId": DEFAULT}, "name": "x",
      "workflow": {"steps": {"nope": {"status": "ONGOING"}}}}, "nope"),
])
def test_invalid_artifacts_are_refused(gov: GovernClient, body: dict[str, Any], error: str) -> None:
    with pytest.raises(DataikuException, match=error):
        gov.create_artifact(body)


@pytest.mark.parametrize(("change", "error"), [
    (lambda raw: raw.update(blueprintVersionId={"blueprintId": PROJECT, "versionId": DEFAULT}), "blueprint"),
    (lambda raw: raw["workflow"]["steps"]["review"].update(status="DONE"), "review"),
    (lambda raw: raw.update(id="ar.other"), "mismatch"),
    (lambda raw: raw.update(name=""), "name"),
    (lambda raw: raw["status"].update(archived="yes"), "archived"),
])
def test_invalid_saves_change_nothing(gov: GovernClient, change: Any, error: str) -> None:
    artifact = new_artifact(gov, fields={"description": "before"})
    definition = artifact.get_definition()
    definition.get_raw()["fields"]["description"] = "after"
    change(definition.get_raw())
    with pytest.raises(DataikuException, match=error):
        definition.save()
    assert artifact.get_definition().get_raw()["fields"] == {"description": "before"}


# -- search ----------------------------------------------------------------------------------------

@pytest.fixture
def trio(gov: GovernClient) -> dict[str, str]:
    """Three artifacts of this test only: name -> id."""
    tag = unique("t")
    specs = [(f"{tag}_beta", BUNDLE, {"bundle_id": "v10", "tags": ["red", "blue"], "rank": 3}),
             (f"{tag}_Alpha", BUNDLE, {"bundle_id": "v2", "tags": ["green"], "rank": 1}),
             (f"{tag}_gamma", PROJECT, {"description": "Churn model", "rank": 2})]
    return {name: new_artifact(gov, bp, name, fields).artifact_id for name, bp, fields in specs}


def test_search_filters(gov: GovernClient, trio: dict[str, str]) -> None:
    mine = GovernArtifactFilterArtifacts(list(trio.values()))
    tag = next(iter(trio)).rsplit("_", 1)[0]
    beta, alpha, gamma = (trio[f"{tag}_{n}"] for n in ("beta", "Alpha", "gamma"))
    assert search(gov, mine) == [beta, alpha, gamma]  # creation order by default
    assert search(gov, mine, GovernArtifactFilterBlueprints([PROJECT])) == [gamma]
    assert search(gov, mine, GovernArtifactFilterBlueprints([])) == []
    versions = [GovernBlueprintVersionId(BUNDLE, DEFAULT).build()]
    assert search(gov, mine, GovernArtifactFilterBlueprintVersions(versions)) == [beta, alpha]
    name = GovernArtifactFilterFieldValue
    assert search(gov, mine, name("EQUALS", f"{tag}_alpha")) == [alpha]  # names, case-insensitive by default
    assert search(gov, mine, name("EQUALS", f"{tag}_alpha", case_sensitive=True)) == []
    assert search(gov, mine, name("START_WITH", tag.upper())) == [beta, alpha, gamma]
    assert search(gov, mine, name("END_WITH", "MMA")) == [gamma]
    assert search(gov, mine, name("CONTAINS", "et", negate_condition=True)) == [alpha, gamma]
    assert search(gov, mine, name("CONTAINS", "churn", field_id="description")) == [gamma]
    assert search(gov, mine, name("EQUALS", "blue", field_id="tags")) == [beta]  # any value of a list
    assert search(gov, mine, name("EQUALS", "1", field_id="rank")) == [alpha]
    assert search(gov, mine, name("EQUALS", "", field_id="bundle_id")) == [gamma]  # missing reads as empty


def test_archived_artifacts_are_hidden_unless_asked(gov: GovernClient, trio: dict[str, str]) -> None:
    ids = list(trio.values())
    definition = gov.get_artifact(ids[0]).get_definition()
    definition.get_raw()["status"]["archived"] = True
    definition.save()
    mine = GovernArtifactFilterArtifacts(ids)
    assert search(gov, mine) == ids[1:]
    assert search(gov, mine, GovernArtifactFilterArchivedStatus(False)) == ids[1:]
    assert search(gov, mine, GovernArtifactFilterArchivedStatus(True)) == ids


def test_search_sorts_and_pages(gov: GovernClient, trio: dict[str, str]) -> None:
    mine = GovernArtifactFilterArtifacts(list(trio.values()))
    by_name = [trio[n] for n in sorted(trio, key=str.lower)]
    for page_size in (1, 2, 3, 50):
        assert search(gov, mine, sort=GovernArtifactSearchSortName(), page_size=page_size) == by_name
        assert search(gov, mine, sort=GovernArtifactSearchSortName("DESC"), page_size=page_size) == by_name[::-1]
    fields = [GovernArtifactSearchSortFieldDefinition(bp, "rank").build() for bp in (BUNDLE, PROJECT)]
    ranked = search(gov, mine, sort=GovernArtifactSearchSortField(fields), page_size=2)
    tag = next(iter(trio)).rsplit("_", 1)[0]
    assert ranked == [trio[f"{tag}_Alpha"], trio[f"{tag}_gamma"], trio[f"{tag}_beta"]]  # ranks 1, 2, 3
    # Workflow sort: the artifact furthest along its workflow comes last.
    beta = gov.get_artifact(trio[f"{tag}_beta"]).get_definition()
    steps = beta.get_raw()["workflow"]["steps"]
    steps["development"]["status"], steps["deployment"]["status"] = "FINISHED", "ONGOING"
    beta.save()
    assert search(gov, mine, sort=GovernArtifactSearchSortWorkflow())[-1] == trio[f"{tag}_beta"]


class _BogusFilter(GovernArtifactFilter):
    def __init__(self) -> None:
        super().__init__(filter_type="bogus")

    def build(self) -> dict[str, Any]:
        return {"type": self.filter_type}


@pytest.mark.parametrize(("filters", "page_size", "error"), [
    ([_BogusFilter()], 20, "bogus"),
    ([GovernArtifactFilterFieldValue("LIKE", "x")], 20, "conditionType"),
    ([], 0, "pageSize"),
])
def test_invalid_searches_are_refused(gov: GovernClient, filters: list[Any], page_size: int, error: str) -> None:
    request = gov.new_artifact_search_request(GovernArtifactSearchQuery(artifact_filters=filters))
    with pytest.raises(DataikuException, match=error):
        request.fetch_next_batch(page_size=page_size)


def test_search_after_a_deleted_artifact_is_an_error(gov: GovernClient, trio: dict[str, str]) -> None:
    request = gov.new_artifact_search_request(GovernArtifactSearchQuery(
        artifact_filters=[GovernArtifactFilterArtifacts(list(trio.values()))]))
    first = request.fetch_next_batch(page_size=1).get_response_hits()[0].to_artifact()
    first.delete()
    with pytest.raises(DataikuException, match="lastArtifactId"):
        request.fetch_next_batch(page_size=1)


# -- sign-offs -------------------------------------------------------------------------------------

def test_full_approval_flow(gov: GovernClient, sim: Simulator) -> None:
    key, bundle_id = unique("PRJ").upper(), "v1"
    artifact = new_artifact(gov, fields={"published_project_key": key, "bundle_id": bundle_id})
    server = sim.node("govern").server
    assert server is not None
    assert bundle_signoff_status(server, key, bundle_id) == "NOT_STARTED"
    # The sign-off of the review step was created with the artifact.
    [item] = artifact.list_signoffs()
    assert item.get_raw()["status"] == "NOT_STARTED"
    signoff = item.to_signoff()
    assert signoff.step_id == "review"
    groups = [g["id"] for g in signoff.get_definition().get_raw()["configuration"]["feedbackUsersGroups"]]
    assert groups == ["it_operations", "risk_compliance", "business"]

    move_to(signoff, "WAITING_FOR_FEEDBACK")
    feedback = signoff.add_feedback("it_operations", "MINOR_ISSUE", comment="watch the memory")
    [listed] = signoff.list_feedbacks()
    assert listed.feedback_id == feedback.feedback_id
    fb = feedback.get_definition()
    assert (fb.get_raw()["status"], fb.get_raw()["user"], fb.get_raw()["groupId"]) == (
        "MINOR_ISSUE", "admin", "it_operations")
    fb.get_raw()["status"], fb.get_raw()["comment"] = "APPROVED", "fixed"
    fb.save()
    assert feedback.get_definition().get_raw()["comment"] == "fixed"

    move_to(signoff, "WAITING_FOR_APPROVAL")
    assert bundle_signoff_status(server, key, bundle_id) == "WAITING_FOR_APPROVAL"
    approval = signoff.add_approval("APPROVED", comment="ship it")
    raw = approval.get_definition().get_raw()
    assert (raw["status"], raw["user"], raw["comment"]) == ("APPROVED", "admin", "ship it")
    assert signoff.get_definition().get_raw()["status"] == "APPROVED"
    assert bundle_signoff_status(server, key, bundle_id) == "APPROVED"

    details = signoff.get_details().get_raw()
    assert details["approvers"] == ["admin"]
    assert details["feedbackGroups"][0]["usersWhoGaveFeedback"] == ["admin"]
    transitions = [(h["fromStatus"], h["toStatus"]) for h in details["history"] if h["action"] == "STATUS_CHANGE"]
    assert transitions == [("NOT_STARTED", "WAITING_FOR_FEEDBACK"), ("WAITING_FOR_FEEDBACK", "WAITING_FOR_APPROVAL"),
                           ("WAITING_FOR_APPROVAL", "APPROVED")]
    assert [h["action"] for h in details["history"]].count("FEEDBACK") == 1


def test_rejection_then_a_new_review(gov: GovernClient) -> None:
    signoff = new_artifact(gov).get_signoff("review")
    move_to(signoff, "WAITING_FOR_APPROVAL")
    signoff.add_approval("REJECTED", comment="missing tests")
    assert signoff.get_definition().get_raw()["status"] == "REJECTED"
    # Changing one's mind: the approval is edited in place.
    approval = signoff.get_approval().get_definition()
    approval.get_raw()["status"] = "APPROVED"
    approval.save()
    assert signoff.get_definition().get_raw()["status"] == "APPROVED"
    move_to(signoff, "NOT_STARTED")
    fresh = signoff.get_definition().get_raw()
    assert (fresh["status"], fresh["approverResponse"], fresh["feedbackResponses"]) == ("NOT_STARTED", None, [])
    with pytest.raises(ValueError, match="approver response"):
        signoff.get_approval().get_definition()


def test_deleting_feedback_and_approval(gov: GovernClient) -> None:
    signoff = new_artifact(gov).get_signoff("review")
    move_to(signoff, "WAITING_FOR_FEEDBACK")
    feedback = signoff.add_feedback("business", "MAJOR_ISSUE")
    feedback.delete()
    assert signoff.list_feedbacks() == []
    move_to(signoff, "WAITING_FOR_APPROVAL")
    signoff.add_approval("APPROVED")
    signoff.get_approval().delete()
    assert signoff.get_definition().get_raw()["status"] == "WAITING_FOR_APPROVAL"
    with pytest.raises(DataikuException, match="no final approval"):
        signoff.get_approval().delete()


@pytest.mark.parametrize(("path", "target", "error"), [
    ((), "APPROVED", "final approval"),
    ((), "REJECTED", "final approval"),
    ((), "ABANDONED", "from NOT_STARTED to ABANDONED"),
    ((), "FINISHED", "Invalid sign-off status"),
    (("WAITING_FOR_FEEDBACK",), "NOT_STARTED", "from WAITING_FOR_FEEDBACK to NOT_STARTED"),
    (("WAITING_FOR_FEEDBACK", "ABANDONED"), "WAITING_FOR_APPROVAL", "from ABANDONED"),
])
def test_invalid_status_changes_are_refused(gov: GovernClient, path: tuple[str, ...], target: str,
                                            error: str) -> None:
    signoff = new_artifact(gov).get_signoff("review")
    move_to(signoff, *path)
    before = signoff.get_definition().get_raw()["status"]
    with pytest.raises(DataikuException, match=error):
        signoff.update_status(target)
    assert signoff.get_definition().get_raw()["status"] == before


def test_abandoned_review_can_restart(gov: GovernClient) -> None:
    signoff = new_artifact(gov).get_signoff("review")
    move_to(signoff, "WAITING_FOR_FEEDBACK", "ABANDONED", "NOT_STARTED", "WAITING_FOR_APPROVAL")
    signoff.add_approval("ABANDONED")
    assert signoff.get_definition().get_raw()["status"] == "ABANDONED"


def test_feedback_and_approval_need_the_right_moment_and_input(gov: GovernClient) -> None:
    signoff = new_artifact(gov).get_signoff("review")
    with pytest.raises(DataikuException, match="NOT_STARTED"):
        signoff.add_feedback("business", "APPROVED")
    with pytest.raises(DataikuException, match="NOT_STARTED"):
        signoff.add_approval("APPROVED")
    move_to(signoff, "WAITING_FOR_FEEDBACK")
    with pytest.raises(DataikuException, match="WAITING_FOR_FEEDBACK"):
        signoff.add_approval("APPROVED")
    with pytest.raises(DataikuException, match="no_such_group"):
        signoff.add_feedback("no_such_group", "APPROVED")
    with pytest.raises(DataikuException, match="feedback status"):
        signoff.add_feedback("business", "GREAT")
    signoff.add_feedback("business", "APPROVED")
    with pytest.raises(DataikuException, match="already exists"):
        signoff.add_feedback("business", "APPROVED")
    move_to(signoff, "WAITING_FOR_APPROVAL")
    with pytest.raises(DataikuException, match="approval status"):
        signoff.add_approval("MAYBE")
    with pytest.raises(DataikuException, match="no final approval"):
        signoff.get_approval().delete()
    assert len(signoff.list_feedbacks()) == 1


def test_only_reviewers_review_until_delegated(gov: GovernClient, alice: GovernClient) -> None:
    artifact = new_artifact(gov)
    move_to(artifact.get_signoff("review"), "WAITING_FOR_FEEDBACK")
    theirs = alice.get_artifact(artifact.artifact_id).get_signoff("review")
    with pytest.raises(DataikuException, match="alice is not allowed"):
        theirs.add_feedback("business", "APPROVED")
    with pytest.raises(DataikuException, match="alice is not allowed"):
        theirs.delegate_feedback("business", GovernUserUsersContainer("alice").build())
    gov.get_artifact(artifact.artifact_id).get_signoff("review").delegate_feedback(
        "business", GovernUserUsersContainer("alice").build())
    feedback = theirs.add_feedback("business", "APPROVED")
    assert feedback.get_definition().get_raw()["user"] == "alice"
    # Only the author edits their feedback.
    with pytest.raises(DataikuException, match="only they can change it"):
        gov.get_artifact(artifact.artifact_id).get_signoff("review").get_feedback(feedback.feedback_id).delete()

    mine = gov.get_artifact(artifact.artifact_id).get_signoff("review")
    move_to(mine, "WAITING_FOR_APPROVAL")
    with pytest.raises(DataikuException, match="alice is not allowed"):
        theirs.add_approval("APPROVED")
    mine.delegate_approval(GovernUserUsersContainer("alice").build())
    theirs.add_approval("APPROVED", comment="as delegate")
    assert theirs.get_approval().get_definition().get_raw()["user"] == "alice"
    details = mine.get_details().get_raw()
    assert "alice" in details["approvers"]
    assert "alice" in next(g for g in details["feedbackGroups"] if g["id"] == "business")["users"]
    with pytest.raises(DataikuException, match="users container"):
        mine.delegate_approval({"type": "robot"})


def test_reset_can_reload_the_configuration(gov: GovernClient) -> None:
    signoff = new_artifact(gov).get_signoff("review")
    move_to(signoff, "WAITING_FOR_APPROVAL")
    signoff.delegate_approval(GovernUserUsersContainer("bob").build())
    signoff.add_approval("APPROVED")
    move_to(signoff, "NOT_STARTED")  # keeps delegations
    assert {"type": "user", "login": "bob"} in signoff.get_definition().get_raw()["configuration"]["approvers"]
    move_to(signoff, "WAITING_FOR_APPROVAL")
    signoff.add_approval("REJECTED")
    signoff.update_status("NOT_STARTED", users_to_notify=[], reload_conf_for_reset=True)
    assert signoff.get_definition().get_raw()["configuration"]["approvers"] == [
        {"type": "group", "groupName": "administrators"}]


def test_recurrence_configuration(gov: GovernClient) -> None:
    signoff = new_artifact(gov).get_signoff("review")
    recurrence = signoff.get_recurrence_configuration()
    assert recurrence.get_raw()["activated"] is False
    recurrence.get_raw().update(activated=True, months=6)
    recurrence.save()
    assert signoff.get_recurrence_configuration().get_raw()["months"] == 6
    recurrence.get_raw().update(months=0)
    with pytest.raises(DataikuException, match="positive interval"):
        recurrence.save()
    assert signoff.get_recurrence_configuration().get_raw()["months"] == 6


def test_signoff_lookups_fail_clearly(gov: GovernClient) -> None:
    project = new_artifact(gov, PROJECT)
    assert project.list_signoffs() == []
    with pytest.raises(DataikuException, match="No sign-off on step exploration"):
        project.get_signoff("exploration").get_definition()
    with pytest.raises(DataikuException, match="no sign-off configuration"):
        project.create_signoff("exploration")
    with pytest.raises(DataikuException, match=r"ar\.nope"):
        gov.get_artifact("ar.nope").list_signoffs()
    bundle = new_artifact(gov)
    with pytest.raises(DataikuException, match="already exists"):
        bundle.create_signoff("review")
    with pytest.raises(DataikuException, match="nope"):
        bundle.create_signoff("nope")
    with pytest.raises(ValueError, match=r"fb\.nope"):
        bundle.get_signoff("review").get_feedback("fb.nope").get_definition()


def test_an_approval_cannot_be_revised_after_the_review_moved_on(gov: GovernClient) -> None:
    signoff = new_artifact(gov).get_signoff("review")
    move_to(signoff, "WAITING_FOR_APPROVAL")
    signoff.add_approval("REJECTED")
    approval = signoff.get_approval().get_definition()
    move_to(signoff, "ABANDONED")
    approval.get_raw()["status"] = "APPROVED"
    with pytest.raises(DataikuException, match="ABANDONED"):
        approval.save()
    assert signoff.get_definition().get_raw()["status"] == "ABANDONED"


# -- Blueprint Designer ------------------------------------------------------------------------------

def _custom_blueprint(gov: GovernClient) -> Any:
    """A blueprint of this test only, with an ACTIVE version forked from the standard bundle one."""
    designer = gov.get_blueprint_designer()
    identifier = unique("release")
    blueprint = designer.create_blueprint(identifier, {"name": "Release", "icon": "rocket"})
    version = blueprint.create_version("v1", name="First", origin_version_id=None)
    definition = version.get_definition()
    definition.get_raw()["workflowDefinition"]["stepDefinitions"] = [
        {"id": "build", "name": "Build"}, {"id": "approve", "name": "Approve"}]
    definition.get_raw()["fieldDefinitions"] = {"notes": {"label": "Notes", "fieldType": "TEXT"}}
    definition.save()
    return blueprint, version


def test_blueprint_designer_round_trip(gov: GovernClient) -> None:
    blueprint, version = _custom_blueprint(gov)
    assert blueprint.blueprint_id.startswith("bp.release_")
    assert version.version_id == "bv.v1"
    assert version.get_trace().status == "DRAFT"
    with pytest.raises(DataikuException, match="DRAFT"):
        new_artifact(gov, blueprint.blueprint_id, version="bv.v1")
    version.get_trace().set_status("ACTIVE")
    artifact = new_artifact(gov, blueprint.blueprint_id, version="bv.v1", fields={"notes": "n"})
    assert artifact.get_definition().get_raw()["workflow"]["steps"]["build"]["status"] == "ONGOING"

    # A sign-off configured after the artifact exists is created on demand, on the ONGOING step only.
    conf = {"title": "Go/no-go", "feedbackUsersGroups": [], "approvers": [{"type": "user", "login": "admin"}]}
    version.create_signoff_configuration("approve", conf)
    version.create_signoff_configuration("build", conf)
    assert [c.get_raw()["id"]["stepId"] for c in version.list_signoff_configurations()] == ["build", "approve"]
    with pytest.raises(DataikuException, match="NOT_STARTED"):
        artifact.create_signoff("approve")
    assert artifact.create_signoff("build").get_definition().get_raw()["status"] == "NOT_STARTED"

    # Removing a step or field that artifacts use needs the danger zone.
    definition = version.get_definition()
    definition.get_raw()["workflowDefinition"]["stepDefinitions"] = [{"id": "approve", "name": "Approve"}]
    with pytest.raises(DataikuException, match="dangerZoneAccepted"):
        definition.save()
    definition.save(danger_zone_accepted=True)
    assert list(artifact.get_definition().get_raw()["workflow"]["steps"]) == ["approve"]
    assert artifact.list_signoffs() == []

    with pytest.raises(DataikuException, match="used by 1 artifact"):
        version.delete()
    with pytest.raises(DataikuException, match="still has versions"):
        blueprint.delete()
    artifact.delete()
    version.delete()
    blueprint.delete()
    assert blueprint.blueprint_id not in {b.get_raw()["blueprint"]["id"] for b in gov.list_blueprints()}


def test_blueprint_designer_errors(gov: GovernClient, alice: GovernClient) -> None:
    designer = gov.get_blueprint_designer()
    blueprint, version = _custom_blueprint(gov)
    with pytest.raises(DataikuException, match="already exists"):
        designer.create_blueprint(blueprint.blueprint_id.removeprefix("bp."), {"name": "again"})
    with pytest.raises(DataikuException, match="identifier"):
        designer.create_blueprint("has space", {"name": "bad"})
    with pytest.raises(DataikuException, match="read-only"):
        designer.get_blueprint(BUNDLE).get_version(DEFAULT).get_trace().set_status("ARCHIVED")
    with pytest.raises(DataikuException, match="system blueprint"):
        designer.get_blueprint(BUNDLE).delete()
    with pytest.raises(DataikuException, match="title"):
        version.create_signoff_configuration("build", {"approvers": []})
    with pytest.raises(DataikuException, match="no workflow step"):
        version.create_signoff_configuration("nope", {"title": "x"})
    with pytest.raises(DataikuException, match="status"):
        version.get_trace().set_status("LIVE")
    with pytest.raises(DataikuException, match="not an administrator"):
        alice.get_blueprint_designer().create_blueprint(unique("x"), {"name": "x"})
    # A fork copies the origin's workflow.
    fork = blueprint.create_version("v2", origin_version_id="bv.v1")
    steps = fork.get_definition().get_raw()["workflowDefinition"]["stepDefinitions"]
    assert [s["id"] for s in steps] == ["build", "approve"]


# -- bundle tracking for the Project Deployer ----------------------------------------------------------

def test_bundle_signoff_status_finds_the_tracking_artifact(gov: GovernClient, sim: Simulator) -> None:
    server = sim.node("govern").server
    assert server is not None
    key = unique("PRJ").upper()
    assert bundle_signoff_status(server, key, "v1") is None
    old = new_artifact(gov, fields={"published_project_key": key, "bundle_id": "v1"})
    move_to(old.get_signoff("review"), "WAITING_FOR_APPROVAL")
    old.get_signoff("review").add_approval("REJECTED")
    assert bundle_signoff_status(server, key, "v1") == "REJECTED"
    assert bundle_signoff_status(server, key, "v2") is None  # another bundle of the same project
    new_artifact(gov, PROJECT, fields={"published_project_key": key, "bundle_id": "v2"})
    assert bundle_signoff_status(server, key, "v2") is None  # not a govern bundle artifact
    newer = new_artifact(gov, fields={"published_project_key": key, "bundle_id": "v1"})
    assert bundle_signoff_status(server, key, "v1") == "NOT_STARTED"  # the most recent one wins
    definition = newer.get_definition()
    definition.get_raw()["status"]["archived"] = True
    definition.save()
    assert bundle_signoff_status(server, key, "v1") == "REJECTED"  # archived artifacts do not count


def test_bundle_signoff_status_without_a_govern_node() -> None:
    with Simulator(govern=False) as lone:
        server = lone.node("design").server
        assert server is not None
        assert bundle_signoff_status(server, "ANY", "v1") is None



# -- what dss-iac's approvals rely on (docs/govern.md) ----------------------------------------------------------

def test_an_approval_request_as_dss_iac_opens_and_reads_it(sim: Simulator) -> None:
    """The calls behind `dss-iac approvals request`: Govern reached from an automation node's admin key, the active
    version of a blueprint, an artifact moved to the step of its sign-off, the sign-off set waiting for approval,
    found again by a tag in its name, and its details (approvers, answers) read back."""
    gov = sim.client(node="automation").get_govern_client()
    assert gov is not None and gov.get_instance_info().node_type == "GOVERN"
    items = gov.get_blueprint(BUNDLE).list_versions()
    active = [i.get_raw()["blueprintVersion"]["id"]["versionId"] for i in items
              if i.get_raw()["blueprintVersionTrace"]["status"] == "ACTIVE"]
    assert active == [DEFAULT]
    tag = f"[dss-iac:prod:{uuid.uuid4().hex[:16]}]"
    artifact = new_artifact(gov, name=f"dss-iac prod: 1 to add, 0 to change, 0 to destroy {tag}",
                            fields={"description": "## the plan"})
    definition = artifact.get_definition()
    version = definition.get_blueprint_version().get_definition().get_raw()
    order = [s["id"] for s in version["workflowDefinition"]["stepDefinitions"]]
    assert order == ["development", "review", "deployment", "production"]
    steps = definition.get_raw()["workflow"]["steps"]
    steps["development"]["status"], steps["review"]["status"] = "FINISHED", "ONGOING"
    definition.save()
    assert artifact.get_definition().get_raw()["status"]["stepId"] == "review"
    assert [s.get_raw()["signoffId"]["stepId"] for s in artifact.list_signoffs()] == ["review"]
    signoff = artifact.get_signoff("review")
    signoff.update_status("WAITING_FOR_APPROVAL")  # no users given: every reviewer is notified
    conf = signoff.get_definition().get_raw()["configuration"]
    assert conf["approvers"] == [{"type": "group", "groupName": "administrators"}]

    name = GovernArtifactFilterFieldValue
    found = search(gov, GovernArtifactFilterBlueprints([BUNDLE]), name("CONTAINS", tag, case_sensitive=True))
    assert found == [artifact.artifact_id]
    assert search(gov, GovernArtifactFilterBlueprints([BUNDLE]), name("CONTAINS", tag.upper(),
                                                                      case_sensitive=True)) == []
    signoff.add_feedback("business", "APPROVED", "fine by us")
    signoff.add_approval("APPROVED", "go")
    details = signoff.get_details().get_raw()
    assert details["status"] == "APPROVED" and details["approvers"] == ["admin"]
    assert details["approverResponse"]["comment"] == "go" and details["approverResponse"]["user"] == "admin"
    assert [(f["groupId"], f["status"], f["comment"]) for f in details["feedbackResponses"]] == [
        ("business", "APPROVED", "fine by us")]
    assert isinstance(details["approverResponse"]["lastUpdateTime"], int)
