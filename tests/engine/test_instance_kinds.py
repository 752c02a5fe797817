"""Instance kinds: connections, code envs, groups, users and global variables from an environment's instance file,
planned with its projects, applied through dataikuapi to the embedded DSS, drifted, and refused when bad."""

from __future__ import annotations

import json

import pytest

from dataiku_iac import Address, ApprovalError, ConfigError
from tests.engine.conftest import apply_ok, changes, edit_instance_by_hand, embedded_workspace

DEV = {"instance": "instance/dev.yaml", "remap": {"connections": {"warehouse": "pg_dev"}}}
WORKSPACE = embedded_workspace(DEV)

INSTANCE = """\
connections:
  pg_dev:
    type: PostgreSQL
    description: the warehouse
    params: {host: db.dev, port: 5432, db: sales, user: etl, password: "${env:PG_DEV_PASSWORD}"}
    usable_by: [analysts]
    details_readable_by: all
  lake:
    type: S3
    params: {bucket: acme-lake, accessKey: AKIAEXAMPLE, secretKey: "${env:LAKE_SECRET}"}
    allow_write: false
code_envs:
  py_ml:
    python: "3.11"
    packages: [pandas>=2.0, scikit-learn]
groups:
  analysts:
    description: the analysts
    permissions: [may_create_projects, may_write_safe_code]
  platform: {permissions: [admin]}
users:
  ada:
    display_name: Ada Lovelace
    email: ada@example.com
    groups: [analysts]
    password: "${env:ADA_PASSWORD}"
variables:
  company: acme
"""

SALES = """\
project: {key: SALES, name: Sales}
datasets:
  orders:
    type: PostgreSQL
    connection: warehouse
    params: {table: orders}
"""


@pytest.fixture(autouse=True)
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PG_DEV_PASSWORD", "pg-s3cret-1")
    monkeypatch.setenv("LAKE_SECRET", "lake-s3cret-1")
    monkeypatch.setenv("ADA_PASSWORD", "ada-s3cret-1")


def _ws(make_workspace, instance: str = INSTANCE, projects: dict[str, str] | None = None, workspace: str = WORKSPACE):
    return make_workspace({} if projects is None else projects, workspace, {"instance/dev.yaml": instance})


def test_instance_resources_are_planned_with_the_projects_that_use_them(make_workspace) -> None:
    ws = _ws(make_workspace, projects={"sales": SALES})
    plan = ws.plan("dev")
    order = [str(a.address) for a in plan.actions]
    assert order.index("connection.pg_dev") < order.index("dataset.SALES.orders")
    assert order.index("group.analysts") < order.index("user.ada") and \
        order.index("group.analysts") < order.index("connection.pg_dev")
    dataset = next(a for a in plan.actions if str(a.address) == "dataset.SALES.orders")
    assert Address.instance("connection", "pg_dev") in dataset.depends_on
    # The dataset's connection does not exist yet: the plan knows the same plan creates it.
    apply_ok(ws)
    assert changes(ws) == []
    client = ws.connection("dev").client
    pg = client.get_connection("pg_dev").get_definition()
    assert pg["type"] == "PostgreSQL" and pg["usableBy"] == "ALLOWED" and pg["allowedGroups"] == ["analysts"]
    assert pg["params"]["password"] != "pg-s3cret-1"  # DSS never hands a secret back
    assert client.get_connection("lake").get_definition()["type"] == "EC2"
    env = client.get_code_env("PYTHON", "py_ml").get_definition()
    assert env["desc"]["pythonInterpreter"] == "PYTHON311" and env["actualPackageList"] == "pandas>=2.0\nscikit-learn"
    group = client.get_group("analysts").get_definition()
    assert group["mayCreateProject"] and group["mayWriteSafeCode"] and not group["admin"]
    ada = client.get_user("ada").get_settings().get_raw()
    assert ada["displayName"] == "Ada Lovelace" and ada["groups"] == ["analysts"]
    assert client.get_global_variables()["company"] == "acme"


def test_secrets_are_masked_and_a_new_value_is_an_update(make_workspace, monkeypatch) -> None:
    ws = _ws(make_workspace)
    plan = ws.plan("dev")
    shown = json.dumps(plan.to_dict())
    assert "pg-s3cret-1" not in shown and "ada-s3cret-1" not in shown and "(sensitive)" in shown
    apply_ok(ws)
    state = json.dumps(ws.state("dev").resources["connection.pg_dev"].fields)
    assert "pg-s3cret-1" not in state and "hmac-sha256:" in state
    assert changes(ws) == []
    monkeypatch.setenv("PG_DEV_PASSWORD", "pg-s3cret-2")
    monkeypatch.setenv("ADA_PASSWORD", "ada-s3cret-2")
    ws = _ws(make_workspace)
    assert sorted(changes(ws)) == [("~", "connection.pg_dev", ["params.password"]), ("~", "user.ada", ["password"])]
    apply_ok(ws)
    assert changes(ws) == []


def test_packages_are_a_set_and_a_change_rebuilds_the_env(make_workspace) -> None:
    ws = _ws(make_workspace)
    apply_ok(ws)
    ws = _ws(make_workspace, INSTANCE.replace("[pandas>=2.0, scikit-learn]", "[scikit-learn, pandas>=2.0]"))
    assert changes(ws) == []
    ws = _ws(make_workspace, INSTANCE.replace("[pandas>=2.0, scikit-learn]", "[pandas>=2.0, scikit-learn, xgboost]"))
    assert changes(ws) == [("~", "code_env.py_ml", ["packages"])]
    apply_ok(ws)
    env = ws.connection("dev").client.get_code_env("PYTHON", "py_ml").get_definition()
    assert env["actualPackageList"].splitlines() == ["pandas>=2.0", "scikit-learn", "xgboost"]
    ws = _ws(make_workspace, INSTANCE.replace('python: "3.11"', 'python: "3.12"'))
    assert changes(ws) == [("-/+", "code_env.py_ml", ["python", "packages"])]  # xgboost is gone again too
    apply_ok(ws)
    env = ws.connection("dev").client.get_code_env("PYTHON", "py_ml").get_definition()
    assert env["desc"]["pythonInterpreter"] == "PYTHON312"


def test_hand_edits_are_drift_and_are_restored(make_workspace) -> None:
    ws = _ws(make_workspace)
    apply_ok(ws)
    client = ws.connection("dev").client
    edit_instance_by_hand(client, packages=("pandas>=2.0",), company="other",
                          more_variables={"by_hand": "kept"})  # never in the file: not managed, left alone
    env = client.get_code_env("PYTHON", "py_ml")
    report = ws.drift("dev")
    assert sorted((i.address, sorted(c.path for c in i.changes)) for i in report.items) == [
        ("code_env.py_ml", ["packages"]), ("connection.pg_dev", ["allow_write", "params.host"]),
        ("group.analysts", ["permissions"]), ("instance_variables.global", ["values.company"]),
        ("user.ada", ["display_name"])]
    apply_ok(ws)
    assert not ws.drift("dev").has_drift
    assert client.get_connection("pg_dev").get_definition()["params"]["host"] == "db.dev"
    assert env.get_definition()["actualPackageList"] == "pandas>=2.0\nscikit-learn"
    assert client.get_global_variables()["by_hand"] == "kept"


def test_removing_a_group_keeps_the_users_other_memberships(make_workspace) -> None:
    two_groups = INSTANCE.replace("groups: [analysts]", "groups: [analysts, platform]")
    ws = _ws(make_workspace, two_groups)
    apply_ok(ws)
    without = two_groups.replace("  platform: {permissions: [admin]}\n", "").replace(
        "groups: [analysts, platform]", "groups: [analysts]")
    ws = _ws(make_workspace, without)
    assert sorted(changes(ws)) == [("-", "group.platform", []), ("~", "user.ada", ["groups"])] or \
        sorted((s, a) for s, a, _ in changes(ws)) == [("-", "group.platform"), ("~", "user.ada")]
    apply_ok(ws)
    client = ws.connection("dev").client
    assert client.get_user("ada").get_settings().get_raw()["groups"] == ["analysts"]
    assert "platform" not in [g["name"] for g in client.list_groups()]
    assert changes(ws) == []


def test_protected_environment_refuses_deleting_instance_resources(make_workspace) -> None:
    protected = embedded_workspace({**DEV, "protected": True})
    ws = _ws(make_workspace, workspace=protected)
    apply_ok(ws)
    without_ada = INSTANCE.split("users:")[0] + "variables:\n  company: acme\n"
    ws = _ws(make_workspace, without_ada, workspace=protected)
    plan = ws.plan("dev")
    assert [str(a.address) for a in plan.destructive] == ["user.ada"]
    with pytest.raises(ApprovalError, match="allow-delete"):
        ws.apply(plan)
    assert "ada" in [u["login"] for u in ws.connection("dev").client.list_users()]
    assert ws.apply(plan, allow_delete=True).ok
    assert "ada" not in [u["login"] for u in ws.connection("dev").client.list_users()]


def test_connection_type_change_is_a_replace(make_workspace) -> None:
    ws = _ws(make_workspace)
    apply_ok(ws)
    ws = _ws(make_workspace, INSTANCE.replace("type: S3\n    params: {bucket: acme-lake, accessKey: AKIAEXAMPLE, "
                                              'secretKey: "${env:LAKE_SECRET}"}',
                                              "type: Filesystem\n    params: {root: /data/lake}"))
    assert ("-/+", "connection.lake", ["params.accessKey", "params.bucket", "params.root", "params.secretKey",
                                       "type"]) in changes(ws) or \
        any(s == "-/+" and a == "connection.lake" for s, a, _ in changes(ws))
    apply_ok(ws)
    assert ws.connection("dev").client.get_connection("lake").get_definition()["type"] == "Filesystem"


@pytest.mark.parametrize(("instance", "message", "line"), [
    ("connections:\n  c1: {type: Postgres, params: {}}\n", "invalid value 'Postgres' for 'type'", 2),
    ("connections:\n  c1:\n    type: PostgreSQL\n    params: {host: h, db: d, password: hunter2}\n",
     "a secret written in the file (connections.c1.params.password)", 4),
    ("users:\n  bob: {password: hunter2}\n", "a secret written in the file (users.bob.password)", 2),
    ("groups:\n  data team: {}\n", "data team", 2),
    ("groups:\n  data/team: {}\n", "data/team", 2),
    ("connections:\n  c1: {type: PostgreSQL, params: {db: d}}\n", "PostgreSQL connection param 'host'", 2),
    ("code_envs:\n  e1: {python: '2.7'}\n", "invalid value '2.7' for 'python'", 2),
])
def test_bad_instance_file_is_a_located_error(make_workspace, instance: str, message: str, line: int) -> None:
    with pytest.raises(ConfigError) as e:
        _ws(make_workspace, instance)
    text = str(e.value)
    assert message in text and f"instance/dev.yaml:{line}:" in text
    assert "hunter2" not in text


def test_missing_instance_file_is_an_error_in_the_workspace_file(make_workspace, tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"dss-iac.yaml:\d+:\d+: instance file 'instance/dev.yaml'"):
        make_workspace({}, WORKSPACE)


def test_instance_addresses_parse_and_target(make_workspace) -> None:
    a = Address.parse("connection.pg_dev")
    assert str(a) == "connection.pg_dev" and a.name == "pg_dev"
    with pytest.raises(ValueError, match=r"connection\.NAME"):
        Address.parse("connection.SALES.pg_dev")
    ws = _ws(make_workspace, projects={"sales": SALES})
    plan = ws.plan("dev", targets=["group.analysts"])
    assert [str(a.address) for a in plan.actions] == ["group.analysts"]


def test_import_instance_writes_the_file_and_the_next_plan_is_empty(make_workspace, tmp_path, monkeypatch) -> None:
    from dataiku_iac.cli.main import main

    ws = _ws(make_workspace)
    apply_ok(ws)
    client = ws.connection("dev").client
    client.create_group("has space", "a group import cannot name")
    ws.close()
    # A second environment on the same DSS, with no instance file yet: import writes one and names it.
    (tmp_path / "dss-iac.yaml").write_text(embedded_workspace(DEV, mirror={}))
    assert main(["-C", str(tmp_path), "import", "-e", "mirror", "--instance"]) == 0
    written = (tmp_path / "instance" / "mirror.yaml").read_text()
    assert "pg_dev:" in written and "type: S3" in written and "py_ml:" in written and "ada:" in written
    assert "password: ${env:CONNECTIONS_PG_DEV_PARAMS_PASSWORD}" in written
    assert "secretKey: ${env:CONNECTIONS_LAKE_PARAMS_SECRETKEY}" in written
    assert "pg-s3cret" not in written and "has space" not in written
    assert "instance: instance/mirror.yaml" in (tmp_path / "dss-iac.yaml").read_text()
    for name in ("CONNECTIONS_PG_DEV_PARAMS_PASSWORD", "CONNECTIONS_LAKE_PARAMS_SECRETKEY"):
        monkeypatch.setenv(name, "")  # DSS blanks secrets: the value to set is the one DSS holds
    ws = make_workspace()
    assert [str(a.address) for a in ws.plan("mirror").changes] == []
    # Importing again refuses to overwrite the file.
    assert main(["-C", str(tmp_path), "import", "-e", "mirror", "--instance"]) == 3


def test_deleting_a_connection_that_unmanaged_projects_use_is_refused(make_workspace, tmp_path) -> None:
    from dataiku_iac import PlanError

    ws = _ws(make_workspace, projects={"sales": SALES})
    apply_ok(ws)
    client = ws.connection("dev").client
    hand = client.create_project("HAND", "Made by hand", "admin")
    hand.create_dataset("ledger", "PostgreSQL", params={"connection": "pg_dev", "mode": "table", "table": "ledger"})
    without_pg = INSTANCE.replace(INSTANCE[INSTANCE.index("  pg_dev:"):INSTANCE.index("  lake:")], "")
    (tmp_path / "projects" / "sales.yaml").unlink()  # SALES goes too: only HAND still uses pg_dev
    ws = _ws(make_workspace, without_pg, projects={})
    with pytest.raises(PlanError, match=r"connection\.pg_dev is still used by dataset HAND\.ledger"):
        ws.plan("dev")
    hand.get_dataset("ledger").delete()
    plan = ws.plan("dev")
    order = [str(a.address) for a in plan.changes]
    assert order.index("project.SALES") < order.index("connection.pg_dev")  # its datasets go first
    apply_ok(ws)
    assert "pg_dev" not in client.list_connections()


BUNDLE_WORKSPACE = embedded_workspace(
    {"remap": {"connections": {"warehouse": "filesystem_managed"}}},
    {"instance": "instance/staging.yaml", "remap": {"connections": {"warehouse": "staging_files"}}}, target="staging")


def test_apply_on_a_bundle_environment_writes_its_instance_resources_only(make_workspace, tmp_path) -> None:
    from dataiku_iac.cli.main import main

    make_workspace({"sales": SALES.replace("PostgreSQL", "Filesystem").replace("{table: orders}", "{path: /o}")},
                   BUNDLE_WORKSPACE, {"instance/staging.yaml": "connections:\n  staging_files:\n    type: Filesystem\n"
                                                                "    params: {root: /data/staging}\n"}).close()
    assert main(["-C", str(tmp_path), "validate", "-e", "staging"]) == 0  # declared in the instance file: valid
    assert main(["-C", str(tmp_path), "apply", "-e", "staging", "--yes"]) == 0
    ws = make_workspace()
    staging = ws.connection("staging").client
    assert staging.get_connection("staging_files").get_definition()["params"]["root"] == "/data/staging"
    assert "SALES" not in staging.list_project_keys()  # projects arrive by promote only
    assert [str(a.address) for a in ws.plan("staging").changes if str(a.address).startswith("connection.")] == []
