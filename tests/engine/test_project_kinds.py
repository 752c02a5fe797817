"""Project, variables and permissions: create, no-op re-plan, field updates, drift, unmanaged fields kept."""

from __future__ import annotations

from tests.engine.conftest import apply_ok, changes

CHURN = """\
project:
  key: CHURN
  name: Churn prediction
  description: Predict who leaves
  tags: [ml, demo]
  custom: {team: risk}
  variables: {standard: {threshold: "0.5"}, local: {scratch: /tmp}}
  permissions:
    - {group: data_team, read_project_content: true, write_project_content: true}
"""


def test_fresh_apply_then_empty_replan(make_workspace) -> None:
    ws = make_workspace({"churn": CHURN})
    plan = ws.plan("dev")
    assert [(a.symbol, str(a.address)) for a in plan.actions] == [
        ("+", "project.CHURN"), ("+", "variables.CHURN"), ("+", "permissions.CHURN")]
    assert plan.summary().add == 3
    apply_ok(ws)
    assert changes(ws) == []
    client = ws.connection("dev").client
    meta = client.get_project("CHURN").get_metadata()
    assert meta["label"] == "Churn prediction" and meta["tags"] == ["demo", "ml"]
    assert meta["custom"]["kv"] == {"team": "risk"}
    assert client.get_project("CHURN").get_variables() == {"standard": {"threshold": "0.5"},
                                                          "local": {"scratch": "/tmp"}}


def test_one_field_change_is_one_update_naming_it(make_workspace) -> None:
    ws = make_workspace({"churn": CHURN})
    apply_ok(ws)
    ws = make_workspace({"churn": CHURN.replace("Predict who leaves", "Predict churn")})
    assert changes(ws) == [("~", "project.CHURN", ["description"])]
    apply_ok(ws)
    assert changes(ws) == []


def test_out_of_band_edit_is_drift_and_is_restored(make_workspace) -> None:
    ws = make_workspace({"churn": CHURN})
    apply_ok(ws)
    project = ws.connection("dev").client.get_project("CHURN")
    project.update_variables({"threshold": "0.9"})
    report = ws.drift("dev")
    assert [(i.address, [c.path for c in i.changes]) for i in report.items] == [
        ("variables.CHURN", ["standard.threshold"])]
    plan = ws.plan("dev")
    (action,) = plan.changes
    assert action.reason == "changed outside dss-iac"
    assert [(c.path, c.before, c.after) for c in action.changes] == [("standard.threshold", "0.9", "0.5")]
    apply_ok(ws)
    assert project.get_variables()["standard"] == {"threshold": "0.5"}
    assert not ws.drift("dev").has_drift


def test_environment_variables_override_standard_ones(make_workspace) -> None:
    ws = make_workspace({"churn": CHURN}, workspace_yaml="""\
        version: 1
        environments:
          dev: {host: embedded, variables: {threshold: "0.4"}}
        """)
    apply_ok(ws)
    assert ws.connection("dev").client.get_project("CHURN").get_variables()["standard"] == {"threshold": "0.4"}


def test_permissions_are_authoritative_and_user_grants_survive(make_workspace) -> None:
    ws = make_workspace({"churn": CHURN})
    apply_ok(ws)
    project = ws.connection("dev").client.get_project("CHURN")
    perms = project.get_permissions()
    perms["permissions"].append({"group": "readers", "readProjectContent": True})
    perms["permissions"].append({"user": "alice", "readProjectContent": True})
    project.set_permissions(perms)
    assert changes(ws) == [("~", "permissions.CHURN", ["groups.readers"])]
    apply_ok(ws)
    after = project.get_permissions()["permissions"]
    assert [e.get("group") or e.get("user") for e in after] == ["alice", "data_team"]


def test_unmodelled_metadata_survives_an_update(make_workspace) -> None:
    ws = make_workspace({"churn": CHURN})
    apply_ok(ws)
    project = ws.connection("dev").client.get_project("CHURN")
    meta = project.get_metadata()
    meta["checklists"]["checklists"].append({"title": "sentinel", "items": []})
    project.set_metadata(meta)
    ws = make_workspace({"churn": CHURN.replace("Churn prediction", "Churn v2")})
    apply_ok(ws)
    meta = ws.connection("dev").client.get_project("CHURN").get_metadata()
    assert meta["label"] == "Churn v2"
    assert meta["checklists"]["checklists"] == [{"title": "sentinel", "items": []}]


def test_removing_a_project_plans_its_deletion(make_workspace) -> None:
    ws = make_workspace({"churn": CHURN})
    apply_ok(ws)
    (ws.root / "projects" / "churn.yaml").unlink()
    ws = make_workspace()
    plan = ws.plan("dev")
    assert [(a.symbol, str(a.address)) for a in plan.changes] == [
        ("-", "permissions.CHURN"), ("-", "variables.CHURN"), ("-", "project.CHURN")]
    assert plan.summary().destroy == 3
    apply_ok(ws)
    assert "CHURN" not in ws.connection("dev").client.list_project_keys()
    assert ws.state("dev").resources == {}


def test_nothing_unmanaged_is_ever_deleted(make_workspace) -> None:
    ws = make_workspace({"churn": CHURN})
    ws.connection("dev").client.create_project("HANDMADE", "made by hand", "admin")
    plan = ws.plan("dev")
    assert all("HANDMADE" not in str(a.address) for a in plan.actions)
