"""Bundles: design-node export and import, automation-node import, preload and activation, through dataikuapi."""

from __future__ import annotations

import contextlib
import io
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dataikuapi import DSSClient
from dataikuapi.dss.project import DSSProject
from dataikuapi.utils import DataikuException

from dataiku_iac.sim import Simulator
from tests.conftest import AGAINST_REAL_DSS

sim_only = pytest.mark.skipif(AGAINST_REAL_DSS, reason="reads the simulator's own bundle layout and import format")
CONN_PARAMS = {"PostgreSQL": {"host": "db.example.com", "port": 5432, "db": "dwh", "user": "etl"},
               "Filesystem": {"root": "/tmp/dss-iac-tests"}}

MakeConnection = Callable[..., str]


def unique(prefix: str = "B") -> str:
    return prefix + uuid.uuid4().hex[:10].upper()


@pytest.fixture
def make_connection() -> Iterator[MakeConnection]:
    """Creates connections (on any node) and deletes them afterwards."""
    made = []

    def make(client: DSSClient, conn_type: str = "PostgreSQL", name: str | None = None) -> str:
        name = name or unique("conn_").lower()
        made.append(client.create_connection(name, conn_type, params=dict(CONN_PARAMS[conn_type])))
        return name

    yield make
    for conn in made:
        with contextlib.suppress(DataikuException):
            conn.delete()


@pytest.fixture
def auto(sim: Simulator) -> DSSClient:
    return sim.client(node="automation")


@pytest.fixture
def auto_keys(auto: DSSClient) -> Iterator[list[str]]:
    """Keys of automation projects the test creates: deleted afterwards."""
    keys: list[str] = []
    yield keys
    for key in keys:
        with contextlib.suppress(DataikuException):
            auto.get_project(key).delete()


def fill(project: DSSProject, sql_conn: str | None = None) -> None:
    """Some flow content: a managed dataset, maybe a SQL dataset, variables and a scenario."""
    project.new_managed_dataset("customers").with_store_into("filesystem_managed").create()
    if sql_conn:
        project.create_sql_table_dataset("orders", "PostgreSQL", sql_conn, "orders", "sales")
    project.set_variables({"standard": {"env": "dev", "threshold": 3}, "local": {"home": "/home/dev"}})
    project.create_scenario("Nightly", "step_based")


def export(project: DSSProject, bundle_id: str, tmp_path: Path) -> Path:
    project.export_bundle(bundle_id, release_notes=f"release {bundle_id}")
    path = tmp_path / f"{project.project_key}-{bundle_id}.zip"
    project.download_exported_bundle_archive_to_file(bundle_id, str(path))
    return path


def imported(project: DSSProject) -> list[str]:
    return [b["bundleId"] for b in project.list_imported_bundles()["bundles"]]


# -- design node: export ---------------------------------------------------------------------------------

def test_export_list_download_and_delete(project: DSSProject, tmp_path: Path) -> None:
    project.export_bundle("v1", release_notes="first")
    project.export_bundle("v2")
    assert [b["bundleId"] for b in project.list_exported_bundles()["bundles"]] == ["v1", "v2"]
    path = tmp_path / "v1.zip"
    project.download_exported_bundle_archive_to_file("v1", str(path))
    assert zipfile.is_zipfile(path)
    with project.get_exported_bundle_archive_stream("v2") as stream:
        assert zipfile.is_zipfile(io.BytesIO(stream.content))
    project.delete_exported_bundle("v1")
    assert [b["bundleId"] for b in project.list_exported_bundles()["bundles"]] == ["v2"]


def test_duplicate_and_unknown_bundles_are_errors(project: DSSProject) -> None:
    project.export_bundle("v1")
    with pytest.raises(DataikuException):
        project.export_bundle("v1")
    assert len(project.list_exported_bundles()["bundles"]) == 1
    with pytest.raises(DataikuException):
        project.get_exported_bundle_archive_stream("nope").content  # noqa: B018
    with pytest.raises(DataikuException):
        project.delete_exported_bundle("nope")


@sim_only
def test_invalid_bundle_id_is_refused(project: DSSProject) -> None:
    with pytest.raises(DataikuException, match="Invalid bundle id"):
        project.export_bundle("v 1")
    assert project.list_exported_bundles()["bundles"] == []


@sim_only
def test_archive_holds_a_snapshot_without_local_variables(dss: DSSClient, project: DSSProject, tmp_path: Path,
                                                          make_connection: MakeConnection) -> None:
    conn = make_connection(dss)
    fill(project, conn)
    item = project.export_bundle("v1", release_notes="first cut")
    assert item["exportManifest"]["exportUserInfo"]["releaseNotes"] == "first cut"
    with zipfile.ZipFile(export(project, "v2", tmp_path)) as zf:
        manifest = json.loads(zf.read("export-manifest.json"))
        snapshot = json.loads(zf.read("project.json"))
    assert (manifest["bundleId"], manifest["projectKey"]) == ("v2", project.project_key)
    assert manifest["usedConnections"] == sorted([{"name": conn, "type": "PostgreSQL"},
                                                  {"name": "filesystem_managed", "type": "Filesystem"}],
                                                 key=lambda c: c["name"])
    assert snapshot["variables"] == {"standard": {"env": "dev", "threshold": 3}}  # local variables don't ship
    assert sorted(snapshot["datasets"]) == ["customers", "orders"]
    assert len(snapshot["scenarios"]) == 1


# -- automation node: import and activation ----------------------------------------------------------------

@pytest.mark.multinode
def test_create_from_bundle_then_activate(project: DSSProject, auto: DSSClient, auto_keys: list[str],
                                          tmp_path: Path) -> None:
    fill(project)
    path = export(project, "v1", tmp_path)
    key = project.project_key
    auto_keys.append(key)
    auto.create_project_from_bundle_local_archive(str(path))
    target = auto.get_project(key)
    assert imported(target) == ["v1"]
    assert target.list_datasets() == []  # imported, not active yet
    target.preload_bundle("v1")
    report = target.activate_bundle("v1")
    assert report["anyMessage"] is False and report["error"] is False
    assert [d.name for d in target.list_datasets()] == ["customers"]
    assert target.get_variables() == {"standard": {"env": "dev", "threshold": 3}, "local": {}}
    assert [s["name"] for s in target.list_scenarios(as_type="listitems")] == ["Nightly"]
    assert target.list_imported_bundles()["bundles"][-1]["active"] is True
    listed = next(p for p in auto.list_projects() if p["projectKey"] == key)
    assert listed["activeBundleState"]["bundleId"] == "v1"  # what Dataiku's rollback sample reads


@pytest.mark.multinode
def test_activation_needs_every_connection(dss: DSSClient, project: DSSProject, auto: DSSClient,
                                           auto_keys: list[str], tmp_path: Path,
                                           make_connection: MakeConnection) -> None:
    dev = make_connection(dss)
    fill(project, dev)
    auto_keys.append(project.project_key)
    with open(export(project, "v1", tmp_path), "rb") as f:
        auto.create_project_from_bundle_archive(f)
    target = auto.get_project(project.project_key)
    with pytest.raises(DataikuException, match=f"ERR_BUNDLE_ACTIVATE_CONNECTION_NOT_FOUND.*'{dev}'"):
        target.activate_bundle("v1")
    assert target.list_datasets() == []  # a failed activation changes nothing
    assert target.get_variables()["standard"] == {}

    prod = make_connection(auto)
    settings = target.get_settings()
    settings.get_raw()["bundleContainerSettings"]["remapping"]["connections"] = [{"source": dev, "target": prod}]
    settings.save()
    target.activate_bundle("v1")
    orders = target.get_dataset("orders").get_settings().get_raw()
    assert orders["params"]["connection"] == prod
    assert orders["projectKey"] == project.project_key
    assert target.get_dataset("customers").get_settings().get_raw()["params"]["connection"] == "filesystem_managed"


@pytest.mark.multinode
def test_a_connection_of_another_type_fails_and_keeps_the_active_bundle(
        dss: DSSClient, project: DSSProject, auto: DSSClient, auto_keys: list[str], tmp_path: Path,
        make_connection: MakeConnection) -> None:
    fill(project)
    auto_keys.append(project.project_key)
    auto.create_project_from_bundle_local_archive(str(export(project, "v1", tmp_path)))
    target = auto.get_project(project.project_key)
    target.activate_bundle("v1")

    name = make_connection(dss, "PostgreSQL")
    make_connection(auto, "Filesystem", name=name)  # same name, other type
    project.create_sql_table_dataset("orders", "PostgreSQL", name, "orders", "sales")
    target.import_bundle_from_archive(str(export(project, "v2", tmp_path)))
    assert imported(target) == ["v1", "v2"]
    with pytest.raises(DataikuException, match="ERR_BUNDLE_ACTIVATE_BAD_CONNECTION_TYPE"):
        target.activate_bundle("v2")
    assert [d.name for d in target.list_datasets()] == ["customers"]
    states = {b["bundleId"]: b["active"] for b in target.list_imported_bundles()["bundles"]}
    assert states == {"v1": True, "v2": False}


@pytest.mark.multinode
def test_new_bundle_keeps_node_local_state(project: DSSProject, auto: DSSClient, auto_keys: list[str],
                                           tmp_path: Path) -> None:
    fill(project)
    scenario_id = project.list_scenarios(as_type="listitems")[0]["id"]
    auto_keys.append(project.project_key)
    auto.create_project_from_bundle_local_archive(str(export(project, "v1", tmp_path)))
    target = auto.get_project(project.project_key)
    target.activate_bundle("v1", scenarios_to_enable={scenario_id: True})
    assert target.get_scenario(scenario_id).get_settings().active is True
    # Node-local changes: local variables, permissions, a scenario created on the automation node.
    target.set_variables({"standard": {"env": "dev", "threshold": 3}, "local": {"home": "/srv/prod"}})
    perms = target.get_permissions()
    perms["permissions"] = [{"group": "readers", "readProjectContent": True}]
    target.set_permissions(perms)
    local_id = target.create_scenario("Prod only", "step_based").id

    project.set_variables({"standard": {"env": "dev", "threshold": 5}, "local": {"home": "/home/dev"}})
    project.get_dataset("customers").delete()
    project.new_managed_dataset("accounts").with_store_into("filesystem_managed").create()
    with open(export(project, "v2", tmp_path), "rb") as f:
        target.import_bundle_from_stream(f)
    report = target.activate_bundle("v2", scenarios_to_enable={"no_such_scenario": True})
    assert report["warning"] is True  # an unknown scenario id is reported, not fatal
    assert target.get_variables() == {"standard": {"env": "dev", "threshold": 5}, "local": {"home": "/srv/prod"}}
    assert [p["group"] for p in target.get_permissions()["permissions"]] == ["readers"]
    assert [d.name for d in target.list_datasets()] == ["accounts"]
    scenarios = {s["id"]: s["active"] for s in target.list_scenarios(as_type="listitems")}
    assert scenarios == {scenario_id: True, local_id: scenarios[local_id]}  # activation state is remembered


@pytest.mark.multinode
def test_import_errors(project: DSSProject, auto: DSSClient, auto_keys: list[str], tmp_path: Path) -> None:
    path = export(project, "v1", tmp_path)
    auto_keys.append(project.project_key)
    auto.create_project_from_bundle_local_archive(str(path))
    with pytest.raises(DataikuException, match="already exists"):
        auto.create_project_from_bundle_local_archive(str(path))
    target = auto.get_project(project.project_key)
    with pytest.raises(DataikuException, match="already exists"):
        target.import_bundle_from_archive(str(path))
    with pytest.raises(DataikuException, match="Not a file"):
        target.import_bundle_from_archive(str(tmp_path / "missing.zip"))
    with pytest.raises(DataikuException, match="Invalid bundle archive"):
        target.import_bundle_from_stream(io.BytesIO(b"not a zip"))
    with pytest.raises(DataikuException, match="v9"):
        target.activate_bundle("v9")
    with pytest.raises(DataikuException, match="v9"):
        target.preload_bundle("v9")
    assert imported(target) == ["v1"]


@pytest.mark.multinode
def test_delete_imported_bundle(project: DSSProject, auto: DSSClient, auto_keys: list[str], tmp_path: Path) -> None:
    auto_keys.append(project.project_key)
    auto.create_project_from_bundle_local_archive(str(export(project, "v1", tmp_path)))
    target = auto.get_project(project.project_key)
    target.import_bundle_from_archive(str(export(project, "v2", tmp_path)))
    target.activate_bundle("v2")
    with pytest.raises(DataikuException, match="active bundle"):
        target.delete_imported_bundle("v2")
    target.delete_imported_bundle("v1")
    assert imported(target) == ["v2"]


@pytest.mark.multinode
def test_permissions_propagation(dss: DSSClient, project: DSSProject, auto: DSSClient, auto_keys: list[str],
                                 tmp_path: Path) -> None:
    group = unique("grp_").lower()
    perms = project.get_permissions()
    perms["permissions"] = [{"group": group, "readProjectContent": True, "writeProjectContent": True}]
    project.set_permissions(perms)
    path = str(export(project, "v1", tmp_path))
    policy = DSSClient.PermissionsPropagationPolicy
    with pytest.raises(DataikuException, match=group):  # the group is missing on the automation node
        auto.create_project_from_bundle_local_archive(path, permissions_propagation_policy=policy.ALL)
    assert project.project_key not in auto.list_project_keys()
    auto.create_group(group)
    try:
        auto_keys.append(project.project_key)
        auto.create_project_from_bundle_local_archive(path, permissions_propagation_policy=policy.READ_ONLY)
        [entry] = auto.get_project(project.project_key).get_permissions()["permissions"]
        assert (entry["group"], entry["readProjectContent"], entry["writeProjectContent"]) == (group, True, False)
    finally:
        auto.get_group(group).delete()


@pytest.mark.multinode
def test_automation_endpoints_are_not_on_the_design_node(project: DSSProject, tmp_path: Path) -> None:
    with pytest.raises(DataikuException):
        project.import_bundle_from_archive(str(export(project, "v1", tmp_path)))


# -- design node: project import with remapping -------------------------------------------------------------

@sim_only
def test_design_import_remaps_connections(dss: DSSClient, project: DSSProject, tmp_path: Path,
                                          make_connection: MakeConnection) -> None:
    source, target = make_connection(dss), make_connection(dss)
    fill(project, source)
    path = export(project, "v1", tmp_path)
    new_key = unique("IMP")
    with open(path, "rb") as f:
        handle = dss.prepare_project_import(f)
    bad = handle.execute({"targetProjectKey": new_key,
                          "remapping": {"connections": [{"source": source, "target": "no_such_conn"}]}})
    assert bad["success"] is False
    assert bad["messages"][0]["code"] == "ERR_BUNDLE_ACTIVATE_CONNECTION_NOT_FOUND"
    assert new_key not in dss.list_project_keys()
    result = handle.execute({"targetProjectKey": new_key,
                             "remapping": {"connections": [{"source": source, "target": target}]}})
    imported_project = dss.get_project(new_key)
    try:
        assert result["success"] is True
        orders = imported_project.get_dataset("orders").get_settings().get_raw()
        assert (orders["params"]["connection"], orders["projectKey"]) == (target, new_key)
        assert imported_project.get_variables()["standard"] == {"env": "dev", "threshold": 3}
        with pytest.raises(DataikuException):  # an import is processed once
            handle.execute()
    finally:
        imported_project.delete()


@sim_only
def test_design_import_overwrites_an_existing_project(dss: DSSClient, project: DSSProject, tmp_path: Path) -> None:
    fill(project)
    copy_key = unique("IMP")

    def import_as_copy(bundle_id: str) -> dict:
        with open(export(project, bundle_id, tmp_path), "rb") as f:
            return dss.prepare_project_import(f).execute({"targetProjectKey": copy_key})

    assert import_as_copy("v1")["success"] is True
    copy = dss.get_project(copy_key)
    try:
        copy.set_variables({"standard": {"env": "dev", "threshold": 3}, "local": {"home": "/home/copy"}})
        project.new_managed_dataset("accounts").with_store_into("filesystem_managed").create()
        assert import_as_copy("v2")["success"] is True
        assert sorted(d.name for d in copy.list_datasets()) == ["accounts", "customers"]
        assert copy.get_variables()["local"] == {"home": "/home/copy"}
    finally:
        copy.delete()


@sim_only
def test_design_import_refuses_what_is_not_a_bundle(dss: DSSClient) -> None:
    with pytest.raises(DataikuException, match="Invalid bundle archive"):
        dss.prepare_project_import(io.BytesIO(b"plain text"))


# -- publishing to the Project Deployer ------------------------------------------------------------------------

@pytest.mark.multinode
def test_publish_bundle(dss: DSSClient, project: DSSProject) -> None:
    project.export_bundle("v1")
    published_key = unique("PUB")
    state = project.publish_bundle("v1", published_project_key=published_key)
    deployer = dss.get_projectdeployer()
    try:
        assert state["publishedProjectKey"] == published_key and state["publishedBy"] == "admin"
        assert [b["id"] for b in deployer.get_project(published_key).get_status().get_bundles()] == ["v1"]
        listed = project.list_exported_bundles()["bundles"][0]
        assert listed["publishedBundleState"]["publishedProjectKey"] == published_key
        with pytest.raises(DataikuException, match="already exists"):
            project.publish_bundle("v1", published_project_key=published_key)
        with pytest.raises(DataikuException, match="v2"):
            project.publish_bundle("v2", published_project_key=published_key)
    finally:
        deployer.get_project(published_key).delete()
