"""Adopting the drift of instance objects: DSS's values written back into the environment's instance file, its
comments and `${env:}` references kept, and the next plan empty; secret drift refused in one line; instance
objects edited through the workspace's edit API."""

from __future__ import annotations

import pytest

from dataiku_iac import AdoptError, ConfigError, FieldChange
from dataiku_iac.drift import DriftItem
from tests.engine.conftest import apply_ok, changes, edit_instance_by_hand
from tests.engine.test_instance_kinds import INSTANCE, WORKSPACE

COMMENTED = "# the dev instance: reviewed by the platform team\n" + INSTANCE.replace(
    "    allow_write: false\n", "    allow_write: false  # the lake is read-only\n")


@pytest.fixture(autouse=True)
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PG_DEV_PASSWORD", "pg-s3cret-1")
    monkeypatch.setenv("LAKE_SECRET", "lake-s3cret-1")
    monkeypatch.setenv("ADA_PASSWORD", "ada-s3cret-1")


@pytest.fixture
def applied(make_workspace):
    ws = make_workspace({}, WORKSPACE, {"instance/dev.yaml": COMMENTED})
    apply_ok(ws)
    return ws


def test_adopting_instance_drift_writes_the_instance_file_and_the_next_plan_is_empty(applied) -> None:
    ws = applied
    edit_instance_by_hand(ws.connection("dev").client, packages=("pandas>=2.0", "polars"), company="acme-eu",
                          user_groups=["analysts", "platform"])
    report = ws.drift("dev")
    assert {i.address for i in report.items} == {"code_env.py_ml", "connection.pg_dev", "group.analysts",
                                                  "instance_variables.global", "user.ada"}
    edits = [e for i in report.items for e in ws.adopt_edits("dev", i)]
    assert "instance/dev.yaml: connection.pg_dev: params.host = \"db.elsewhere\"" in [e.describe() for e in edits]
    assert {e.shown for e in edits} == {"instance/dev.yaml"}  # the instance file's alone: no project file
    for item in report.items:
        ws.adopt("dev", item)
    text = (ws.root / "instance/dev.yaml").read_text()
    # The comments and the secrets' references are as they were; DSS's values are in.
    assert text.startswith("# the dev instance: reviewed by the platform team\n")
    assert "allow_write: false  # the lake is read-only" in text
    assert '"${env:PG_DEV_PASSWORD}"' in text and '"${env:ADA_PASSWORD}"' in text and "pg-s3cret-1" not in text
    assert ws.instance_declared("dev", "connection.pg_dev")["params"]["host"] == "db.elsewhere"
    assert ws.instance_declared("dev", "connection.pg_dev")["allow_write"] is False
    assert ws.instance_declared("dev", "user.ada")["display_name"] == "Countess"
    assert sorted(ws.instance_declared("dev", "user.ada")["groups"]) == ["analysts", "platform"]
    assert "admin" in ws.instance_declared("dev", "group.analysts")["permissions"]
    assert sorted(ws.instance_declared("dev", "code_env.py_ml")["packages"]) == ["pandas>=2.0", "polars"]
    assert ws.instance_declared("dev", "instance_variables.global") == {"company": "acme-eu"}
    assert changes(ws) == []
    assert not ws.drift("dev").has_drift


def test_secret_drift_cannot_be_adopted(applied) -> None:
    ws = applied
    item = DriftItem("connection.pg_dev", "connection", "changed",
                     (FieldChange("params.password", "hmac-sha256:x", "", sensitive=True),
                      FieldChange("description", "the warehouse", "by hand")))
    before = (ws.root / "instance/dev.yaml").read_text()
    with pytest.raises(AdoptError) as e:
        ws.adopt("dev", item)
    message = str(e.value)
    assert "\n" not in message and "params.password is a secret" in message and "cannot be adopted" in message
    assert (ws.root / "instance/dev.yaml").read_text() == before


def test_a_value_given_by_an_env_reference_is_not_overwritten(make_workspace, monkeypatch) -> None:
    monkeypatch.setenv("PG_HOST", "db.dev")
    instance = INSTANCE.replace("host: db.dev", 'host: "${env:PG_HOST}"')
    ws = make_workspace({}, WORKSPACE, {"instance/dev.yaml": instance})
    apply_ok(ws)
    conn = ws.connection("dev").client.get_connection("pg_dev")
    definition = conn.get_definition()
    definition["params"]["host"] = "db.elsewhere"
    conn.set_definition(definition)
    (item,) = ws.drift("dev").items
    with pytest.raises(AdoptError, match=r"params.host is given by an \$\{env:...\} reference"):
        ws.adopt("dev", item)


def test_an_environment_without_an_instance_file_cannot_adopt_instance_objects(make_workspace) -> None:
    ws = make_workspace({}, WORKSPACE.replace("    instance: instance/dev.yaml\n", ""), {})
    item = DriftItem("group.analysts", "group", "changed", (FieldChange("description", "a", "b"),))
    with pytest.raises(AdoptError, match="environment dev names no instance file"):
        ws.adopt_edits("dev", item)


def test_instance_objects_are_edited_in_place_and_previewed(make_workspace) -> None:
    ws = make_workspace({}, WORKSPACE, {"instance/dev.yaml": COMMENTED})
    apply_ok(ws)
    plan = ws.preview("dev", {"group.analysts": {"description": "the analysts, EU"}},
                      created={"group.auditors": {"description": "read only"}})
    assert sorted((a.symbol, str(a.address)) for a in plan.actions if a.symbol != " ") == [
        ("+", "group.auditors"), ("~", "group.analysts")]
    assert changes(ws) == []  # a preview writes nothing
    ws.update_many({"group.analysts": {"description": "the analysts, EU"}, "user.ada": {"email": None}}, env="dev")
    text = (ws.root / "instance/dev.yaml").read_text()
    assert ws.instance_declared("dev", "group.analysts")["description"] == "the analysts, EU"
    assert "ada@example.com" not in text
    assert "allow_write: false  # the lake is read-only" in text
    ws.update_instance("dev", {}, created={"group.auditors": {"description": "read only"}})
    assert ws.instance_declared("dev", "group.auditors") == {"description": "read only"}
    with pytest.raises(ConfigError, match="is an instance object: name the environment"):
        ws.update_many({"group.analysts": {"description": "x"}})
    with pytest.raises(ConfigError, match="invalid value"):  # validated like a load: nothing written
        ws.update_instance("dev", {"connection.pg_dev": {"type": "Postgres"}})
    assert ws.instance_declared("dev", "connection.pg_dev")["type"] == "PostgreSQL"
